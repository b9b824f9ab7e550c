package oidc

import (
	"context"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/sqlstore"
)

// storage is the library's storage interface over app: every rule (who may sign in, what a
// token carries, when a grant is refused) is app's; this file only translates.
type storage struct {
	app *app.App
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil)
)

// grantError turns app's refusals into OAuth errors (never a server_error for a client's
// mistake); other errors stay server errors.
func grantError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, app.ErrOIDCGrant) {
		return zoidc.ErrInvalidGrant()
	}
	switch roster.ErrorCode(err) {
	case roster.ENotFound, roster.EInvalid, roster.EUnauthenticated:
		return zoidc.ErrInvalidGrant().WithDescription("%s", roster.AsError(err).Message)
	}
	return err
}

// authRequest is an app.OIDCAuthRequest as the library sees it.
type authRequest struct {
	app.OIDCAuthRequest
	issuer string
}

func (r *authRequest) GetID() string          { return r.ID }
func (r *authRequest) GetACR() string         { return "" }
func (r *authRequest) GetAMR() []string       { return []string{"pwd"} }
func (r *authRequest) GetAudience() []string  { return []string{r.ClientID, r.issuer} }
func (r *authRequest) GetAuthTime() time.Time { return r.AuthTime }
func (r *authRequest) GetClientID() string    { return r.ClientID }
func (r *authRequest) GetNonce() string       { return r.Nonce }
func (r *authRequest) GetRedirectURI() string { return r.RedirectURI }
func (r *authRequest) GetScopes() []string    { return r.Scopes }
func (r *authRequest) GetState() string       { return r.State }
func (r *authRequest) GetSubject() string     { return r.UserID }
func (r *authRequest) Done() bool             { return r.OIDCAuthRequest.Done() }
func (r *authRequest) GetResponseType() zoidc.ResponseType {
	return zoidc.ResponseType(r.ResponseType)
}
func (r *authRequest) GetResponseMode() zoidc.ResponseMode {
	return zoidc.ResponseMode(r.ResponseMode)
}
func (r *authRequest) GetCodeChallenge() *zoidc.CodeChallenge {
	if r.CodeChallenge == "" {
		return nil
	}
	return &zoidc.CodeChallenge{Challenge: r.CodeChallenge, Method: zoidc.CodeChallengeMethod(r.CodeChallengeMethod)}
}

// refreshRequest is a live refresh token being exchanged.
type refreshRequest struct {
	sqlstore.OIDCToken
}

func (r *refreshRequest) GetAMR() []string            { return []string{"pwd"} }
func (r *refreshRequest) GetAudience() []string       { return r.Audience }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.Scopes }
func (r *refreshRequest) GetSubject() string          { return r.UserID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.Scopes = s }

// client is a registered application as the library sees it.
type client struct {
	roster.OIDCClient
}

