package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rosterhq/roster"
)

const sessionColumns = `s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.reauth_at, s.step_up_at, s.ip, s.user_agent`

// sessionScan receives sessionColumns, for a scan that reads other columns too.
type sessionScan struct {
	s                                      roster.Session
	created, seen, expires, reauth, stepUp int64
}

func (ss *sessionScan) dest() []any {
	s := &ss.s
	return []any{&s.ID, &s.UserID, &ss.created, &ss.seen, &ss.expires, &ss.reauth, &ss.stepUp, &s.IP, &s.UserAgent}
}

func (ss *sessionScan) session() roster.Session {
	s := ss.s
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.ReauthAt = fromMicros(ss.created), fromMicros(ss.seen), fromMicros(ss.expires), fromMicros(ss.reauth)
	s.StepUpAt = fromMicros(ss.stepUp)
	return s
}

func scanSession(r rowScanner) (roster.Session, error) {
	var ss sessionScan
	err := r.Scan(ss.dest()...)
	return ss.session(), err
}

// CreateSession stores a session under the hash of its token; its user was active then.
func (c *Conn) CreateSession(ctx context.Context, s roster.Session, tokenHash string) error {
	_, err := c.exec(ctx, `INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at, reauth_at, step_up_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, tokenHash, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt), micros(s.ReauthAt), micros(s.StepUpAt), s.IP, s.UserAgent)
	if err != nil {
		return err
	}
	return c.userActive(ctx, s.UserID, s.CreatedAt)
}

// userActive records when a user last signed in or used a session (users.last_active_at):
// the members table's "last active". It changes nothing the access index holds.
func (c *Conn) userActive(ctx context.Context, userID string, now time.Time) error {
	c.touchNothing()
	_, err := c.exec(ctx, `UPDATE users SET last_active_at = ? WHERE id = ?`, micros(now), userID)
	return err
}

// TouchSession records that a session of userID was used.
func (c *Conn) TouchSession(ctx context.Context, id, userID string, now time.Time) error {
	if _, err := c.exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, micros(now), id); err != nil {
		return err
	}
	return c.userActive(ctx, userID, now)
}

// SessionByID returns a session.
func (c *Conn) SessionByID(ctx context.Context, id string) (roster.Session, error) {
	s, err := scanSession(c.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.id = ?`, id))
	return s, notFound(err, "session")
}

// SetSessionReauth records that the password was entered again in a session.
func (c *Conn) SetSessionReauth(ctx context.Context, id string, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE sessions SET reauth_at = ?, last_seen_at = ? WHERE id = ?`, micros(now), micros(now), id)
	return err
}

// SetSessionStepUp records that the person of a session gave the strongest proof their
// account has (a second factor, or the password of an account without one): it counts as the
// password entered too.
func (c *Conn) SetSessionStepUp(ctx context.Context, id string, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE sessions SET step_up_at = ?, reauth_at = ?, last_seen_at = ? WHERE id = ?`, micros(now), micros(now), micros(now), id)
	return err
}

// ListSessions returns a user's sessions, newest first.
func (c *Conn) ListSessions(ctx context.Context, userID string) ([]roster.Session, error) {
	rows, err := c.query(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.user_id = ? ORDER BY s.created_at DESC, s.id DESC`, userID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.Session, error) { return scanSession(r) })
}

// DeleteSession ends one session of a user.
func (c *Conn) DeleteSession(ctx context.Context, userID, id string) error {
	return notFound(c.execOne(ctx, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, id, userID), "session")
}

// DeleteUserSessions ends every session of a user but keep ("" ends them all).
func (c *Conn) DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error) {
	res, err := c.exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keep)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}

// DeleteExpiredSessions removes sessions past their absolute or idle limit.
func (c *Conn) DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int64, error) {
	res, err := c.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`, micros(now), micros(now.Add(-idle)))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}
