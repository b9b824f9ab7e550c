package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

const webhookColumns = `id, org_id, url, description, event_types, enabled, disabled_reason, secret, previous_secret, previous_until, failing_since, created_at, updated_at`

// zeroMicros stores a zero time as 0, and 0 reads back as the zero time.
func zeroMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func fromZeroMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

func webhookArgs(w roster.WebhookEndpoint) []any {
	return []any{w.ID, w.OrgID, w.URL, w.Description, strings.Join(w.EventTypes, " "), w.Enabled, w.DisabledReason, w.Secret,
		w.PreviousSecret, zeroMicros(w.PreviousUntil), zeroMicros(w.FailingSince), micros(w.CreatedAt), micros(w.UpdatedAt)}
}

// InsertWebhookEndpoint creates an endpoint.
func (c *Conn) InsertWebhookEndpoint(ctx context.Context, w roster.WebhookEndpoint) error {
	_, err := c.exec(ctx, `INSERT INTO webhook_endpoints (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, webhookArgs(w)...)
	return err
}

// UpdateWebhookEndpoint writes every field of an endpoint but its organization and creation time.
func (c *Conn) UpdateWebhookEndpoint(ctx context.Context, w roster.WebhookEndpoint) error {
	a := webhookArgs(w)
	return notFound(c.execOne(ctx, `UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, enabled = ?, disabled_reason = ?,
		secret = ?, previous_secret = ?, previous_until = ?, failing_since = ?, updated_at = ? WHERE id = ?`,
		append(a[2:11], a[12], a[0])...), "webhook endpoint")
}

// DeleteWebhookEndpoint deletes an endpoint with its delivery log.
func (c *Conn) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	return notFound(c.execOne(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id), "webhook endpoint")
}

func scanWebhook(r rowScanner) (roster.WebhookEndpoint, error) {
	var w roster.WebhookEndpoint
	var types string
	var prev, failing, created, updated int64
	if err := r.Scan(&w.ID, &w.OrgID, &w.URL, &w.Description, &types, &w.Enabled, &w.DisabledReason, &w.Secret, &w.PreviousSecret,
		&prev, &failing, &created, &updated); err != nil {
		return w, err
	}
	w.EventTypes = strings.Fields(types)
	w.PreviousUntil, w.FailingSince, w.CreatedAt, w.UpdatedAt = fromZeroMicros(prev), fromZeroMicros(failing), fromMicros(created), fromMicros(updated)
	return w, nil
}

// WebhookEndpoint reads an endpoint.
func (c *Conn) WebhookEndpoint(ctx context.Context, id string) (roster.WebhookEndpoint, error) {
	w, err := scanWebhook(c.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE id = ?`, id))
	return w, notFound(err, "webhook endpoint")
}

// ListWebhookEndpoints lists an organization's endpoints (orgID "": the instance's), oldest first.
func (c *Conn) ListWebhookEndpoints(ctx context.Context, orgID string) ([]roster.WebhookEndpoint, error) {
	rows, err := c.query(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE org_id = ? ORDER BY id`, orgID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.WebhookEndpoint, error) { return scanWebhook(r) })
}

// WebhookEndpointsFor lists the enabled endpoints that receive an organization's events: its
// own and the instance's.
func (c *Conn) WebhookEndpointsFor(ctx context.Context, orgID string) ([]roster.WebhookEndpoint, error) {
	rows, err := c.query(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE enabled AND (org_id = ? OR org_id = '') ORDER BY id`, orgID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.WebhookEndpoint, error) { return scanWebhook(r) })
}

// EnqueueWebhook writes the delivery of an event to an endpoint to the outbox, due at due,
// in its place in the endpoint's order: after the deliveries of the organization's earlier
// events (ClaimWebhooks).
func (c *Conn) EnqueueWebhook(ctx context.Context, kind, id, endpointID string, ev roster.Event, now, due time.Time) error {
	data, err := json.Marshal(map[string]string{"endpoint_id": endpointID, "event_id": ev.ID})
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `INSERT INTO outbox (id, kind, template, recipient, locale, data, org_id, next_attempt_at, created_at, endpoint_id, event_org, event_seq)
		VALUES (?, ?, 'event', ?, '', ?, ?, ?, ?, ?, ?, ?)`, id, kind, endpointID, string(data), nullString(ev.OrgID), micros(due), micros(now),
		endpointID, ev.OrgID, ev.Seq)
	c.wake(WakeWebhook)
	return err
}

// TestWebhookOrder is the order a test delivery takes its place in: its own, so that it
// neither waits behind an endpoint's events nor holds them up (one delivery to an endpoint
// is in flight at a time all the same).
const TestWebhookOrder = "test"

