package sqlstore

import (
	"context"
	"time"
)

// DeleteAuditEventsBatch prunes up to limit audit events older than a time and returns how
// many went; callers repeat until fewer than limit go.
func (c *Conn) DeleteAuditEventsBatch(ctx context.Context, before time.Time, limit int) (int64, error) {
	return c.deleteBatch(ctx, "audit_events", before, limit)
}

// DeleteEventsBatch prunes up to limit events (those for host applications) older than a
// time, like DeleteAuditEventsBatch. Sequences are kept, so numbers are never reused.
func (c *Conn) DeleteEventsBatch(ctx context.Context, before time.Time, limit int) (int64, error) {
	return c.deleteBatch(ctx, "events", before, limit)
}

// deleteBatch deletes up to limit rows of a table (a constant, never input) created before a time.
func (c *Conn) deleteBatch(ctx context.Context, table string, before time.Time, limit int) (int64, error) {
	res, err := c.exec(ctx, `DELETE FROM `+table+` WHERE id IN (SELECT id FROM `+table+` WHERE created_at < ? LIMIT ?)`, micros(before), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}