func (c *client) GetID() string                    { return c.ID }
func (c *client) RedirectURIs() []string           { return c.OIDCClient.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.OIDCClient.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}
func (c *client) AuthMethod() zoidc.AuthMethod {
	if c.Public {
		return zoidc.AuthMethodNone
	}
	return zoidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []zoidc.ResponseType {
	return []zoidc.ResponseType{zoidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []zoidc.GrantType {
	if c.Machine() {
		return []zoidc.GrantType{zoidc.GrantTypeClientCredentials}
	}
	return []zoidc.GrantType{zoidc.GrantTypeCode, zoidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string            { return continuePath + "?id=" + url.QueryEscape(id) }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration       { return c.AccessTokenTTL }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.Scopes, scope) }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// DevMode lets a registered plain-http redirect URI through; registration allows those on
// loopback addresses only (app.CreateClient).
func (c *client) DevMode() bool {
	for _, s := range c.OIDCClient.RedirectURIs {
		if u, err := url.Parse(s); err == nil && u.Scheme == "http" {
			if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
				return true
			}
		}
	}
	return false
}

func (s *storage) CreateAuthRequest(ctx context.Context, r *zoidc.AuthRequest, _ string) (op.AuthRequest, error) {
	in := app.OIDCRequest{RedirectURI: r.RedirectURI, State: r.State, Nonce: r.Nonce, Scopes: r.Scopes,
		ResponseType: string(r.ResponseType), ResponseMode: string(r.ResponseMode),
		CodeChallenge: r.CodeChallenge, CodeChallengeMethod: string(r.CodeChallengeMethod), Prompt: r.Prompt}
	if r.MaxAge != nil {
		age := int(min(*r.MaxAge, 1<<31-1))
		in.MaxAge = &age
	}
	if ps := requestParams(ctx); ps != nil {
		in.Organization, in.Store = ps.Get("organization"), ps.Get("store")
	}
	ar, err := s.app.OIDC.StartAuthRequest(ctx, r.ClientID, in)
	if err != nil {
		if e := roster.AsError(err); e != nil && e.Code == roster.EInvalid {
			if e.Field == "scope" {
				return nil, zoidc.ErrInvalidScope().WithDescription("%s", e.Message)
			}
			return nil, zoidc.ErrInvalidRequest().WithDescription("%s", e.Message)
		}
		return nil, err
	}
	return &authRequest{OIDCAuthRequest: ar, issuer: s.app.OIDC.Issuer()}, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	ar, err := s.app.OIDC.AuthRequest(ctx, id)
	if err != nil {
		return nil, grantError(err)
	}
	return &authRequest{OIDCAuthRequest: ar, issuer: s.app.OIDC.Issuer()}, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	ar, err := s.app.OIDC.AuthRequestByCode(ctx, code)
	if err != nil {
		return nil, grantError(err)
	}
	return &authRequest{OIDCAuthRequest: ar, issuer: s.app.OIDC.Issuer()}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return grantError(s.app.OIDC.SaveCode(ctx, id, code))
}

// DeleteAuthRequest keeps the request: it expires on its own, and until then a replayed code
// is recognised (app.OIDCAuthRequestByCode).
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

func (s *storage) issue(ctx context.Context, req op.TokenRequest, refresh bool) (app.Issued, error) {
	switch r := req.(type) {
	case *authRequest:
		issuedIn(ctx, r.Session)
		return s.app.OIDC.IssueTokens(ctx, app.IssueInput{ClientID: r.ClientID, UserID: r.UserID, OrgID: r.OrgID, StoreID: r.StoreID,
			Scopes: r.Scopes, Audience: r.GetAudience(), AuthTime: r.AuthTime, Session: r.Session, Refresh: refresh, CodeRequestID: r.ID, Since: r.Created}) // the choice was made after the request came: a membership change since then refuses the code
	case *refreshRequest:
		since, from := r.CreatedAt, r.OrgID
		if switched, err := s.switchTo(ctx, r); err != nil {
			return app.Issued{}, err
		} else if switched && r.OrgID != from {
			since = time.Time{} // a new grant in the other organization, checked just now
		}
		issuedIn(ctx, r.SessionID)
		return s.app.OIDC.IssueTokens(ctx, app.IssueInput{ClientID: r.ClientID, UserID: r.UserID, OrgID: r.OrgID, StoreID: r.StoreID,
			Scopes: r.Scopes, Audience: r.Audience, AuthTime: r.AuthTime, Session: r.SessionID, Refresh: refresh, RefreshID: r.ID, FamilyID: r.FamilyID, Since: since})
	}
	return app.Issued{}, zoidc.ErrUnsupportedGrantType()
}

// switchTo moves a refresh to another organization (and store) of the same user when the
// token request names one with the parameters organization and store: the new tokens carry
// it, without signing in again. The user must be an active member there.
func (s *storage) switchTo(ctx context.Context, r *refreshRequest) (bool, error) {
	ps := requestParams(ctx)
	orgID, storeID := ps.Get("organization"), ps.Get("store")
	if orgID == "" && storeID == "" {
		return false, nil
	}
	if !slices.Contains(r.Scopes, app.ScopeOrganization) {
		return false, zoidc.ErrInvalidScope().WithDescription("switching organization needs the scope organization")
	}
	if orgID == "" {
		orgID = r.OrgID // another store of the same organization
	}
	c, err := s.app.OIDC.Switch(ctx, r.UserID, orgID, storeID)
	if errors.Is(err, app.ErrOIDCNotMember) {
		return false, zoidc.ErrInvalidTarget().WithDescription("%s", err.Error())
	}
	if err != nil {
		return false, err
	}
	r.OrgID, r.StoreID = c.OrgID, c.StoreID
	return true, nil
}

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	if r, ok := req.(*clientRequest); ok {
		out, err := s.app.Clients.IssueToken(ctx, r.ClientGrant)
		return out.AccessID, out.ExpiresAt, err
	}
	out, err := s.issue(ctx, req, false)
	return out.AccessID, out.ExpiresAt, grantError(err)
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, _ string) (string, string, time.Time, error) {
	out, err := s.issue(ctx, req, true)
	return out.AccessID, out.Refresh, out.ExpiresAt, grantError(err)
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, refreshToken string) (op.RefreshTokenRequest, error) {
	t, err := s.app.OIDC.RefreshToken(ctx, refreshToken)
	if err != nil {
		return nil, grantError(err)
	}
	return &refreshRequest{OIDCToken: t}, nil
}

// TerminateSession is not used: TerminateSessionFromRequest answers RP-initiated logout.
func (s *storage) TerminateSession(context.Context, string, string) error {
	return zoidc.ErrRequestNotSupported()
}

// TerminateSessionFromRequest is RP-initiated logout (OpenID Connect RP-Initiated Logout
// 1.0): the library has verified the id_token_hint (required here) and the post-logout
// redirect URI against the client's list; app revokes the user's tokens at the client and
// ends the browser's session if it is theirs.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.UserID == "" || req.ClientID == "" {
		return "", zoidc.ErrInvalidRequest().WithDescription("an id_token_hint is required to sign out")
	}
	b, _ := ctx.Value(keyBrowser).(browserInfo)
	if err := s.app.OIDC.EndSession(ctx, b.session, b.ip, b.userAgent, req.UserID, req.ClientID); err != nil {
		return "", err
	}
	return req.RedirectURI, nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	t, ok, err := s.app.OIDC.RefreshTokenID(ctx, clientID, token)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.UserID, t.ID, nil
}

