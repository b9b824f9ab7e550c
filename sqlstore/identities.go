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
	rows, err := c.query(ctx, `SELECT s.token_hash, `+sessionColumns+`, `+userColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash IN (?`+strings.Repeat(", ?", len(hashes)-1)+`)`, args...)
	return scanAll(rows, err, func(r *sql.Rows) (SessionUser, error) {
		var su SessionUser
		var ss sessionScan
		var us userScan
		err := r.Scan(append(append([]any{&su.TokenHash}, ss.dest()...), us.dest()...)...)
		su.Session, su.User = ss.session(), us.user()
		return su, err
	})
}

// SessionUserByTokenHash returns the session whose token hashes to hash, with its user, in
// one query: what authenticating a request reads.
func (c *Conn) SessionUserByTokenHash(ctx context.Context, hash string) (SessionUser, error) {
	found, err := c.SessionsByTokenHashes(ctx, []string{hash})
	if err != nil {
		return SessionUser{}, err
	}
	if len(found) == 0 {
		return SessionUser{}, roster.NotFound("session")
	}
	return found[0], nil
}
