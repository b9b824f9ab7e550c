package oidc_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/internal/testserver"
	"github.com/rosterhq/roster/sqlstore"
)

// machine registers a machine client bound to orgID with perms, and returns its
// client-credentials configuration.
func (s *server) machine(t *testing.T, orgID string, perms ...roster.Permission) (roster.OIDCClient, clientcredentials.Config) {
	t.Helper()
	cl, secret, err := s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Nightly sync", OrgID: orgID, Permissions: perms})
	if err != nil {
		t.Fatal(err)
	}
	return cl, clientcredentials.Config{ClientID: cl.ID, ClientSecret: secret, TokenURL: s.URL + "/oidc/token", AuthStyle: oauth2.AuthStyleInHeader}
}

// introspectAs asks the provider about a token as a machine client.
func introspectAs(t *testing.T, s *server, cc clientcredentials.Config, tok string) map[string]any {
	t.Helper()
	return introspect(t, s, oauth2.Config{ClientID: cc.ClientID, ClientSecret: cc.ClientSecret}, tok)
}

type checkAnswer struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// TestClientCredentialsGrant: golang.org/x/oauth2/clientcredentials takes a token for a
// machine client bound to one organization: an at+jwt access token whose subject is the
// client, carrying org_id and its permissions, accepted by /v1 and /v1/check within that
// organization and those permissions only, and introspected as active by the client. Asking
// for some of its permissions (scope) narrows the token; deleting the client or the
// organization ends the token at once.
func TestClientCredentialsGrant(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		cast := s.acme(t, "Bea", true)
		owner, bea, org, shop := cast.owner, cast.member, cast.org, cast.north
		other := s.Org(t, owner, "Other")

		cl, cc := s.machine(t, org.ID, roster.PermOrgSettingsRead, roster.PermStoreRead)
		tok, err := cc.Token(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if h := header(t, tok.AccessToken); h["typ"] != "at+jwt" || h["alg"] != "ES256" {
			t.Errorf("access token header: %v", h)
		}
		c := claims(t, tok.AccessToken)
		perms, _ := c["permissions"].([]any)
		if c["sub"] != cl.ID || c["client_id"] != cl.ID || c["org_id"] != org.ID || c["iss"] != s.URL ||
			!slices.Equal(perms, []any{"org.settings.read", "store.read"}) || c["scope"] != "org.settings.read store.read" {
			t.Errorf("access token claims: %v", c)
		}
		if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
			t.Errorf("a machine client got a refresh or ID token: %+v", tok)
		}

		// /v1 in its organization, with its permissions.
		var members struct {
			Members []struct {
				UserID string `json:"user_id"`
			} `json:"members"`
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/organizations/"+org.ID+"/members", tok.AccessToken, nil, &members); st != http.StatusOK || len(members.Members) != 2 {
			t.Errorf("members of its organization: %d %+v", st, members)
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/organizations/"+other.ID+"/members", tok.AccessToken, nil, nil); st != http.StatusNotFound {
			t.Errorf("members of another organization: %d, want 404", st)
		}
		if st := call(t, http.MethodPatch, s.URL+"/v1/organizations/"+org.ID, tok.AccessToken, map[string]any{"name": "Taken"}, nil); st != http.StatusForbidden {
			t.Errorf("renaming its organization without org.update: %d, want 403", st)
		}
		var ans checkAnswer
		if st := call(t, http.MethodPost, s.URL+"/v1/check", tok.AccessToken, map[string]any{"user_id": bea.ID, "permission": "store.read", "store_id": shop.ID}, &ans); st != http.StatusOK || !ans.Allowed {
			t.Errorf("check in its organization: %d %+v", st, ans)
		}
		if st := call(t, http.MethodPost, s.URL+"/v1/check", tok.AccessToken, map[string]any{"user_id": owner.UserID, "permission": "org.read", "organization_id": other.ID}, nil); st != http.StatusNotFound {
			t.Errorf("check in another organization: %d, want 404", st)
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/me/organizations", tok.AccessToken, nil, nil); st < 400 || st >= 500 {
			t.Errorf("a user's own endpoint with a machine token: %d, want a refusal", st)
		}

		in := introspectAs(t, s, cc, tok.AccessToken)
		if in["active"] != true || in["sub"] != cl.ID || in["org_id"] != org.ID || in["client_id"] != cl.ID {
			t.Errorf("introspection: %v", in)
		}

		// A narrower token: some of its permissions.
		narrow := cc
		narrow.Scopes = []string{"store.read"}
		nt, err := narrow.Token(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := claims(t, nt.AccessToken)["permissions"].([]any); !slices.Equal(p, []any{"store.read"}) {
			t.Errorf("narrowed permissions: %v", p)
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/organizations/"+org.ID+"/members", nt.AccessToken, nil, nil); st != http.StatusForbidden {
			t.Errorf("members with a token without org.settings.read: %d, want 403", st)
		}
		if st := call(t, http.MethodPost, s.URL+"/v1/check", nt.AccessToken, map[string]any{"user_id": bea.ID, "permission": "org.read", "organization_id": org.ID}, nil); st != http.StatusForbidden {
			t.Errorf("an organization check without org.settings.read: %d, want 403", st)
		}
		wide := cc
		wide.Scopes = []string{"org.update"}
		if _, err := wide.Token(ctx(t)); oauthCode(err) != "invalid_scope" {
			t.Errorf("a permission it was not given: %v", err)
		}

		// Deleting the client ends its tokens at once.
		if err := s.App.Clients.Delete(testenv.Ctx, roster.System(), cl.ID); err != nil {
			t.Fatal(err)
		}
		if st := call(t, http.MethodGet, s.URL+"/v1/organizations/"+org.ID+"/members", tok.AccessToken, nil, nil); st != http.StatusUnauthorized {
			t.Errorf("a deleted client's token on /v1: %d, want 401", st)
		}
		if _, err := cc.Token(ctx(t)); oauthCode(err) != "invalid_client" {
			t.Errorf("a deleted client asks for a token: %v", err)
		}

		// Deleting the organization too.
		_, cc2 := s.machine(t, org.ID, roster.PermOrgSettingsRead)
		tok2, err := cc2.Token(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if in := introspectAs(t, s, cc2, tok2.AccessToken); in["active"] != true {
			t.Fatalf("fresh token inactive: %v", in)
		}
		_, web := s.client(t, false, "http://127.0.0.1:9/callback")
		if err := s.App.Organizations.Delete(testenv.Ctx, owner, org.ID, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		if st := call(t, http.MethodPost, s.URL+"/v1/check", tok2.AccessToken, map[string]any{"user_id": bea.ID, "permission": "org.read", "organization_id": org.ID}, nil); st != http.StatusUnauthorized {
			t.Errorf("a token of a deleted organization on /v1/check: %d, want 401", st)
		}
		if in := introspect(t, s, web, tok2.AccessToken); in["active"] != false {
			t.Errorf("introspection after the organization was deleted: %v", in)
		}
		if n := s.count(t, `SELECT COUNT(*) FROM oidc_client_tokens`); n != 0 {
			t.Errorf("%d machine tokens left after their client and organization were deleted", n)
		}
	})
}

// TestClientCredentialsRefused: the grant is refused with RFC 6749's errors — a public
// client (no secret to prove itself) and a wrong secret are invalid_client, a confidential
// client not registered as a machine client is unauthorized_client — and nothing is issued.
func TestClientCredentialsRefused(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		owner, _ := s.User(t, "Olga")
		org := s.Org(t, owner, "Acme")
		_, cc := s.machine(t, org.ID, roster.PermOrgRead)
		pub, _ := s.client(t, true, "http://127.0.0.1:9/callback")
		_, web := s.client(t, false, "http://127.0.0.1:9/callback")

		wrong := cc
		wrong.ClientSecret = "rcs_" + strings.Repeat("A", 43)
		for name, c := range map[string]struct {
			cfg  clientcredentials.Config
			want string
		}{
			"public client":    {clientcredentials.Config{ClientID: pub.ID, TokenURL: cc.TokenURL, AuthStyle: oauth2.AuthStyleInParams}, "invalid_client"},
			"wrong secret":     {wrong, "invalid_client"},
			"unknown client":   {clientcredentials.Config{ClientID: "cli_01J00000000000000000000000", ClientSecret: cc.ClientSecret, TokenURL: cc.TokenURL}, "invalid_client"},
			"unbound client":   {clientcredentials.Config{ClientID: web.ClientID, ClientSecret: web.ClientSecret, TokenURL: cc.TokenURL}, "unauthorized_client"},
			"secret in params": {clientcredentials.Config{ClientID: web.ClientID, ClientSecret: web.ClientSecret, TokenURL: cc.TokenURL, AuthStyle: oauth2.AuthStyleInParams}, "unauthorized_client"},
		} {
			_, err := c.cfg.Token(ctx(t))
			if got := oauthCode(err); got != c.want {
				t.Errorf("%s: %q (%v), want %s", name, got, err, c.want)
			}
		}
		if n := s.count(t, `SELECT COUNT(*) FROM oidc_client_tokens`); n != 0 {
			t.Errorf("%d tokens issued to refused requests", n)
		}

		// Registering: a machine client is confidential, has permissions from the catalog that
		// an admin may hold, and an organization that exists.
		for name, c := range map[string]struct {
			in   app.ClientInput
			code string
		}{
			"public":             {app.ClientInput{Name: "M", OrgID: org.ID, Public: true, Permissions: []roster.Permission{roster.PermOrgRead}}, roster.EInvalid},
			"no permission":      {app.ClientInput{Name: "M", OrgID: org.ID}, roster.EInvalid},
			"unknown permission": {app.ClientInput{Name: "M", OrgID: org.ID, Permissions: []roster.Permission{"nope.nothing"}}, roster.EUnknownPermission},
			"owner's permission": {app.ClientInput{Name: "M", OrgID: org.ID, Permissions: []roster.Permission{roster.PermOrgDelete}}, roster.EInvalid},
			"unknown org":        {app.ClientInput{Name: "M", OrgID: "org_01J00000000000000000000000", Permissions: []roster.Permission{roster.PermOrgRead}}, roster.ENotFound},
			"redirect uri":       {app.ClientInput{Name: "M", OrgID: org.ID, Permissions: []roster.Permission{roster.PermOrgRead}, RedirectURIs: []string{"https://x.example/cb"}}, roster.EInvalid},
		} {
			if _, _, err := s.App.Clients.Create(testenv.Ctx, roster.System(), c.in); testenv.Code(err) != c.code {
				t.Errorf("%s: %v, want %s", name, err, c.code)
			}
		}
	})
}