func (s *storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *zoidc.Error {
	if err := s.app.OIDC.RevokeToken(ctx, clientID, tokenOrID); err != nil {
		return zoidc.ErrServerError().WithParent(err)
	}
	return nil
}

// signingKey is app's current signing key as the library sees it.
type signingKey struct{ app.SigningKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.Algorithm }
func (k signingKey) Key() any                                    { return k.SigningKey.Key }
func (k signingKey) ID() string                                  { return k.SigningKey.ID }

// placeholderSigner is the key the library signs with in a token request: the door signs every
// token of the answer again (token.go: typ at+jwt, the ID token's at_hash and sid), so what
// the library signs is never sent, and a real signature there would cost two ECDSA or RSA
// signings per grant for nothing. It gives the header the real key's ID and algorithm, and the
// token a signature of zeros that verifies under no key: a token the door failed to sign again
// could never pass for one of Roster's.
type placeholderSigner struct {
	pub jose.JSONWebKey
	alg jose.SignatureAlgorithm
}

func (p placeholderSigner) Public() *jose.JSONWebKey        { return &p.pub }
func (p placeholderSigner) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{p.alg} }
func (p placeholderSigner) SignPayload([]byte, jose.SignatureAlgorithm) ([]byte, error) {
	return make([]byte, 64), nil
}

// resignedKey is a signing key whose signatures the door replaces (placeholderSigner).
type resignedKey struct{ app.SigningKey }

func (k resignedKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.Algorithm }
func (k resignedKey) ID() string                                  { return k.SigningKey.ID }
func (k resignedKey) Key() any {
	return placeholderSigner{alg: k.Algorithm, pub: jose.JSONWebKey{Key: k.SigningKey.Key.Public(), KeyID: k.SigningKey.ID, Algorithm: string(k.Algorithm)}}
}

// SigningKey returns the key that signs for the token request's client: the library asks
// without saying which client, so the door puts the client's ID in the context (clientOf). An
// RS256 client gets an RSA key, every other an ES256 one. At the token endpoint, whose answer
// the door signs again, the library gets the key's placeholder (resignedKey).
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg, known := ctx.Value(keyAlg).(string) // the token endpoint read it first (door.token)
	if !known {
		alg = app.AlgES256
		if id := clientOf(ctx); id != "" {
			if cl, err := s.app.Clients.ByID(ctx, id); err == nil {
				alg = cl.SigningAlg
			}
		}
	}
	k, err := s.app.SigningKeys.For(ctx, alg)
	if err != nil {
		return nil, err
	}
	if resigned, _ := ctx.Value(keyResigned).(bool); resigned {
		return resignedKey{k}, nil
	}
	return signingKey{k}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256, jose.RS256}, nil
}

// publicKey is a published key as the library sees it.
type publicKey struct{ jose.JSONWebKey }

func (k publicKey) ID() string { return k.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.JSONWebKey.Algorithm)
}
func (k publicKey) Use() string { return k.JSONWebKey.Use }
func (k publicKey) Key() any    { return k.JSONWebKey.Key }

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	if _, err := s.app.SigningKeys.Current(ctx); err != nil { // a new instance publishes its first key
		return nil, err
	}
	keys, err := s.app.SigningKeys.Public(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	cl, err := s.app.Clients.ByID(ctx, id)
	if err != nil {
		if roster.ErrorCode(err) == roster.ENotFound {
			return nil, zoidc.ErrInvalidClient().WithDescription("unknown client")
		}
		return nil, zoidc.ErrServerError().WithParent(err)
	}
	return &client{cl}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	err := s.app.Clients.Authenticate(ctx, id, secret)
	if err != nil && roster.ErrorCode(err) != roster.EUnauthenticated {
		return zoidc.ErrServerError().WithParent(err)
	}
	if err == nil {
		proven(ctx) // the request counts against the client's rate limit, not its address's
	}
	return err
}

