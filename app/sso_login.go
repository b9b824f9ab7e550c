package app

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/crewjam/saml"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// Signing in through an organization's identity provider. The login is the state machine of
// auth.go and mfa.go with another first step: StartSSO finds the organization by the email's
// verified domain (home-realm discovery) and sends the browser to its provider with a state
// bound to the browser (the console keeps it in a cookie), a nonce and a PKCE challenge (OIDC)
// or an AuthnRequest ID (SAML). FinishOIDC and FinishSAML check the provider's answer and
// then, in one transaction (ssoAccepted): the address must be at a verified domain of that
// organization, the account is found by the provider's subject, else by that address (linked),
// else created; a non-member joins just in time with the mapped roles; a session opens.
// The provider proves the person: the account's own second factor is not asked again.

// SSOLoginLifetime is how long a sign-in may stay at the identity provider.
const SSOLoginLifetime = 10 * time.Minute

// SSOStart is where to send the browser, and the state to bind to it (a cookie).
type SSOStart struct {
	RedirectURL string
	State       string
	Protocol    roster.SSOProtocol
}

// SSOResult is a signed-in session and where the person was going.
type SSOResult struct {
	LoginResult
	Next string
}

// ssoFailed is the one answer to a sign-in that the provider's answer does not prove.
func ssoFailed(why string) error {
	return roster.Errorf(roster.ESSOFailed, "the sign-in through your organization's identity provider failed: %s; try again", why).With("reason", why)
}

// Start begins a sign-in for an address: its domain's organization's provider, or
// sso_not_configured. next is where to go once signed in (a path the console checked).
func (a *SSO) Start(ctx context.Context, actor roster.Actor, rawEmail, next string) (SSOStart, error) {
	if ok, wait := a.ipRate.allow("login:"+actor.IP, a.clock.Now()); !ok {
		return SSOStart{}, rateLimited(wait)
	}
	addr, err := email(rawEmail)
	if err != nil {
		return SSOStart{}, err
	}
	none := (&roster.Error{Code: roster.ESSOUnavailable, Field: "email",
		Message: "no organization signs in addresses at " + roster.EmailDomain(addr) + " through single sign-on; sign in with your password"})
	conn, _, err := a.read().SSOConnectionForDomain(ctx, roster.EmailDomain(addr))
	if roster.ErrorCode(err) == roster.ENotFound {
		return SSOStart{}, none
	}
	if err != nil {
		return SSOStart{}, err
	}
	return a.startSSO(ctx, actor, conn, addr, next)
}

func (a *SSO) startSSO(ctx context.Context, actor roster.Actor, conn roster.SSOConnection, hint, next string) (SSOStart, error) {
	state, hash := token.New(token.PrefixSSO)
	now := a.clock.Now()
	l := sqlstore.SSOLogin{StateHash: hash, ConnectionID: conn.ID, Next: next, CreatedAt: now, ExpiresAt: now.Add(SSOLoginLifetime)}
	start := SSOStart{State: state, Protocol: conn.Protocol}
	switch conn.Protocol {
	case roster.SSOOIDC:
		p, err := a.sso.provider(ctx, a.ssoHTTP(), conn)
		if err != nil {
			return SSOStart{}, err
		}
		verifier := oauth2.GenerateVerifier()
		l.Nonce = token.Random()
		if l.VerifierSealed, err = a.seal(ssoKID(hash, "verifier"), []byte(verifier)); err != nil {
			return SSOStart{}, err
		}
		cfg := a.oauthConfig(conn, p, "")
		opts := []oauth2.AuthCodeOption{oidc.Nonce(l.Nonce), oauth2.S256ChallengeOption(verifier)}
		if hint != "" {
			opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
		}
		start.RedirectURL = cfg.AuthCodeURL(state, opts...)
	case roster.SSOSAML:
		sp, err := a.serviceProvider(ctx, conn, "")
		if err != nil {
			return SSOStart{}, err
		}
		req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
		if err != nil {
			return SSOStart{}, roster.Errorf(roster.ESSOProvider, "the identity provider's metadata names no HTTP-Redirect sign-in service")
		}
		u, err := req.Redirect(state, sp)
		if err != nil {
			return SSOStart{}, err
		}
		l.RequestID, start.RedirectURL = req.ID, u.String()
	}
	if err := a.write(ctx, actor, func(t *txn) error { return t.InsertSSOLogin(t.ctx, l) }); err != nil {
		return SSOStart{}, err
	}
	return start, nil
}