// TestTokenEndpointLimitsPerClient: a machine client past its budget of token requests
// (Config.TokenPerClient) gets 429 with Retry-After in the OAuth error format, while another
// client at the same address is served; a client whose refused requests pile up
// (OIDCTokenFailures) is limited alone; wrong secrets in a client's name spend the address's
// budget, never the client's. A minute later both are served again.
func TestTokenEndpointLimitsPerClient(t *testing.T) {
	const budget = app.OIDCTokenFailures + 10
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		c := &clock{}
		ts := testserver.Start(t, e, c, func(cfg *app.Config) { cfg.TokenPerClient = budget })
		s := &server{Env: ts.Env, URL: ts.URL, clock: c}
		owner, _ := s.User(t, "Olga")
		org := s.Org(t, owner, "Acme")
		_, busy := s.machine(t, org.ID, roster.PermOrgRead)
		_, failing := s.machine(t, org.ID, roster.PermOrgRead)
		_, calm := s.machine(t, org.ID, roster.PermOrgRead)
		c.Freeze() // the budgets refill with time: not while they are counted

		// Wrong secrets in the busy client's name: the address's failures, not its budget.
		wrong := busy
		wrong.ClientSecret = "rcs_" + strings.Repeat("A", 43)
		for range 3 {
			if _, err := wrong.Token(ctx(t)); oauthCode(err) != "invalid_client" {
				t.Fatalf("wrong secret: %v", err)
			}
		}
		res := untilLimited(t, c, budget, http.StatusOK, func() tokenAnswer { return postToken(t, s, busy, nil) })
		if res.Error != "temporarily_unavailable" || res.retryAfter == "" {
			t.Fatalf("past the client's budget: %+v", res)
		}
		if _, err := calm.Token(ctx(t)); err != nil {
			t.Errorf("another client at the same address: %v", err)
		}

		// Refused requests of a proven client count against it alone.
		res = untilLimited(t, c, app.OIDCTokenFailures, http.StatusBadRequest, func() tokenAnswer {
			r := postToken(t, s, failing, url.Values{"scope": {"org.delete"}})
			if r.status == http.StatusBadRequest && r.Error != "invalid_scope" {
				t.Fatalf("refused request: %+v", r)
			}
			return r
		})
		if r := postToken(t, s, failing, nil); r.status != http.StatusTooManyRequests || r.retryAfter == "" {
			t.Errorf("a good request past the client's failures (the last answer %+v): %+v", res, r)
		}
		if _, err := calm.Token(ctx(t)); err != nil {
			t.Errorf("another client at the same address after a failing one: %v", err)
		}

		c.Advance(time.Minute)
		for _, cc := range []clientcredentials.Config{busy, failing} {
			if _, err := cc.Token(ctx(t)); err != nil {
				t.Errorf("a minute later: %v", err)
			}
		}
	})
}