// EnqueueTestWebhook writes a test delivery to an endpoint to the outbox, due now: event is
// the whole event (it is not in the feed).
func (c *Conn) EnqueueTestWebhook(ctx context.Context, kind, id, endpointID string, event map[string]any, now time.Time) error {
	data, err := json.Marshal(map[string]any{"endpoint_id": endpointID, "test_event": event})
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `INSERT INTO outbox (id, kind, template, recipient, locale, data, next_attempt_at, created_at, endpoint_id, event_org, event_seq)
		VALUES (?, ?, 'test', ?, '', ?, ?, ?, ?, ?, 0)`, id, kind, endpointID, string(data), micros(now), micros(now), endpointID, TestWebhookOrder)
	c.wake(WakeWebhook)
	return err
}

// Event reads an event.
func (c *Conn) Event(ctx context.Context, id string) (roster.Event, error) {
	e, err := scanEvent(c.queryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	return e, notFound(err, "event")
}

// EventsSince lists the events an endpoint may receive created at or after a
// time, oldest first: an organization's (orgID "": every event), at most limit.
func (c *Conn) EventsSince(ctx context.Context, orgID string, since time.Time, limit int) ([]roster.Event, error) {
	q, args := `SELECT `+eventColumns+` FROM events WHERE created_at >= ?`, []any{micros(since)}
	if orgID != "" {
		q, args = q+` AND org_id = ?`, append(args, orgID)
	}
	rows, err := c.query(ctx, q+` ORDER BY created_at, org_id, seq LIMIT ?`, append(args, limit)...)
	return scanAll(rows, err, func(r *sql.Rows) (roster.Event, error) { return scanEvent(r) })
}

// InsertWebhookDelivery appends an attempt to an endpoint's delivery log.
func (c *Conn) InsertWebhookDelivery(ctx context.Context, d roster.WebhookDelivery) error {
	_, err := c.exec(ctx, `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, attempt, status, latency_ms, response, error, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.EndpointID, d.EventID, d.EventType, d.Attempt, d.Status, d.Latency.Milliseconds(), d.Response, d.Error, micros(d.CreatedAt))
	return err
}

// InsertWebhookDeliveries appends attempts to their endpoints' delivery logs, in one statement.
func (c *Conn) InsertWebhookDeliveries(ctx context.Context, ds []roster.WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	var args []any
	rows := make([]string, len(ds))
	for i, d := range ds {
		rows[i] = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		args = append(args, d.ID, d.EndpointID, d.EventID, d.EventType, d.Attempt, d.Status, d.Latency.Milliseconds(), d.Response, d.Error, micros(d.CreatedAt))
	}
	_, err := c.exec(ctx, `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, attempt, status, latency_ms, response, error, created_at)
		VALUES `+strings.Join(rows, ", "), args...)
	return err
}

// ExistingWebhookEndpoints returns which of the endpoints still exist.
func (c *Conn) ExistingWebhookEndpoints(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := c.query(ctx, `SELECT id FROM webhook_endpoints WHERE id IN (`+placeholders(len(ids))+`)`, args...)
	found, err := scanAll(rows, err, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	for _, id := range found {
		out[id] = true
	}
	return out, err
}

const webhookDeliveryColumns = `d.id, d.endpoint_id, d.event_id, d.event_type, d.attempt, d.status, d.latency_ms, d.response, d.error, d.created_at`

func scanWebhookDelivery(r *sql.Rows) (roster.WebhookDelivery, error) {
	var d roster.WebhookDelivery
	var ms, created int64
	err := r.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.Attempt, &d.Status, &ms, &d.Response, &d.Error, &created)
	d.Latency, d.CreatedAt = time.Duration(ms)*time.Millisecond, fromMicros(created)
	return d, err
}

// ListWebhookDeliveries lists an endpoint's delivery log, newest first.
func (c *Conn) ListWebhookDeliveries(ctx context.Context, endpointID string, limit int) ([]roster.WebhookDelivery, error) {
	rows, err := c.query(ctx, `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries d WHERE d.endpoint_id = ? ORDER BY d.id DESC LIMIT ?`, endpointID, limit)
	return scanAll(rows, err, scanWebhookDelivery)
}

// LastWebhookDeliveries returns the latest delivery of each endpoint of an organization (""
// for the instance's) that has one, by endpoint ID: one statement for a whole list.
func (c *Conn) LastWebhookDeliveries(ctx context.Context, orgID string) (map[string]roster.WebhookDelivery, error) {
	rows, err := c.query(ctx, `SELECT `+webhookDeliveryColumns+` FROM webhook_endpoints e
		JOIN webhook_deliveries d ON d.id = (SELECT MAX(l.id) FROM webhook_deliveries l WHERE l.endpoint_id = e.id)
		WHERE e.org_id = ?`, orgID)
	list, err := scanAll(rows, err, scanWebhookDelivery)
	out := make(map[string]roster.WebhookDelivery, len(list))
	for _, d := range list {
		out[d.EndpointID] = d
	}
	return out, err
}
