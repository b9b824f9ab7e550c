package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/rosterhq/roster"
)

// OIDCKey is a signing key of the OpenID provider; the private half is sealed by app.
type OIDCKey struct {
	ID            string
	Alg           string
	PublicJWK     string
	PrivateSealed string
	CreatedAt     time.Time
	ActivatesAt   *time.Time // signs from then on; nil: from its creation
	RetiredAt     *time.Time
	ExpiresAt     *time.Time
}

// Active reports whether the key may sign at now (published, not retired, activated).
func (k OIDCKey) Active(now time.Time) bool {
	return k.RetiredAt == nil && (k.ActivatesAt == nil || !k.ActivatesAt.After(now))
}

// CreateOIDCKey stores a signing key.
func (c *Conn) CreateOIDCKey(ctx context.Context, k OIDCKey) error {
	_, err := c.exec(ctx, `INSERT INTO oidc_keys (id, alg, public_jwk, private_sealed, created_at, activates_at, retired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Alg, k.PublicJWK, k.PrivateSealed, micros(k.CreatedAt), nullMicros(k.ActivatesAt), nullMicros(k.RetiredAt), nullMicros(k.ExpiresAt))
	return err
}

// LockOIDCKeys serializes the rotations of several nodes: on PostgreSQL it locks the key rows
// (SQLite writes one at a time anyway).
func (c *Conn) LockOIDCKeys(ctx context.Context) error {
	if c.engine != Postgres {
		return nil
	}
	_, err := c.exec(ctx, `SELECT id FROM oidc_keys ORDER BY id FOR UPDATE`)
	return err
}

// RetireOIDCKeysBefore stops the keys of the algorithm alg that still sign and were made
// before the key keep from signing at now; each stays published until expires.
func (c *Conn) RetireOIDCKeysBefore(ctx context.Context, alg, keep string, created, now, expires time.Time) error {
	_, err := c.exec(ctx, `UPDATE oidc_keys SET retired_at = ?, expires_at = ? WHERE retired_at IS NULL AND alg = ? AND id <> ? AND created_at <= ?`,
		micros(now), micros(expires), alg, keep, micros(created))
	return err
}

// RetireOIDCKeys stops every key that still signs from signing at now; each stays
// published until expires.
func (c *Conn) RetireOIDCKeys(ctx context.Context, now, expires time.Time) error {
	_, err := c.exec(ctx, `UPDATE oidc_keys SET retired_at = ?, expires_at = ? WHERE retired_at IS NULL`, micros(now), micros(expires))
	return err
}

// OIDCKeys returns the keys still published at now, newest first.
func (c *Conn) OIDCKeys(ctx context.Context, now time.Time) ([]OIDCKey, error) {
	rows, err := c.query(ctx, `SELECT id, alg, public_jwk, private_sealed, created_at, activates_at, retired_at, expires_at FROM oidc_keys
		WHERE expires_at IS NULL OR expires_at > ? ORDER BY created_at DESC, id DESC`, micros(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OIDCKey
	for rows.Next() {
		var k OIDCKey
		var created int64
		var activates, retired, expires sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Alg, &k.PublicJWK, &k.PrivateSealed, &created, &activates, &retired, &expires); err != nil {
			return nil, mapError(err)
		}
		k.CreatedAt, k.ActivatesAt, k.RetiredAt, k.ExpiresAt = fromMicros(created), fromNullMicros(activates), fromNullMicros(retired), fromNullMicros(expires)
		out = append(out, k)
	}
	return out, mapError(rows.Err())
}

func oidcJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func fromJSONList(s string) []string {
	var out []string
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const oidcClientColumns = `id, name, secret_hash, redirect_uris, post_logout_redirect_uris, scopes, access_ttl, refresh_ttl, first_party, backchannel_logout_uri, created_by, created_at, signing_alg, org_id, permissions, cors_origins`

func scanOIDCClient(r rowScanner) (roster.OIDCClient, string, error) {
	var cl roster.OIDCClient
	var secret, bcl, org sql.NullString
	var redirects, logouts, scopes, perms, origins string
	var access, refresh, created int64
	var first int
	err := r.Scan(&cl.ID, &cl.Name, &secret, &redirects, &logouts, &scopes, &access, &refresh, &first, &bcl, &cl.CreatedBy, &created, &cl.SigningAlg, &org, &perms, &origins)
	cl.BackChannelLogoutURI, cl.OrgID = bcl.String, org.String
	cl.Permissions = permsOf(perms)
	cl.CORSOrigins = fromJSONList(origins)
	if cl.CORSOrigins == nil {
		cl.CORSOrigins = []string{}
	}
	cl.Public = !secret.Valid
	cl.RedirectURIs, cl.PostLogoutRedirectURIs, cl.Scopes = fromJSONList(redirects), fromJSONList(logouts), fromJSONList(scopes)
	cl.AccessTokenTTL, cl.RefreshTokenTTL = time.Duration(access)*time.Second, time.Duration(refresh)*time.Second
	cl.FirstParty, cl.CreatedAt = first != 0, fromMicros(created)
	return cl, secret.String, err
}

// CreateOIDCClient stores a client; secretHash is empty for a public client.
func (c *Conn) CreateOIDCClient(ctx context.Context, cl roster.OIDCClient, secretHash string) error {
	c.touchNothing() // a new application: nothing cached speaks of it
	_, err := c.exec(ctx, `INSERT INTO oidc_clients (`+oidcClientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		cl.ID, cl.Name, nullString(secretHash), oidcJSON(cl.RedirectURIs), oidcJSON(cl.PostLogoutRedirectURIs), oidcJSON(cl.Scopes),
		int64(cl.AccessTokenTTL/time.Second), int64(cl.RefreshTokenTTL/time.Second), boolInt(cl.FirstParty), nullString(cl.BackChannelLogoutURI),
		cl.CreatedBy, micros(cl.CreatedAt), cl.SigningAlg, nullString(cl.OrgID), oidcJSON(roster.PermissionKeys(cl.Permissions)), oidcJSON(cl.CORSOrigins))
	return err
}

// UpdateOIDCClient changes a client's registration (not its ID, secret, type or creation).
func (c *Conn) UpdateOIDCClient(ctx context.Context, cl roster.OIDCClient) error {
	c.touch("cl:" + cl.ID)
	return notFound(c.execOne(ctx, `UPDATE oidc_clients SET name = ?, redirect_uris = ?, post_logout_redirect_uris = ?, scopes = ?,
		access_ttl = ?, refresh_ttl = ?, first_party = ?, backchannel_logout_uri = ?, signing_alg = ?, permissions = ?, cors_origins = ?
		WHERE id = ?`,
		cl.Name, oidcJSON(cl.RedirectURIs), oidcJSON(cl.PostLogoutRedirectURIs), oidcJSON(cl.Scopes),
		int64(cl.AccessTokenTTL/time.Second), int64(cl.RefreshTokenTTL/time.Second), boolInt(cl.FirstParty), nullString(cl.BackChannelLogoutURI),
		cl.SigningAlg, oidcJSON(roster.PermissionKeys(cl.Permissions)), oidcJSON(cl.CORSOrigins), cl.ID), "client")
}

// SetOIDCClientSecret replaces a confidential client's secret hash.
func (c *Conn) SetOIDCClientSecret(ctx context.Context, id, secretHash string) error {
	c.touch("cl:" + id)
	return notFound(c.execOne(ctx, `UPDATE oidc_clients SET secret_hash = ? WHERE id = ? AND secret_hash IS NOT NULL`, secretHash, id), "client")
}

// OIDCClient returns a client and the hash of its secret ("" for a public client).
func (c *Conn) OIDCClient(ctx context.Context, id string) (roster.OIDCClient, string, error) {
	cl, hash, err := scanOIDCClient(c.queryRow(ctx, `SELECT `+oidcClientColumns+` FROM oidc_clients WHERE id = ?`, id))
	return cl, hash, notFound(err, "client")
}

// OIDCClients lists every client, oldest first.
func (c *Conn) OIDCClients(ctx context.Context) ([]roster.OIDCClient, error) {
	rows, err := c.query(ctx, `SELECT `+oidcClientColumns+` FROM oidc_clients ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.OIDCClient{}
	for rows.Next() {
		cl, _, err := scanOIDCClient(rows)
		if err != nil {
			return nil, mapError(err)
		}
		out = append(out, cl)
	}
	return out, mapError(rows.Err())
}

// OIDCClientOrigins returns the CORS origins of every client that has some, by client.
func (c *Conn) OIDCClientOrigins(ctx context.Context) (map[string][]string, error) {
	rows, err := c.query(ctx, `SELECT id, cors_origins FROM oidc_clients WHERE cors_origins <> '[]'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, origins string
		if err := rows.Scan(&id, &origins); err != nil {
			return nil, mapError(err)
		}
		out[id] = fromJSONList(origins)
	}
	return out, mapError(rows.Err())
}

// DeleteOIDCClient deletes a client with its pending requests and its tokens.
func (c *Conn) DeleteOIDCClient(ctx context.Context, id string) error {
	c.touch("cl:"+id, "oc:"+id) // its tokens go with it (ON DELETE CASCADE)
	return notFound(c.execOne(ctx, `DELETE FROM oidc_clients WHERE id = ?`, id), "client")
}

func permsOf(s string) []roster.Permission {
	var out []roster.Permission
	for _, p := range fromJSONList(s) {
		out = append(out, roster.Permission(p))
	}
	return out
}

// OIDCClientToken is an access token issued to a machine client (the client-credentials
// grant): it has no user; the client's organization and permissions are what it carries.
type OIDCClientToken struct {
	ID          string
	ClientID    string
	Permissions []roster.Permission // what it was asked for: some or all of the client's
	CreatedAt   time.Time
	ExpiresAt   time.Time
	RevokedAt   *time.Time
}

// CreateOIDCClientToken stores a machine client's access token.
func (c *Conn) CreateOIDCClientToken(ctx context.Context, t OIDCClientToken) error {
	_, err := c.exec(ctx, `INSERT INTO oidc_client_tokens (id, client_id, permissions, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		t.ID, t.ClientID, oidcJSON(roster.PermissionKeys(t.Permissions)), micros(t.CreatedAt), micros(t.ExpiresAt))
	return err
}

// OIDCClientToken returns a machine client's access token by its ID. It is gone once the
// client or its organization is deleted.
func (c *Conn) OIDCClientToken(ctx context.Context, id string) (OIDCClientToken, error) {
	var t OIDCClientToken
	var created, expires int64
	var revoked sql.NullInt64
	var perms string
	err := c.queryRow(ctx, `SELECT id, client_id, permissions, created_at, expires_at, revoked_at FROM oidc_client_tokens WHERE id = ?`, id).
		Scan(&t.ID, &t.ClientID, &perms, &created, &expires, &revoked)
	t.Permissions = permsOf(perms)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMicros(created), fromMicros(expires), fromNullMicros(revoked)
	return t, notFound(err, "token")
}

// RevokeOIDCClientToken revokes a machine client's access token.
func (c *Conn) RevokeOIDCClientToken(ctx context.Context, id string, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE oidc_client_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(now), id)
	return err
}

// OIDCAuthRequest is an authorization request in progress.
type OIDCAuthRequest struct {
	ID          string
	ClientID    string
	Request     string // JSON, owned by app
	UserID      string
	OrgID       string
	StoreID     string
	AuthTime    *time.Time
	SessionID   string // the Roster session the user signed in with
	CodeExpires *time.Time
	CodeUsedAt  *time.Time
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

const authRequestColumns = `id, client_id, request, user_id, org_id, store_id, auth_time, session_id, code_expires, code_used_at, created_at, expires_at`

func scanAuthRequest(r rowScanner) (OIDCAuthRequest, error) {
	var ar OIDCAuthRequest
	var user, org, store, session sql.NullString
	var auth, codeExp, used sql.NullInt64
	var created, expires int64
	err := r.Scan(&ar.ID, &ar.ClientID, &ar.Request, &user, &org, &store, &auth, &session, &codeExp, &used, &created, &expires)
	ar.UserID, ar.OrgID, ar.StoreID, ar.SessionID = user.String, org.String, store.String, session.String
	ar.AuthTime, ar.CodeExpires, ar.CodeUsedAt = fromNullMicros(auth), fromNullMicros(codeExp), fromNullMicros(used)
	ar.CreatedAt, ar.ExpiresAt = fromMicros(created), fromMicros(expires)
	return ar, err
}

// CreateOIDCAuthRequest stores a new authorization request.
func (c *Conn) CreateOIDCAuthRequest(ctx context.Context, ar OIDCAuthRequest) error {
	_, err := c.exec(ctx, `INSERT INTO oidc_auth_requests (id, client_id, request, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		ar.ID, ar.ClientID, ar.Request, micros(ar.CreatedAt), micros(ar.ExpiresAt))
	return err
}

// OIDCAuthRequest returns an authorization request by its ID.
func (c *Conn) OIDCAuthRequest(ctx context.Context, id string) (OIDCAuthRequest, error) {
	ar, err := scanAuthRequest(c.queryRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = ?`, id))
	return ar, notFound(err, "authorization request")
}

// OIDCAuthRequestByCode returns the authorization request a code was issued for.
func (c *Conn) OIDCAuthRequestByCode(ctx context.Context, codeHash string) (OIDCAuthRequest, error) {
	ar, err := scanAuthRequest(c.queryRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE code_hash = ?`, codeHash))
	return ar, notFound(err, "authorization code")
}

// CompleteOIDCAuthRequest records who signed in for a request, and the organization and
// store they chose. A request already completed by another user is not changed.
func (c *Conn) CompleteOIDCAuthRequest(ctx context.Context, id, userID, orgID, storeID, sessionID string, authTime time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE oidc_auth_requests SET user_id = ?, org_id = ?, store_id = ?, session_id = ?, auth_time = ?
		WHERE id = ? AND code_hash IS NULL AND (user_id IS NULL OR user_id = ?)`,
		userID, nullString(orgID), nullString(storeID), nullString(sessionID), micros(authTime), id, userID), "authorization request")
}

// SetOIDCAuthCode records the hash of the code issued for a completed request, once; the
// request is then kept until keep, so that a replay of its code is still recognised.
func (c *Conn) SetOIDCAuthCode(ctx context.Context, id, codeHash string, expires, keep time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE oidc_auth_requests SET code_hash = ?, code_expires = ?, expires_at = ? WHERE id = ? AND code_hash IS NULL AND user_id IS NOT NULL`,
		codeHash, micros(expires), micros(keep), id), "authorization request")
}

// UseOIDCAuthCode marks a request's code used; false when it had been used already.
func (c *Conn) UseOIDCAuthCode(ctx context.Context, id string, now time.Time) (bool, error) {
	err := c.execOne(ctx, `UPDATE oidc_auth_requests SET code_used_at = ? WHERE id = ? AND code_used_at IS NULL`, micros(now), id)
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// OIDCToken is an access or refresh token issued to a client.
type OIDCToken struct {
	ID        string
	Kind      string // "access" or "refresh"
	FamilyID  string
	ClientID  string
	UserID    string
	OrgID     string
	StoreID   string
	Scopes    []string
	Audience  []string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	SessionID string // the Roster session its family began in, "" when none is known
}

const oidcTokenColumns = `id, kind, family_id, client_id, user_id, org_id, store_id, scopes, audience, auth_time, created_at, expires_at, used_at, revoked_at, session_id`

func scanOIDCToken(r rowScanner) (OIDCToken, error) {
	var t OIDCToken
	var org, store, session sql.NullString
	var scopes, aud string
	var auth, created, expires int64
	var used, revoked sql.NullInt64
	err := r.Scan(&t.ID, &t.Kind, &t.FamilyID, &t.ClientID, &t.UserID, &org, &store, &scopes, &aud, &auth, &created, &expires, &used, &revoked, &session)
	t.OrgID, t.StoreID, t.Scopes, t.Audience, t.SessionID = org.String, store.String, fromJSONList(scopes), fromJSONList(aud), session.String
	t.AuthTime, t.CreatedAt, t.ExpiresAt = fromMicros(auth), fromMicros(created), fromMicros(expires)
	t.UsedAt, t.RevokedAt = fromNullMicros(used), fromNullMicros(revoked)
	return t, err
}

// CreateOIDCToken stores a token; tokenHash is the hash of a refresh token's secret, "" for
// an access token.
func (c *Conn) CreateOIDCToken(ctx context.Context, t OIDCToken, tokenHash string) error {
	c.touchNothing() // a new token: nothing cached speaks of it
	_, err := c.exec(ctx, `INSERT INTO oidc_tokens (id, kind, token_hash, family_id, client_id, user_id, org_id, store_id, scopes, audience, auth_time, created_at, expires_at, session_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Kind, nullString(tokenHash), t.FamilyID, t.ClientID, t.UserID, nullString(t.OrgID), nullString(t.StoreID),
		oidcJSON(t.Scopes), oidcJSON(t.Audience), micros(t.AuthTime), micros(t.CreatedAt), micros(t.ExpiresAt), nullString(t.SessionID))
	return err
}

// OIDCToken returns a token by its ID.
func (c *Conn) OIDCToken(ctx context.Context, id string) (OIDCToken, error) {
	t, err := scanOIDCToken(c.queryRow(ctx, `SELECT `+oidcTokenColumns+` FROM oidc_tokens WHERE id = ?`, id))
	return t, notFound(err, "token")
}

// OIDCRefreshToken returns a refresh token by the hash of its secret.
func (c *Conn) OIDCRefreshToken(ctx context.Context, hash string) (OIDCToken, error) {
	t, err := scanOIDCToken(c.queryRow(ctx, `SELECT `+oidcTokenColumns+` FROM oidc_tokens WHERE token_hash = ? AND kind = 'refresh'`, hash))
	return t, notFound(err, "refresh token")
}

// UseOIDCRefreshToken marks a refresh token exchanged; false when it had been already (a
// reuse) or was revoked.
func (c *Conn) UseOIDCRefreshToken(ctx context.Context, id string, now time.Time) (bool, error) {
	c.touchNothing() // the index keeps access tokens only
	err := c.execOne(ctx, `UPDATE oidc_tokens SET used_at = ? WHERE id = ? AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL`, micros(now), id)
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// RevokeOIDCToken revokes one token.
func (c *Conn) RevokeOIDCToken(ctx context.Context, id string, now time.Time) error {
	c.touch("ot:" + id)
	_, err := c.exec(ctx, `UPDATE oidc_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(now), id)
	return err
}

// RevokeOIDCFamily revokes every token of a family; it returns how many were live.
func (c *Conn) RevokeOIDCFamily(ctx context.Context, familyID string, now time.Time) (int64, error) {
	c.touch("of:" + familyID)
	res, err := c.exec(ctx, `UPDATE oidc_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, micros(now), familyID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}

// DeleteExpiredOIDC deletes authorization requests and tokens that expired before now.
func (c *Conn) DeleteExpiredOIDC(ctx context.Context, now time.Time) error {
	if _, err := c.exec(ctx, `DELETE FROM oidc_auth_requests WHERE expires_at < ?`, micros(now)); err != nil {
		return err
	}
	c.touchNothing() // expired tokens are refused, cached or not
	if _, err := c.exec(ctx, `DELETE FROM oidc_tokens WHERE expires_at < ?`, micros(now)); err != nil {
		return err
	}
	if _, err := c.exec(ctx, `DELETE FROM oidc_client_tokens WHERE expires_at < ?`, micros(now)); err != nil {
		return err
	}
	_, err := c.exec(ctx, `DELETE FROM oidc_keys WHERE expires_at < ?`, micros(now))
	return err
}

// RevokeOIDCUserClient revokes every live token of a user at one client.
func (c *Conn) RevokeOIDCUserClient(ctx context.Context, userID, clientID string, now time.Time) (int64, error) {
	c.touch("ou:" + userID)
	res, err := c.exec(ctx, `UPDATE oidc_tokens SET revoked_at = ? WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL`, micros(now), userID, clientID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}

// OIDCLogoutTargets returns the clients holding live tokens of a user that asked for
// back-channel logout, with their logout URI.
func (c *Conn) OIDCLogoutTargets(ctx context.Context, userID string, now time.Time) (map[string]string, error) {
	rows, err := c.query(ctx, `SELECT DISTINCT c.id, c.backchannel_logout_uri FROM oidc_tokens t JOIN oidc_clients c ON c.id = t.client_id
		WHERE t.user_id = ? AND t.revoked_at IS NULL AND t.expires_at > ? AND c.backchannel_logout_uri IS NOT NULL`, userID, micros(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, uri string
		if err := rows.Scan(&id, &uri); err != nil {
			return nil, mapError(err)
		}
		out[id] = uri
	}
	return out, mapError(rows.Err())
}

// OIDCSessionApp is an application holding live tokens whose sign-in began in a Roster
// session.
type OIDCSessionApp struct {
	ClientID, LogoutURI, SessionID string // LogoutURI "" when the client has none
}

// sessionTokens selects a user's tokens whose sign-in began in one Roster session
// (sessionID), or in any but one (except), or in any.
const sessionTokens = `t.user_id = ? AND t.session_id IS NOT NULL AND (? = '' OR t.session_id = ?) AND (? = '' OR t.session_id <> ?)`

// OIDCSessionApps lists the applications holding live tokens of a user whose sign-in began
// in the session sessionID, or, when it is "", in any session but except.
func (c *Conn) OIDCSessionApps(ctx context.Context, userID, sessionID, except string, now time.Time) ([]OIDCSessionApp, error) {
	rows, err := c.query(ctx, `SELECT DISTINCT t.client_id, COALESCE(c.backchannel_logout_uri, ''), t.session_id FROM oidc_tokens t JOIN oidc_clients c ON c.id = t.client_id
		WHERE `+sessionTokens+` AND t.revoked_at IS NULL AND t.expires_at > ? ORDER BY t.client_id, t.session_id`,
		userID, sessionID, sessionID, except, except, micros(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OIDCSessionApp
	for rows.Next() {
		var a OIDCSessionApp
		if err := rows.Scan(&a.ClientID, &a.LogoutURI, &a.SessionID); err != nil {
			return nil, mapError(err)
		}
		out = append(out, a)
	}
	return out, mapError(rows.Err())
}

// RevokeOIDCSessions revokes a user's tokens whose sign-in began in the session sessionID,
// or, when it is "", in any session but except, and returns how many.
func (c *Conn) RevokeOIDCSessions(ctx context.Context, userID, sessionID, except string, now time.Time) (int64, error) {
	c.touch("ou:" + userID)
	res, err := c.exec(ctx, `UPDATE oidc_tokens SET revoked_at = ? WHERE id IN (SELECT t.id FROM oidc_tokens t WHERE `+sessionTokens+` AND t.revoked_at IS NULL)`,
		micros(now), userID, sessionID, sessionID, except, except)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}

// OIDCLiveClient is an application holding live tokens of a user.
type OIDCLiveClient struct {
	ClientID, LogoutURI string
	Oldest              time.Time // the creation of its oldest live token
}

// OIDCLiveLogoutClients lists the applications with a back-channel logout URI that hold live
// tokens of a user: issued for an organization, or, with orgID "", for any.
func (c *Conn) OIDCLiveLogoutClients(ctx context.Context, userID, orgID string, now time.Time) ([]OIDCLiveClient, error) {
	rows, err := c.query(ctx, `SELECT c.id, c.backchannel_logout_uri, MIN(t.created_at) FROM oidc_tokens t JOIN oidc_clients c ON c.id = t.client_id
		WHERE t.user_id = ? AND (? = '' OR t.org_id = ?) AND t.revoked_at IS NULL AND t.expires_at > ? AND c.backchannel_logout_uri IS NOT NULL
		GROUP BY c.id, c.backchannel_logout_uri`, userID, orgID, orgID, micros(now))
	return scanAll(rows, err, func(r *sql.Rows) (OIDCLiveClient, error) {
		var lc OIDCLiveClient
		var oldest int64
		err := r.Scan(&lc.ClientID, &lc.LogoutURI, &oldest)
		lc.Oldest = fromMicros(oldest)
		return lc, err
	})
}