// oauthConfig is the OAuth client of a connection (the secret unsealed when given).
func (a *SSO) oauthConfig(conn roster.SSOConnection, p *oidc.Provider, secret string) *oauth2.Config {
	return &oauth2.Config{ClientID: conn.ClientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: a.absolute(SSOCallbackPath), Scopes: conn.Scopes}
}

// useSSOLogin consumes the pending sign-in the state names, after checking that the browser
// holds that state (bound: the cookie set when it started). A missing, wrong, used or expired
// state is refused.
func (a *SSO) useSSOLogin(ctx context.Context, actor roster.Actor, state, bound string) (sqlstore.SSOLogin, roster.SSOConnection, sqlstore.SSOSecrets, error) {
	if !token.WellFormed(token.PrefixSSO, state) || subtle.ConstantTimeCompare([]byte(state), []byte(bound)) != 1 {
		return sqlstore.SSOLogin{}, roster.SSOConnection{}, sqlstore.SSOSecrets{}, ssoFailed("the sign-in was not started in this browser, or the state does not match")
	}
	l, err := writeValue(ctx, a.core, actor, func(t *txn) (sqlstore.SSOLogin, error) { return t.UseSSOLogin(t.ctx, token.Hash(state), t.now) })
	if roster.ErrorCode(err) == roster.ENotFound {
		err = ssoFailed("this sign-in expired or was already used")
	}
	if err != nil {
		return l, roster.SSOConnection{}, sqlstore.SSOSecrets{}, err
	}
	conn, sec, err := a.read().SSOConnection(ctx, l.ConnectionID)
	if err == nil && !conn.Enabled {
		err = ssoFailed("single sign-on is turned off for this organization")
	}
	return l, conn, sec, err
}

// ssoIdentity is who the provider says signed in.
type ssoIdentity struct {
	Subject     string
	Email       string
	Name        string
	Groups      []string
	AssertionID string    // SAML: remembered until Expires, so it is never accepted twice
	Expires     time.Time //
}

