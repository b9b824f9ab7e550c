package oidc_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

const redirectURI = "http://127.0.0.1:9/callback"

// fixture is a server with a confidential client and a user who belongs to one
// organization with one store (so the chooser is skipped).
type fixture struct {
	s     *server
	cfg   oauth2.Config
	user  roster.User
	actor roster.Actor
	org   roster.Organization
	store roster.Store
}

func newFixture(t *testing.T, e sqlstore.Engine) *fixture {
	s := newServer(t, e)
	actor, u := s.User(t, "Ana")
	org := s.Org(t, actor, "Solo")
	st := s.Store(t, actor, org.ID, "Only")
	_, cfg := s.client(t, false, redirectURI)
	return &fixture{s: s, cfg: cfg, user: u, actor: actor, org: org, store: st}
}

// code runs the browser part and returns a code and its PKCE verifier.
func (f *fixture) code(t *testing.T, b *browser) (string, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	back := b.signIn(f.s, f.cfg.AuthCodeURL("state1", oauth2.S256ChallengeOption(verifier)), f.user.Email, nil)
	if back.Query().Get("code") == "" {
		t.Fatalf("no code: %s", back)
	}
	return back.Query().Get("code"), verifier
}

// TestUnsafeAuthorizationRequestsGetAnErrorPage: an unknown client or a redirect URI that
// is not registered exactly gets a localized page, never a redirect, never a 500.
func TestUnsafeAuthorizationRequestsGetAnErrorPage(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		base := url.Values{"response_type": {"code"}, "scope": {"openid"}, "state": {"s"}, "client_id": {f.cfg.ClientID},
			"redirect_uri": {redirectURI}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		cases := map[string]func(url.Values){
			"unknown client":   func(v url.Values) { v.Set("client_id", "cli_01jz8k7x0000000000000000zz") },
			"malformed client": func(v url.Values) { v.Set("client_id", "<script>") },
			"longer path":      func(v url.Values) { v.Set("redirect_uri", redirectURI+"/x") },
			"shorter path":     func(v url.Values) { v.Set("redirect_uri", strings.TrimSuffix(redirectURI, "k")) },
			"added query":      func(v url.Values) { v.Set("redirect_uri", redirectURI+"?next=x") },
			"other host":       func(v url.Values) { v.Set("redirect_uri", "http://evil.example/callback") },
			"no redirect URI":  func(v url.Values) { v.Del("redirect_uri") },
			"case of the path": func(v url.Values) { v.Set("redirect_uri", strings.ToUpper(redirectURI)) },
		}
		for name, change := range cases {
			v := url.Values{}
			for k, vs := range base {
				v[k] = append([]string(nil), vs...)
			}
			change(v)
			for _, lang := range []string{"en", "fr"} {
				req, _ := http.NewRequest(http.MethodGet, f.s.URL+"/oidc/authorize?"+v.Encode(), nil)
				req.Header.Set("Accept-Language", lang)
				res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				want := map[string]string{"en": "This sign-in request is not valid", "fr": "Cette demande de connexion n’est pas valide"}[lang]
				if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" || !strings.Contains(string(body), want) ||
					!strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
					t.Errorf("%s (%s): %d, location %q, %s: %.300s", name, lang, res.StatusCode, res.Header.Get("Location"), res.Header.Get("Content-Type"), body)
				}
			}
		}
	})
}

// TestPKCE: a public client must send an S256 challenge; a wrong verifier is refused with
// invalid_grant, and the code then still works with the right one.
func TestPKCE(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		_, pub := f.s.client(t, true, redirectURI)
		b := newBrowser(t, redirectURI)
		b.login(f.s, f.user.Email)
		for name, opts := range map[string][]oauth2.AuthCodeOption{
			"no challenge":    nil,
			"plain challenge": {oauth2.SetAuthURLParam("code_challenge", "abcdefghijabcdefghijabcdefghijabcdefghij123"), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
		} {
			p := b.get(pub.AuthCodeURL("st", opts...))
			u, _ := url.Parse(p.Location)
			if p.Status != http.StatusFound || u == nil || u.Query().Get("error") != "invalid_request" || u.Query().Get("state") != "st" || u.Query().Get("iss") != f.s.URL {
				t.Errorf("public client, %s: %d %q", name, p.Status, p.Location)
			}
		}
		code, verifier := f.code(t, b)
		if _, err := f.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(oauth2.GenerateVerifier())); oauthCode(err) != "invalid_grant" {
			t.Fatalf("wrong verifier: %v, want invalid_grant", err)
		}
		if _, err := f.cfg.Exchange(ctx(t), code); oauthCode(err) != "invalid_request" {
			t.Fatalf("no verifier: %v, want invalid_request", err)
		}
		if _, err := f.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("right verifier: %v", err)
		}
	})
}

