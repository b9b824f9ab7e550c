package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rosterhq/roster"
)

// Setup links of organizations (migration 0045). The links only confine who acts: what their
// holder changes goes through the domains, single sign-on and SCIM directories tables.

const setupLinkColumns = `id, org_id, created_by, created_at, expires_at, revoked_at, last_used_at`

func scanSetupLink(r rowScanner, extra ...any) (roster.SetupLink, error) {
	var l roster.SetupLink
	var created, expires, revoked, used int64
	err := r.Scan(append([]any{&l.ID, &l.OrgID, &l.CreatedBy, &created, &expires, &revoked, &used}, extra...)...)
	l.CreatedAt, l.ExpiresAt = fromMicros(created), fromMicros(expires)
	if revoked != 0 {
		t := fromMicros(revoked)
		l.RevokedAt = &t
	}
	if used != 0 {
		t := fromMicros(used)
		l.LastUsedAt = &t
	}
	return l, err
}

// InsertSetupLink adds a setup link with the hash of its secret.
func (c *Conn) InsertSetupLink(ctx context.Context, l roster.SetupLink, tokenHash string) error {
	_, err := c.exec(ctx, `INSERT INTO setup_links (id, org_id, token_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		l.ID, l.OrgID, tokenHash, l.CreatedBy, micros(l.CreatedAt), micros(l.ExpiresAt))
	return mapError(err)
}

// SetupLink reads a setup link.
func (c *Conn) SetupLink(ctx context.Context, id string) (roster.SetupLink, error) {
	l, err := scanSetupLink(c.queryRow(ctx, `SELECT `+setupLinkColumns+` FROM setup_links WHERE id = ?`, id))
	return l, notFound(err, "setup link")
}

// SetupLinkByToken reads the setup link whose secret has this SHA-256, with the stored hash
// (for a constant-time comparison).
func (c *Conn) SetupLinkByToken(ctx context.Context, tokenHash string) (roster.SetupLink, string, error) {
	var hash string
	l, err := scanSetupLink(c.queryRow(ctx, `SELECT `+setupLinkColumns+`, token_hash FROM setup_links WHERE token_hash = ?`, tokenHash), &hash)
	return l, hash, notFound(err, "setup link")
}

// OpenSetupLinks lists an organization's setup links that neither expired nor were revoked
// at now, newest first.
func (c *Conn) OpenSetupLinks(ctx context.Context, orgID string, now time.Time) ([]roster.SetupLink, error) {
	rows, err := c.query(ctx, `SELECT `+setupLinkColumns+` FROM setup_links WHERE org_id = ? AND expires_at > ? AND revoked_at = 0 ORDER BY id DESC`,
		orgID, micros(now))
	return scanAll(rows, err, func(r *sql.Rows) (roster.SetupLink, error) { return scanSetupLink(r) })
}

// RevokeSetupLink closes a setup link at now: its page stops opening at commit.
func (c *Conn) RevokeSetupLink(ctx context.Context, id string, now time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE setup_links SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, micros(now), id), "setup link")
}

// MarkSetupLinkUsed records that a setup link was used, at most once a minute.
func (c *Conn) MarkSetupLinkUsed(ctx context.Context, id string, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE setup_links SET last_used_at = ? WHERE id = ? AND last_used_at < ?`,
		micros(now), id, micros(now.Add(-time.Minute)))
	return mapError(err)
}
