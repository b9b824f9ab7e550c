package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/rosterhq/roster"
)

const eventColumns = `id, org_id, seq, type, version, store_id, actor_kind, actor_id, subject_type, subject_id, before_json, after_json, created_at`

// InsertEvent appends an event, numbering it after its organization's last event, and
// returns it with its number. Call it in the transaction of the change the event describes.
func (c *Conn) InsertEvent(ctx context.Context, e roster.Event) (roster.Event, error) {
	before, err := jsonText(nilIfEmpty(e.Before))
	if err != nil {
		return e, err
	}
	after, err := jsonText(nilIfEmpty(e.After))
	if err != nil {
		return e, err
	}
	if err := c.queryRow(ctx, `INSERT INTO event_sequences (org_id, seq) VALUES (?, 1)
		ON CONFLICT (org_id) DO UPDATE SET seq = event_sequences.seq + 1 RETURNING seq`, e.OrgID).Scan(&e.Seq); err != nil {
		return e, err
	}
	_, err = c.exec(ctx, `INSERT INTO events (`+eventColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.OrgID, e.Seq, e.Type, e.Version, e.StoreID, e.ActorKind, e.ActorID, e.SubjectType, e.SubjectID,
		before, after, micros(e.CreatedAt))
	c.wake(WakeEvent)
	return e, err
}

func scanEvent(r rowScanner) (roster.Event, error) {
	var e roster.Event
	var before, after sql.NullString
	var created int64
	if err := r.Scan(&e.ID, &e.OrgID, &e.Seq, &e.Type, &e.Version, &e.StoreID, &e.ActorKind, &e.ActorID, &e.SubjectType, &e.SubjectID,
		&before, &after, &created); err != nil {
		return e, err
	}
	e.CreatedAt = fromMicros(created)
	for _, f := range []struct {
		s sql.NullString
		m *map[string]any
	}{{before, &e.Before}, {after, &e.After}} {
		if f.s.Valid {
			if err := json.Unmarshal([]byte(f.s.String), f.m); err != nil {
				return e, err
			}
		}
	}
	return e, nil
}

// ListEvents lists an organization's events numbered after afterSeq, oldest first (orgID ""
// lists the instance-level events).
func (c *Conn) ListEvents(ctx context.Context, orgID string, afterSeq int64, limit int) ([]roster.Event, error) {
	rows, err := c.query(ctx, `SELECT `+eventColumns+` FROM events WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?`, orgID, afterSeq, limit)
	return scanAll(rows, err, func(r *sql.Rows) (roster.Event, error) { return scanEvent(r) })
}

// ExpiredInvitation is an invitation that passed its expiry without an answer.
type ExpiredInvitation struct {
	ID, OrgID, Email string
	ExpiresAt        time.Time
}

// TakeExpiredInvitations marks up to limit invitations whose expiry has passed, unanswered
// (pending, or marked expired when a new invitation replaced them), as told of that expiry,
// and returns them: each expiry is taken once, by one transaction of one process.
func (c *Conn) TakeExpiredInvitations(ctx context.Context, now time.Time, limit int) ([]ExpiredInvitation, error) {
	skip := ""
	if c.engine == Postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := c.query(ctx, `UPDATE invitations SET expiry_event_at = expires_at
		WHERE id IN (SELECT id FROM invitations WHERE status IN ('pending', 'expired') AND expiry_event_at < expires_at AND expires_at <= ?
			ORDER BY expires_at LIMIT ?`+skip+`)
		RETURNING id, org_id, email, expires_at`, micros(now), limit)
	return scanAll(rows, err, func(r *sql.Rows) (ExpiredInvitation, error) {
		var e ExpiredInvitation
		var at int64
		err := r.Scan(&e.ID, &e.OrgID, &e.Email, &at)
		e.ExpiresAt = fromMicros(at)
		return e, err
	})
}