// TestCodeIsSingleUse: a code exchanged twice is refused the second time, and the tokens the
// first exchange issued are revoked; a code also expires after 60 seconds.
func TestCodeIsSingleUse(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		b := newBrowser(t, redirectURI)
		code, verifier := f.code(t, b)
		tok, err := f.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if in := introspect(t, f.s, f.cfg, tok.AccessToken); in["active"] != true {
			t.Fatalf("fresh token inactive: %v", in)
		}
		if _, err := f.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(verifier)); oauthCode(err) != "invalid_grant" {
			t.Fatalf("replayed code: %v, want invalid_grant", err)
		}
		if in := introspect(t, f.s, f.cfg, tok.AccessToken); in["active"] != false {
			t.Fatalf("token of a replayed code still active: %v", in)
		}
		if _, err := f.cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); oauthCode(err) != "invalid_grant" {
			t.Fatalf("refresh token of a replayed code: %v", err)
		}

		// A replay after the request's sign-in window, and a cleanup, is still recognised.
		code, verifier = f.code(t, b)
		tok, err = f.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		f.s.clock.Advance(20 * time.Minute)
		f.s.App.Cleanup(testenv.Ctx)
		if _, err := f.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(verifier)); oauthCode(err) != "invalid_grant" {
			t.Fatalf("late replay: %v", err)
		}
		if _, err := f.cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); oauthCode(err) != "invalid_grant" {
			t.Fatalf("refresh token of a code replayed late: %v", err)
		}

		code, verifier = f.code(t, b)
		f.s.clock.Advance(61 * time.Second)
		if _, err := f.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(verifier)); oauthCode(err) != "invalid_grant" {
			t.Fatalf("expired code: %v, want invalid_grant", err)
		}
		// A code is bound to its client.
		_, other := f.s.client(t, false, redirectURI)
		code, verifier = f.code(t, b)
		if _, err := other.Exchange(ctx(t), code, oauth2.VerifierOption(verifier)); oauthCode(err) != "invalid_grant" {
			t.Fatalf("code of another client: %v, want invalid_grant", err)
		}
	})
}

// TestChooser: the chooser shows with several choices, is CSRF-protected, accepts only the
// user's own organizations and stores, and is skipped for a valid organization parameter.
func TestChooser(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		second := f.s.Org(t, f.actor, "Second")
		stranger, _ := f.s.User(t, "Stranger")
		foreign := f.s.Org(t, stranger, "Foreign")
		b := newBrowser(t, redirectURI)
		b.login(f.s, f.user.Email)
		authURL := f.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		p := b.get(authURL)
		if p.Status != http.StatusOK || p.URL.Path != "/oidc/continue" || !strings.Contains(p.Body, "Second") || !strings.Contains(p.Body, "Only") {
			t.Fatalf("chooser: %d %s %.300s", p.Status, p.URL, p.Body)
		}
		form := hidden(p.Body)
		noCSRF := url.Values{"id": {form.Get("id")}, "organization": {second.ID}}
		if p := b.post(f.s.URL+"/oidc/continue", noCSRF); p.Status != http.StatusForbidden {
			t.Fatalf("chooser without the form token: %d", p.Status)
		}
		bad := url.Values{"id": {form.Get("id")}, "csrf": {form.Get("csrf")}, "organization": {foreign.ID}}
		if p := b.post(f.s.URL+"/oidc/continue", bad); p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("choosing a foreign organization: %d %.300s", p.Status, p.Body)
		}
		bad.Set("organization", f.org.ID)
		bad.Set("store", "sto_01jz8k7x0000000000000000zz")
		if p := b.post(f.s.URL+"/oidc/continue", bad); p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("choosing a foreign store: %d", p.Status)
		}
		// Naming a valid organization skips the chooser; naming a foreign one shows it.
		named := f.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("organization", second.ID))
		if p := b.get(named); p.Status != http.StatusFound || !strings.Contains(p.Location, "code=") {
			t.Fatalf("named organization: %d %q", p.Status, p.Location)
		}
		named = f.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("organization", foreign.ID))
		if p := b.get(named); p.Status != http.StatusOK || p.URL.Path != "/oidc/continue" {
			t.Fatalf("named foreign organization: %d %s", p.Status, p.URL)
		}
		// The chosen organization is the token's.
		verifier := oauth2.GenerateVerifier()
		back := b.signIn(f.s, f.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), f.user.Email, &app.OIDCChoice{OrgID: second.ID})
		tok, err := f.cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if c := claims(t, tok.AccessToken); c["org_id"] != second.ID || c["org_role"] != "owner" || c["store_id"] != nil {
			t.Fatalf("claims: %v", c)
		}
	})
}

