package oidc_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestSignInStopsAtTheTwoFactorRequirement: once Acme requires a second factor, a member
// without one who signs in to an application for Acme is sent to set one up instead of
// coming back with a code (prompt=none gets interaction_required), and the refresh token
// given before stops working (golang.org/x/oauth2 as the client). With a factor set up, the
// same sign-in goes through.
func TestSignInStopsAtTheTwoFactorRequirement(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		a := s.acme(t, "Mia", false)
		mia := s.actorOf(t, a.member.Email)
		const redirect = "http://127.0.0.1:9/callback"
		_, cfg := s.client(t, false, redirect)

		// Before: a grant with a refresh token.
		b := newBrowser(t, redirect)
		verifier := oauth2.GenerateVerifier()
		back := b.signIn(s, cfg.AuthCodeURL("st1", oauth2.S256ChallengeOption(verifier)), a.member.Email, nil)
		tok, err := cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("exchange: %v", err)
		}

		enroll(t, s, a.owner)
		pol := roster.DefaultPolicy()
		pol.RequireTwoFactor = true
		if _, err := s.App.Organizations.SetPolicy(testenv.Ctx, a.owner, a.org.ID, pol, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}

		expired := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
		if _, err := cfg.TokenSource(ctx(t), expired).Token(); oauthCode(err) != "invalid_grant" {
			t.Fatalf("refresh for Acme without a second factor: %v", err)
		}
		p := b.get(cfg.AuthCodeURL("st2", oauth2.S256ChallengeOption(verifier)))
		if p.Status != http.StatusOK || p.URL.Path != "/account" || !strings.Contains(p.URL.RawQuery, "two_factor_required") {
			t.Fatalf("sign-in for Acme without a second factor ended at %s (%d)", p.URL, p.Status)
		}
		p = b.get(cfg.AuthCodeURL("st3", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")))
		if p.Status/100 != 3 || !strings.Contains(p.Location, "error=interaction_required") || !strings.Contains(p.Location, "state=st3") {
			t.Fatalf("prompt=none: %d %q", p.Status, p.Location)
		}

		enroll(t, s, mia)
		back = b.signIn(s, cfg.AuthCodeURL("st4", oauth2.S256ChallengeOption(verifier)), a.member.Email, nil)
		if _, err := cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("with a second factor: %v", err)
		}
	})
}

// actorOf signs a user in and returns the actor of the session.
func (s *server) actorOf(t *testing.T, email string) roster.Actor {
	t.Helper()
	actor, _ := s.Login(t, email)
	return actor
}

// enroll sets up an authenticator app for a user, as the app would, with pquerna/otp.
func enroll(t *testing.T, s *server, actor roster.Actor) {
	t.Helper()
	setup, err := s.App.MFA.BeginTOTP(testenv.Ctx, actor, "")
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(setup.Secret, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.MFA.ConfirmTOTP(testenv.Ctx, actor, code); err != nil {
		t.Fatal(err)
	}
}
