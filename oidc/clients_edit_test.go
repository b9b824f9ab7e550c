package oidc_test

import (
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestChangingAClient: the operator moves an application to another redirect URI — the old
// one is refused with the error page, the new one completes the code flow of x/oauth2 — and
// rotates its secret — the old secret gets invalid_client, the new one tokens. What a client
// is (public or confidential) cannot change; bad input is refused and changes nothing.
func TestChangingAClient(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		op := roster.System()
		moved := "http://127.0.0.1:9/moved"
		in := app.ClientInput{Name: "Shop floor v2", RedirectURIs: []string{moved}, FirstParty: true, SigningAlg: "RS256"}
		cl, err := f.s.App.Clients.Update(testenv.Ctx, op, f.cfg.ClientID, in)
		if err != nil {
			t.Fatal(err)
		}
		if cl.Name != "Shop floor v2" || cl.SigningAlg != "RS256" || len(cl.RedirectURIs) != 1 || cl.RedirectURIs[0] != moved {
			t.Fatalf("updated client: %+v", cl)
		}
		// The old redirect URI is refused at once, with a page and no redirect.
		q := url.Values{"response_type": {"code"}, "scope": {"openid"}, "state": {"s"}, "client_id": {f.cfg.ClientID},
			"redirect_uri": {redirectURI}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(f.s.URL + "/oidc/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Fatalf("the removed redirect URI: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		// The new one works, and its tokens are signed with RS256 now.
		cfg := f.cfg
		cfg.RedirectURL = moved
		b := newBrowser(t, moved)
		v := oauth2.GenerateVerifier()
		back := b.signIn(f.s, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v)), f.user.Email, nil)
		tok, err := cfg.Exchange(ctx(t), back.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if h := header(t, tok.AccessToken); h["alg"] != "RS256" {
			t.Fatalf("access token after the change: %v", h)
		}

		// A new secret: the old one is refused, the new one works.
		secret, err := f.s.App.Clients.RotateSecret(testenv.Ctx, op, cl.ID)
		if err != nil || secret == "" || secret == cfg.ClientSecret {
			t.Fatalf("rotated secret %q: %v", secret, err)
		}
		refresh := func(c oauth2.Config) error {
			_, err := c.TokenSource(ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			return err
		}
		if err := refresh(cfg); oauthCode(err) != "invalid_client" {
			t.Fatalf("old secret: %v", err)
		}
		cfg.ClientSecret = secret
		if err := refresh(cfg); err != nil {
			t.Fatalf("new secret: %v", err)
		}

		// What a client is stays; bad input changes nothing.
		for name, bad := range map[string]app.ClientInput{
			"to public":      {Name: "x", Public: true, RedirectURIs: []string{moved}},
			"to machine":     {Name: "x", OrgID: f.org.ID, Permissions: []roster.Permission{roster.PermOrgRead}},
			"no redirect":    {Name: "x"},
			"wildcard":       {Name: "x", RedirectURIs: []string{"https://*.example/cb"}},
			"unknown scope":  {Name: "x", RedirectURIs: []string{moved}, Scopes: []string{"openid", "admin"}},
			"no name":        {RedirectURIs: []string{moved}},
			"bad algorithm":  {Name: "x", RedirectURIs: []string{moved}, SigningAlg: "HS256"},
			"short lifetime": {Name: "x", RedirectURIs: []string{moved}, AccessTokenTTL: 1},
		} {
			if _, err := f.s.App.Clients.Update(testenv.Ctx, op, cl.ID, bad); roster.ErrorCode(err) != roster.EInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if got, err := f.s.App.Clients.Get(testenv.Ctx, op, cl.ID); err != nil || got.Name != "Shop floor v2" || got.Public {
			t.Fatalf("after refused changes: %+v %v", got, err)
		}
		// Only operators change clients.
		if _, err := f.s.App.Clients.Update(testenv.Ctx, f.actor, cl.ID, in); roster.ErrorCode(err) != roster.EForbidden {
			t.Fatalf("a member changing a client: %v", err)
		}
		if _, err := f.s.App.Clients.RotateSecret(testenv.Ctx, f.actor, cl.ID); roster.ErrorCode(err) != roster.EForbidden {
			t.Fatalf("a member rotating a secret: %v", err)
		}
	})
}