// TestForgedAccessTokensAreRefused: alg none, HMAC keyed with the published public key,
// another issuer and a tampered payload are all unauthenticated on /v1; the issuer is the
// base URL whatever the Host header says.
func TestForgedAccessTokensAreRefused(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		b := newBrowser(t, redirectURI)
		code, verifier := f.code(t, b)
		tok, err := f.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(tok.AccessToken, ".")
		res, err := http.Get(f.s.URL + "/oidc/jwks")
		if err != nil {
			t.Fatal(err)
		}
		jwks, _ := io.ReadAll(res.Body)
		res.Body.Close()
		enc := base64.RawURLEncoding.EncodeToString
		hs := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + parts[1]
		m := hmac.New(sha256.New, jwks)
		m.Write([]byte(hs))
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		forged := map[string]string{
			"alg none":        enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
			"HMAC public key": hs + "." + enc(m.Sum(nil)),
			"tampered":        parts[0] + "." + enc([]byte(strings.Replace(string(payload), `"sub":"`, `"sub":"x`, 1))) + "." + parts[2],
			"bad signature":   parts[0] + "." + parts[1] + "." + enc(make([]byte, 64)),
		}
		for name, jwt := range forged {
			if st := call(t, http.MethodGet, f.s.URL+"/v1/me", jwt, nil, nil); st != http.StatusUnauthorized {
				t.Errorf("%s: %d, want 401", name, st)
			}
		}
		if st := call(t, http.MethodGet, f.s.URL+"/v1/me", tok.AccessToken, nil, nil); st != http.StatusOK {
			t.Fatalf("genuine token: %d", st)
		}
		// Verified once, the genuine token is remembered; its forgeries are not.
		for name, jwt := range forged {
			if st := call(t, http.MethodGet, f.s.URL+"/v1/me", jwt, nil, nil); st != http.StatusUnauthorized {
				t.Errorf("%s, after the genuine token: %d, want 401", name, st)
			}
		}
		// Discovery names the base URL as issuer even when asked under another Host.
		req, _ := http.NewRequest(http.MethodGet, f.s.URL+"/.well-known/openid-configuration", nil)
		req.Host = "evil.example"
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), `"issuer":"`+f.s.URL+`"`) || strings.Contains(string(body), "evil.example") {
			t.Fatalf("discovery under another Host: %s", body)
		}
		if _, err := gooidc.NewProvider(ctx(t), f.s.URL); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAccessEndsAtOnce: once a member is suspended or removed, their access token is
// inactive on introspection and refused on /v1 at the next call, and their refresh token
// gets invalid_grant; a role change shows in the next refresh's claims and access_version.
func TestAccessEndsAtOnce(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		_, bob := f.s.User(t, "Bob")
		f.s.Join(t, f.actor, f.org.ID, bob, roster.OrgMember, app.StoreGrantInput{StoreID: f.store.ID, RoleID: roster.StoreRoleViewer})
		b := newBrowser(t, redirectURI)
		verifier := oauth2.GenerateVerifier()
		back := b.signIn(f.s, f.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), bob.Email, nil)
		tok, err := f.cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		before := claims(t, tok.AccessToken)
		if before["store_roles"].([]any)[0] != "viewer" {
			t.Fatalf("claims: %v", before)
		}
		// A role change: the refreshed token carries the new role and another version.
		if err := f.s.App.Members.SetStoreRole(testenv.Ctx, f.actor, f.store.ID, bob.ID, roster.StoreRoleMember); err != nil {
			t.Fatal(err)
		}
		tok, err = f.cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
		if err != nil {
			t.Fatal(err)
		}
		after := claims(t, tok.AccessToken)
		if after["store_roles"].([]any)[0] != "member" || after["access_version"] == before["access_version"] {
			t.Fatalf("after a role change: %v", after)
		}
		// Used once (so verified and remembered by this node), then suspended: still refused.
		if st := call(t, http.MethodGet, f.s.URL+"/v1/me", tok.AccessToken, nil, nil); st != http.StatusOK {
			t.Fatalf("member's token on /v1: %d", st)
		}
		if err := f.s.App.Members.Suspend(testenv.Ctx, f.actor, f.org.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if in := introspect(t, f.s, f.cfg, tok.AccessToken); in["active"] != false {
			t.Fatalf("suspended member's token: %v", in)
		}
		if st := call(t, http.MethodGet, f.s.URL+"/v1/me", tok.AccessToken, nil, nil); st != http.StatusUnauthorized {
			t.Fatalf("suspended member's token on /v1: %d", st)
		}
		if _, err := f.cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); oauthCode(err) != "invalid_grant" {
			t.Fatalf("suspended member's refresh: %v", err)
		}
	})
}

