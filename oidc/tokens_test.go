package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
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

// header decodes a JWT's JOSE header.
func header(t *testing.T, jwt string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// codeFlow signs a user with one organization in through the code flow and returns the
// tokens.
func codeFlow(t testing.TB, s *server, cfg oauth2.Config, redirect, email string) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	back := newBrowser(t, redirect).signIn(s, cfg.AuthCodeURL("st-"+testenv.Unique(), oauth2.S256ChallengeOption(verifier), gooidc.Nonce("nc")), email, nil)
	tok, err := cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// TestAccessTokensAreATJWT: access tokens carry the header typ at+jwt and the claims RFC 9068
// requires, their ID token's at_hash matches them (go-oidc checks it), and an ID token
// presented as an access token is refused by /v1, userinfo and introspection.
func TestAccessTokensAreATJWT(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		gus := s.acme(t, "Gus", false).member
		const redirect = "http://127.0.0.1:9/callback"
		_, cfg := s.client(t, false, redirect)
		provider, err := gooidc.NewProvider(ctx(t), s.URL)
		if err != nil {
			t.Fatal(err)
		}
		tok := codeFlow(t, s, cfg, redirect, gus.Email)
		if h := header(t, tok.AccessToken); h["typ"] != "at+jwt" || h["alg"] != "ES256" || h["kid"] == "" {
			t.Fatalf("access token header: %v", h)
		}
		at := claims(t, tok.AccessToken)
		for _, c := range []string{"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} {
			if at[c] == nil {
				t.Errorf("the access token lacks the claim %s: %v", c, at)
			}
		}
		rawID := tok.Extra("id_token").(string)
		if h := header(t, rawID); h["typ"] != "JWT" {
			t.Fatalf("ID token header: %v", h)
		}
		idt, err := provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID}).Verify(ctx(t), rawID)
		if err != nil {
			t.Fatalf("verify the ID token: %v", err)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Fatalf("at_hash does not match the access token: %v", err)
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/me", tok.AccessToken, nil, nil); st != http.StatusOK {
			t.Fatalf("/v1/me with the access token: %d", st)
		}
		if _, err := provider.UserInfo(ctx(t), oauth2.StaticTokenSource(tok)); err != nil {
			t.Fatalf("userinfo with the access token: %v", err)
		}

		// The ID token is signed by the same key and names Roster in its audience: only its
		// type tells it apart, and it is refused.
		if st := call(t, http.MethodGet, s.URL+"/v1/me", rawID, nil, nil); st != http.StatusUnauthorized {
			t.Errorf("/v1/me with the ID token: %d, want 401", st)
		}
		if _, err := provider.UserInfo(ctx(t), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: rawID, TokenType: "Bearer"})); err == nil {
			t.Error("userinfo answered for an ID token")
		}
		if in := introspect(t, s, cfg, rawID); in["active"] != false {
			t.Errorf("introspection of the ID token: %v", in)
		}

		// A refresh gives at+jwt tokens too.
		tok2, err := cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
		if err != nil {
			t.Fatal(err)
		}
		if h := header(t, tok2.AccessToken); h["typ"] != "at+jwt" {
			t.Fatalf("refreshed access token header: %v", h)
		}
		if _, err := provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID}).Verify(ctx(t), tok2.Extra("id_token").(string)); err != nil {
			t.Fatalf("refreshed ID token: %v", err)
		}
	})
}

// TestRS256Client: a client registered with RS256 gets RS256 ID and access tokens, signed by an
// RSA key published in the key set, which go-oidc verifies with RS256 only; another client still
// gets ES256.
func TestRS256Client(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		gus := s.acme(t, "Gus", false).member
		const redirect = "http://127.0.0.1:9/callback"
		cl, secret, err := s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Legacy", RedirectURIs: []string{redirect},
			FirstParty: true, SigningAlg: "RS256"})
		if err != nil {
			t.Fatal(err)
		}
		if cl.SigningAlg != "RS256" {
			t.Fatalf("signing alg %q", cl.SigningAlg)
		}
		if _, _, err := s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Bad", RedirectURIs: []string{redirect}, SigningAlg: "HS256"}); roster.ErrorCode(err) != roster.EInvalid {
			t.Fatalf("HS256 accepted: %v", err)
		}
		provider, err := gooidc.NewProvider(ctx(t), s.URL)
		if err != nil {
			t.Fatal(err)
		}
		rsa := oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect, Endpoint: provider.Endpoint(),
			Scopes: []string{gooidc.ScopeOpenID, "email", gooidc.ScopeOfflineAccess, "organization"}}
		rsa.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		tok := codeFlow(t, s, rsa, redirect, gus.Email)
		rawID := tok.Extra("id_token").(string)
		if h := header(t, rawID); h["alg"] != "RS256" {
			t.Fatalf("ID token header: %v", h)
		}
		if h := header(t, tok.AccessToken); h["alg"] != "RS256" || h["typ"] != "at+jwt" {
			t.Fatalf("access token header: %v", h)
		}
		idt, err := provider.Verifier(&gooidc.Config{ClientID: cl.ID, SupportedSigningAlgs: []string{gooidc.RS256}}).Verify(ctx(t), rawID)
		if err != nil {
			t.Fatalf("go-oidc verifying the RS256 ID token: %v", err)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Fatal(err)
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/me", tok.AccessToken, nil, nil); st != http.StatusOK {
			t.Fatalf("/v1/me with an RS256 access token: %d", st)
		}
		tok2, err := rsa.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
		if err != nil {
			t.Fatal(err)
		}
		if h := header(t, tok2.Extra("id_token").(string)); h["alg"] != "RS256" {
			t.Fatalf("refreshed ID token header: %v", h)
		}

		// The key set publishes both kinds of key.
		var jwks struct {
			Keys []struct {
				Kty string `json:"kty"`
				Alg string `json:"alg"`
			} `json:"keys"`
		}
		res, err := http.Get(s.URL + "/oidc/jwks")
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(res.Body).Decode(&jwks)
		res.Body.Close()
		kinds := map[string]bool{}
		for _, k := range jwks.Keys {
			kinds[k.Kty+" "+k.Alg] = true
		}
		if !kinds["RSA RS256"] || !kinds["EC ES256"] {
			t.Fatalf("the key set: %+v", jwks.Keys)
		}

		// Another client still gets ES256.
		_, cfg := s.client(t, false, redirect)
		cfg.Endpoint = provider.Endpoint()
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		other := codeFlow(t, s, cfg, redirect, gus.Email)
		if h := header(t, other.Extra("id_token").(string)); h["alg"] != "ES256" {
			t.Fatalf("the other client's ID token: %v", h)
		}
		if _, err := provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID}).Verify(ctx(t), other.Extra("id_token").(string)); err != nil {
			t.Fatal(err)
		}
	})
}
