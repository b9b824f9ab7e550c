package app

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// OIDC is the OpenID provider's flow: authorization requests, the organization and store choice,
// codes, token families, refresh, revocation, claims, sign-out, and the token endpoint's limits
// (oidc_ratelimit.go).
type OIDC struct{ *core }

// The use cases behind Roster's OpenID provider (the oidc/ door): authorization requests,
// the sign-in's organization and store choice, codes, tokens and their claims. The protocol
// itself (parameters, errors, signatures) is the door's; the rules are here.

// Lifetimes of the flow's steps.
const (
	authRequestTTL = 10 * time.Minute // from /authorize to the code
	authCodeTTL    = 60 * time.Second // from the code to its exchange
)

// ErrOIDCGrant is the refusal of a code or refresh token that is unknown, expired, used or
// revoked, or whose user no longer has the access it carried: the door answers invalid_grant.
var ErrOIDCGrant = roster.Errorf(roster.EInvalid, "the grant is invalid, expired or revoked")

// OIDCRequest is what a client asked for at the authorization endpoint, as validated by the
// door.
type OIDCRequest struct {
	RedirectURI         string   `json:"redirect_uri"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	Scopes              []string `json:"scopes"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Organization        string   `json:"organization,omitempty"` // asked for by the client
	Store               string   `json:"store,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              *int     `json:"max_age,omitempty"` // seconds since the user last entered their password
}

// Silent reports whether the client asked for no interaction at all (prompt=none).
func (r OIDCRequest) Silent() bool { return slices.Contains(r.Prompt, "none") }

// OIDCAuthRequest is an authorization request and how far it went.
type OIDCAuthRequest struct {
	ID       string
	ClientID string
	OIDCRequest
	UserID   string // who signed in, once they did
	OrgID    string // what they chose, with the scope organization
	StoreID  string
	AuthTime time.Time
	Session  string // the Roster session the user signed in with: the tokens' sid
	Created  time.Time
}

// Done reports whether the user completed sign-in for the request.
func (r OIDCAuthRequest) Done() bool { return r.UserID != "" }

// HasScope reports whether the request asked for a scope.
func (r OIDCAuthRequest) HasScope(s string) bool { return slices.Contains(r.Scopes, s) }

func authRequestFrom(row sqlstore.OIDCAuthRequest) (OIDCAuthRequest, error) {
	r := OIDCAuthRequest{ID: row.ID, ClientID: row.ClientID, UserID: row.UserID, OrgID: row.OrgID, StoreID: row.StoreID, Session: row.SessionID, Created: row.CreatedAt}
	if row.AuthTime != nil {
		r.AuthTime = *row.AuthTime
	}
	return r, json.Unmarshal([]byte(row.Request), &r.OIDCRequest)
}

// ByID returns a registered application for the protocol door.
func (a *Clients) ByID(ctx context.Context, id string) (roster.OIDCClient, error) {
	if !roster.ValidID(roster.PrefixClient, id) {
		return roster.OIDCClient{}, roster.NotFound("client")
	}
	cl, _, err := a.oidcClient(ctx, id)
	return cl, err
}

// Authenticate checks a confidential client's secret. Unknown clients, public
// clients and wrong secrets get the same answer.
func (a *Clients) Authenticate(ctx context.Context, id, secret string) error {
	bad := roster.Errorf(roster.EUnauthenticated, "the client is unknown or its secret is wrong")
	if !roster.ValidID(roster.PrefixClient, id) || !token.WellFormed(clientSecretPrefix, secret) {
		return bad
	}
	_, hash, err := a.oidcClient(ctx, id)
	if roster.ErrorCode(err) == roster.ENotFound {
		return bad
	}
	if err != nil {
		return err
	}
	if hash == "" || !token.Equal(hash, token.Hash(secret)) {
		return bad
	}
	return nil
}

// StartAuthRequest records a validated authorization request. PKCE with S256 is
// required of public clients and, when a confidential client sends a challenge, S256 is the
// only method accepted.
func (a *OIDC) StartAuthRequest(ctx context.Context, clientID string, in OIDCRequest) (OIDCAuthRequest, error) {
	cl, err := a.app.Clients.ByID(ctx, clientID)
	if err != nil {
		return OIDCAuthRequest{}, err
	}
	if in.CodeChallenge == "" && cl.Public {
		return OIDCAuthRequest{}, roster.Invalidf("code_challenge", "a public client must use PKCE (code_challenge with S256)")
	}
	if in.CodeChallenge != "" && in.CodeChallengeMethod != "S256" {
		return OIDCAuthRequest{}, roster.Invalidf("code_challenge_method", "the only PKCE method accepted is S256")
	}
	if !slices.Contains(cl.RedirectURIs, in.RedirectURI) {
		return OIDCAuthRequest{}, roster.Invalidf("redirect_uri", "the redirect URI is not registered for this client")
	}
	for _, s := range in.Scopes {
		if !slices.Contains(cl.Scopes, s) {
			return OIDCAuthRequest{}, roster.Invalidf("scope", "the scope %q is not allowed for this client", s)
		}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return OIDCAuthRequest{}, err
	}
	now := a.clock.Now()
	row := sqlstore.OIDCAuthRequest{ID: "ar_" + token.Random(), ClientID: cl.ID, Request: string(body), CreatedAt: now, ExpiresAt: now.Add(authRequestTTL)}
	if err := a.db.InTx(ctx, func(tx *sqlstore.Tx) error { return tx.CreateOIDCAuthRequest(ctx, row) }); err != nil {
		return OIDCAuthRequest{}, err
	}
	return authRequestFrom(row)
}

// AuthRequest returns an authorization request that has not expired.
func (a *OIDC) AuthRequest(ctx context.Context, id string) (OIDCAuthRequest, error) {
	if !strings.HasPrefix(id, "ar_") || len(id) > 64 {
		return OIDCAuthRequest{}, roster.NotFound("authorization request")
	}
	row, err := a.read().OIDCAuthRequest(ctx, id)
	if err != nil {
		return OIDCAuthRequest{}, err
	}
	if !a.clock.Now().Before(row.ExpiresAt) || row.CodeUsedAt != nil {
		return OIDCAuthRequest{}, roster.NotFound("authorization request")
	}
	return authRequestFrom(row)
}

// OIDCSignIn is what the sign-in's last step shows: the application, and the organizations
// and stores the user may choose from.
type OIDCSignIn struct {
	Request OIDCAuthRequest
	Client  roster.OIDCClient
	Choices []roster.Affiliation // active memberships, with the active stores reached
	// Chosen is set when no choice is needed: the scope organization was not asked for, the
	// user has exactly one choice, or the request named one the user has. Never for a
	// third-party application.
	Chosen *OIDCChoice
	// Consent is set for a third-party application (not first-party): the page lists what it
	// will receive and the user agrees, or refuses.
	Consent bool
	// Reauthenticate is set when the request asks for a password entered more recently than
	// this session's (prompt=login: after the request was made; max_age: within that many
	// seconds): the user signs in again before anything else.
	Reauthenticate bool
	authTime       time.Time // when this session's user last entered their password
}

// OIDCChoice is an organization and, optionally, one of its stores.
type OIDCChoice struct{ OrgID, StoreID string }

// SignInChoices returns the choices of a signed-in user for an authorization request.
func (a *OIDC) SignInChoices(ctx context.Context, actor roster.Actor, id string) (OIDCSignIn, error) {
	if err := requireUser(actor); err != nil {
		return OIDCSignIn{}, err
	}
	r, err := a.AuthRequest(ctx, id)
	if err != nil {
		return OIDCSignIn{}, err
	}
	cl, err := a.app.Clients.ByID(ctx, r.ClientID)
	if err != nil {
		return OIDCSignIn{}, err
	}
	out := OIDCSignIn{Request: r, Client: cl, Consent: !cl.FirstParty}
	if out.authTime, err = a.sessionAuthTime(ctx, actor); err != nil {
		return OIDCSignIn{}, err
	}
	out.Reauthenticate = r.needsLogin(out.authTime, a.clock.Now())
	if !r.HasScope(ScopeOrganization) {
		if !out.Consent {
			out.Chosen = &OIDCChoice{}
		}
		return out, nil
	}
	affs, _, _, err := a.affiliations(ctx, a.read(), actor.UserID)
	if err != nil {
		return OIDCSignIn{}, err
	}
	for _, aff := range affs {
		if aff.Membership.Status == roster.MembershipActive {
			out.Choices = append(out.Choices, aff)
		}
	}
	switch {
	case out.Consent:
		// A third-party application: the user always sees what it will receive, and agrees.
	case r.Organization != "":
		if c, ok := validChoice(out.Choices, r.Organization, r.Store); ok {
			out.Chosen = &c
		}
	case len(out.Choices) == 1 && len(out.Choices[0].Stores) <= 1:
		c := OIDCChoice{OrgID: out.Choices[0].Organization.ID}
		if len(out.Choices[0].Stores) == 1 {
			c.StoreID = out.Choices[0].Stores[0].Store.ID
		}
		out.Chosen = &c
	}
	return out, nil
}

// needsLogin reports whether a password entered at authTime is too old for the request. A
// password entered after the request was made (the user signed in for it) always does; the
// library turns prompt=login into max_age=0.
func (r OIDCAuthRequest) needsLogin(authTime, now time.Time) bool {
	if !authTime.Before(r.Created) {
		return false
	}
	return slices.Contains(r.Prompt, "login") || (r.MaxAge != nil && now.Sub(authTime) > time.Duration(*r.MaxAge)*time.Second)
}

// sessionAuthTime is when the user of a browser session last entered their password.
func (a *OIDC) sessionAuthTime(ctx context.Context, actor roster.Actor) (time.Time, error) {
	if actor.SessionID == "" {
		return time.Time{}, nil
	}
	s, err := a.read().SessionByID(ctx, actor.SessionID)
	if roster.ErrorCode(err) == roster.ENotFound {
		return time.Time{}, nil
	}
	return s.ReauthAt, err
}

// validChoice reports whether an organization (and store, if any) is among the choices.
func validChoice(choices []roster.Affiliation, orgID, storeID string) (OIDCChoice, bool) {
	for _, aff := range choices {
		if aff.Organization.ID != orgID {
			continue
		}
		if storeID == "" {
			return OIDCChoice{OrgID: orgID}, true
		}
		for _, s := range aff.Stores {
			if s.Store.ID == storeID {
				return OIDCChoice{OrgID: orgID, StoreID: storeID}, true
			}
		}
	}
	return OIDCChoice{}, false
}

// CompleteSignIn records that the signed-in user completed an authorization request,
// with the organization and store they chose (checked against their memberships as they
// are now).
func (a *OIDC) CompleteSignIn(ctx context.Context, actor roster.Actor, id string, choice OIDCChoice) error {
	si, err := a.SignInChoices(ctx, actor, id)
	if err != nil {
		return err
	}
	if si.Reauthenticate {
		return roster.Errorf(roster.EReauthRequired, "sign in again: the application asks for a recent sign-in")
	}
	if si.Request.HasScope(ScopeOrganization) {
		c, ok := validChoice(si.Choices, choice.OrgID, choice.StoreID)
		if !ok {
			return roster.Invalidf("organization", "choose one of your organizations and stores")
		}
		choice = c
		// An organization that requires a second factor is closed to a user without one
		// here as everywhere: the application would otherwise get tokens for it.
		org, err := a.read().Organization(ctx, choice.OrgID)
		if err != nil {
			return err
		}
		if err := a.twoFactorGate(ctx, a.read(), actor, org); err != nil {
			return err
		}
	} else {
		choice = OIDCChoice{}
	}
	return a.write(ctx, actor, func(t *txn) error {
		// auth_time is when the user entered their password (OpenID Connect Core §2).
		authTime := si.authTime
		if authTime.IsZero() {
			authTime = t.now
		}
		if err := t.CompleteOIDCAuthRequest(t.ctx, id, actor.UserID, choice.OrgID, choice.StoreID, actor.SessionID, authTime); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "oidc.signed_in", OrgID: choice.OrgID, StoreID: choice.StoreID,
			TargetType: "client", TargetID: si.Client.ID})
	})
}

// DenySignIn ends an authorization request the user refused; it returns where to send the
// browser: the application's registered redirect URI with error=access_denied.
func (a *OIDC) DenySignIn(ctx context.Context, actor roster.Actor, id string) (OIDCAuthRequest, error) {
	if err := requireUser(actor); err != nil {
		return OIDCAuthRequest{}, err
	}
	r, err := a.AuthRequest(ctx, id)
	if err != nil {
		return OIDCAuthRequest{}, err
	}
	err = a.write(ctx, actor, func(t *txn) error {
		if _, err := t.UseOIDCAuthCode(t.ctx, id, t.now); err != nil { // the request can no longer complete
			return err
		}
		return t.audit(roster.AuditEvent{Action: "oidc.sign_in_refused", TargetType: "client", TargetID: r.ClientID})
	})
	return r, err
}

// SaveCode records the code issued for a completed request; it may be exchanged once,
// within a minute.
func (a *OIDC) SaveCode(ctx context.Context, id, code string) error {
	now := a.clock.Now()
	return a.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		// Kept an access token's longest lifetime after: a replay within it revokes what the
		// code issued.
		return tx.SetOIDCAuthCode(ctx, id, token.Hash(code), now.Add(authCodeTTL), now.Add(MaxAccessTokenTTL))
	})
}

// AuthRequestByCode returns the request a code was issued for. A code presented again
// after it was exchanged revokes every token it issued (RFC 6749 §4.1.2).
func (a *OIDC) AuthRequestByCode(ctx context.Context, code string) (OIDCAuthRequest, error) {
	if code == "" || len(code) > 512 {
		return OIDCAuthRequest{}, ErrOIDCGrant
	}
	row, err := a.read().OIDCAuthRequestByCode(ctx, token.Hash(code))
	if roster.ErrorCode(err) == roster.ENotFound {
		return OIDCAuthRequest{}, ErrOIDCGrant
	}
	if err != nil {
		return OIDCAuthRequest{}, err
	}
	now := a.clock.Now()
	if row.CodeUsedAt != nil {
		if err := a.revokeFamily(ctx, row.ID, "oidc.code_replayed"); err != nil {
			return OIDCAuthRequest{}, err
		}
		return OIDCAuthRequest{}, ErrOIDCGrant
	}
	if row.CodeExpires == nil || !now.Before(*row.CodeExpires) {
		return OIDCAuthRequest{}, ErrOIDCGrant
	}
	return authRequestFrom(row)
}

// revokeFamily revokes every token descending from one authorization, recording why.
func (a *OIDC) revokeFamily(ctx context.Context, familyID, action string) error {
	return a.write(ctx, roster.System(), func(t *txn) error {
		n, err := t.RevokeOIDCFamily(t.ctx, familyID, t.now)
		if err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: action, TargetType: "oidc_grant", TargetID: familyID, After: map[string]any{"revoked": n}})
	})
}

// IssueInput is what tokens are issued for: the grant they come from and what they carry.
type IssueInput struct {
	ClientID string
	UserID   string
	OrgID    string
	StoreID  string
	Scopes   []string
	Audience []string
	AuthTime time.Time
	Session  string // the Roster session the sign-in began in (sid), "" when none
	Refresh  bool   // issue a refresh token too

	CodeRequestID string // the authorization request whose code is exchanged, or
	RefreshID     string // the refresh token exchanged (rotated)
	FamilyID      string // with RefreshID: its family

	// Since is when the grant was given (the sign-in, or the refresh token's issue): a
	// membership changed after it (suspended, reactivated, another role, removed and added
	// again) ends the grant. Zero for a switch to another organization.
	Since time.Time
}

// Issued names the tokens issued: the access token's ID (its "jti"), and the refresh
// token's secret, given once.
type Issued struct {
	AccessID  string
	Refresh   string
	ExpiresAt time.Time
}

// IssueTokens consumes a code or a refresh token and issues an access token (and a
// refresh token). A code or refresh token already consumed is refused, and its family
// revoked: a second use means a copy is in other hands. Tokens are issued only to an active
// user who is still an active member of the organization they carry.
func (a *OIDC) IssueTokens(ctx context.Context, in IssueInput) (Issued, error) {
	cl, err := a.app.Clients.ByID(ctx, in.ClientID)
	if err != nil {
		return Issued{}, err
	}
	if err := a.stillEntitled(ctx, in.UserID, in.OrgID, in.Since); err != nil {
		return Issued{}, err
	}
	if in.OrgID != "" {
		// An organization that came to require a second factor issues no more tokens to a
		// member without one (they sign in again once they set one up). Tokens already
		// issued get two_factor_required on /v1, as a session does.
		c := a.read()
		org, err := c.Organization(ctx, in.OrgID)
		if err != nil {
			return Issued{}, err
		}
		if err := a.secondFactorFor(ctx, c, in.UserID, org); roster.ErrorCode(err) == roster.ETwoFactorRequired {
			return Issued{}, ErrOIDCGrant
		} else if err != nil {
			return Issued{}, err
		}
	}
	family := in.FamilyID
	if in.CodeRequestID != "" {
		family = in.CodeRequestID
	}
	out, err := writeValue(ctx, a.core, roster.System(), func(t *txn) (Issued, error) {
		var ok bool
		var err error
		switch {
		case in.CodeRequestID != "":
			ok, err = t.UseOIDCAuthCode(t.ctx, in.CodeRequestID, t.now)
		case in.RefreshID != "":
			ok, err = t.UseOIDCRefreshToken(t.ctx, in.RefreshID, t.now)
		default:
			return Issued{}, roster.Errorf(roster.EInternal, "tokens issued without a grant")
		}
		if err != nil {
			return Issued{}, err
		}
		if !ok {
			return Issued{}, errGrantReused
		}
		res := Issued{AccessID: roster.NewID(roster.PrefixToken), ExpiresAt: t.now.Add(cl.AccessTokenTTL)}
		tok := sqlstore.OIDCToken{ID: res.AccessID, Kind: "access", FamilyID: family, ClientID: cl.ID, UserID: in.UserID,
			OrgID: in.OrgID, StoreID: in.StoreID, Scopes: in.Scopes, Audience: in.Audience, AuthTime: in.AuthTime,
			CreatedAt: t.now, ExpiresAt: res.ExpiresAt, SessionID: in.Session}
		if err := t.CreateOIDCToken(t.ctx, tok, ""); err != nil {
			return Issued{}, err
		}
		if in.Refresh {
			var hash string
			res.Refresh, hash = token.New(refreshTokenPrefix)
			tok.ID, tok.Kind, tok.ExpiresAt = roster.NewID(roster.PrefixToken), "refresh", t.now.Add(cl.RefreshTokenTTL)
			if err := t.CreateOIDCToken(t.ctx, tok, hash); err != nil {
				return Issued{}, err
			}
		}
		return res, nil
	})
	if errors.Is(err, errGrantReused) {
		// A code or refresh token presented again: a copy is in other hands.
		if rerr := a.revokeFamily(ctx, family, "oidc.grant_reused"); rerr != nil {
			return Issued{}, rerr
		}
	}
	return out, err
}

// errGrantReused is ErrOIDCGrant for a code or refresh token used before.
var errGrantReused = fmt.Errorf("%w: used before", ErrOIDCGrant)

// refreshTokenPrefix marks refresh tokens for secret scanners.
const refreshTokenPrefix = "rrt_"

// stillEntitled refuses a grant whose user is deactivated, or no longer an active member of
// the organization the grant carries, or whose membership changed since the grant was given
// (since; zero skips that check): a suspension, a new organization role, a removal end the
// grant for good, even if the member is later reactivated or added again.
func (a *OIDC) stillEntitled(ctx context.Context, userID, orgID string, since time.Time) error {
	// From the access index (index_read.go), which answers as the tables are now: the user's
	// status and their membership, as a token's every use and every grant asks.
	src, err := a.source(ctx, 0)
	if err != nil {
		return err
	}
	u, err := src.user(ctx, userID)
	if err != nil || u.Status != roster.UserActive || orgID == "" {
		return grantStands(u, err, roster.Access{}, since)
	}
	acc, err := src.access(ctx, orgID, userID)
	if err != nil {
		return err
	}
	return grantStands(u, nil, acc, since)
}

// entitled is stillEntitled read through c: in a transaction, it sees the transaction's change.
func (a *core) entitled(ctx context.Context, c *sqlstore.Conn, userID, orgID string, since time.Time) error {
	u, err := c.User(ctx, userID)
	if err != nil || u.Status != roster.UserActive || orgID == "" {
		return grantStands(u, err, roster.Access{}, since)
	}
	m, err := c.Membership(ctx, orgID, userID)
	if roster.ErrorCode(err) == roster.ENotFound {
		return ErrOIDCGrant
	}
	if err != nil {
		return err
	}
	return grantStands(u, nil, roster.Access{OrgID: orgID, UserID: userID, Role: m.Role, Status: m.Status, Changed: m.UpdatedAt}, since)
}

// grantStands is the rule of stillEntitled and entitled, given the user (or the error reading
// them) and, when the grant carries an organization, the user's access there (none: the
// grant carries no organization).
func grantStands(u roster.User, userErr error, acc roster.Access, since time.Time) error {
	switch {
	case roster.ErrorCode(userErr) == roster.ENotFound:
		return ErrOIDCGrant
	case userErr != nil:
		return userErr
	case u.Status != roster.UserActive:
		return ErrOIDCGrant
	case acc.OrgID == "":
		return nil
	case !acc.Active() || (!since.IsZero() && acc.Changed.After(since)):
		return ErrOIDCGrant
	}
	return nil
}

// RefreshToken returns the live refresh token a client presents. One presented again
// after it was exchanged revokes its whole family.
func (a *OIDC) RefreshToken(ctx context.Context, secret string) (sqlstore.OIDCToken, error) {
	if !token.WellFormed(refreshTokenPrefix, secret) {
		return sqlstore.OIDCToken{}, ErrOIDCGrant
	}
	t, err := a.read().OIDCRefreshToken(ctx, token.Hash(secret))
	if roster.ErrorCode(err) == roster.ENotFound {
		return sqlstore.OIDCToken{}, ErrOIDCGrant
	}
	if err != nil {
		return sqlstore.OIDCToken{}, err
	}
	if t.UsedAt != nil && t.RevokedAt == nil {
		if err := a.revokeFamily(ctx, t.FamilyID, "oidc.grant_reused"); err != nil {
			return sqlstore.OIDCToken{}, err
		}
		return sqlstore.OIDCToken{}, ErrOIDCGrant
	}
	if t.UsedAt != nil || t.RevokedAt != nil || !a.clock.Now().Before(t.ExpiresAt) {
		return sqlstore.OIDCToken{}, ErrOIDCGrant
	}
	return t, nil
}

// RefreshTokenID returns the ID of a refresh token of a client, for revocation: "" when
// the secret is no refresh token of that client.
func (a *OIDC) RefreshTokenID(ctx context.Context, clientID, secret string) (sqlstore.OIDCToken, bool, error) {
	if !token.WellFormed(refreshTokenPrefix, secret) {
		return sqlstore.OIDCToken{}, false, nil
	}
	t, err := a.read().OIDCRefreshToken(ctx, token.Hash(secret))
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && t.ClientID != clientID) {
		return sqlstore.OIDCToken{}, false, nil
	}
	return t, err == nil, err
}

// RevokeToken revokes a token at its client's request (RFC 7009): an access token alone,
// or a refresh token with its whole family. A token of another client is left alone.
func (a *OIDC) RevokeToken(ctx context.Context, clientID, tokenID string) error {
	t, err := a.read().OIDCToken(ctx, tokenID)
	if roster.ErrorCode(err) == roster.ENotFound {
		return a.revokeClientToken(ctx, clientID, tokenID)
	}
	if err == nil && t.ClientID != clientID {
		return nil // RFC 7009 §2.2: an unknown token is answered like a revoked one
	}
	if err != nil {
		return err
	}
	if t.Kind == "refresh" {
		return a.revokeFamily(ctx, t.FamilyID, "oidc.token_revoked")
	}
	return a.write(ctx, roster.System(), func(tx *txn) error {
		if err := tx.RevokeOIDCToken(tx.ctx, t.ID, tx.now); err != nil {
			return err
		}
		return tx.audit(roster.AuditEvent{Action: "oidc.token_revoked", TargetType: "oidc_token", TargetID: t.ID})
	})
}

// LiveToken returns an access token that is neither expired nor revoked and whose user
// still has the access it carries: what introspection and userinfo answer for.
func (a *OIDC) LiveToken(ctx context.Context, id string) (sqlstore.OIDCToken, error) {
	src, err := a.source(ctx, 0) // the access index: a revocation is a change of access
	if err != nil {
		return sqlstore.OIDCToken{}, err
	}
	t, err := src.oidcToken(ctx, id)
	if roster.ErrorCode(err) == roster.ENotFound {
		return sqlstore.OIDCToken{}, ErrOIDCGrant
	}
	if err != nil {
		return sqlstore.OIDCToken{}, err
	}
	if t.Kind != "access" || t.RevokedAt != nil || !a.clock.Now().Before(t.ExpiresAt) {
		return sqlstore.OIDCToken{}, ErrOIDCGrant
	}
	if err := a.stillEntitled(ctx, t.UserID, t.OrgID, t.CreatedAt); err != nil {
		return sqlstore.OIDCToken{}, err
	}
	return t, nil
}

// OIDCUser returns the user a token speaks of.
func (a *OIDC) User(ctx context.Context, userID string) (roster.User, error) {
	return a.read().User(ctx, userID)
}

// OIDCClaims are the organization claims of a token: what its user holds, at issue time, in
// the organization and store the token carries.
type OIDCClaims struct {
	OrgID         string   `json:"org_id"`
	OrgRole       string   `json:"org_role"`
	StoreID       string   `json:"store_id,omitempty"`
	StoreRoles    []string `json:"store_roles"`
	Permissions   []string `json:"permissions"`
	AccessVersion int64    `json:"access_version"`
}

// Map returns the claims as a token's private claims.
func (c OIDCClaims) Map() map[string]any {
	m := map[string]any{"org_id": c.OrgID, "org_role": c.OrgRole, "store_roles": c.StoreRoles,
		"permissions": c.Permissions, "access_version": c.AccessVersion}
	if c.StoreID != "" {
		m["store_id"] = c.StoreID
	}
	return m
}

// OrgClaims computes a token's organization claims from the user's access as it is now
// (roster.Access decides every permission). It refuses a user who is no longer an active
// member, or no longer reaches the store. Within one request (PerRequest) they are computed
// once: the access token and the ID token of one answer carry the same.
func (a *OIDC) OrgClaims(ctx context.Context, userID, orgID, storeID string) (OIDCClaims, error) {
	return memo(ctx, func(s *sharedScopes) *map[string]OIDCClaims { return &s.claims }, userID+"|"+orgID+"|"+storeID, func() (OIDCClaims, error) {
		return a.orgClaims(ctx, userID, orgID, storeID)
	})
}

func (a *OIDC) orgClaims(ctx context.Context, userID, orgID, storeID string) (OIDCClaims, error) {
	src, err := a.source(ctx, 0) // the access index, as stillEntitled
	if err != nil {
		return OIDCClaims{}, err
	}
	cat, err := src.catalog(ctx)
	if err != nil {
		return OIDCClaims{}, err
	}
	acc, err := src.access(ctx, orgID, userID)
	if err != nil {
		return OIDCClaims{}, err
	}
	if !acc.Active() {
		return OIDCClaims{}, ErrOIDCGrant
	}
	out := OIDCClaims{OrgID: orgID, OrgRole: string(acc.Role), StoreID: storeID, StoreRoles: []string{}, Permissions: []string{}}
	if storeID != "" {
		g, ok := acc.Store(storeID)
		if !ok {
			return OIDCClaims{}, ErrOIDCGrant
		}
		out.StoreRoles = append(out.StoreRoles, g.RoleID)
	}
	for _, p := range cat.All() {
		if acc.Can(p.Key) || (storeID != "" && acc.CanInStore(storeID, p.Key)) {
			out.Permissions = append(out.Permissions, string(p.Key))
		}
	}
	out.AccessVersion = accessVersion(out)
	return out, nil
}

// accessVersion is a fingerprint of the access a token carries: the same access gives the
// same number, and any change of role, store role or permission gives another. A host
// compares it with the current one to learn that a token's access is stale.
func accessVersion(c OIDCClaims) int64 {
	h := sha256.New()
	for _, s := range append(append([]string{c.OrgID, c.OrgRole, c.StoreID, "|"}, c.StoreRoles...), append([]string{"|"}, c.Permissions...)...) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	return int64(binary.BigEndian.Uint64(sum[:8]) >> 11) // 53 bits: exact in JSON numbers everywhere
}

// ErrOIDCNotMember refuses switching a token to an organization or store the user does not
// have: the door answers invalid_target.
var ErrOIDCNotMember = roster.Errorf(roster.EForbidden, "the user is not an active member of that organization, or does not reach that store")

// OIDCSwitch validates a switch of a token to another organization (and store) of the same
// user, against their memberships as they are now: the same choices as the chooser offers.
func (a *OIDC) Switch(ctx context.Context, userID, orgID, storeID string) (OIDCChoice, error) {
	if !roster.ValidID(roster.PrefixOrganization, orgID) || (storeID != "" && !roster.ValidID(roster.PrefixStore, storeID)) {
		return OIDCChoice{}, ErrOIDCNotMember
	}
	affs, _, _, err := a.affiliations(ctx, a.read(), userID)
	if err != nil {
		return OIDCChoice{}, err
	}
	active := affs[:0]
	for _, aff := range affs {
		if aff.Membership.Status == roster.MembershipActive {
			active = append(active, aff)
		}
	}
	c, ok := validChoice(active, orgID, storeID)
	if !ok {
		return OIDCChoice{}, ErrOIDCNotMember
	}
	return c, nil
}

// EndSession is RP-initiated logout, for a user named by an ID token the provider signed:
// every token of theirs at that client is revoked and, when the browser's session (its
// session token, if any) is theirs, it ends too, with the other applications' sessions that
// began in it (Auth.Logout). Without that session, the sign-out is of the user: every other
// application holding their tokens is sent a back-channel logout.
func (a *OIDC) EndSession(ctx context.Context, sessionToken, ip, userAgent, userID, clientID string) error {
	if userID == "" || clientID == "" {
		return roster.Invalidf("id_token_hint", "an id_token_hint is required to sign out")
	}
	var session roster.Actor
	if sessionToken != "" {
		actor, err := a.app.Auth.Authenticate(ctx, sessionToken, ip, userAgent)
		switch {
		case roster.ErrorCode(err) == roster.EUnauthenticated:
			// no session: the sign-out is of the user
		case err != nil:
			return err
		case actor.UserID == userID && actor.SessionID != "":
			session = actor
		}
	}
	err := a.write(ctx, roster.System(), func(t *txn) error {
		if session.SessionID == "" {
			// The other applications where the user is signed in hear of it (oidc_logout.go).
			if err := t.queueSignOutLogouts(userID, clientID); err != nil {
				return err
			}
		}
		n, err := t.RevokeOIDCUserClient(t.ctx, userID, clientID, t.now)
		if err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "oidc.signed_out", TargetType: "client", TargetID: clientID,
			After: map[string]any{"user_id": userID, "revoked": n}})
	})
	if err != nil || session.SessionID == "" {
		return err
	}
	return a.app.Auth.Logout(ctx, session)
}