// TestRevocationUserinfoDiscovery: userinfo answers for a live access token with the
// organization claims; revoking the access token (RFC 7009) ends it alone, revoking the
// refresh token ends the family; discovery says what is offered.
func TestRevocationUserinfoDiscovery(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		provider, err := gooidc.NewProvider(ctx(t), f.s.URL)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := provider.Claims(&doc); err != nil {
			t.Fatal(err)
		}
		if doc["authorization_response_iss_parameter_supported"] != true || doc["end_session_endpoint"] != f.s.URL+"/oidc/end_session" ||
			doc["introspection_endpoint"] != f.s.URL+"/oidc/introspect" || doc["revocation_endpoint"] != f.s.URL+"/oidc/revoke" {
			t.Fatalf("discovery: %v", doc)
		}
		b := newBrowser(t, redirectURI)
		code, verifier := f.code(t, b)
		tok, err := f.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		info, err := provider.UserInfo(ctx(t), oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatal(err)
		}
		var extra map[string]any
		_ = info.Claims(&extra)
		if info.Subject != f.user.ID || info.Email != f.user.Email || extra["org_id"] != f.org.ID || extra["store_id"] != f.store.ID {
			t.Fatalf("userinfo: %+v %v", info, extra)
		}
		revoke := func(token, hint string) int {
			form := url.Values{"token": {token}, "token_type_hint": {hint}}
			req, _ := http.NewRequest(http.MethodPost, f.s.URL+"/oidc/revoke", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(f.cfg.ClientID, f.cfg.ClientSecret)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		if st := revoke(tok.AccessToken, "access_token"); st != http.StatusOK {
			t.Fatalf("revoke access token: %d", st)
		}
		if in := introspect(t, f.s, f.cfg, tok.AccessToken); in["active"] != false {
			t.Fatalf("revoked access token: %v", in)
		}
		if _, err := provider.UserInfo(ctx(t), oauth2.StaticTokenSource(tok)); err == nil {
			t.Fatal("userinfo answered for a revoked token")
		}
		// The refresh token still works; then revoking it ends the family.
		tok2, err := f.cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
		if err != nil {
			t.Fatalf("refresh after revoking the access token: %v", err)
		}
		if st := revoke(tok2.RefreshToken, "refresh_token"); st != http.StatusOK {
			t.Fatalf("revoke refresh token: %d", st)
		}
		if in := introspect(t, f.s, f.cfg, tok2.AccessToken); in["active"] != false {
			t.Fatalf("access token of a revoked refresh token: %v", in)
		}
		if _, err := f.cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); oauthCode(err) != "invalid_grant" {
			t.Fatalf("revoked refresh token: %v", err)
		}
		// Another client can neither introspect nor revoke these tokens.
		_, other := f.s.client(t, false, redirectURI)
		code, verifier = f.code(t, b)
		tok3, err := f.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if in := introspect(t, f.s, other, tok3.AccessToken); in["active"] != false {
			t.Fatalf("introspection by another client: %v", in)
		}
		if in := introspect(t, f.s, f.cfg, tok3.AccessToken); in["active"] != true {
			t.Fatalf("introspection by the token's client: %v", in)
		}
	})
}

// refreshWith posts a refresh grant with extra parameters, as a confidential client.
func refreshWith(t *testing.T, s *server, cfg oauth2.Config, refresh string, extra url.Values) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	for k, v := range extra {
		form[k] = v
	}
	m := map[string]any{}
	res := tokenRequest(t, s, cfg.ClientID, cfg.ClientSecret, form, &m)
	return res.StatusCode, m
}

// tokenRequest posts a form to the token endpoint as a confidential client (HTTP Basic) and
// decodes the JSON answer into out.
func tokenRequest(t *testing.T, s *server, clientID, secret string, form url.Values, out any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/oidc/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	_ = json.NewDecoder(res.Body).Decode(out)
	return res
}

