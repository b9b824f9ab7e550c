package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestSigningOutOfRosterEndsItsApplicationSessions: ID tokens name the Roster session the
// sign-in began in (sid). Signing out of the console ends the application sessions begun in
// that browser — their tokens revoked, a back-channel logout naming the sid, verified by
// go-oidc — and not those begun in the user's other browser.
func TestSigningOutOfRosterEndsItsApplicationSessions(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		f.s.runOutbox(t)
		logouts := make(chan string, 4)
		bcl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			logouts <- r.PostFormValue("logout_token")
		}))
		t.Cleanup(bcl.Close)
		cl, secret, err := f.s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Shop", FirstParty: true,
			RedirectURIs: []string{redirectURI}, BackChannelLogoutURI: bcl.URL + "/logout"})
		if err != nil {
			t.Fatal(err)
		}
		cfg := f.cfg
		cfg.ClientID, cfg.ClientSecret = cl.ID, secret
		provider, err := gooidc.NewProvider(ctx(t), f.s.URL)
		if err != nil {
			t.Fatal(err)
		}
		var disco struct {
			SessionSupported bool `json:"backchannel_logout_session_supported"`
		}
		if err := provider.Claims(&disco); err != nil || !disco.SessionSupported {
			t.Fatalf("discovery: backchannel_logout_session_supported %v (%v)", disco.SessionSupported, err)
		}
		verifier := provider.Verifier(&gooidc.Config{ClientID: cl.ID})
		signIn := func(b *browser) (*oauth2.Token, string) {
			t.Helper()
			v := oauth2.GenerateVerifier()
			back := b.signIn(f.s, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v)), f.user.Email, nil)
			tok, err := cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := verifier.Verify(ctx(t), raw)
			if err != nil {
				t.Fatalf("ID token: %v", err)
			}
			var c struct {
				SID string `json:"sid"`
			}
			if err := idt.Claims(&c); err != nil || c.SID == "" {
				t.Fatalf("ID token without sid: %v", err)
			}
			return tok, c.SID
		}
		laptop, phone := newBrowser(t, redirectURI), newBrowser(t, redirectURI)
		laptopTok, laptopSID := signIn(laptop)
		phoneTok, phoneSID := signIn(phone)
		if laptopSID == phoneSID {
			t.Fatal("two browsers' sessions share a sid")
		}
		// A refreshed ID token keeps the sid of the sign-in.
		refreshed, err := cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: laptopTok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
		if err != nil {
			t.Fatal(err)
		}
		if raw, _ := refreshed.Extra("id_token").(string); raw == "" || claims(t, raw)["sid"] != laptopSID {
			t.Fatalf("refreshed ID token's sid: %v, want %s", claims(t, raw)["sid"], laptopSID)
		}

		// Sign out of Roster on the laptop, with the console's own form.
		home := laptop.get(f.s.URL + "/")
		if p := laptop.post(f.s.URL+"/logout", hidden(home.Body)); p.URL.Path != "/login" {
			t.Fatalf("sign-out ended at %d %s", p.Status, p.URL)
		}
		var logoutToken string
		select {
		case logoutToken = <-logouts:
		case <-time.After(30 * time.Second):
			t.Fatal("no logout token was delivered")
		}
		lt, err := verifier.Verify(ctx(t), logoutToken)
		if err != nil {
			t.Fatalf("logout token: %v", err)
		}
		var lc struct {
			SID    string         `json:"sid"`
			Events map[string]any `json:"events"`
		}
		if err := lt.Claims(&lc); err != nil || lc.SID != laptopSID || lt.Subject != f.user.ID || lc.Events["http://schemas.openid.net/event/backchannel-logout"] == nil {
			t.Fatalf("logout token: sid %q (want %q), sub %s, events %v, %v", lc.SID, laptopSID, lt.Subject, lc.Events, err)
		}
		if in := introspect(t, f.s, cfg, refreshed.AccessToken); in["active"] != false {
			t.Fatalf("the laptop's access token after signing out of Roster: %v", in)
		}
		if _, err := cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: refreshed.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); oauthCode(err) != "invalid_grant" {
			t.Fatalf("the laptop's refresh token after signing out of Roster: %v", err)
		}
		// The phone's session at the application is another Roster session's: it lives on.
		if in := introspect(t, f.s, cfg, phoneTok.AccessToken); in["active"] != true {
			t.Fatalf("the phone's access token: %v", in)
		}
		// One logout was queued in all: the phone's session is another Roster session's.
		if n := f.s.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = ?`, app.KindBackChannelLogout); n != 1 {
			t.Fatalf("%d back-channel logouts queued, want the laptop's one", n)
		}
	})
}
