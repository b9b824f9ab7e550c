package ssotest_test

import (
	"io"
	"net/http"
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

// TestOIDCTokensRefused: ID tokens from the organization's provider for another client, expired
// ones and ones signed by another key are refused (go-oidc's checks, on the provider's real
// keys), the refusal is audited, and no account, membership or session is made.
func TestOIDCTokensRefused(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		srv := testserver.Start(t, e, roster.SystemClock{}, func(c *app.Config) { c.DNSResolver = dns.Addr })
		o := newOrg(t, e, srv, dns)
		eve := &ssotest.Person{ID: "u-eve", Username: "eve", Password: "eve-pw", Email: "eve@" + o.domain.Domain, Name: "Eve"}
		op := ssotest.StartOP(t, "roster-client", "roster-secret", srv.URL+app.SSOCallbackPath, eve)
		o.configureOIDC(t, op, "roster-client", "roster-secret")
		for _, mode := range []string{ssotest.WrongAudience, ssotest.Expired, ssotest.BadSignature} {
			op.Tamper(mode)
			b := newBrowser(t)
			id := b.startAtIdP(srv, op, eve.Email, "/")
			resp, body := b.signInAtIdP(op, id, "eve", "eve-pw")
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "ID token was refused") {
				t.Fatalf("%s: %d\n%s", mode, resp.StatusCode, body)
			}
		}
		if n := o.count(t, `SELECT COUNT(*) FROM users WHERE email = ?`, eve.Email); n != 0 {
			t.Fatalf("refused tokens made %d accounts", n)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM audit_events WHERE org_id = ? AND action = 'sso.login_failed'`, o.org.ID); n != 3 {
			t.Fatalf("%d refusals audited, want 3", n)
		}
		// The provider's own tokens still pass.
		op.Wrap = nil
		b := newBrowser(t)
		id := b.startAtIdP(srv, op, eve.Email, "/")
		if resp, body := b.signInAtIdP(op, id, "eve", "eve-pw"); resp.StatusCode != http.StatusOK || strings.Contains(body, `role="alert"`) {
			t.Fatalf("untampered: %d\n%s", resp.StatusCode, body)
		}
	})
}

// TestSSOAccountTakeover: the organization's provider asserting an address outside the
// organization's verified domains links to nobody and creates nobody, even when an account
// has that address.
func TestSSOAccountTakeover(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		srv := testserver.Start(t, e, roster.SystemClock{}, func(c *app.Config) { c.DNSResolver = dns.Addr })
		o := newOrg(t, e, srv, dns)
		victim := "victim" + strings.ToLower(testenv.Unique()) + "@elsewhere.example"
		signup(t, srv, victim, "Victor Victim")
		mallory := &ssotest.Person{ID: "u-mallory", Username: "mallory", Password: "m-pw", Email: victim, Name: "Mallory"}
		op := ssotest.StartOP(t, "roster-client", "roster-secret", srv.URL+app.SSOCallbackPath, mallory)
		o.configureOIDC(t, op, "roster-client", "roster-secret")
		b := newBrowser(t)
		id := b.startAtIdP(srv, op, "anyone@"+o.domain.Domain, "/") // discovery by a typed address
		resp, body := b.signInAtIdP(op, id, "mallory", "m-pw")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "not at a verified domain") {
			t.Fatalf("takeover: %d\n%s", resp.StatusCode, body)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM sso_identities`); n != 0 {
			t.Fatalf("%d identities linked", n)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?`, victim); n != 1 {
			t.Fatalf("the victim has %d sessions, want only their own sign-up's", n)
		}
	})
}

// TestRequireSSO: with single sign-on required for a domain, nobody at it signs in with a
// password — an admin included, on the console and the API — except the organization's owner
// (break-glass); the rule sleeps while single sign-on is off.
func TestRequireSSO(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		srv := testserver.Start(t, e, roster.SystemClock{}, func(c *app.Config) { c.DNSResolver = dns.Addr })
		o := newOrg(t, e, srv, dns)
		carol := "carol@" + o.domain.Domain
		_ = signup(t, srv, carol, "Carol Admin")
		_, cu := srv.Env.Login(t, carol)
		srv.Env.Join(t, o.owner, o.org.ID, cu, roster.OrgAdmin)
		op := ssotest.StartOP(t, "roster-client", "roster-secret", srv.URL+app.SSOCallbackPath)

		if _, err := srv.App.SSO.SetDomainRequired(ctx, o.owner, o.org.ID, o.domain.ID, true); testenv.Code(err) != roster.EConflict {
			t.Fatalf("require without SSO: %v", err)
		}
		o.configureOIDC(t, op, "roster-client", "roster-secret")
		if _, err := srv.App.SSO.SetDomainRequired(ctx, o.owner, o.org.ID, o.domain.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err := srv.App.Auth.Login(ctx, anon(), app.LoginInput{Email: carol, Password: testenv.Password})
		if testenv.Code(err) != roster.ESSORequired {
			t.Fatalf("carol's password login: %v", err)
		}
		// A wrong password says nothing more than for anyone.
		if _, err := srv.App.Auth.Login(ctx, anon(), app.LoginInput{Email: carol, Password: "wrong " + testenv.Password}); testenv.Code(err) != roster.EInvalidCredentials {
			t.Fatalf("carol's wrong password: %v", err)
		}
		b := newBrowser(t)
		resp, body := b.do("POST", srv.URL+"/login", url.Values{"email": {carol}, "password": {testenv.Password}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Sign in with SSO") || !strings.Contains(body, o.domain.Domain) {
			t.Fatalf("console login: %d\n%s", resp.StatusCode, body)
		}
		// The owner's break-glass.
		if _, err := srv.App.Auth.Login(ctx, anon(), app.LoginInput{Email: o.oemail, Password: testenv.Password}); err != nil {
			t.Fatalf("owner break-glass: %v", err)
		}
		// Single sign-on off: the rule sleeps.
		if _, err := srv.App.SSO.Configure(ctx, o.owner, o.org.ID, app.SSOInput{Protocol: roster.SSOOIDC, Enabled: false, Issuer: op.Issuer,
			ClientID: "roster-client", DefaultRole: roster.OrgMember}); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.App.Auth.Login(ctx, anon(), app.LoginInput{Email: carol, Password: testenv.Password}); err != nil {
			t.Fatalf("carol with SSO off: %v", err)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM audit_events WHERE org_id = ? AND action = 'domain.sso_required_changed'`, o.org.ID); n != 1 {
			t.Fatalf("%d audit rows for require-SSO", n)
		}
		// Removing single sign-on clears the requirement: set up again, nothing is required.
		if err := srv.App.SSO.Remove(ctx, o.owner, o.org.ID); err != nil {
			t.Fatal(err)
		}
		o.configureOIDC(t, op, "roster-client", "roster-secret")
		if _, err := srv.App.Auth.Login(ctx, anon(), app.LoginInput{Email: carol, Password: testenv.Password}); err != nil {
			t.Fatalf("carol after SSO was removed and set up again: %v", err)
		}
	})
}

