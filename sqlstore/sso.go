package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// SSOSecrets are the sealed secrets of a connection, which never leave app.
type SSOSecrets struct {
	ClientSecret string // sealed OIDC client secret, "" when none
	SPKey        string // sealed PEM of the SAML service provider's private key, "" when none
}

const ssoColumns = `id, org_id, protocol, enabled, issuer, client_id, client_secret_sealed, scopes, email_claim, name_claim, groups_claim,
	idp_metadata_url, idp_metadata_xml, sp_key_sealed, sp_certificate, jit, default_role, role_mappings, created_at, updated_at`

// ssoMapping is a role mapping as stored.
type ssoMapping struct {
	Group   string            `json:"group"`
	OrgRole string            `json:"org_role,omitempty"`
	Stores  map[string]string `json:"stores,omitempty"`
}

func scanSSO(r rowScanner) (roster.SSOConnection, SSOSecrets, error) {
	var c roster.SSOConnection
	var sec SSOSecrets
	var scopes, mappings string
	var created, updated int64
	if err := r.Scan(&c.ID, &c.OrgID, &c.Protocol, &c.Enabled, &c.Issuer, &c.ClientID, &sec.ClientSecret, &scopes, &c.EmailClaim, &c.NameClaim,
		&c.GroupsClaim, &c.IdPMetadataURL, &c.IdPMetadataXML, &sec.SPKey, &c.SPCertificate, &c.JIT, &c.DefaultRole, &mappings, &created, &updated); err != nil {
		return c, sec, err
	}
	c.Scopes = strings.Fields(scopes)
	c.HasClientSecret = sec.ClientSecret != ""
	var ms []ssoMapping
	if err := json.Unmarshal([]byte(mappings), &ms); err != nil {
		return c, sec, err
	}
	for _, m := range ms {
		c.RoleMappings = append(c.RoleMappings, roster.SSORoleMapping{Group: m.Group, OrgRole: roster.OrgRole(m.OrgRole), Stores: m.Stores})
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, sec, nil
}

// SSOConnectionOf reads an organization's connection and its sealed secrets.
func (c *Conn) SSOConnectionOf(ctx context.Context, orgID string) (roster.SSOConnection, SSOSecrets, error) {
	conn, sec, err := scanSSO(c.queryRow(ctx, `SELECT `+ssoColumns+` FROM sso_connections WHERE org_id = ?`, orgID))
	return conn, sec, notFound(err, "single sign-on connection")
}

// SSOConnection reads a connection by ID.
func (c *Conn) SSOConnection(ctx context.Context, id string) (roster.SSOConnection, SSOSecrets, error) {
	conn, sec, err := scanSSO(c.queryRow(ctx, `SELECT `+ssoColumns+` FROM sso_connections WHERE id = ?`, id))
	return conn, sec, notFound(err, "single sign-on connection")
}

// SSOConnectionForDomain reads the enabled connection of the organization that verified a
// domain, with that domain.
func (c *Conn) SSOConnectionForDomain(ctx context.Context, domain string) (roster.SSOConnection, roster.Domain, error) {
	d, err := c.VerifiedDomain(ctx, domain)
	if err != nil {
		return roster.SSOConnection{}, d, err
	}
	conn, _, err := scanSSO(c.queryRow(ctx, `SELECT `+ssoColumns+` FROM sso_connections WHERE org_id = ? AND enabled`, d.OrgID))
	return conn, d, notFound(err, "single sign-on connection")
}

// PutSSOConnection creates or replaces an organization's connection.
func (c *Conn) PutSSOConnection(ctx context.Context, conn roster.SSOConnection, sec SSOSecrets) error {
	ms := make([]ssoMapping, 0, len(conn.RoleMappings))
	for _, m := range conn.RoleMappings {
		ms = append(ms, ssoMapping{Group: m.Group, OrgRole: string(m.OrgRole), Stores: m.Stores})
	}
	mappings, err := json.Marshal(ms)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `INSERT INTO sso_connections (`+ssoColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET protocol = excluded.protocol, enabled = excluded.enabled, issuer = excluded.issuer,
		client_id = excluded.client_id, client_secret_sealed = excluded.client_secret_sealed, scopes = excluded.scopes,
		email_claim = excluded.email_claim, name_claim = excluded.name_claim, groups_claim = excluded.groups_claim,
		idp_metadata_url = excluded.idp_metadata_url, idp_metadata_xml = excluded.idp_metadata_xml, sp_key_sealed = excluded.sp_key_sealed,
		sp_certificate = excluded.sp_certificate, jit = excluded.jit, default_role = excluded.default_role,
		role_mappings = excluded.role_mappings, updated_at = excluded.updated_at`,
		conn.ID, conn.OrgID, conn.Protocol, conn.Enabled, conn.Issuer, conn.ClientID, sec.ClientSecret, strings.Join(conn.Scopes, " "),
		conn.EmailClaim, conn.NameClaim, conn.GroupsClaim, conn.IdPMetadataURL, conn.IdPMetadataXML, sec.SPKey, conn.SPCertificate,
		conn.JIT, conn.DefaultRole, string(mappings), micros(conn.CreatedAt), micros(conn.UpdatedAt))
	if IsUniqueViolation(err) {
		return roster.Errorf(roster.EConflict, "the organization has a single sign-on connection already")
	}
	return err
}

// DeleteSSOConnection removes an organization's connection, its identities and pending sign-ins.
func (c *Conn) DeleteSSOConnection(ctx context.Context, orgID string) error {
	return notFound(c.execOne(ctx, `DELETE FROM sso_connections WHERE org_id = ?`, orgID), "single sign-on connection")
}

// SSOLogin is a sign-in on its way to the identity provider.
type SSOLogin struct {
	StateHash      string
	ConnectionID   string
	Nonce          string
	VerifierSealed string
	RequestID      string
	Next           string
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// InsertSSOLogin records a sign-in sent to the identity provider, and forgets those that expired.
func (c *Conn) InsertSSOLogin(ctx context.Context, l SSOLogin) error {
	if _, err := c.exec(ctx, `DELETE FROM sso_logins WHERE expires_at <= ?`, micros(l.CreatedAt)); err != nil {
		return err
	}
	_, err := c.exec(ctx, `INSERT INTO sso_logins (state_hash, connection_id, nonce, verifier_sealed, request_id, next, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, l.StateHash, l.ConnectionID, l.Nonce, l.VerifierSealed, l.RequestID, l.Next, micros(l.CreatedAt), micros(l.ExpiresAt))
	return err
}

// UseSSOLogin consumes a pending sign-in: once, before it expires; else not_found.
func (c *Conn) UseSSOLogin(ctx context.Context, stateHash string, now time.Time) (SSOLogin, error) {
	var l SSOLogin
	var created, expires int64
	err := c.queryRow(ctx, `UPDATE sso_logins SET used_at = ? WHERE state_hash = ? AND used_at IS NULL AND expires_at > ?
		RETURNING state_hash, connection_id, nonce, verifier_sealed, request_id, next, created_at, expires_at`,
		micros(now), stateHash, micros(now)).Scan(&l.StateHash, &l.ConnectionID, &l.Nonce, &l.VerifierSealed, &l.RequestID, &l.Next, &created, &expires)
	l.CreatedAt, l.ExpiresAt = fromMicros(created), fromMicros(expires)
	return l, notFound(err, "sign-in")
}

// SSOIdentityUser returns the user linked to a subject of a connection.
func (c *Conn) SSOIdentityUser(ctx context.Context, connectionID, subject string) (string, error) {
	var id string
	err := c.queryRow(ctx, `SELECT user_id FROM sso_identities WHERE connection_id = ? AND subject = ?`, connectionID, subject).Scan(&id)
	return id, notFound(err, "identity")
}

// LinkSSOIdentity links a subject of a connection to a user.
func (c *Conn) LinkSSOIdentity(ctx context.Context, connectionID, subject, userID string, now time.Time) error {
	_, err := c.exec(ctx, `INSERT INTO sso_identities (connection_id, subject, user_id, created_at) VALUES (?, ?, ?, ?)`,
		connectionID, subject, userID, micros(now))
	if IsUniqueViolation(err) {
		return roster.Errorf(roster.EConflict, "this identity is linked already")
	}
	return err
}

// RememberAssertion records an accepted SAML assertion until it expires; an assertion seen
// before (and not yet expired) gives conflict.
func (c *Conn) RememberAssertion(ctx context.Context, connectionID, assertionID string, expires, now time.Time) error {
	if _, err := c.exec(ctx, `DELETE FROM sso_assertions WHERE expires_at <= ?`, micros(now)); err != nil {
		return err
	}
	_, err := c.exec(ctx, `INSERT INTO sso_assertions (connection_id, assertion_id, expires_at) VALUES (?, ?, ?)`, connectionID, assertionID, micros(expires))
	if IsUniqueViolation(err) {
		return roster.Errorf(roster.EConflict, "assertion replayed")
	}
	return err
}

// ClearSSORequired turns off the single sign-on requirement of every domain of an organization.
func (c *Conn) ClearSSORequired(ctx context.Context, orgID string, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE domains SET require_sso = FALSE, updated_at = ? WHERE org_id = ? AND require_sso`, micros(now), orgID)
	return err
}

// SSORequiredDomains lists the verified domains of an organization that require single sign-on.
func (c *Conn) SSORequiredDomains(ctx context.Context, orgID string) ([]string, error) {
	rows, err := c.query(ctx, `SELECT domain FROM domains WHERE org_id = ? AND status = 'verified' AND require_sso ORDER BY domain`, orgID)
	return scanAll(rows, err, func(r *sql.Rows) (string, error) {
		var d string
		return d, r.Scan(&d)
	})
}