// TestSwitchOrganizationByRefresh: a refresh naming another organization (and store) of
// the same user returns tokens scoped there, without signing in again; a foreign one is
// refused with invalid_target and leaves the refresh token usable.
func TestSwitchOrganizationByRefresh(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		second := f.s.Org(t, f.actor, "Second")
		secondStore := f.s.Store(t, f.actor, second.ID, "Second shop")
		stranger, _ := f.s.User(t, "Stranger")
		foreign := f.s.Org(t, stranger, "Foreign")
		b := newBrowser(t, redirectURI)
		verifier := oauth2.GenerateVerifier()
		back := b.signIn(f.s, f.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), f.user.Email, &app.OIDCChoice{OrgID: f.org.ID, StoreID: f.store.ID})
		tok, err := f.cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]url.Values{
			"foreign organization": {"organization": {foreign.ID}},
			"malformed":            {"organization": {"org_<x>"}},
			"store of another org": {"organization": {f.org.ID}, "store": {secondStore.ID}},
		} {
			st, body := refreshWith(t, f.s, f.cfg, tok.RefreshToken, v)
			if st != http.StatusBadRequest || body["error"] != "invalid_target" {
				t.Errorf("%s: %d %v", name, st, body)
			}
		}
		st, body := refreshWith(t, f.s, f.cfg, tok.RefreshToken, url.Values{"organization": {second.ID}, "store": {secondStore.ID}})
		if st != http.StatusOK {
			t.Fatalf("switch: %d %v", st, body)
		}
		at := claims(t, body["access_token"].(string))
		id := claims(t, body["id_token"].(string))
		if at["org_id"] != second.ID || at["store_id"] != secondStore.ID || id["org_id"] != second.ID || id["store_id"] != secondStore.ID {
			t.Fatalf("switched claims: %v / %v", at, id)
		}
		// The next refresh, without parameters, stays in the new organization.
		st, body = refreshWith(t, f.s, f.cfg, body["refresh_token"].(string), nil)
		if st != http.StatusOK || claims(t, body["access_token"].(string))["org_id"] != second.ID {
			t.Fatalf("refresh after switching: %d %v", st, body)
		}
	})
}

// TestChangedMembershipEndsGrants: a suspension ends a member's grants for good (they stay
// refused after reactivation, even through a store switch), a new organization role makes
// the access token inactive at once, and a removal ends them even if the person is added
// again.
func TestChangedMembershipEndsGrants(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		other := f.s.Store(t, f.actor, f.org.ID, "Other")
		_, bob := f.s.User(t, "Bob")
		f.s.Join(t, f.actor, f.org.ID, bob, roster.OrgMember, app.StoreGrantInput{StoreID: f.store.ID, RoleID: roster.StoreRoleViewer},
			app.StoreGrantInput{StoreID: other.ID, RoleID: roster.StoreRoleViewer})
		b := newBrowser(t, redirectURI)
		signIn := func() *oauth2.Token {
			t.Helper()
			verifier := oauth2.GenerateVerifier()
			back := b.signIn(f.s, f.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), bob.Email, &app.OIDCChoice{OrgID: f.org.ID, StoreID: f.store.ID})
			tok, err := f.cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		ended := func(what string, tok *oauth2.Token) {
			t.Helper()
			if in := introspect(t, f.s, f.cfg, tok.AccessToken); in["active"] != false {
				t.Errorf("%s: access token active", what)
			}
			if st, body := refreshWith(t, f.s, f.cfg, tok.RefreshToken, nil); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Errorf("%s: refresh %d %v", what, st, body)
			}
			if st, body := refreshWith(t, f.s, f.cfg, tok.RefreshToken, url.Values{"store": {other.ID}}); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Errorf("%s: refresh switching store %d %v", what, st, body)
			}
		}
		tok := signIn()
		suspended, active := roster.MembershipSuspended, roster.MembershipActive
		f.s.clock.Advance(time.Millisecond)
		if err := f.s.App.Members.Update(testenv.Ctx, f.actor, f.org.ID, bob.ID, app.MemberUpdate{Status: &suspended}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.App.Members.Update(testenv.Ctx, f.actor, f.org.ID, bob.ID, app.MemberUpdate{Status: &active}); err != nil {
			t.Fatal(err)
		}
		ended("suspended then reactivated", tok)

		tok = signIn()
		admin := roster.OrgAdmin
		f.s.clock.Advance(time.Millisecond)
		if err := f.s.App.Members.Update(testenv.Ctx, f.actor, f.org.ID, bob.ID, app.MemberUpdate{Role: &admin}); err != nil {
			t.Fatal(err)
		}
		ended("made admin", tok)

		tok = signIn()
		f.s.clock.Advance(time.Millisecond)
		if err := f.s.App.Members.Remove(testenv.Ctx, f.actor, f.org.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		f.s.Join(t, f.actor, f.org.ID, bob, roster.OrgMember, app.StoreGrantInput{StoreID: f.store.ID, RoleID: roster.StoreRoleViewer},
			app.StoreGrantInput{StoreID: other.ID, RoleID: roster.StoreRoleViewer})
		ended("removed and added again", tok)
	})
}

