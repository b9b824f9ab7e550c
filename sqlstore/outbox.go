package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// Enqueue writes a message of a kind (app decides the kinds: "email"; webhooks use EnqueueWebhook) to the outbox,
// due at once. The email's fields carry its content.
func (c *Conn) Enqueue(ctx context.Context, kind string, e roster.Email, now time.Time) error {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `INSERT INTO outbox (id, kind, template, recipient, locale, data, link_kind, link_ref, org_id, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, kind, e.Template, e.To, e.Locale, string(data), e.LinkKind, e.LinkRef, nullString(e.OrgID), micros(now), micros(now))
	c.wake(kind)
	return err
}

// OutboxEmail is a message of the outbox as the worker claims it.
type OutboxEmail struct {
	roster.Email
	Kind      string
	Attempts  int // including the one being made
	CreatedAt time.Time
	// A webhook delivery's place in its endpoint's order (EnqueueWebhook).
	EndpointID, EventOrg string
	EventSeq             int64
}

const outboxColumns = `id, kind, template, recipient, locale, data, link_kind, link_ref, org_id, attempts, created_at, endpoint_id, event_org, event_seq`

func scanOutboxEmail(r rowScanner) (OutboxEmail, error) {
	var m OutboxEmail
	var data string
	var org sql.NullString
	var created int64
	if err := r.Scan(&m.ID, &m.Kind, &m.Template, &m.To, &m.Locale, &data, &m.LinkKind, &m.LinkRef, &org, &m.Attempts, &created,
		&m.EndpointID, &m.EventOrg, &m.EventSeq); err != nil {
		return m, err
	}
	m.OrgID, m.CreatedAt = org.String, fromMicros(created)
	return m, json.Unmarshal([]byte(data), &m.Data)
}

// ClaimOutbox takes up to limit messages of the given kinds that are due and not leased by
// another worker, and leases them until leaseUntil, counting one more attempt. Messages of
// other kinds stay for the workers that deliver them. On PostgreSQL the rows are chosen with
// FOR UPDATE SKIP LOCKED, so concurrent workers of several processes never claim the same
// message; on SQLite write transactions are serialized. A worker that dies mid-send leaves a
// lease that runs out, and the message is claimed again.
func (c *Conn) ClaimOutbox(ctx context.Context, kinds []string, now, leaseUntil time.Time, limit int) ([]OutboxEmail, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	skip := ""
	if c.engine == Postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	args := []any{micros(leaseUntil), micros(now), micros(now)}
	for _, k := range kinds {
		args = append(args, k)
	}
	rows, err := c.query(ctx, `UPDATE outbox SET lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ? AND kind IN (`+placeholders(len(kinds))+`)
			ORDER BY next_attempt_at, id LIMIT ?`+skip+`)
		RETURNING `+outboxColumns, append(args, limit)...)
	claimed, err := scanAll(rows, err, func(r *sql.Rows) (OutboxEmail, error) { return scanOutboxEmail(r) })
	// RETURNING keeps no order (PostgreSQL returns rows as it updates them): put them back in
	// the order they were written, which is the order events of an organization are delivered.
	slices.SortFunc(claimed, func(a, b OutboxEmail) int { return strings.Compare(a.ID, b.ID) })
	return claimed, err
}

// ClaimWebhooks takes up to limit webhook deliveries that are due, and leases them until
// leaseUntil, counting one more attempt. It takes only the head of each endpoint's order: a
// delivery is taken when no earlier delivery of the same organization's events to the same
// endpoint is pending (in flight, or waiting for its retry), and when no other delivery to
// the endpoint is in flight. An endpoint therefore receives one delivery at a time, in order,
// and a dead endpoint holds one worker at most. Several deliveries to one instance-wide
// endpoint (of different organizations) may be taken at once; the worker sends them one
// after the other. On PostgreSQL, FOR UPDATE SKIP LOCKED keeps concurrent workers apart.
func (c *Conn) ClaimWebhooks(ctx context.Context, now, leaseUntil time.Time, limit int) ([]OutboxEmail, error) {
	skip := ""
	if c.engine == Postgres {
		skip = " FOR UPDATE OF o SKIP LOCKED"
	}
	rows, err := c.query(ctx, `UPDATE outbox SET lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT o.id FROM outbox o WHERE o.status = 'pending' AND o.kind = 'webhook' AND o.next_attempt_at <= ? AND o.lease_until <= ?
			AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.endpoint_id = o.endpoint_id AND p.event_org = o.event_org AND p.status = 'pending'
				AND (p.event_seq < o.event_seq OR (p.event_seq = o.event_seq AND p.id < o.id)))
			AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.endpoint_id = o.endpoint_id AND p.status = 'pending' AND p.lease_until > ?)
			ORDER BY o.next_attempt_at, o.id LIMIT ?`+skip+`)
		RETURNING `+outboxColumns, micros(leaseUntil), micros(now), micros(now), micros(now), limit)
	claimed, err := scanAll(rows, err, func(r *sql.Rows) (OutboxEmail, error) { return scanOutboxEmail(r) })
	slices.SortFunc(claimed, func(a, b OutboxEmail) int { return strings.Compare(a.ID, b.ID) })
	return claimed, err
}

// ClaimNextWebhook takes the delivery that comes next in an endpoint's order for an
// organization's events, if it is due and not leased, and leases it until leaseUntil. The
// worker calls it in the transaction that records the previous delivery as sent, so that a
// backlog to one endpoint drains without waiting for the next claim round.
func (c *Conn) ClaimNextWebhook(ctx context.Context, endpointID, eventOrg string, now, leaseUntil time.Time) (OutboxEmail, bool, error) {
	lock := ""
	if c.engine == Postgres {
		lock = " FOR UPDATE"
	}
	m, err := scanOutboxEmail(c.queryRow(ctx, `UPDATE outbox SET lease_until = ?, attempts = attempts + 1
		WHERE id = (SELECT id FROM outbox WHERE endpoint_id = ? AND event_org = ? AND status = 'pending' ORDER BY event_seq, id LIMIT 1`+lock+`)
			AND next_attempt_at <= ? AND lease_until <= ?
		RETURNING `+outboxColumns, micros(leaseUntil), endpointID, eventOrg, micros(now), micros(now)))
	if err == sql.ErrNoRows {
		return OutboxEmail{}, false, nil
	}
	if err != nil {
		return m, false, mapError(err)
	}
	return m, true, nil
}

// CancelEndpointDeliveries cancels the deliveries still pending to an endpoint (disabled or
// deleted), and returns how many.
func (c *Conn) CancelEndpointDeliveries(ctx context.Context, endpointID, reason string) (int64, error) {
	res, err := c.exec(ctx, `UPDATE outbox SET status = 'cancelled', lease_until = 0, last_error = ? WHERE endpoint_id = ? AND status = 'pending'`,
		reason, endpointID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// RenewLease extends the lease of claimed messages that still hold the lease `held` (that no
// other worker claimed since it ran out) to leaseUntil, and returns the IDs it renewed.
func (c *Conn) RenewLease(ctx context.Context, ids []string, held, leaseUntil time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{micros(leaseUntil), micros(held)}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := c.query(ctx, `UPDATE outbox SET lease_until = ? WHERE lease_until = ? AND status = 'pending' AND id IN (`+placeholders(len(ids))+`)
		RETURNING id`, args...)
	return scanAll(rows, err, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
}

// MarkEmailSent records a delivered email.
func (c *Conn) MarkEmailSent(ctx context.Context, id string, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = 0, last_error = '' WHERE id = ? AND status = 'pending'`, micros(now), id)
	return err
}

