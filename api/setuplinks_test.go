package api_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestSetupLinksAPI: the owner makes a setup link (its address shown once, never listed),
// with a step-up once the login's has passed; the link's holder adds a domain of the
// organization; the owner lists and revokes it, after which it opens nothing.
func TestSetupLinksAPI(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		owner, _ := s.signup(t, "Olga")
		var org struct{ ID string }
		r := s.do(t, "POST", "/v1/organizations", owner, map[string]string{"name": "Acme"})
		if r.status != 201 {
			t.Fatal(r)
		}
		r.json(t, &org)
		base := "/v1/organizations/" + org.ID + "/setup-links"

		s.env.Clock.Advance(app.StepUpWindow + time.Second)
		r = s.do(t, "POST", base, owner, nil)
		var p problem
		if r.json(t, &p); r.status != 401 || p.Code != roster.EReauthRequired {
			t.Fatalf("a setup link without a step-up: %s", r)
		}
		r = s.do(t, "POST", base, owner, map[string]string{"password": testenv.Password})
		if r.status != 201 {
			t.Fatal(r)
		}
		var made struct {
			ID, URL   string
			ExpiresAt time.Time `json:"expires_at"`
		}
		r.json(t, &made)
		link, err := url.Parse(made.URL)
		if left := made.ExpiresAt.Sub(s.env.Clock.Now()); err != nil || link.Path != "/it-setup" || !strings.HasPrefix(link.Query().Get("token"), "rsetup_") ||
			left <= roster.SetupLinkLifetime-time.Second || left > roster.SetupLinkLifetime {
			t.Fatalf("made %+v", made)
		}

		it, err := s.env.App.SetupLinks.Authenticate(ctx, roster.Anonymous("192.0.2.7", "IT"), link.Query().Get("token"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.env.App.Domains.Add(ctx, it, org.ID, "acme.example"); err != nil {
			t.Fatalf("the link's holder adds a domain: %v", err)
		}

		r = s.do(t, "GET", base, owner, nil)
		if r.status != 200 || strings.Contains(string(r.body), "rsetup_") || !strings.Contains(string(r.body), made.ID) {
			t.Fatalf("the list: %s", r)
		}
		if r = s.do(t, "DELETE", base+"/"+made.ID, owner, nil); r.status != 204 {
			t.Fatal(r)
		}
		if r = s.do(t, "DELETE", base+"/"+made.ID, owner, nil); r.status != 404 {
			t.Fatalf("revoked twice: %s", r)
		}
		var list struct {
			SetupLinks []map[string]any `json:"setup_links"`
		}
		r = s.do(t, "GET", base, owner, nil)
		if r.json(t, &list); r.status != 200 || len(list.SetupLinks) != 0 {
			t.Fatalf("the list after the revocation: %s", r)
		}
		if _, err := s.env.App.Domains.List(ctx, it, org.ID); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("the revoked link's holder lists the domains: %v", err)
		}
	})
}
