package oidc_test

import (
	"net/http"
	"net/url"
	"slices"
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

// TestCodeFlowWithGoOIDC runs a real third-party relying party (coreos/go-oidc with
// golang.org/x/oauth2) through the whole flow: discovery, code + PKCE through the console's
// login page and chooser, ID token verification, the organization claims, the access token
// on /v1, refresh with rotation, reuse detection, introspection and revocation.
func TestCodeFlowWithGoOIDC(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		owner, _ := s.User(t, "Olga")
		alice, aliceUser := s.User(t, "Alice")
		org := s.Org(t, owner, "Acme")
		north := s.Store(t, owner, org.ID, "North")
		s.Store(t, owner, org.ID, "South")
		s.Join(t, owner, org.ID, aliceUser, roster.OrgMember, app.StoreGrantInput{StoreID: north.ID, RoleID: roster.StoreRoleMember})
		other := s.Org(t, alice, "Side project") // alice owns it: a second choice

		const redirect = "http://127.0.0.1:9/callback"
		_, cfg := s.client(t, false, redirect)
		provider, err := gooidc.NewProvider(ctx(t), s.URL)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Endpoint = provider.Endpoint()
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader

		verifier := oauth2.GenerateVerifier()
		state, nonce := "st-"+testenv.Unique(), "nc-"+testenv.Unique()
		authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce))
		b := newBrowser(t, redirect)
		back := b.signIn(s, authURL, aliceUser.Email, &app.OIDCChoice{OrgID: org.ID, StoreID: north.ID})
		q := back.Query()
		if q.Get("state") != state || q.Get("iss") != s.URL || q.Get("code") == "" {
			t.Fatalf("redirect back: %s", back)
		}

		tok, err := cfg.Exchange(ctx(t), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID}).Verify(ctx(t), raw)
		if err != nil {
			t.Fatalf("verify ID token: %v", err)
		}
		var id struct {
			Email   string   `json:"email"`
			OrgID   string   `json:"org_id"`
			OrgRole string   `json:"org_role"`
			StoreID string   `json:"store_id"`
			Roles   []string `json:"store_roles"`
			Perms   []string `json:"permissions"`
			Version int64    `json:"access_version"`
		}
		if err := idt.Claims(&id); err != nil {
			t.Fatal(err)
		}
		if idt.Nonce != nonce || idt.Subject != aliceUser.ID || id.Email != aliceUser.Email {
			t.Fatalf("ID token: nonce %q sub %q email %q", idt.Nonce, idt.Subject, id.Email)
		}
		if id.OrgID != org.ID || id.OrgRole != "member" || id.StoreID != north.ID || !slices.Equal(id.Roles, []string{"member"}) || id.Version == 0 {
			t.Fatalf("ID token organization claims: %+v", id)
		}

		at := claims(t, tok.AccessToken)
		if at["org_id"] != org.ID || at["store_id"] != north.ID || at["iss"] != s.URL || at["client_id"] != cfg.ClientID ||
			at["scope"] != "openid profile email offline_access organization" || at["sub"] != aliceUser.ID || at["jti"] == nil {
			t.Fatalf("access token claims: %v", at)
		}
		perms, _ := at["permissions"].([]any)
		if len(perms) == 0 || len(perms) != len(id.Perms) {
			t.Fatalf("permissions: %v / %v", perms, id.Perms)
		}
		// The access token works on /v1 as Alice, and /v1/check answers about her.
		var me struct {
			ID string `json:"id"`
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/me", tok.AccessToken, nil, &me); st != http.StatusOK || me.ID != aliceUser.ID {
			t.Fatalf("/v1/me with the access token: %d %+v", st, me)
		}
		var check struct {
			Allowed bool `json:"allowed"`
		}
		if st := call(t, http.MethodPost, s.URL+"/v1/check", tok.AccessToken,
			map[string]any{"user_id": aliceUser.ID, "permission": id.Perms[len(id.Perms)-1], "store_id": north.ID}, &check); st != http.StatusOK || !check.Allowed {
			t.Fatalf("/v1/check with the access token: %d %+v", st, check)
		}
		if st := call(t, http.MethodPost, s.URL+"/v1/check", tok.AccessToken,
			map[string]any{"user_id": owner.UserID, "permission": id.Perms[0], "store_id": north.ID}, nil); st != http.StatusForbidden {
			t.Fatalf("/v1/check about another user with Alice's token: %d, want 403", st)
		}

		// The token was issued for Acme: it acts there only. Alice's own organization is not
		// reachable with it, though her list of organizations (the switcher's data) is.
		if st := call(t, http.MethodGet, s.URL+"/v1/organizations/"+org.ID, tok.AccessToken, nil, nil); st != http.StatusOK {
			t.Errorf("the token's organization: %d", st)
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/organizations/"+other.ID, tok.AccessToken, nil, nil); st != http.StatusNotFound {
			t.Errorf("another organization of the user, with a token issued for Acme: %d, want 404", st)
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/organizations/"+other.ID+"/members", tok.AccessToken, nil, nil); st != http.StatusNotFound {
			t.Errorf("another organization's members, with a token issued for Acme: %d, want 404", st)
		}
		var mine struct {
			Organizations []any `json:"organizations"`
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/me/organizations", tok.AccessToken, nil, &mine); st != http.StatusOK || len(mine.Organizations) != 2 {
			t.Errorf("the user's organizations with the token: %d, %d listed, want 2", st, len(mine.Organizations))
		}

		// Introspection by the client.
		in := introspect(t, s, cfg, tok.AccessToken)
		if in["active"] != true || in["org_id"] != org.ID || in["sub"] != aliceUser.ID {
			t.Fatalf("introspection: %v", in)
		}

		// Refresh rotates the refresh token; the new tokens keep the organization.
		old := tok.RefreshToken
		expired := &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Minute)}
		tok2, err := cfg.TokenSource(ctx(t), expired).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if tok2.RefreshToken == "" || tok2.RefreshToken == old || claims(t, tok2.AccessToken)["store_id"] != north.ID {
			t.Fatalf("refreshed token: %+v", tok2)
		}
		// Using the old refresh token again revokes the whole family: the new refresh token
		// and the access tokens stop working.
		_, err = cfg.TokenSource(ctx(t), expired).Token()
		if oauthCode(err) != "invalid_grant" {
			t.Fatalf("reused refresh token: %v, want invalid_grant", err)
		}
		_, err = cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
		if oauthCode(err) != "invalid_grant" {
			t.Fatalf("refresh token of a revoked family: %v, want invalid_grant", err)
		}
		if in := introspect(t, s, cfg, tok2.AccessToken); in["active"] != false {
			t.Fatalf("access token of a revoked family: %v", in)
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/me", tok2.AccessToken, nil, nil); st != http.StatusUnauthorized {
			t.Fatalf("/v1/me with a revoked access token: %d", st)
		}
		_ = alice
	})
}

