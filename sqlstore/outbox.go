package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/rosterhq/roster"
)

// EnqueueEmail writes an email to the outbox, due at once.
func (c *Conn) EnqueueEmail(ctx context.Context, e roster.Email, now time.Time) error {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `INSERT INTO outbox (id, kind, template, recipient, locale, data, link_kind, link_ref, org_id, next_attempt_at, created_at)
		VALUES (?, 'email', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Template, e.To, e.Locale, string(data), e.LinkKind, e.LinkRef, nullString(e.OrgID), micros(now), micros(now))
	return err
}
