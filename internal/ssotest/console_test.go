package ssotest_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/ssotest"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/internal/testserver"
	"github.com/rosterhq/roster/sqlstore"
)

// TestSSOTab: the owner fills in the console's Single sign-on tab. A provider whose discovery
// cannot be read is refused on the page, with the reason and what was typed kept; a
// good one is saved (post, redirect, notice), its secret is never shown back, and requiring
// single sign-on for the domain is a switch on the same tab.
func TestSSOTab(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		srv := testserver.Start(t, e, roster.SystemClock{}, func(c *app.Config) { c.DNSResolver = dns.Addr })
		o := newOrg(t, e, srv, dns)
		op := ssotest.StartOP(t, "roster-client", "tab-secret", srv.URL+app.SSOCallbackPath)
		b := newBrowser(t)
		if resp, body := b.do("POST", srv.URL+"/login", url.Values{"email": {o.oemail}, "password": {testenv.Password}}); resp.StatusCode != http.StatusOK {
			t.Fatalf("login: %d\n%s", resp.StatusCode, body)
		}
		tab := srv.URL + "/orgs/" + o.org.ID + "/sso"
		_, page := b.do("GET", tab, nil)
		if !strings.Contains(page, srv.URL+app.SSOCallbackPath) {
			t.Fatalf("the tab does not show the redirect URI:\n%s", page)
		}
		form := testserver.Hidden(page)
		form.Set("protocol", "oidc")
		form.Set("issuer", "http://127.0.0.1:1/nothing-here")
		form.Set("client_id", "roster-client")
		form.Set("client_secret", "tab-secret")
		form.Set("enabled", "on")
		form.Set("jit", "on")
		form.Set("default_role", "member")
		form.Set("role_mappings", "Engineering = admin\n")
		req, _ := http.NewRequest("POST", tab, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(buf.String(), "The identity provider could not be used") ||
			!strings.Contains(buf.String(), "Engineering = admin") {
			t.Fatalf("a provider out of reach: %d\n%s", resp.StatusCode, buf.String())
		}
		form.Set("issuer", op.Issuer)
		resp, body := b.do("POST", tab, form)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Query().Get("ok") != "sso_saved" || strings.Contains(body, "tab-secret") ||
			!strings.Contains(body, "A secret is stored") {
			t.Fatalf("saved: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
		set, err := srv.App.SSO.Get(ctx, o.owner, o.org.ID)
		if err != nil || !set.Connection.Enabled || len(set.Connection.RoleMappings) != 1 || set.Connection.RoleMappings[0].OrgRole != roster.OrgAdmin {
			t.Fatalf("stored: %+v, %v", set.Connection, err)
		}
		// Require it for the domain: the switch posts to the domain's row.
		req2 := testserver.Hidden(body)
		req2.Set("require_sso", "on")
		resp, body = b.do("POST", tab+"/domains/"+o.domain.ID, req2)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Query().Get("ok") != "sso_saved" {
			t.Fatalf("require: %d\n%s", resp.StatusCode, body)
		}
		d, err := srv.App.Domains.Get(ctx, o.owner, o.org.ID, o.domain.ID)
		if err != nil || !d.RequireSSO {
			t.Fatalf("the domain requires SSO: %v, %v", d.RequireSSO, err)
		}
	})
}
