package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rosterhq/roster"
)

// Passkey is a user's WebAuthn credential as stored. Credential is the library's JSON of it.
type Passkey struct {
	ID             string
	UserID         string
	RPID           string
	CredentialID   string // base64url of the credential's raw ID
	Name           string
	Credential     string
	SignCount      int64
	BackupEligible bool
	BackupState    bool
	CreatedAt      time.Time
	LastUsedAt     *time.Time
}

const passkeyColumns = `id, user_id, rp_id, credential_id, name, credential, sign_count, backup_eligible, backup_state, created_at, last_used_at`

func scanPasskey(s interface{ Scan(...any) error }) (Passkey, error) {
	var p Passkey
	var created int64
	var used sql.NullInt64
	err := s.Scan(&p.ID, &p.UserID, &p.RPID, &p.CredentialID, &p.Name, &p.Credential, &p.SignCount, &p.BackupEligible, &p.BackupState, &created, &used)
	p.CreatedAt, p.LastUsedAt = fromMicros(created), fromNullMicros(used)
	return p, err
}

// Passkeys lists a user's passkeys for a relying party, oldest first.
func (c *Conn) Passkeys(ctx context.Context, userID, rpID string) ([]Passkey, error) {
	rows, err := c.query(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ? AND rp_id = ? ORDER BY created_at, id`, userID, rpID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, mapError(err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CountPasskeys counts a user's passkeys, for any relying party.
func (c *Conn) CountPasskeys(ctx context.Context, userID string) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM passkeys WHERE user_id = ?`, userID).Scan(&n)
	return n, mapError(err)
}

// CreatePasskey stores a new passkey. A credential already registered (for anyone) is a conflict.
func (c *Conn) CreatePasskey(ctx context.Context, p Passkey) error {
	_, err := c.exec(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.UserID, p.RPID, p.CredentialID, p.Name, p.Credential, p.SignCount, p.BackupEligible, p.BackupState, micros(p.CreatedAt), nil)
	if roster.ErrorCode(err) == roster.EConflict {
		return roster.Errorf(roster.EConflict, "this passkey is already registered")
	}
	return err
}

// UsePasskey records a successful use of a passkey: its updated credential, counter and
// backup state. It changes the row only while its counter is still prevCount (not_found
// otherwise): two uses of the same counter value cannot both succeed.
func (c *Conn) UsePasskey(ctx context.Context, id string, prevCount int64, credential string, count int64, backupState bool, now time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE passkeys SET credential = ?, sign_count = ?, backup_state = ?, last_used_at = ? WHERE id = ? AND sign_count = ?`,
		credential, count, backupState, micros(now), id, prevCount), "passkey")
}

// RenamePasskey renames a passkey of a user.
func (c *Conn) RenamePasskey(ctx context.Context, userID, id, name string) error {
	return notFound(c.execOne(ctx, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID), "passkey")
}

// DeletePasskey removes a passkey of a user and returns it.
func (c *Conn) DeletePasskey(ctx context.Context, userID, id string) (Passkey, error) {
	p, err := scanPasskey(c.queryRow(ctx, `DELETE FROM passkeys WHERE id = ? AND user_id = ? RETURNING `+passkeyColumns, id, userID))
	return p, notFound(err, "passkey")
}

// PasskeyHandle returns a user's WebAuthn user handle, storing handle as it when they have none.
func (c *Conn) PasskeyHandle(ctx context.Context, userID, handle string, now time.Time) (string, error) {
	if _, err := c.exec(ctx, `INSERT INTO passkey_users (user_id, handle, created_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING`,
		userID, handle, micros(now)); err != nil {
		return "", err
	}
	var h string
	err := c.queryRow(ctx, `SELECT handle FROM passkey_users WHERE user_id = ?`, userID).Scan(&h)
	return h, mapError(err)
}

// UserOfPasskeyHandle returns the user whose WebAuthn user handle is handle.
func (c *Conn) UserOfPasskeyHandle(ctx context.Context, handle string) (string, error) {
	var userID string
	err := c.queryRow(ctx, `SELECT user_id FROM passkey_users WHERE handle = ?`, handle).Scan(&userID)
	return userID, notFound(err, "passkey")
}

// PasskeyHandleOf returns a user's WebAuthn user handle (not_found when they never had a passkey).
func (c *Conn) PasskeyHandleOf(ctx context.Context, userID string) (string, error) {
	var h string
	err := c.queryRow(ctx, `SELECT handle FROM passkey_users WHERE user_id = ?`, userID).Scan(&h)
	return h, notFound(err, "passkey")
}

// Ceremony is a WebAuthn ceremony under way.
type Ceremony struct {
	ChallengeHash  string
	Kind           string
	UserID         string // empty for a passwordless sign-in, whose user is not known yet
	SessionID      string // the session that began a registration
	LoginChallenge string // the hash of the login challenge a second factor completes
	SessionData    string
	ExpiresAt      time.Time
}

// CreateCeremony stores a ceremony under the hash of its challenge.
func (c *Conn) CreateCeremony(ctx context.Context, w Ceremony, now time.Time) error {
	_, err := c.exec(ctx, `INSERT INTO webauthn_ceremonies (challenge_hash, kind, user_id, session_id, login_challenge, session_data, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, w.ChallengeHash, w.Kind, nullString(w.UserID), nullString(w.SessionID), nullString(w.LoginChallenge),
		w.SessionData, micros(now), micros(w.ExpiresAt))
	return err
}

// UseCeremony spends the unused, unexpired ceremony of a kind whose challenge hashes to
// challengeHash, in one statement (not_found when there is none: unknown, used, expired or
// of another kind), and returns it.
func (c *Conn) UseCeremony(ctx context.Context, challengeHash, kind string, now time.Time) (Ceremony, error) {
	var w Ceremony
	var user, session, login sql.NullString
	var expires int64
	err := c.queryRow(ctx, `UPDATE webauthn_ceremonies SET used_at = ?
		WHERE challenge_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?
		RETURNING challenge_hash, kind, user_id, session_id, login_challenge, session_data, expires_at`,
		micros(now), challengeHash, kind, micros(now)).Scan(&w.ChallengeHash, &w.Kind, &user, &session, &login, &w.SessionData, &expires)
	w.UserID, w.SessionID, w.LoginChallenge, w.ExpiresAt = user.String, session.String, login.String, fromMicros(expires)
	return w, notFound(err, "passkey request")
}

// DeleteExpiredCeremonies removes ceremonies that expired before now.
func (c *Conn) DeleteExpiredCeremonies(ctx context.Context, now time.Time) error {
	_, err := c.exec(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at <= ?`, micros(now))
	return err
}
