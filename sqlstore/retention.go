package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// DeleteAuditEventsBatch prunes up to limit audit events older than a time and returns how
// many went; callers repeat until fewer than limit go.
func (c *Conn) DeleteAuditEventsBatch(ctx context.Context, before time.Time, limit int) (int64, error) {
	res, err := c.exec(ctx, `DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE created_at < ? LIMIT ?)`, micros(before), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}

// InsertAuditEvents appends many events at once, a few hundred per statement: for imports of
// history and for tests that need a large log.
func (c *Conn) InsertAuditEvents(ctx context.Context, events []roster.AuditEvent) error {
	const perStatement = 500
	for len(events) > 0 {
		n := min(len(events), perStatement)
		var q strings.Builder
		q.WriteString(`INSERT INTO audit_events (` + auditColumns + `) VALUES `)
		args := make([]any, 0, n*13)
		for i, e := range events[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			before, err := jsonText(nilIfEmpty(e.Before))
			if err != nil {
				return err
			}
			after, err := jsonText(nilIfEmpty(e.After))
			if err != nil {
				return err
			}
			args = append(args, e.ID, nullString(e.OrgID), nullString(e.StoreID), e.ActorKind, e.ActorID, e.Action, e.TargetType, e.TargetID,
				before, after, e.IP, e.UserAgent, micros(e.CreatedAt))
		}
		if _, err := c.exec(ctx, q.String(), args...); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}