// untilLimited sends requests until one is refused with 429 and returns that answer. Each
// before it must have the status want, and there must be n of them — or, on a machine slow
// enough for the minute's budget to refill meanwhile, no more than that refill allows.
func untilLimited(t *testing.T, c *clock, n, want int, send func() tokenAnswer) tokenAnswer {
	t.Helper()
	start := c.Now()
	for served := 0; ; served++ {
		r := send()
		if r.status == http.StatusTooManyRequests {
			refilled := int(c.Now().Sub(start) / (time.Minute / time.Duration(n)))
			if served < n || served > n+refilled+1 {
				t.Fatalf("limited after %d requests, want %d (%d more refilled meanwhile)", served, n, refilled)
			}
			return r
		}
		if r.status != want || served > 3*n {
			t.Fatalf("request %d of %d: %+v", served+1, n, r)
		}
	}
}

type tokenAnswer struct {
	status     int
	retryAfter string
	Error      string `json:"error"`
}

// postToken asks for a client-credentials token with extra parameters.
func postToken(t *testing.T, s *server, cc clientcredentials.Config, extra url.Values) tokenAnswer {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range extra {
		form[k] = v
	}
	var a tokenAnswer
	res := tokenRequest(t, s, cc.ClientID, cc.ClientSecret, form, &a)
	a.status, a.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
	return a
}