// TestThirdPartyConsent: a third-party application never gets a code silently: the page
// lists what it will receive, even with one choice or a named organization; refusing sends
// access_denied back with state and iss, and the request cannot be completed afterwards.
func TestThirdPartyConsent(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		cl, secret, err := f.s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Outside app", RedirectURIs: []string{redirectURI}})
		if err != nil {
			t.Fatal(err)
		}
		third := f.cfg
		third.ClientID, third.ClientSecret = cl.ID, secret
		b := newBrowser(t, redirectURI)
		b.login(f.s, f.user.Email)
		authURL := third.AuthCodeURL("st-deny", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("organization", f.org.ID))
		p := b.get(authURL)
		if p.Status != http.StatusOK || p.URL.Path != "/oidc/continue" || !strings.Contains(p.Body, "If you continue, it will receive") || !strings.Contains(p.Body, "Outside app") {
			t.Fatalf("consent page: %d %s %.400s", p.Status, p.URL, p.Body)
		}
		form := hidden(p.Body)
		deny := url.Values{"id": {form.Get("id")}, "csrf": {form.Get("csrf")}, "deny": {"1"}}
		p = b.post(f.s.URL+"/oidc/continue", deny)
		u, _ := url.Parse(p.Location)
		if p.Status != http.StatusSeeOther || u == nil || !strings.HasPrefix(p.Location, redirectURI+"?") || u.Query().Get("error") != "access_denied" ||
			u.Query().Get("state") != "st-deny" || u.Query().Get("iss") != f.s.URL || u.Query().Get("code") != "" {
			t.Fatalf("refused: %d %q", p.Status, p.Location)
		}
		allow := url.Values{"id": {form.Get("id")}, "csrf": {form.Get("csrf")}, "organization": {f.org.ID}}
		if p := b.post(f.s.URL+"/oidc/continue", allow); p.Status != http.StatusNotFound {
			t.Fatalf("completing a refused request: %d %q", p.Status, p.Location)
		}
		// Agreeing gives a code.
		verifier := oauth2.GenerateVerifier()
		p = b.get(third.AuthCodeURL("st-ok", oauth2.S256ChallengeOption(verifier)))
		form = hidden(p.Body)
		p = b.post(f.s.URL+"/oidc/continue", url.Values{"id": {form.Get("id")}, "csrf": {form.Get("csrf")}, "organization": {f.org.ID}, "store": {f.store.ID}})
		back, _ := url.Parse(p.Location)
		if p.Status != http.StatusFound || back == nil || back.Query().Get("code") == "" {
			t.Fatalf("agreed: %d %q", p.Status, p.Location)
		}
		if _, err := third.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatal(err)
		}
		// Without the scope organization, consent is one button.
		third.Scopes = []string{"openid", "email"}
		p = b.get(third.AuthCodeURL("st-3", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "Continue to Outside app") {
			t.Fatalf("consent without organization: %d %.300s", p.Status, p.Body)
		}
		form = hidden(p.Body)
		if p := b.post(f.s.URL+"/oidc/continue", url.Values{"id": {form.Get("id")}, "csrf": {form.Get("csrf")}}); p.Status != http.StatusFound || !strings.Contains(p.Location, "code=") {
			t.Fatalf("agreed without organization: %d %q", p.Status, p.Location)
		}
	})
}

