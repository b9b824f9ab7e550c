package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

const auditColumns = `id, org_id, store_id, actor_kind, actor_id, action, target_type, target_id, before_json, after_json, ip, user_agent, created_at`

// InsertAuditEvent appends an event to the audit log.
func (c *Conn) InsertAuditEvent(ctx context.Context, e roster.AuditEvent) error {
	before, err := jsonText(nilIfEmpty(e.Before))
	if err != nil {
		return err
	}
	after, err := jsonText(nilIfEmpty(e.After))
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, nullString(e.OrgID), nullString(e.StoreID), e.ActorKind, e.ActorID, e.Action, e.TargetType, e.TargetID,
		before, after, e.IP, e.UserAgent, micros(e.CreatedAt))
	return err
}

func scanAuditEvent(r rowScanner) (roster.AuditEvent, error) {
	var e roster.AuditEvent
	var org, store, before, after sql.NullString
	var created int64
	if err := r.Scan(&e.ID, &org, &store, &e.ActorKind, &e.ActorID, &e.Action, &e.TargetType, &e.TargetID, &before, &after, &e.IP, &e.UserAgent, &created); err != nil {
		return e, err
	}
	e.OrgID, e.StoreID, e.CreatedAt = org.String, store.String, fromMicros(created)
	if before.Valid {
		if err := json.Unmarshal([]byte(before.String), &e.Before); err != nil {
			return e, err
		}
	}
	if after.Valid {
		if err := json.Unmarshal([]byte(after.String), &e.After); err != nil {
			return e, err
		}
	}
	return e, nil
}

// ListAuditEvents lists events newest first, a page at a time (the cursor is the ID of the
// last event of the previous page).
func (c *Conn) ListAuditEvents(ctx context.Context, f roster.AuditFilter) ([]roster.AuditEvent, error) {
	q, args := auditQuery(f)
	q += ` ORDER BY id DESC LIMIT ?`
	rows, err := c.query(ctx, q, append(args, f.Limit)...)
	return scanAll(rows, err, func(r *sql.Rows) (roster.AuditEvent, error) { return scanAuditEvent(r) })
}

// EachAuditEvent calls fn for every event matching f, oldest first, reading in batches so
// that a million events never sit in memory at once.
func (c *Conn) EachAuditEvent(ctx context.Context, f roster.AuditFilter, fn func(roster.AuditEvent) error) error {
	const batch = 1000
	after := ""
	for {
		q, args := auditQuery(roster.AuditFilter{OrgID: f.OrgID, StoreID: f.StoreID, ActorID: f.ActorID, Action: f.Action,
			TargetID: f.TargetID, Since: f.Since, Until: f.Until})
		q += ` AND id > ? ORDER BY id LIMIT ?`
		rows, err := c.query(ctx, q, append(args, after, batch)...)
		events, err := scanAll(rows, err, func(r *sql.Rows) (roster.AuditEvent, error) { return scanAuditEvent(r) })
		if err != nil {
			return err
		}
		for _, e := range events {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(events) < batch {
			return nil
		}
		after = events[len(events)-1].ID
	}
}

func auditQuery(f roster.AuditFilter) (string, []any) {
	q := `SELECT ` + auditColumns + ` FROM audit_events WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) { q += " AND " + cond; args = append(args, v) }
	if f.OrgID != "" {
		add("org_id = ?", f.OrgID)
	}
	if f.StoreID != "" {
		add("store_id = ?", f.StoreID)
	}
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if prefix, ok := strings.CutSuffix(f.Action, "."); ok {
		add(`action LIKE ? ESCAPE '\'`, strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix)+".%")
	} else if f.Action != "" {
		add("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("created_at < ?", micros(f.Until))
	}
	if f.Cursor != "" {
		add("id < ?", f.Cursor)
	}
	return q, args
}

// DeleteAuditEventsBefore removes events older than the retention, oldest first.
func (c *Conn) DeleteAuditEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := c.exec(ctx, `DELETE FROM audit_events WHERE created_at < ?`, micros(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}

func nilIfEmpty(m map[string]any) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

// CountRecentAudit counts the audit events of an action on a target since a time.
func (c *Conn) CountRecentAudit(ctx context.Context, action, targetID string, since time.Time) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM audit_events WHERE created_at >= ? AND action = ? AND target_id = ?`,
		micros(since), action, targetID).Scan(&n)
	return n, mapError(err)
}