// MarkOutboxSent records delivered messages, in one statement.
func (c *Conn) MarkOutboxSent(ctx context.Context, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{micros(now)}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := c.exec(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = 0, last_error = '' WHERE status = 'pending' AND id IN (`+
		placeholders(len(ids))+`)`, args...)
	return err
}

// RetryEmail puts an email back in the queue, due at next, after a failed attempt.
func (c *Conn) RetryEmail(ctx context.Context, id string, next time.Time, lastError string) error {
	_, err := c.exec(ctx, `UPDATE outbox SET next_attempt_at = ?, lease_until = 0, last_error = ? WHERE id = ? AND status = 'pending'`, micros(next), lastError, id)
	return err
}

// EndEmail gives up on an email: status "failed" (delivery failed for good) or "cancelled"
// (its link is no longer usable). It reports whether the email was still pending.
func (c *Conn) EndEmail(ctx context.Context, id, status, lastError string) (bool, error) {
	err := c.execOne(ctx, `UPDATE outbox SET status = ?, lease_until = 0, last_error = ? WHERE id = ? AND status = 'pending'`, status, lastError, id)
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// CancelLinkEmails cancels the emails still waiting that carry a link of the given kind and
// reference: a resend or a cancellation replaces them.
func (c *Conn) CancelLinkEmails(ctx context.Context, kind, ref string) error {
	_, err := c.exec(ctx, `UPDATE outbox SET status = 'cancelled', last_error = 'replaced' WHERE link_kind = ? AND link_ref = ? AND status = 'pending'`, kind, ref)
	return err
}

// CountRecentEmails counts the emails of a template written for a recipient since a time,
// for per-recipient limits on mail.
func (c *Conn) CountRecentEmails(ctx context.Context, recipient, template string, since time.Time) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE recipient = ? AND template = ? AND created_at > ?`, recipient, template, micros(since)).Scan(&n)
	return n, mapError(err)
}

// OutboxStatus returns the status and attempts of an email, for tests and operators.
func (c *Conn) OutboxStatus(ctx context.Context, id string) (status string, attempts int, err error) {
	err = c.queryRow(ctx, `SELECT status, attempts FROM outbox WHERE id = ?`, id).Scan(&status, &attempts)
	return status, attempts, notFound(err, "message")
}
