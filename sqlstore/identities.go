package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/rosterhq/roster"
)

// SessionUser is a session with its user and the hash of its token.
type SessionUser struct {
	TokenHash string
	Session   roster.Session
	User      roster.User
}

// SessionsByTokenHashes returns the sessions whose tokens hash to one of hashes, each with
// its user, in one query; unknown hashes are left out. It reads and changes nothing else: a
// session's last use is recorded by TouchSession only.
func (c *Conn) SessionsByTokenHashes(ctx context.Context, hashes []string) ([]SessionUser, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	args := make([]any, len(hashes))
	for i, h := range hashes {
		args[i] = h
	}
	rows, err := c.query(ctx, `SELECT s.token_hash, s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.reauth_at, s.ip, s.user_agent, `+userColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash IN (?`+strings.Repeat(", ?", len(hashes)-1)+`)`, args...)
	return scanAll(rows, err, func(r *sql.Rows) (SessionUser, error) {
		var su SessionUser
		var created, seen, expires, reauth int64
		var us userScan
		s := &su.Session
		err := r.Scan(append([]any{&su.TokenHash, &s.ID, &s.UserID, &created, &seen, &expires, &reauth, &s.IP, &s.UserAgent}, us.dest()...)...)
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.ReauthAt = fromMicros(created), fromMicros(seen), fromMicros(expires), fromMicros(reauth)
		su.User = us.user()
		return su, err
	})
}