// TestRPInitiatedLogout: with an ID token as hint, the user's tokens at the client are
// revoked, the browser's Roster session ends, and the browser goes to a registered
// post-logout URI with the state; without a hint, or to an unregistered URI, a page.
func TestRPInitiatedLogout(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		f.s.runOutbox(t)
		const after = "http://127.0.0.1:9/signed-out"
		cl, secret, err := f.s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Logout app", FirstParty: true,
			RedirectURIs: []string{redirectURI}, PostLogoutRedirectURIs: []string{after}})
		if err != nil {
			t.Fatal(err)
		}
		cfg := f.cfg
		cfg.ClientID, cfg.ClientSecret = cl.ID, secret
		b := newBrowser(t, redirectURI)
		verifier := oauth2.GenerateVerifier()
		back := b.signIn(f.s, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), f.user.Email, nil)
		tok, err := cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		idToken, _ := tok.Extra("id_token").(string)
		noFollow := &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(q url.Values) (int, string) {
			res, err := noFollow.Get(f.s.URL + "/oidc/end_session?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode, res.Header.Get("Location")
		}
		for name, q := range map[string]url.Values{
			"no hint":          {"client_id": {cl.ID}, "post_logout_redirect_uri": {after}},
			"unregistered URI": {"id_token_hint": {idToken}, "post_logout_redirect_uri": {"http://127.0.0.1:9/elsewhere"}},
			"forged hint":      {"id_token_hint": {idToken[:len(idToken)-4] + "AAAA"}, "post_logout_redirect_uri": {after}},
			"unknown client":   {"client_id": {"cli_01jz8k7x0000000000000000zz"}, "post_logout_redirect_uri": {after}},
		} {
			if st, loc := get(q); st != http.StatusBadRequest || loc != "" {
				t.Errorf("%s: %d %q", name, st, loc)
			}
		}
		if in := introspect(t, f.s, cfg, tok.AccessToken); in["active"] != true {
			t.Fatal("a refused logout revoked the token")
		}
		// Another application where the user is signed in asked for back-channel logout.
		logouts := make(chan string, 2)
		bcl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			logouts <- r.PostFormValue("logout_token")
		}))
		t.Cleanup(bcl.Close)
		other, otherSecret, err := f.s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Other app", FirstParty: true,
			RedirectURIs: []string{redirectURI}, BackChannelLogoutURI: bcl.URL + "/logout"})
		if err != nil {
			t.Fatal(err)
		}
		otherCfg := f.cfg
		otherCfg.ClientID, otherCfg.ClientSecret = other.ID, otherSecret
		verifier = oauth2.GenerateVerifier()
		back = b.signIn(f.s, otherCfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), f.user.Email, nil)
		if _, err := otherCfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatal(err)
		}

		st, loc := get(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {after}, "state": {"bye"}})
		if st != http.StatusFound || loc != after+"?state=bye" {
			t.Fatalf("logout: %d %q", st, loc)
		}
		if in := introspect(t, f.s, cfg, tok.AccessToken); in["active"] != false {
			t.Fatalf("access token after logout: %v", in)
		}
		if _, err := cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); oauthCode(err) != "invalid_grant" {
			t.Fatalf("refresh token after logout: %v", err)
		}
		// The other application received a logout token it can verify.
		var logoutToken string
		select {
		case logoutToken = <-logouts:
		case <-time.After(30 * time.Second):
			t.Fatal("no logout token was delivered")
		}
		provider, err := gooidc.NewProvider(ctx(t), f.s.URL)
		if err != nil {
			t.Fatal(err)
		}
		lt, err := provider.Verifier(&gooidc.Config{ClientID: other.ID}).Verify(ctx(t), logoutToken)
		if err != nil {
			t.Fatalf("logout token: %v", err)
		}
		var events struct {
			Events map[string]any `json:"events"`
			Nonce  string         `json:"nonce"`
		}
		_ = lt.Claims(&events)
		if lt.Subject != f.user.ID || events.Events["http://schemas.openid.net/event/backchannel-logout"] == nil || events.Nonce != "" {
			t.Fatalf("logout token claims: %s %+v", lt.Subject, events)
		}
		// The browser's Roster session has ended: signing in again asks for the password.
		if p := b.get(cfg.AuthCodeURL("st2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))); p.Status != http.StatusOK || p.URL.Path != "/login" {
			t.Fatalf("after logout the sign-in went to %d %s", p.Status, p.URL)
		}
	})
}

// TestPromptNone: silent authentication never shows a page: signed out it answers
// login_required, with a choice to make interaction_required, for a third-party application
// consent_required; signed in with nothing to ask it returns a code.
func TestPromptNone(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		b := newBrowser(t, redirectURI)
		silent := func(cfg oauth2.Config, opts ...oauth2.AuthCodeOption) url.Values {
			t.Helper()
			opts = append(opts, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none"))
			p := b.get(cfg.AuthCodeURL("quiet", opts...))
			u, _ := url.Parse(p.Location)
			if (p.Status != http.StatusFound && p.Status != http.StatusSeeOther) || u == nil || !strings.HasPrefix(p.Location, redirectURI) {
				t.Fatalf("prompt=none showed a page: %d %s %q", p.Status, p.URL, p.Location)
			}
			q := u.Query()
			if q.Get("state") != "quiet" || q.Get("iss") != f.s.URL {
				t.Fatalf("prompt=none answer: %s", u)
			}
			return q
		}
		if q := silent(f.cfg); q.Get("error") != "login_required" {
			t.Fatalf("signed out: %v", q)
		}
		b.login(f.s, f.user.Email)
		if q := silent(f.cfg); q.Get("code") == "" {
			t.Fatalf("signed in, one choice: %v", q)
		}
		f.s.Org(t, f.actor, "Second")
		if q := silent(f.cfg); q.Get("error") != "interaction_required" {
			t.Fatalf("signed in, a choice to make: %v", q)
		}
		if q := silent(f.cfg, oauth2.SetAuthURLParam("organization", f.org.ID)); q.Get("code") == "" {
			t.Fatalf("signed in, organization named: %v", q)
		}
		cl, _, err := f.s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Outside", RedirectURIs: []string{redirectURI}})
		if err != nil {
			t.Fatal(err)
		}
		third := f.cfg
		third.ClientID = cl.ID
		if q := silent(third, oauth2.SetAuthURLParam("organization", f.org.ID)); q.Get("error") != "consent_required" {
			t.Fatalf("third party: %v", q)
		}
	})
}

