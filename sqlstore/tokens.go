package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rosterhq/roster"
)

const userTokenColumns = `id, user_id, purpose, email, created_at, expires_at, used_at` // #nosec G101 -- column names, no secret

func scanUserToken(r rowScanner) (roster.UserToken, error) {
	var t roster.UserToken
	var user sql.NullString
	var created, expires int64
	var used sql.NullInt64
	err := r.Scan(&t.ID, &user, &t.Purpose, &t.Email, &created, &expires, &used)
	t.UserID, t.CreatedAt, t.ExpiresAt, t.UsedAt = user.String, fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return t, err
}

// CreateUserToken stores a one-time link under the hash of its token.
func (c *Conn) CreateUserToken(ctx context.Context, t roster.UserToken, tokenHash string) error {
	_, err := c.exec(ctx, `INSERT INTO user_tokens (id, user_id, purpose, token_hash, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, nullString(t.UserID), t.Purpose, tokenHash, t.Email, micros(t.CreatedAt), micros(t.ExpiresAt))
	return err
}

// UserTokenByHash returns a one-time link by the hash of its token, used or not.
func (c *Conn) UserTokenByHash(ctx context.Context, purpose roster.TokenPurpose, hash string) (roster.UserToken, error) {
	t, err := scanUserToken(c.queryRow(ctx, `SELECT `+userTokenColumns+` FROM user_tokens WHERE token_hash = ? AND purpose = ?`, hash, purpose))
	return t, notFound(err, "link")
}

// ConsumeUserToken marks a one-time link used, atomically: of concurrent attempts exactly
// one succeeds, and only while the link is unused and unexpired. Others get ENotFound.
func (c *Conn) ConsumeUserToken(ctx context.Context, purpose roster.TokenPurpose, hash string, now time.Time) (roster.UserToken, error) {
	t, err := scanUserToken(c.queryRow(ctx, `UPDATE user_tokens SET used_at = ?
		WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
		RETURNING `+userTokenColumns, micros(now), hash, purpose, micros(now)))
	return t, notFound(err, "link")
}

// InvalidateUserTokens kills every unused link of a purpose for a user (a new one replaces them).
func (c *Conn) InvalidateUserTokens(ctx context.Context, userID string, purpose roster.TokenPurpose, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE user_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL`, micros(now), userID, purpose)
	return err
}

// CountRecentUserTokens counts the links of a purpose issued to a user since a time, for
// rate limits on mail.
func (c *Conn) CountRecentUserTokens(ctx context.Context, userID string, purpose roster.TokenPurpose, since time.Time) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM user_tokens WHERE user_id = ? AND purpose = ? AND created_at > ?`, userID, purpose, micros(since)).Scan(&n)
	return n, mapError(err)
}

// DeleteOldUserTokens removes links that expired before a time.
func (c *Conn) DeleteOldUserTokens(ctx context.Context, before time.Time) error {
	_, err := c.exec(ctx, `DELETE FROM user_tokens WHERE expires_at < ?`, micros(before))
	return err
}

// LoginThrottle returns the failed logins recorded for an account key.
func (c *Conn) LoginThrottle(ctx context.Context, key string) (failures int, lockedUntil time.Time, err error) {
	var until int64
	err = c.queryRow(ctx, `SELECT failures, locked_until FROM login_throttle WHERE account_key = ?`, key).Scan(&failures, &until)
	if IsNotFound(err) {
		return 0, time.Time{}, nil
	}
	return failures, fromMicros(until), mapError(err)
}

// RecordLoginFailure counts one more failed login for an account key and returns the new
// count; lockFor computes the lock from the count.
func (c *Conn) RecordLoginFailure(ctx context.Context, key string, now time.Time, lockFor func(failures int) time.Duration) (int, error) {
	var n int
	err := c.queryRow(ctx, `INSERT INTO login_throttle (account_key, failures, locked_until, updated_at) VALUES (?, 1, 0, ?)
		ON CONFLICT (account_key) DO UPDATE SET failures = login_throttle.failures + 1, updated_at = excluded.updated_at
		RETURNING failures`, key, micros(now)).Scan(&n)
	if err != nil {
		return 0, mapError(err)
	}
	if d := lockFor(n); d > 0 {
		_, err = c.exec(ctx, `UPDATE login_throttle SET locked_until = ? WHERE account_key = ?`, micros(now.Add(d)), key)
	}
	return n, err
}

// ReserveLoginAttempt counts an attempt for an account key before its password is checked,
// atomically, and must run in a write transaction. Unless the key is locked at now, the count
// grows by one and the lock that count earns (lockFor) starts at once; the attempt then counts
// as a failure until a success clears the count. A locked key gets ok false and the end of
// its lock, and its count stays. The conditional upsert locks the row on PostgreSQL until the
// transaction ends, and sees the latest version of it (a concurrent reservation waits, then
// finds the lock); on SQLite write transactions are serialized. So of concurrent attempts no
// more get through than the lock allows.
func (c *Conn) ReserveLoginAttempt(ctx context.Context, key string, now time.Time, lockFor func(failures int) time.Duration) (ok bool, lockedUntil time.Time, err error) {
	var n int
	err = c.queryRow(ctx, `INSERT INTO login_throttle (account_key, failures, locked_until, updated_at) VALUES (?, 1, 0, ?)
		ON CONFLICT (account_key) DO UPDATE SET failures = login_throttle.failures + 1, updated_at = excluded.updated_at
		WHERE login_throttle.locked_until <= excluded.updated_at
		RETURNING failures`, key, micros(now)).Scan(&n)
	if IsNotFound(err) {
		_, until, err := c.LoginThrottle(ctx, key)
		return false, until, err
	}
	if err != nil {
		return false, time.Time{}, mapError(err)
	}
	if d := lockFor(n); d > 0 {
		until := now.Add(d)
		_, err = c.exec(ctx, `UPDATE login_throttle SET locked_until = ? WHERE account_key = ?`, micros(until), key)
		return true, until, err
	}
	return true, time.Time{}, nil
}

// NoteLoginFailure records when an attempt counted by ReserveLoginAttempt turned out wrong.
// It changes no count: it gives a wrong password of an unknown address the same write as one
// of a known account, whose failure is also audited.
func (c *Conn) NoteLoginFailure(ctx context.Context, key string, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE login_throttle SET updated_at = ? WHERE account_key = ?`, micros(now), key)
	return err
}