// TestPromptLoginAndMaxAge: prompt=login and max_age make a signed-in user enter their
// password again, and auth_time says when they did; without them the session is reused; with
// prompt=none the application is told login_required instead of a page.
func TestPromptLoginAndMaxAge(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		gus := s.acme(t, "Gus", false).member
		const redirect = "http://127.0.0.1:9/callback"
		_, cfg := s.client(t, false, redirect)
		provider, err := gooidc.NewProvider(ctx(t), s.URL)
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, redirect)
		authTime := func(opts ...oauth2.AuthCodeOption) (time.Time, bool) {
			t.Helper()
			verifier := oauth2.GenerateVerifier()
			p := b.get(cfg.AuthCodeURL("st", append(opts, oauth2.S256ChallengeOption(verifier))...))
			askedLogin := p.Status == http.StatusOK && p.URL.Path == "/login"
			var back *url.URL
			if askedLogin {
				form := hidden(p.Body)
				form.Set("email", gus.Email)
				form.Set("password", testenv.Password)
				p = b.post(s.URL+"/login", form)
			}
			if (p.Status != http.StatusFound && p.Status != http.StatusSeeOther) || !strings.HasPrefix(p.Location, redirect) {
				t.Fatalf("sign-in ended at %s with %d: %.300s", p.URL, p.Status, p.Body)
			}
			back, _ = url.Parse(p.Location)
			if e := back.Query().Get("error"); e != "" && e != "login_required" {
				t.Fatalf("the application was told %s", e)
			}
			if e := back.Query().Get("error"); e != "" {
				return time.Time{}, askedLogin
			}
			tok, err := cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			idt, err := provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID, Now: s.clock.Now}).Verify(ctx(t), tok.Extra("id_token").(string))
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				AuthTime int64 `json:"auth_time"`
			}
			_ = idt.Claims(&c)
			return time.Unix(c.AuthTime, 0), askedLogin
		}

		first, asked := authTime()
		if !asked || first.IsZero() {
			t.Fatalf("the first sign-in: asked %v, auth_time %v", asked, first)
		}
		s.clock.Advance(time.Minute)
		if again, asked := authTime(); asked || !again.Equal(first) {
			t.Errorf("without prompt=login: asked %v, auth_time %v, want the first sign-in's %v", asked, again, first)
		}
		if fresh, asked := authTime(oauth2.SetAuthURLParam("prompt", "login")); !asked || fresh.Before(first.Add(time.Minute)) {
			t.Errorf("prompt=login: asked %v, auth_time %v, want a new sign-in after %v", asked, fresh, first.Add(time.Minute))
		}
		s.clock.Advance(time.Minute)
		if _, asked := authTime(oauth2.SetAuthURLParam("max_age", "300")); asked {
			t.Error("max_age=300, password entered a minute ago: asked again")
		}
		if fresh, asked := authTime(oauth2.SetAuthURLParam("max_age", "30")); !asked || fresh.Before(first.Add(2*time.Minute)) {
			t.Errorf("max_age=30, password entered a minute ago: asked %v, auth_time %v", asked, fresh)
		}
		s.clock.Advance(time.Minute)
		if at, asked := authTime(oauth2.SetAuthURLParam("max_age", "30"), oauth2.SetAuthURLParam("prompt", "none")); asked || !at.IsZero() {
			t.Errorf("prompt=none with a stale password: asked %v, auth_time %v, want login_required", asked, at)
		}
	})
}