// TestTokenEndpointLimitsRefusedRequests: refused token requests (a wrong secret, a made-up
// code) from one address are limited: past OIDCTokenFailures in a minute, the endpoint
// answers 429 with Retry-After in its own JSON error format, for good requests too, until the
// minute has passed. Successful requests never count.
func TestTokenEndpointLimitsRefusedRequests(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		_, cfg := s.client(t, false, "http://127.0.0.1:9/callback")
		s.clock.Freeze() // the budget refills one request a second: not while it is counted
		post := func(secret string) *http.Response {
			t.Helper()
			form := url.Values{"grant_type": {"authorization_code"}, "code": {"made-up"}, "redirect_uri": {cfg.RedirectURL}}
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/oidc/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(cfg.ClientID, secret)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		untilLimited(t, s.clock, app.OIDCTokenFailures, http.StatusBadRequest, func() tokenAnswer {
			res := post("rcs_wrong")
			res.Body.Close()
			return tokenAnswer{status: res.StatusCode}
		})
		res := post(cfg.ClientSecret)
		var body struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusTooManyRequests || body.Error != "temporarily_unavailable" || res.Header.Get("Retry-After") == "" {
			t.Fatalf("past the limit: %d %q Retry-After %q", res.StatusCode, body.Error, res.Header.Get("Retry-After"))
		}
		s.clock.Advance(time.Minute)
		res = post(cfg.ClientSecret)
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			t.Fatal("still limited a minute later")
		}
	})
}

// TestAccessEndedSendsBackChannelLogout: when Roster itself ends a user's access — a
// suspension, a removal, a deactivation — the applications holding their tokens that asked for
// back-channel logout receive a logout token they can verify, without anyone signing out.
func TestAccessEndedSendsBackChannelLogout(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		s.runOutbox(t)
		ownerActor, _ := s.User(t, "Olga")
		org := s.Org(t, ownerActor, "Acme")
		logouts := make(chan string, 4)
		bcl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			logouts <- r.PostFormValue("logout_token")
		}))
		t.Cleanup(bcl.Close)
		cl, secret, err := s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Shop floor", FirstParty: true,
			RedirectURIs: []string{redirectURI}, BackChannelLogoutURI: bcl.URL + "/logout"})
		if err != nil {
			t.Fatal(err)
		}
		_, cfg := s.client(t, false, redirectURI)
		cfg.ClientID, cfg.ClientSecret = cl.ID, secret
		provider, err := gooidc.NewProvider(ctx(t), s.URL)
		if err != nil {
			t.Fatal(err)
		}
		signedIn := func(name string) roster.User {
			t.Helper()
			_, u := s.User(t, name)
			s.Join(t, ownerActor, org.ID, u, roster.OrgMember)
			verifier := oauth2.GenerateVerifier()
			back := newBrowser(t, redirectURI).signIn(s, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), u.Email, nil)
			if _, err := cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				t.Fatal(err)
			}
			s.clock.Advance(time.Millisecond)
			return u
		}
		received := func(what string, u roster.User) {
			t.Helper()
			select {
			case raw := <-logouts:
				lt, err := provider.Verifier(&gooidc.Config{ClientID: cl.ID, Now: s.clock.Now}).Verify(ctx(t), raw)
				if err != nil || lt.Subject != u.ID {
					t.Fatalf("%s: logout token for %v: %v", what, lt, err)
				}
			case <-time.After(30 * time.Second): // a deadline on another goroutine's delivery
				t.Fatalf("%s: no logout token was delivered", what)
			}
		}
		suspended := roster.MembershipSuspended
		ann := signedIn("Ann")
		if err := s.App.Members.Update(testenv.Ctx, ownerActor, org.ID, ann.ID, app.MemberUpdate{Status: &suspended}); err != nil {
			t.Fatal(err)
		}
		received("suspension", ann)
		ben := signedIn("Ben")
		if err := s.App.Members.Remove(testenv.Ctx, ownerActor, org.ID, ben.ID); err != nil {
			t.Fatal(err)
		}
		received("removal", ben)
		cid := signedIn("Cid")
		if err := s.DB.InTx(testenv.Ctx, func(tx *sqlstore.Tx) error {
			return tx.SetUserStatus(testenv.Ctx, cid.ID, roster.UserDeactivated, s.clock.Now())
		}); err != nil {
			t.Fatal(err)
		}
		received("deactivation", cid)
	})
}