// ClearLoginFailures forgets the failed logins of an account key after a success or a reset.
func (c *Conn) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := c.exec(ctx, `DELETE FROM login_throttle WHERE account_key = ?`, key)
	return err
}

const serviceTokenColumns = `id, name, created_at, last_used_at, revoked_at` // #nosec G101 -- column names, no secret

func scanServiceToken(r rowScanner) (roster.ServiceToken, error) {
	var t roster.ServiceToken
	var created int64
	var used, revoked sql.NullInt64
	err := r.Scan(&t.ID, &t.Name, &created, &used, &revoked)
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMicros(created), fromNullMicros(used), fromNullMicros(revoked)
	return t, err
}

// CreateServiceToken stores an instance token under the hash of its secret.
func (c *Conn) CreateServiceToken(ctx context.Context, t roster.ServiceToken, hash string) error {
	c.touch("t:" + t.ID)
	_, err := c.exec(ctx, `INSERT INTO service_tokens (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)`, t.ID, t.Name, hash, micros(t.CreatedAt))
	return err
}

// ServiceTokenByHash returns a live (not revoked) instance token by the hash of its secret.
func (c *Conn) ServiceTokenByHash(ctx context.Context, hash string) (roster.ServiceToken, error) {
	t, err := scanServiceToken(c.queryRow(ctx, `SELECT `+serviceTokenColumns+` FROM service_tokens WHERE token_hash = ? AND revoked_at IS NULL`, hash))
	return t, notFound(err, "service token")
}

// TouchServiceToken records when an instance token was last used.
func (c *Conn) TouchServiceToken(ctx context.Context, id string, now time.Time) error {
	c.touchNothing()
	_, err := c.exec(ctx, `UPDATE service_tokens SET last_used_at = ? WHERE id = ?`, micros(now), id)
	return err
}

// ListServiceTokens lists instance tokens, newest first.
func (c *Conn) ListServiceTokens(ctx context.Context) ([]roster.ServiceToken, error) {
	rows, err := c.query(ctx, `SELECT `+serviceTokenColumns+` FROM service_tokens ORDER BY id DESC`)
	return scanAll(rows, err, func(r *sql.Rows) (roster.ServiceToken, error) { return scanServiceToken(r) })
}

// RevokeServiceToken stops an instance token from working.
func (c *Conn) RevokeServiceToken(ctx context.Context, id string, now time.Time) error {
	c.touch("t:" + id)
	return notFound(c.execOne(ctx, `UPDATE service_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(now), id), "service token")
}

// InvalidateSetupTokens kills every unused operator setup link.
func (c *Conn) InvalidateSetupTokens(ctx context.Context, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE user_tokens SET used_at = ? WHERE purpose = ? AND used_at IS NULL`, micros(now), roster.TokenOperatorSetup)
	return err
}

// UserToken returns a one-time link by ID.
func (c *Conn) UserToken(ctx context.Context, id string) (roster.UserToken, error) {
	t, err := scanUserToken(c.queryRow(ctx, `SELECT `+userTokenColumns+` FROM user_tokens WHERE id = ?`, id))
	return t, notFound(err, "link")
}

// MintUserToken stores the hash of the token of an unused link, as the email that carries
// it goes out, and starts its lifetime then. It reports false when the link was used or
// voided meanwhile.
func (c *Conn) MintUserToken(ctx context.Context, id, hash string, expires time.Time) (bool, error) {
	err := c.execOne(ctx, `UPDATE user_tokens SET token_hash = ?, expires_at = ? WHERE id = ? AND used_at IS NULL`, hash, micros(expires), id)
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}
