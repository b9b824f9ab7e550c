package sqlstore

import (
	"context"
	"database/sql"

	"github.com/rosterhq/roster"
)

// The secrets sealed under the instance's encryption key (AES-256-GCM, app/oidc_keys.go seal),
// wherever they are stored: what re-sealing them under a new key reads and rewrites. The app
// knows what each is bound to (its associated data); this file knows only where it lives.

// Kinds of sealed secrets.
const (
	SealedSigningKey     = "oidc_key"          // an OpenID signing key's private half, by key ID
	SealedWebhook        = "webhook"           // a webhook endpoint's secret, by endpoint ID
	SealedWebhookPrev    = "webhook_previous"  // the secret an endpoint's rotation still signs with
	SealedSSOSecret      = "sso_client_secret" // an OpenID Connect connection's client secret, by connection ID
	SealedSSOKey         = "sso_sp_key"        // a SAML connection's service-provider key, by connection ID
	SealedTOTP           = "totp"              // an authenticator app's secret, by user ID
	SealedSSOLoginVerify = "sso_verifier"      // a single sign-on in progress: its PKCE verifier, by state hash
)

// sealedColumns says where each kind lives: table, key column, sealed column. Constants only:
// they are put into SQL.
var sealedColumns = []struct{ kind, table, id, column string }{
	{SealedSigningKey, "oidc_keys", "id", "private_sealed"},
	{SealedWebhook, "webhook_endpoints", "id", "secret"},
	{SealedWebhookPrev, "webhook_endpoints", "id", "previous_secret"},
	{SealedSSOSecret, "sso_connections", "id", "client_secret_sealed"},
	{SealedSSOKey, "sso_connections", "id", "sp_key_sealed"},
	{SealedTOTP, "user_totp", "user_id", "secret_sealed"},
	{SealedSSOLoginVerify, "sso_logins", "state_hash", "verifier_sealed"},
}

// Sealed is one stored sealed secret.
type Sealed struct {
	Kind   string
	ID     string // the row's key (see the kinds)
	Sealed string
}

// SealedSecrets lists every stored sealed secret (empty columns are no secret).
func (c *Conn) SealedSecrets(ctx context.Context) ([]Sealed, error) {
	var out []Sealed
	for _, col := range sealedColumns {
		rows, err := c.query(ctx, `SELECT `+col.id+`, `+col.column+` FROM `+col.table+` WHERE `+col.column+` <> ''`)
		got, err := scanAll(rows, err, func(r *sql.Rows) (Sealed, error) {
			s := Sealed{Kind: col.kind}
			return s, r.Scan(&s.ID, &s.Sealed)
		})
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// Reseal replaces a sealed secret by the same secret sealed under another key, unless it
// changed meanwhile (then it reports false: the new value was sealed under the current key
// already).
func (c *Conn) Reseal(ctx context.Context, s Sealed, sealed string) (bool, error) {
	for _, col := range sealedColumns {
		if col.kind != s.Kind {
			continue
		}
		c.touchNothing() // a signing key or a secret is not access
		res, err := c.exec(ctx, `UPDATE `+col.table+` SET `+col.column+` = ? WHERE `+col.id+` = ? AND `+col.column+` = ?`, sealed, s.ID, s.Sealed)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		return n == 1, err
	}
	return false, roster.Invalidf("kind", "no sealed secret of kind %q", s.Kind)
}
