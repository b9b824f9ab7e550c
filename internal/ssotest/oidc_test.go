package ssotest_test

import (
	"context"
	"database/sql"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/ssotest"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/internal/testserver"
	"github.com/rosterhq/roster/sqlstore"
)

var ctx = context.Background()

func anon() roster.Actor { return roster.Anonymous("192.0.2.1", "test") }

// org is an organization with a verified domain, set up through the app as an owner would.
type org struct {
	srv    *testserver.Server
	dns    *testenv.DNS
	owner  roster.Actor
	oemail string
	org    roster.Organization
	store  roster.Store
	domain roster.Domain
	db     *sql.DB
}

// count runs a COUNT query on the organization's database.
func (o *org) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := o.db.QueryRow(testenv.Rebind(o.srv.Engine, query), args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// newOrg starts Roster and makes an organization whose owner is at a domain it verified.
func newOrg(t *testing.T, e sqlstore.Engine, srv *testserver.Server, dns *testenv.DNS) *org {
	t.Helper()
	o := &org{srv: srv, dns: dns, db: testenv.SQL(t, e, srv.Env.URL)}
	name := "acme" + strings.ToLower(testenv.Unique()) + ".example"
	o.oemail = "owner@" + name
	o.owner = signup(t, srv, o.oemail, "Olga Owner")
	o.org = srv.Env.Org(t, o.owner, "Acme "+name)
	o.store = srv.Env.Store(t, o.owner, o.org.ID, "Lyon")
	d, err := srv.App.Domains.Add(ctx, o.owner, o.org.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	dns.SetTXT(d.RecordName(), d.RecordValue())
	if o.domain, err = srv.App.Domains.Verify(ctx, o.owner, o.org.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	return o
}

func signup(t *testing.T, srv *testserver.Server, addr, name string) roster.Actor {
	t.Helper()
	if err := srv.App.Auth.Signup(ctx, anon(), app.SignupInput{Email: addr, Name: name, Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	a, _ := srv.Env.Login(t, addr)
	return a
}

// browser is an HTTP client with a cookie jar, as a browser keeps cookies.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar}}
}

// noFollow stops before Roster's callback (the test holds the provider's answer).
func (b *browser) noFollowTo(prefix string) {
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), prefix) {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

func (b *browser) do(method, u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

var continueLink = regexp.MustCompile(`<a href="([^"]+)" role="button" id="sso-continue"`)

// continueToIdP posts an address to the login page's "Sign in with SSO" and follows the link
// to the identity provider, as a browser without script does.
func (b *browser) continueToIdP(srv *testserver.Server, email, next string) (*http.Response, string) {
	b.t.Helper()
	resp, body := b.do("POST", srv.URL+"/login/sso", url.Values{"email": {email}, "next": {next}})
	m := continueLink.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		b.t.Fatalf("sign in with SSO: %d\n%s", resp.StatusCode, body)
	}
	return b.do("GET", html.UnescapeString(m[1]), nil)
}

// startAtIdP posts an address to the login page's "Sign in with SSO" and returns the ID of
// the provider's authorization request (its login page).
func (b *browser) startAtIdP(srv *testserver.Server, op *ssotest.OP, email, next string) string {
	b.t.Helper()
	resp, body := b.continueToIdP(srv, email, next)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), op.Issuer+"/login/username") {
		b.t.Fatalf("sign in with SSO: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	return resp.Request.URL.Query().Get("authRequestID")
}

// signInAtIdP fills the provider's login form.
func (b *browser) signInAtIdP(op *ssotest.OP, id, user, pw string) (*http.Response, string) {
	return b.do("POST", op.Issuer+"/login/username", url.Values{"username": {user}, "password": {pw}, "id": {id}})
}

func (o *org) configureOIDC(t *testing.T, op *ssotest.OP, clientID, secret string, mappings ...roster.SSORoleMapping) {
	t.Helper()
	if _, err := o.srv.App.SSO.Configure(ctx, o.owner, o.org.ID, app.SSOInput{Protocol: roster.SSOOIDC, Enabled: true, Issuer: op.Issuer,
		ClientID: clientID, ClientSecret: secret, Scopes: []string{"openid", "email", "profile"}, JIT: true, DefaultRole: roster.OrgMember,
		RoleMappings: mappings}); err != nil {
		t.Fatal(err)
	}
}

func (o *org) memberRole(t *testing.T, email string) string {
	t.Helper()
	var role string
	err := o.db.QueryRow(testenv.Rebind(o.srv.Engine, `SELECT m.role FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? AND u.email = ?`), o.org.ID, email).Scan(&role)
	if err != nil {
		return ""
	}
	return role
}

// TestOIDCSignIn: with zitadel/oidc's example OpenID provider as the organization's identity
// provider, a person at the organization's verified domain types their address on Roster's
// login page, is sent to the provider, signs in there, comes back signed in to Roster with a
// session, and has joined the organization just in time with the role their group maps to (an
// organization role and a store role). Their second sign-in finds the same account. A wrong
// state, a state not bound to the browser and a replayed callback are refused and open no
// session; every outcome is in the audit log.
func TestOIDCSignIn(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		srv := testserver.Start(t, e, roster.SystemClock{}, func(c *app.Config) { c.DNSResolver = dns.Addr })
		o := newOrg(t, e, srv, dns)
		alice := &ssotest.Person{ID: "u-alice", Username: "alice", Password: "alice-pw", Email: "alice@" + o.domain.Domain, Name: "Alice Adams",
			Groups: []string{"staff", "eng-admins"}}
		bob := &ssotest.Person{ID: "u-bob", Username: "bob", Password: "bob-pw", Email: "Bob@" + o.domain.Domain, Name: "Bob Brown", Groups: []string{"staff"}}
		op := ssotest.StartOP(t, "roster-client", "roster-secret", srv.URL+app.SSOCallbackPath, alice, bob)
		o.configureOIDC(t, op, "roster-client", "roster-secret",
			roster.SSORoleMapping{Group: "eng-admins", OrgRole: roster.OrgAdmin, Stores: map[string]string{o.store.ID: "viewer"}})

		// Alice: discovery by her address, the provider's login, back signed in.
		b := newBrowser(t)
		id := b.startAtIdP(srv, op, alice.Email, "/orgs/"+o.org.ID+"/members")
		resp, body := b.signInAtIdP(op, id, "alice", "alice-pw")
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/orgs/"+o.org.ID+"/members" {
			t.Fatalf("after the provider: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
		if !strings.Contains(body, "Alice Adams") {
			t.Fatalf("the members page does not show the signed-in admin:\n%s", body)
		}
		if got := o.memberRole(t, alice.Email); got != "admin" {
			t.Fatalf("alice's role %q, want admin (mapped from eng-admins)", got)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM store_members sm JOIN users u ON u.id = sm.user_id WHERE sm.store_id = ? AND u.email = ? AND sm.role_id = 'viewer'`,
			o.store.ID, alice.Email); n != 1 {
			t.Fatalf("alice's store role: %d rows, want viewer", n)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM users WHERE email = ? AND password_hash IS NULL AND email_verified_at IS NOT NULL`, alice.Email); n != 1 {
			t.Fatalf("alice's account: %d rows, want one without a password and with a verified address", n)
		}
		for _, action := range []string{"member.added", "user.logged_in", "sso.configured"} {
			if n := o.count(t, `SELECT COUNT(*) FROM audit_events WHERE org_id = ? AND action = ?`, o.org.ID, action); n < 1 {
				t.Errorf("no %s in the audit log", action)
			}
		}

		// Bob: no mapped group, the default role; his address is normalized.
		b2 := newBrowser(t)
		id = b2.startAtIdP(srv, op, bob.Email, "/")
		if resp, body := b2.signInAtIdP(op, id, "bob", "bob-pw"); resp.StatusCode != http.StatusOK || resp.Request.URL.Host != strings.TrimPrefix(srv.URL, "http://") {
			t.Fatalf("bob after the provider: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
		if got := o.memberRole(t, strings.ToLower(bob.Email)); got != "member" {
			t.Fatalf("bob's role %q, want member", got)
		}

		// Alice again, in another browser: the same account (found by the provider's subject).
		b3 := newBrowser(t)
		id = b3.startAtIdP(srv, op, alice.Email, "/")
		b3.signInAtIdP(op, id, "alice", "alice-pw")
		if n := o.count(t, `SELECT COUNT(*) FROM users WHERE email = ?`, alice.Email); n != 1 {
			t.Fatalf("%d accounts for alice", n)
		}

		// The provider's answer held back: a wrong state, another browser, then the right one, then again.
		b4 := newBrowser(t)
		id = b4.startAtIdP(srv, op, alice.Email, "/")
		b4.noFollowTo(srv.URL + app.SSOCallbackPath)
		resp, _ = b4.signInAtIdP(op, id, "alice", "alice-pw")
		callback := resp.Header.Get("Location")
		if !strings.HasPrefix(callback, srv.URL+app.SSOCallbackPath) {
			t.Fatalf("the provider sent back to %q", callback)
		}
		b4.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		cu, _ := url.Parse(callback)
		q := cu.Query()
		q.Set("state", q.Get("state")[:len(q.Get("state"))-2]+"xx")
		wrong := *cu
		wrong.RawQuery = q.Encode()
		sessions := o.count(t, `SELECT COUNT(*) FROM sessions`)
		if resp, body := b4.do("GET", wrong.String(), nil); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "role=\"alert\"") {
			t.Fatalf("wrong state: %d\n%s", resp.StatusCode, body)
		}
		other := newBrowser(t)
		other.c.CheckRedirect = b4.c.CheckRedirect
		if resp, _ := other.do("GET", callback, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the state in another browser: %d", resp.StatusCode)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM sessions`); n != sessions {
			t.Fatalf("refused callbacks opened %d sessions", n-sessions)
		}
		// A refusal clears the browser's state: b4 has to start again. A fresh sign-in completes
		// once; the same answer again, even with the state cookie put back, is refused.
		b5 := newBrowser(t)
		id = b5.startAtIdP(srv, op, alice.Email, "/")
		b5.noFollowTo(srv.URL + app.SSOCallbackPath)
		resp, _ = b5.signInAtIdP(op, id, "alice", "alice-pw")
		callback = resp.Header.Get("Location")
		state, _ := url.Parse(callback)
		b5.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		if resp, body := b5.do("GET", callback, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the right callback: %d\n%s", resp.StatusCode, body)
		}
		base, _ := url.Parse(srv.URL + "/sso/")
		b5.c.Jar.SetCookies(base, []*http.Cookie{{Name: "roster_sso", Value: state.Query().Get("state"), Path: "/sso/"}})
		if resp, body := b5.do("GET", callback, nil); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "already used") {
			t.Fatalf("a replayed callback: %d\n%s", resp.StatusCode, body)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM sessions`); n != sessions+1 {
			t.Fatalf("%d new sessions, want 1", n-sessions)
		}
	})
}