// SetUserinfoFromScopes is deprecated by the library; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *zoidc.UserInfo, string, string, []string) error {
	return nil
}

// setUserinfo fills the standard claims of a user for the scopes asked.
func (s *storage) setUserinfo(ctx context.Context, info *zoidc.UserInfo, userID string, scopes []string) error {
	u, err := s.app.OIDC.User(ctx, userID)
	if err != nil {
		return grantError(err)
	}
	info.Subject = u.ID
	if slices.Contains(scopes, zoidc.ScopeEmail) {
		info.Email, info.EmailVerified = u.Email, zoidc.Bool(u.EmailVerifiedAt != nil)
	}
	if slices.Contains(scopes, zoidc.ScopeProfile) {
		info.Name, info.Locale = u.Name, zoidc.NewLocale(languageTag(u.Locale))
	}
	return nil
}

func (s *storage) orgClaims(ctx context.Context, userID, orgID, storeID string, scopes []string) (map[string]any, error) {
	if orgID == "" || !slices.Contains(scopes, app.ScopeOrganization) {
		return nil, nil
	}
	c, err := s.app.OIDC.OrgClaims(ctx, userID, orgID, storeID)
	if err != nil {
		return nil, grantError(err)
	}
	return c.Map(), nil
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *zoidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.setUserinfo(ctx, info, req.GetSubject(), scopes); err != nil {
		return err
	}
	var claims map[string]any
	var err error
	switch r := req.(type) {
	case *authRequest:
		claims, err = s.orgClaims(ctx, r.UserID, r.OrgID, r.StoreID, r.Scopes)
	case *refreshRequest:
		claims, err = s.orgClaims(ctx, r.UserID, r.OrgID, r.StoreID, r.Scopes)
	}
	for k, v := range claims {
		info.AppendClaims(k, v)
	}
	return err
}

// GetPrivateClaimsFromRequest adds to the access token its scope (RFC 9068 §2.2.3) and the
// organization claims.
func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	var claims map[string]any
	var err error
	switch r := req.(type) {
	case *authRequest:
		claims, err = s.orgClaims(ctx, r.UserID, r.OrgID, r.StoreID, r.Scopes)
	case *refreshRequest:
		claims, err = s.orgClaims(ctx, r.UserID, r.OrgID, r.StoreID, r.Scopes)
	case *clientRequest:
		return r.claims(), nil
	}
	if err != nil {
		return nil, err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	claims["scope"] = strings.Join(req.GetScopes(), " ")
	return claims, nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// SetUserinfoFromToken answers the userinfo endpoint for a live access token.
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *zoidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.app.OIDC.LiveToken(ctx, tokenID)
	if err != nil || t.UserID != subject {
		return zoidc.ErrAccessDenied()
	}
	if err := s.setUserinfo(ctx, info, t.UserID, t.Scopes); err != nil {
		return err
	}
	claims, err := s.orgClaims(ctx, t.UserID, t.OrgID, t.StoreID, t.Scopes)
	for k, v := range claims {
		info.AppendClaims(k, v)
	}
	return err
}

// SetIntrospectionFromToken answers introspection (RFC 7662) for the client a token was
// issued to: any other client, and a token revoked, expired or whose user lost the access it
// carries, learn only that it is inactive.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *zoidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	if roster.ValidID(roster.PrefixClient, subject) {
		return s.introspectClientToken(ctx, resp, tokenID, subject, clientID)
	}
	t, err := s.app.OIDC.LiveToken(ctx, tokenID)
	if err != nil || t.UserID != subject || t.ClientID != clientID {
		return zoidc.ErrAccessDenied()
	}
	info := new(zoidc.UserInfo)
	if err := s.setUserinfo(ctx, info, t.UserID, t.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope, resp.ClientID, resp.TokenType = t.Scopes, t.ClientID, "Bearer"
	resp.Expiration, resp.IssuedAt, resp.AuthTime = zoidc.FromTime(t.ExpiresAt), zoidc.FromTime(t.CreatedAt), zoidc.FromTime(t.AuthTime)
	resp.Audience, resp.Issuer, resp.JWTID = t.Audience, s.app.OIDC.Issuer(), t.ID
	claims, err := s.orgClaims(ctx, t.UserID, t.OrgID, t.StoreID, t.Scopes)
	if err != nil {
		return err
	}
	resp.Claims = claims
	return nil
}

// GetKeyByIDAndClientID serves the JWT profile grant, which is not offered.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, zoidc.ErrUnsupportedGrantType()
}

// ValidateJWTProfileScopes serves the JWT profile grant, which is not offered.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, zoidc.ErrUnsupportedGrantType()
}

func (s *storage) Health(ctx context.Context) error { return s.app.Ready(ctx) }
