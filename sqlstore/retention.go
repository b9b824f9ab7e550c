package sqlstore

import (
	"context"
	"time"
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
