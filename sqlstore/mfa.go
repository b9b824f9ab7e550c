package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rosterhq/roster"
)

// TOTPFactor is a user's authenticator app as stored: the sealed secret, whether a first
// code confirmed it, and the last time step whose code was accepted.
type TOTPFactor struct {
	UserID       string
	SecretSealed string
	CreatedAt    time.Time
	ConfirmedAt  *time.Time
	LastStep     int64
}

// TOTP returns a user's authenticator app, confirmed or not.
func (c *Conn) TOTP(ctx context.Context, userID string) (TOTPFactor, error) {
	var f TOTPFactor
	var created int64
	var confirmed sql.NullInt64
	err := c.queryRow(ctx, `SELECT user_id, secret_sealed, created_at, confirmed_at, last_step FROM user_totp WHERE user_id = ?`, userID).
		Scan(&f.UserID, &f.SecretSealed, &created, &confirmed, &f.LastStep)
	f.CreatedAt, f.ConfirmedAt = fromMicros(created), fromNullMicros(confirmed)
	return f, notFound(err, "authenticator")
}

// HasSecondFactor reports whether a user has a confirmed second factor: an authenticator
// app or a passkey (passkeys.go).
func (c *Conn) HasSecondFactor(ctx context.Context, userID string) (bool, error) {
	var on bool
	err := c.queryRow(ctx, `SELECT EXISTS (`+secondFactorOf("?", "")+`)`, userID, userID).Scan(&on)
	return on, mapError(err)
}

// secondFactorOf selects user_id, then the columns more, once for each second factor that
// signs in (a confirmed authenticator app, a passkey) of the users whose IDs in lists (a
// subquery whose arguments are then given twice, or placeholders: their arguments are then the
// IDs, twice over).
func secondFactorOf(in, more string) string {
	if more != "" {
		more = ", " + more
	}
	return `SELECT user_id` + more + ` FROM user_totp WHERE confirmed_at IS NOT NULL AND user_id IN (` + in + `)
		UNION ALL SELECT user_id` + more + ` FROM passkeys WHERE user_id IN (` + in + `)`
}

// UsersWithSecondFactor returns which of the users have a second factor that signs in.
func (c *Conn) UsersWithSecondFactor(ctx context.Context, userIDs []string) (map[string]bool, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 2*len(userIDs))
	for range 2 {
		for _, id := range userIDs {
			args = append(args, id)
		}
	}
	rows, err := c.query(ctx, secondFactorOf(placeholders(len(userIDs)), ""), args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapError(err)
		}
		out[id] = true
	}
	return out, mapError(rows.Err())
}

// DeleteAllFactors removes every factor of a user besides the password: the authenticator,
// the recovery codes, the passkeys and any pending login or ceremony.
func (c *Conn) DeleteAllFactors(ctx context.Context, userID string) error {
	if err := c.DeleteSecondFactors(ctx, userID); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM passkeys WHERE user_id = ?`, `DELETE FROM webauthn_ceremonies WHERE user_id = ?`} {
		if _, err := c.exec(ctx, q, userID); err != nil {
			return err
		}
	}
	return nil
}

// BeginTOTP stores a new, unconfirmed secret for a user, replacing an unconfirmed one. A
// confirmed authenticator is never replaced: conflict.
func (c *Conn) BeginTOTP(ctx context.Context, userID, sealed string, now time.Time) error {
	err := c.execOne(ctx, `INSERT INTO user_totp (user_id, secret_sealed, created_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, created_at = excluded.created_at, last_step = 0
		WHERE user_totp.confirmed_at IS NULL`, userID, sealed, micros(now))
	if IsNotFound(err) {
		return roster.Errorf(roster.EConflict, "two-factor authentication is already on; remove it first")
	}
	return err
}

// ConfirmTOTP marks an unconfirmed authenticator confirmed by the code of step.
func (c *Conn) ConfirmTOTP(ctx context.Context, userID string, step int64, now time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE user_totp SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND confirmed_at IS NULL`,
		micros(now), step, userID), "authenticator")
}