// FinishOIDC completes a sign-in at the redirect URI: the state (query) and the state the
// browser holds (cookie), then the code exchanged with the PKCE verifier, the ID token checked
// by go-oidc (signature with the provider's keys, issuer, audience = client ID, expiry) and
// its nonce. providerError is the provider's own error parameter, if any.
func (a *SSO) FinishOIDC(ctx context.Context, actor roster.Actor, state, bound, code, providerError string) (SSOResult, error) {
	l, conn, sec, err := a.useSSOLogin(ctx, actor, state, bound)
	if err != nil {
		return SSOResult{}, err
	}
	if conn.Protocol != roster.SSOOIDC {
		return SSOResult{}, ssoFailed("this organization's provider does not speak OpenID Connect")
	}
	fail := func(why string) (SSOResult, error) { return SSOResult{}, a.ssoRefused(ctx, actor, conn, why) }
	if providerError != "" {
		return fail("the identity provider answered " + truncate(providerError, 100))
	}
	if code == "" {
		return fail("no authorization code")
	}
	p, err := a.sso.provider(ctx, a.ssoHTTP(), conn)
	if err != nil {
		return SSOResult{}, err
	}
	secret := ""
	if sec.ClientSecret != "" {
		b, err := a.unseal(ssoKID(conn.ID, "client_secret"), sec.ClientSecret)
		if err != nil {
			return SSOResult{}, err
		}
		secret = string(b)
	}
	verifier, err := a.unseal(ssoKID(l.StateHash, "verifier"), l.VerifierSealed)
	if err != nil {
		return SSOResult{}, err
	}
	hctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, a.ssoHTTP()), ssoHTTPTimeout)
	defer cancel()
	cfg := a.oauthConfig(conn, p, secret)
	tok, err := cfg.Exchange(hctx, code, oauth2.VerifierOption(string(verifier)))
	if err != nil {
		return fail("the code was refused: " + trimErr(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fail("no ID token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: conn.ClientID, Now: a.clock.Now}).Verify(hctx, raw)
	if err != nil {
		return fail("the ID token was refused: " + trimErr(err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(l.Nonce)) != 1 {
		return fail("the ID token's nonce does not match")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return fail("the ID token's claims are unreadable")
	}
	if _, ok := claims[conn.EmailClaim]; !ok && p.UserInfoEndpoint() != "" {
		// Providers that keep profile claims out of the ID token give them at the userinfo
		// endpoint; its subject must be the ID token's.
		ui, err := p.UserInfo(hctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return fail("the userinfo endpoint failed: " + trimErr(err))
		}
		if ui.Subject != idt.Subject {
			return fail("the userinfo subject is not the ID token's")
		}
		more := map[string]any{}
		if err := ui.Claims(&more); err == nil {
			for k, v := range more {
				if _, ok := claims[k]; !ok {
					claims[k] = v
				}
			}
		}
	}
	if v, ok := claims["email_verified"].(bool); ok && !v && conn.EmailClaim == "email" {
		return fail("the provider says the email address is not verified")
	}
	id := ssoIdentity{Subject: idt.Subject, Email: claimString(claims[conn.EmailClaim]), Name: claimString(claims[conn.NameClaim]),
		Groups: claimStrings(claims[conn.GroupsClaim])}
	return a.ssoAccepted(ctx, actor, conn, id, l.Next)
}

func claimString(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// claimStrings reads a groups claim: a list of strings, or one string.
func claimStrings(v any) []string {
	var out []string
	switch g := v.(type) {
	case string:
		out = append(out, g)
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	if len(out) > roster.MaxSSOGroups {
		out = out[:roster.MaxSSOGroups]
	}
	return out
}

// FinishSAML completes a sign-in at a connection's assertion consumer service: the
// RelayState (the state) and the state the browser holds, then the Response checked by
// crewjam/saml against the connection's IdP metadata — a signature by the IdP's certificate
// (an unsigned response and assertion are refused), the audience (this connection's entity
// ID), the recipient and destination (its ACS URL), InResponseTo (the AuthnRequest this
// sign-in sent), the validity window — and the assertion's ID never seen before.
func (a *SSO) FinishSAML(ctx context.Context, actor roster.Actor, connID, relayState, bound, samlResponse string) (SSOResult, error) {
	if !roster.ValidID(roster.PrefixSSO, connID) {
		return SSOResult{}, roster.NotFound("single sign-on connection")
	}
	l, conn, sec, err := a.useSSOLogin(ctx, actor, relayState, bound)
	if err != nil {
		return SSOResult{}, err
	}
	if conn.ID != connID || conn.Protocol != roster.SSOSAML {
		return SSOResult{}, a.ssoRefused(ctx, actor, conn, "the response came to another connection's address")
	}
	// Some providers wrap the base64 in lines.
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(samlResponse), ""))
	if err != nil || len(raw) == 0 || len(raw) > roster.MaxSSOMetadataBytes {
		return SSOResult{}, a.ssoRefused(ctx, actor, conn, "the SAML response is not base64")
	}
	sp, err := a.serviceProvider(ctx, conn, sec.SPKey)
	if err != nil {
		return SSOResult{}, err
	}
	acs := sp.AcsURL
	as, err := sp.ParseXMLResponse(raw, []string{l.RequestID}, acs)
	if err != nil {
		why := err.Error()
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) && ire.PrivateErr != nil {
			why = ire.PrivateErr.Error()
		}
		return SSOResult{}, a.ssoRefused(ctx, actor, conn, "the SAML response was refused: "+truncate(why, 300))
	}
	id := ssoIdentity{AssertionID: as.ID, Expires: a.clock.Now().Add(SSOLoginLifetime)}
	if as.Subject != nil && as.Subject.NameID != nil {
		id.Subject = strings.TrimSpace(as.Subject.NameID.Value)
	}
	if as.Conditions != nil && !as.Conditions.NotOnOrAfter.IsZero() {
		id.Expires = as.Conditions.NotOnOrAfter
	}
	emailAttr, nameAttr := cmpOr(conn.EmailClaim, "email"), cmpOr(conn.NameClaim, "name")
	groupsAttr := cmpOr(conn.GroupsClaim, "groups")
	for _, st := range as.AttributeStatements {
		for _, at := range st.Attributes {
			if len(at.Values) == 0 {
				continue
			}
			switch {
			case attrIs(at, emailAttr, "urn:oid:0.9.2342.19200300.100.1.3", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "mail"):
				id.Email = strings.TrimSpace(at.Values[0].Value)
			case attrIs(at, nameAttr, "urn:oid:2.5.4.3", "cn", "displayName", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"):
				id.Name = strings.TrimSpace(at.Values[0].Value)
			case attrIs(at, groupsAttr, "eduPersonAffiliation", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"):
				for _, v := range at.Values {
					if len(id.Groups) < roster.MaxSSOGroups {
						id.Groups = append(id.Groups, v.Value)
					}
				}
			}
		}
	}
	if id.Email == "" && strings.Contains(id.Subject, "@") {
		id.Email = id.Subject // NameID format emailAddress
	}
	return a.ssoAccepted(ctx, actor, conn, id, l.Next)
}

func attrIs(at saml.Attribute, names ...string) bool {
	for _, n := range names {
		if n != "" && (at.Name == n || at.FriendlyName == n) {
			return true
		}
	}
	return false
}

// serviceProvider is Roster as the SAML service provider of a connection; with the sealed
// key when one is given (to read responses), else with the certificate alone (metadata, requests).
func (a *SSO) serviceProvider(ctx context.Context, conn roster.SSOConnection, sealedKey string) (*saml.ServiceProvider, error) {
	ed, err := parseIdPMetadata([]byte(conn.IdPMetadataXML))
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode([]byte(conn.SPCertificate))
	if block == nil {
		return nil, fmt.Errorf("sso %s: no service provider certificate", conn.ID)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, err
	}
	entity, _ := url.Parse(a.absolute(SSOSAMLPath + conn.ID))
	acs, _ := url.Parse(a.absolute(SSOSAMLPath + conn.ID + "/acs"))
	sp := &saml.ServiceProvider{EntityID: entity.String(), Certificate: cert, MetadataURL: *entity, AcsURL: *acs, IDPMetadata: ed,
		HTTPClient: a.ssoHTTP(), AuthnNameIDFormat: saml.UnspecifiedNameIDFormat, RejectSHA1Signatures: true,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding}, Clock: nil}
	if sealedKey != "" {
		raw, err := a.unseal(ssoKID(conn.ID, "sp_key"), sealedKey)
		if err != nil {
			return nil, err
		}
		kb, _ := pem.Decode(raw)
		if kb == nil {
			return nil, fmt.Errorf("sso %s: malformed service provider key", conn.ID)
		}
		key, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
		if err != nil {
			return nil, err
		}
		sp.Key = key
	}
	return sp, nil
}

// Metadata returns a SAML connection's service provider metadata (public: the identity
// provider's administrator downloads it, or the provider fetches it).
func (a *SSO) Metadata(ctx context.Context, connID string) ([]byte, error) {
	if !roster.ValidID(roster.PrefixSSO, connID) {
		return nil, roster.NotFound("single sign-on connection")
	}
	conn, _, err := a.read().SSOConnection(ctx, connID)
	if err != nil {
		return nil, err
	}
	if conn.Protocol != roster.SSOSAML {
		return nil, roster.NotFound("single sign-on connection")
	}
	sp, err := a.serviceProvider(ctx, conn, "")
	if err != nil {
		return nil, err
	}
	md := sp.Metadata()
	md.SPSSODescriptors[0].AuthnRequestsSigned = nil
	return xmlMarshal(md)
}

// ssoRefused records a refused sign-in in the organization's audit log and returns the
// refusal.
func (a *SSO) ssoRefused(ctx context.Context, actor roster.Actor, conn roster.SSOConnection, why string) error {
	err := ssoFailed(why)
	if conn.ID == "" {
		return err
	}
	if aerr := a.write(ctx, actor, func(t *txn) error {
		return t.audit(roster.AuditEvent{OrgID: conn.OrgID, Action: "sso.login_failed", TargetType: "sso_connection", TargetID: conn.ID,
			After: map[string]any{"reason": why, "protocol": string(conn.Protocol)}})
	}); aerr != nil {
		return aerr
	}
	return err
}

// ssoAccepted ends a sign-in the provider proved: in one transaction, the address checked
// against the organization's verified domains, the account found, linked or created, the
// membership made just in time, the session opened — or nothing at all.
func (a *SSO) ssoAccepted(ctx context.Context, actor roster.Actor, conn roster.SSOConnection, id ssoIdentity, next string) (SSOResult, error) {
	if id.Subject == "" || len(id.Subject) > 1000 {
		return SSOResult{}, a.ssoRefused(ctx, actor, conn, "the provider named no subject")
	}
	addr, err := email(id.Email)
	if err != nil {
		return SSOResult{}, a.ssoRefused(ctx, actor, conn, "the provider gave no usable email address")
	}
	name := truncate(id.Name, roster.MaxNameLength)
	if name == "" {
		name = truncate(strings.SplitN(addr, "@", 2)[0], roster.MaxNameLength)
	}
	var res SSOResult
	// Two first sign-ins of one person at once both find no account; the one that commits
	// second fails on the unique address or subject and, tried again, finds the first's.
	for try := 0; ; try++ {
		res, err = a.ssoCommit(ctx, actor, conn, id, addr, name, next)
		if code := roster.ErrorCode(err); try == 0 && err != errReplayed && (code == roster.EUserExists || code == roster.EConflict || code == roster.EAlreadyMember) {
			continue
		}
		break
	}
	if err == errReplayed {
		return SSOResult{}, a.ssoRefused(ctx, actor, conn, "this assertion was already used")
	}
	if e := roster.AsError(err); e != nil && e.Code == roster.ESSOEmailNotVerified {
		_ = a.ssoRefused(ctx, actor, conn, "address outside the organization's verified domains: "+addr)
	}
	return res, err
}

// ssoCommit is ssoAccepted's transaction.
func (a *SSO) ssoCommit(ctx context.Context, actor roster.Actor, conn roster.SSOConnection, id ssoIdentity, addr, name, next string) (SSOResult, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (SSOResult, error) {
		org, err := t.LockOrganization(t.ctx, conn.OrgID)
		if err != nil {
			return SSOResult{}, err
		}
		// The provider speaks for the organization's own domains only: an address elsewhere
		// never signs in, never links to an account (account takeover), never gets one.
		d, err := t.VerifiedDomain(t.ctx, roster.EmailDomain(addr))
		if roster.ErrorCode(err) == roster.ENotFound || (err == nil && d.OrgID != conn.OrgID) {
			return SSOResult{}, (&roster.Error{Code: roster.ESSOEmailNotVerified,
				Message: "your identity provider gave the address " + addr + ", which is not at a verified domain of " + org.Name}).With("email", addr)
		}
		if err != nil {
			return SSOResult{}, err
		}
		if id.AssertionID != "" {
			if err := t.RememberAssertion(t.ctx, conn.ID, id.AssertionID, id.Expires, t.now); roster.ErrorCode(err) == roster.EConflict {
				return SSOResult{}, errReplayed
			} else if err != nil {
				return SSOResult{}, err
			}
		}
		t.actor.Kind = roster.ActorUser
		via := map[string]any{"via": "sso", "protocol": string(conn.Protocol), "connection": conn.ID}
		var u roster.User
		userID, err := t.SSOIdentityUser(t.ctx, conn.ID, id.Subject)
		switch {
		case err == nil:
			if u, err = t.User(t.ctx, userID); err != nil {
				return SSOResult{}, err
			}
		case roster.ErrorCode(err) != roster.ENotFound:
			return SSOResult{}, err
		default:
			existing, _, err := t.UserByEmail(t.ctx, addr)
			switch {
			case err == nil:
				u = existing
				t.actor.UserID = u.ID
				if err := t.audit(roster.AuditEvent{OrgID: conn.OrgID, Action: "sso.identity_linked", TargetType: "user", TargetID: u.ID,
					After: map[string]any{"email": addr, "subject": id.Subject, "connection": conn.ID}}); err != nil {
					return SSOResult{}, err
				}
			case roster.ErrorCode(err) == roster.ENotFound:
				now := t.now
				u = roster.User{ID: roster.NewID(roster.PrefixUser), Email: addr, Name: name, Locale: "en", Status: roster.UserActive,
					EmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
				if err := t.CreateUser(t.ctx, u, ""); err != nil {
					return SSOResult{}, err
				}
				t.actor.UserID = u.ID
				if err := t.audit(roster.AuditEvent{Action: "user.signed_up", TargetType: "user", TargetID: u.ID,
					After: map[string]any{"email": u.Email, "name": u.Name, "via": "sso", "connection": conn.ID}}); err != nil {
					return SSOResult{}, err
				}
			default:
				return SSOResult{}, err
			}
			if err := t.LinkSSOIdentity(t.ctx, conn.ID, id.Subject, u.ID, t.now); err != nil {
				return SSOResult{}, err
			}
		}
		t.actor.UserID = u.ID
		if u.Status != roster.UserActive {
			return SSOResult{}, roster.Errorf(roster.EUserDeactivated, "this account has been deactivated; contact your administrator")
		}
		if !u.Verified() {
			// The organization's provider proved the address at the organization's domain.
			if err := t.SetEmailVerified(t.ctx, u.ID, t.now); err != nil {
				return SSOResult{}, err
			}
		}
		if err := a.ssoMembership(t, org, conn, d, u, id.Groups); err != nil {
			return SSOResult{}, err
		}
		res, err := a.openSession(t, u)
		if err != nil {
			return SSOResult{}, err
		}
		after := via
		after["org"] = conn.OrgID
		if err := t.audit(roster.AuditEvent{OrgID: conn.OrgID, Action: "user.logged_in", TargetType: "session", TargetID: res.Session.ID, After: after}); err != nil {
			return SSOResult{}, err
		}
		return SSOResult{LoginResult: res, Next: next}, nil
	})
}

var errReplayed = errors.New("assertion replayed")

// ssoMembership makes sure the person is a member of the organization: a member already is
// left as they are (their roles are the organization's to change); someone else joins just
// in time with the mapped roles when the connection allows it, else is refused.
func (a *SSO) ssoMembership(t *txn, org roster.Organization, conn roster.SSOConnection, d roster.Domain, u roster.User, groups []string) error {
	if _, err := t.Membership(t.ctx, org.ID, u.ID); err == nil {
		return nil
	} else if roster.ErrorCode(err) != roster.ENotFound {
		return err
	}
	if !conn.JIT {
		return ssoFailed("you are not a member of " + org.Name + " yet; ask its administrators to invite you")
	}
	if err := policyCheck(org, u.Email); err != nil {
		return err
	}
	role, stores := conn.SSORoleFor(groups)
	if err := t.AddMember(t.ctx, roster.Membership{OrgID: org.ID, UserID: u.ID, Role: role, Status: roster.MembershipActive,
		CreatedAt: t.now, UpdatedAt: t.now}); err != nil {
		return err
	}
	granted := map[string]any{}
	for storeID, roleID := range stores {
		st, err := t.Store(t.ctx, storeID)
		if err != nil || st.OrgID != org.ID || st.Status == roster.StoreArchived {
			continue // a store gone or archived since the mapping was set
		}
		if err := t.PutStoreMember(t.ctx, roster.StoreMembership{StoreID: storeID, OrgID: org.ID, UserID: u.ID, RoleID: roleID,
			CreatedAt: t.now, UpdatedAt: t.now}); err != nil {
			return err
		}
		granted[storeID] = roleID
	}
	return t.audit(roster.AuditEvent{OrgID: org.ID, Action: "member.added", TargetType: "user", TargetID: u.ID,
		After: map[string]any{"email": u.Email, "role": string(role), "stores": granted, "via": "sso", "domain": d.Domain, "groups": len(groups)}})
}

// passwordAllowed refuses a password sign-in to someone whose address is at a verified domain
// that requires its organization's single sign-on, unless they are that organization's owner
// (roster.MayBypassSSO: the break-glass). Checked after the password is proven, so the
// answer tells nothing of an account to who does not know its password.
func (a *core) passwordAllowed(t *txn, u roster.User) error {
	d, err := t.VerifiedDomain(t.ctx, roster.EmailDomain(u.Email))
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && !d.RequireSSO) {
		return nil
	}
	if err != nil {
		return err
	}
	conn, _, err := t.SSOConnectionOf(t.ctx, d.OrgID)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && !conn.Enabled) {
		return nil // nothing to sign in through: the rule sleeps
	}
	if err != nil {
		return err
	}
	if m, err := t.Membership(t.ctx, d.OrgID, u.ID); err == nil && roster.MayBypassSSO(m) {
		return nil
	}
	return (&roster.Error{Code: roster.ESSORequired, Field: "email",
		Message: "addresses at " + d.Domain + " sign in through their organization's single sign-on"}).With("domain", d.Domain)
}

// xmlMarshal encodes metadata with the XML header.
func xmlMarshal(v any) ([]byte, error) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}