// TestSSOIsolation: another organization's owner gets not_found for everything about this
// organization's single sign-on, on the API and in the app; a plain member is refused; the
// configuration's secret never comes back.
func TestSSOIsolation(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		srv := testserver.Start(t, e, roster.SystemClock{}, func(c *app.Config) { c.DNSResolver = dns.Addr })
		o := newOrg(t, e, srv, dns)
		op := ssotest.StartOP(t, "roster-client", "roster-secret", srv.URL+app.SSOCallbackPath)
		o.configureOIDC(t, op, "roster-client", "roster-secret")
		other := newOrg(t, e, srv, dns)
		memberAddr := "mia" + strings.ToLower(testenv.Unique()) + "@example.com"
		member := signup(t, srv, memberAddr, "Mia Member")
		_, mu := srv.Env.Login(t, memberAddr)
		srv.Env.Join(t, o.owner, o.org.ID, mu, roster.OrgMember)

		in := app.SSOInput{Protocol: roster.SSOOIDC, Enabled: true, Issuer: op.Issuer, ClientID: "x", DefaultRole: roster.OrgMember}
		for _, c := range []struct {
			who   string
			actor roster.Actor
			code  string
		}{{"other organization's owner", other.owner, roster.ENotFound}, {"member", member, roster.EForbidden}} {
			if _, err := srv.App.SSO.Get(ctx, c.actor, o.org.ID); testenv.Code(err) != c.code {
				t.Errorf("%s reads: %v", c.who, err)
			}
			if _, err := srv.App.SSO.Configure(ctx, c.actor, o.org.ID, in); testenv.Code(err) != c.code {
				t.Errorf("%s configures: %v", c.who, err)
			}
			if err := srv.App.SSO.Remove(ctx, c.actor, o.org.ID); testenv.Code(err) != c.code {
				t.Errorf("%s removes: %v", c.who, err)
			}
			if _, err := srv.App.SSO.SetDomainRequired(ctx, c.actor, o.org.ID, o.domain.ID, true); testenv.Code(err) != c.code {
				t.Errorf("%s requires: %v", c.who, err)
			}
		}
		// The other owner's own domain ID used on this organization: not found either.
		if _, err := srv.App.SSO.SetDomainRequired(ctx, o.owner, o.org.ID, other.domain.ID, true); testenv.Code(err) != roster.ENotFound {
			t.Errorf("a foreign domain: %v", err)
		}
		// Over the API with the other owner's session token.
		res, err := srv.App.Auth.Login(ctx, anon(), app.LoginInput{Email: other.oemail, Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			req, _ := http.NewRequest(m, srv.URL+"/v1/organizations/"+o.org.ID+"/sso", strings.NewReader(`{"protocol":"oidc","issuer":"`+op.Issuer+`","client_id":"x"}`))
			req.Header.Set("Authorization", "Bearer "+res.Token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("API %s by another organization's owner: %d", m, resp.StatusCode)
			}
		}
		// The owner reads it: no secret.
		own, err := srv.App.Auth.Login(ctx, anon(), app.LoginInput{Email: o.oemail, Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", srv.URL+"/v1/organizations/"+o.org.ID+"/sso", nil)
		req.Header.Set("Authorization", "Bearer "+own.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf strings.Builder
		_, _ = io.Copy(&buf, resp.Body)
		if resp.StatusCode != 200 || strings.Contains(buf.String(), "roster-secret") || !strings.Contains(buf.String(), `"has_client_secret":true`) {
			t.Fatalf("owner reads: %d %s", resp.StatusCode, buf.String())
		}
		if n := o.count(t, `SELECT COUNT(*) FROM sso_connections WHERE client_secret_sealed LIKE '%roster-secret%'`); n != 0 {
			t.Fatal("the client secret is stored in clear")
		}
	})
}

// TestSSOMisconfigured: a provider that cannot be read is refused when it is configured, with
// the reason (OIDC discovery out of reach, SAML metadata that is not metadata, or names no
// signing certificate); a sign-in through a provider configured with the wrong client secret
// ends on the login page with the provider's refusal, and makes no account.
func TestSSOMisconfigured(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		srv := testserver.Start(t, e, roster.SystemClock{}, func(c *app.Config) { c.DNSResolver = dns.Addr })
		o := newOrg(t, e, srv, dns)
		idp := ssotest.StartIdP(t)
		resp, err := http.Get(idp.MetadataURL)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		noCert := regexp.MustCompile(`(?s)<KeyDescriptor.*?</KeyDescriptor>`).ReplaceAllString(string(raw), "")
		for _, c := range []struct {
			what string
			in   app.SSOInput
			want string
		}{
			{"OIDC out of reach", app.SSOInput{Protocol: roster.SSOOIDC, Issuer: "http://127.0.0.1:1", ClientID: "x"}, "discovery document could not be read"},
			{"not an issuer URL", app.SSOInput{Protocol: roster.SSOOIDC, Issuer: "ftp://idp.example", ClientID: "x"}, "https URL"},
			{"SAML metadata out of reach", app.SSOInput{Protocol: roster.SSOSAML, IdPMetadataURL: idp.MetadataURL + "/nothing"}, "could not be fetched"},
			// The instance's own network is out of reach unless the operator allowed the host
			// (these tests allow 127.0.0.1 alone): the cloud metadata service, a private address,
			// a loopback name.
			{"the cloud metadata service", app.SSOInput{Protocol: roster.SSOOIDC, Issuer: "http://169.254.169.254", ClientID: "x"}, "ROSTER_SSO_ALLOWED_HOSTS"},
			{"a private address", app.SSOInput{Protocol: roster.SSOSAML, IdPMetadataURL: "https://10.0.0.7/metadata"}, "ROSTER_SSO_ALLOWED_HOSTS"},
			{"another loopback address", app.SSOInput{Protocol: roster.SSOOIDC, Issuer: "http://127.0.0.2:1", ClientID: "x"}, "ROSTER_SSO_ALLOWED_HOSTS"},
			{"SAML metadata not XML", app.SSOInput{Protocol: roster.SSOSAML, IdPMetadataXML: "hello"}, "not SAML metadata"},
			{"SAML metadata without a certificate", app.SSOInput{Protocol: roster.SSOSAML, IdPMetadataXML: noCert}, "no signing certificate"},
		} {
			c.in.DefaultRole = roster.OrgMember
			_, err := srv.App.SSO.Configure(ctx, o.owner, o.org.ID, c.in)
			if e := roster.AsError(err); e == nil || !strings.Contains(e.Message, c.want) {
				t.Errorf("%s: %v, want %q", c.what, err, c.want)
			}
		}
		if n := o.count(t, `SELECT COUNT(*) FROM sso_connections`); n != 0 {
			t.Fatalf("refused configurations stored %d connections", n)
		}
		// Metadata pasted as XML works as well as by URL.
		if _, err := srv.App.SSO.Configure(ctx, o.owner, o.org.ID, app.SSOInput{Protocol: roster.SSOSAML, IdPMetadataXML: string(raw), DefaultRole: roster.OrgMember}); err != nil {
			t.Fatalf("metadata as XML: %v", err)
		}

		dan := &ssotest.Person{ID: "u-dan", Username: "dan", Password: "dan-pw", Email: "dan@" + o.domain.Domain, Name: "Dan"}
		op := ssotest.StartOP(t, "roster-client", "right-secret", srv.URL+app.SSOCallbackPath, dan)
		o.configureOIDC(t, op, "roster-client", "wrong-secret")
		b := newBrowser(t)
		id := b.startAtIdP(srv, op, dan.Email, "/")
		resp, body := b.signInAtIdP(op, id, "dan", "dan-pw")
		if resp.StatusCode != http.StatusUnauthorized || resp.Request.URL.Path != app.SSOCallbackPath || !strings.Contains(body, "code was refused") {
			t.Fatalf("wrong secret: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM users WHERE email = ?`, dan.Email); n != 0 {
			t.Fatalf("a refused sign-in made %d accounts", n)
		}
	})
}

// TestSSOConcurrentFirstSignIn: one person's first sign-in completed in several browsers at
// once (each held at the callback, then all released together) makes one account, one link
// and one membership, and every browser ends signed in.
func TestSSOConcurrentFirstSignIn(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		srv := testserver.Start(t, e, roster.SystemClock{}, func(c *app.Config) { c.DNSResolver = dns.Addr })
		o := newOrg(t, e, srv, dns)
		fay := &ssotest.Person{ID: "u-fay", Username: "fay", Password: "fay-pw", Email: "fay@" + o.domain.Domain, Name: "Fay", Groups: []string{"eng"}}
		op := ssotest.StartOP(t, "roster-client", "roster-secret", srv.URL+app.SSOCallbackPath, fay)
		o.configureOIDC(t, op, "roster-client", "roster-secret", roster.SSORoleMapping{Group: "eng", Stores: map[string]string{o.store.ID: "member"}})
		const n = 6
		browsers, callbacks := make([]*browser, n), make([]string, n)
		for i := range browsers {
			b := newBrowser(t)
			id := b.startAtIdP(srv, op, fay.Email, "/")
			b.noFollowTo(srv.URL + app.SSOCallbackPath)
			resp, _ := b.signInAtIdP(op, id, "fay", "fay-pw")
			callbacks[i] = resp.Header.Get("Location")
			b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			browsers[i] = b
		}
		codes := make(chan int, n)
		start := make(chan struct{})
		for i, b := range browsers {
			go func() {
				<-start
				req, _ := http.NewRequest("GET", callbacks[i], nil)
				resp, err := b.c.Do(req)
				if err != nil {
					codes <- 0
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			}()
		}
		close(start)
		for range n {
			if c := <-codes; c != http.StatusSeeOther {
				t.Errorf("a concurrent first sign-in answered %d", c)
			}
		}
		for q, want := range map[string]int{
			`SELECT COUNT(*) FROM users WHERE email = '` + fay.Email + `'`:                                                                              1,
			`SELECT COUNT(*) FROM sso_identities`:                                                                                                       1,
			`SELECT COUNT(*) FROM org_members m JOIN users u ON u.id = m.user_id WHERE u.email = '` + fay.Email + `'`:                                   1,
			`SELECT COUNT(*) FROM store_members m JOIN users u ON u.id = m.user_id WHERE u.email = '` + fay.Email + `'`:                                 1,
			`SELECT COUNT(*) FROM audit_events WHERE action = 'member.added' AND target_id IN (SELECT id FROM users WHERE email = '` + fay.Email + `')`: 1,
		} {
			if got := o.count(t, q); got != want {
				t.Errorf("%s: %d, want %d", q, got, want)
			}
		}
	})
}