// ResealTOTP replaces the sealed secret of a user's authenticator with the same secret sealed
// under another key.
func (c *Conn) ResealTOTP(ctx context.Context, userID, sealed string) error {
	return notFound(c.execOne(ctx, `UPDATE user_totp SET secret_sealed = ? WHERE user_id = ?`, sealed, userID), "authenticator")
}

// UseTOTPStep records that the code of step was accepted, in one statement that refuses a
// step not later than the last one accepted (not_found): a code works once.
func (c *Conn) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	return notFound(c.execOne(ctx, `UPDATE user_totp SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?`,
		step, userID, step), "authenticator code")
}

// DeleteSecondFactors removes a user's authenticator, recovery codes and pending logins.
func (c *Conn) DeleteSecondFactors(ctx context.Context, userID string) error {
	for _, q := range []string{`DELETE FROM user_totp WHERE user_id = ?`, `DELETE FROM recovery_codes WHERE user_id = ?`,
		`DELETE FROM login_challenges WHERE user_id = ?`} {
		if _, err := c.exec(ctx, q, userID); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceRecoveryCodes makes hashes a user's recovery codes; the old ones stop working.
func (c *Conn) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, now time.Time) error {
	if _, err := c.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := c.exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)`, userID, h, micros(now)); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode spends one unused recovery code of a user (not_found: no such unused code).
func (c *Conn) UseRecoveryCode(ctx context.Context, userID, hash string, now time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
		micros(now), userID, hash), "recovery code")
}

// DeleteTOTP removes a user's authenticator and pending logins; the recovery codes stay (the
// passkeys they back up remain).
func (c *Conn) DeleteTOTP(ctx context.Context, userID string) error {
	for _, q := range []string{`DELETE FROM user_totp WHERE user_id = ?`, `DELETE FROM login_challenges WHERE user_id = ?`} {
		if _, err := c.exec(ctx, q, userID); err != nil {
			return err
		}
	}
	return nil
}

// DeleteRecoveryCodes removes a user's recovery codes.
func (c *Conn) DeleteRecoveryCodes(ctx context.Context, userID string) error {
	_, err := c.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID)
	return err
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (c *Conn) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n)
	return n, mapError(err)
}

// CreateLoginChallenge stores a login waiting for its second factor under the hash of its token.
func (c *Conn) CreateLoginChallenge(ctx context.Context, tokenHash, userID string, now, expires time.Time) error {
	_, err := c.exec(ctx, `INSERT INTO login_challenges (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, userID, micros(now), micros(expires))
	return err
}

// LoginChallengeUser returns the user of a login challenge that is unused and unexpired at now.
func (c *Conn) LoginChallengeUser(ctx context.Context, tokenHash string, now time.Time) (string, error) {
	var userID string
	err := c.queryRow(ctx, `SELECT user_id FROM login_challenges WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`,
		tokenHash, micros(now)).Scan(&userID)
	return userID, notFound(err, "login challenge")
}

// UseLoginChallenge spends a login challenge of userID, in one statement that refuses one
// used or expired (not_found).
func (c *Conn) UseLoginChallenge(ctx context.Context, tokenHash, userID string, now time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE login_challenges SET used_at = ? WHERE token_hash = ? AND user_id = ? AND used_at IS NULL AND expires_at > ?`,
		micros(now), tokenHash, userID, micros(now)), "login challenge")
}

// DeleteExpiredLoginChallenges removes login challenges and WebAuthn ceremonies that expired
// before now.
func (c *Conn) DeleteExpiredLoginChallenges(ctx context.Context, now time.Time) error {
	if _, err := c.exec(ctx, `DELETE FROM login_challenges WHERE expires_at <= ?`, micros(now)); err != nil {
		return err
	}
	return c.DeleteExpiredCeremonies(ctx, now)
}
