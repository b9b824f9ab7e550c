package ssotest_test

import (
	"encoding/base64"
	"html"
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

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	formInput  = regexp.MustCompile(`<input type="hidden" name="(SAMLResponse|RelayState)" value="([^"]*)"`)
	signature  = regexp.MustCompile(`(?s)<ds:Signature\b.*?</ds:Signature>`)
)

// samlPost reads the identity provider's auto-posting form: where it posts, and what.
func samlPost(t *testing.T, body string) (string, url.Values) {
	t.Helper()
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no SAML form in the identity provider's page:\n%s", body)
	}
	form := url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(body, -1) {
		form.Set(in[1], html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), form
}

// toIdP starts a sign-in with an address and returns the identity provider's answer form.
func (b *browser) toIdP(srv *testserver.Server, idp *ssotest.IdP, email, next string) (string, url.Values) {
	b.t.Helper()
	resp, body := b.continueToIdP(srv, email, next)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), idp.Server.URL+"/sso") {
		b.t.Fatalf("sign in with SSO: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	return samlPost(b.t, body)
}

// TestSAMLSignIn: with crewjam/saml's identity provider (its own key) as the organization's
// SAML IdP, configured from its metadata URL, and Roster's service provider metadata read by
// the IdP: a person at the verified domain signs in, joins with the role their group maps to,
// and the assertion is remembered. A replayed response (same state, or another sign-in's
// state), an unsigned one and one addressed to another service provider are refused and
// change nothing.
func TestSAMLSignIn(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		srv := testserver.Start(t, e, roster.SystemClock{}, func(c *app.Config) { c.DNSResolver = dns.Addr })
		o := newOrg(t, e, srv, dns)
		alice := &ssotest.Person{ID: "u-alice", Username: "alice", Email: "alice@" + o.domain.Domain, Name: "Alice Adams", Groups: []string{"eng-admins"}}
		idp := ssotest.StartIdP(t, alice)
		idp.SignInAs("alice")
		set, err := srv.App.SSO.Configure(ctx, o.owner, o.org.ID, app.SSOInput{Protocol: roster.SSOSAML, Enabled: true, IdPMetadataURL: idp.MetadataURL,
			JIT: true, DefaultRole: roster.OrgMember, RoleMappings: []roster.SSORoleMapping{{Group: "eng-admins", OrgRole: roster.OrgAdmin}}})
		if err != nil {
			t.Fatal(err)
		}
		// The service provider's metadata, as the IdP's administrator downloads it.
		b := newBrowser(t)
		resp, md := b.do("GET", set.EntityID, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(md, set.ACSURL) || !strings.Contains(md, "X509Certificate") {
			t.Fatalf("SP metadata: %d\n%s", resp.StatusCode, md)
		}

		action, form := b.toIdP(srv, idp, alice.Email, "/orgs/"+o.org.ID+"/members")
		if action != set.ACSURL {
			t.Fatalf("the IdP posts to %s, want %s", action, set.ACSURL)
		}
		resp, body := b.do("POST", action, form)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/orgs/"+o.org.ID+"/members" || !strings.Contains(body, "Alice Adams") {
			t.Fatalf("after the IdP: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
		if got := o.memberRole(t, alice.Email); got != "admin" {
			t.Fatalf("alice's role %q, want admin", got)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM sso_assertions`); n != 1 {
			t.Fatalf("%d assertions remembered", n)
		}
		sessions := o.count(t, `SELECT COUNT(*) FROM sessions`)
		refused := func(what string, form url.Values, b *browser, why string) {
			t.Helper()
			resp, body := b.do("POST", action, form)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(html.UnescapeString(body), why) {
				t.Fatalf("%s: %d\n%s", what, resp.StatusCode, body)
			}
		}
		// Replayed with the same state, the cookie put back.
		base, _ := url.Parse(srv.URL + "/sso/")
		b.c.Jar.SetCookies(base, []*http.Cookie{{Name: "roster_sso", Value: form.Get("RelayState"), Path: "/sso/"}})
		refused("replay, same state", form, b, "already used")
		// Replayed into another browser's sign-in (its own state).
		b2 := newBrowser(t)
		_, fresh := b2.toIdP(srv, idp, alice.Email, "/")
		replay := url.Values{"SAMLResponse": form["SAMLResponse"], "RelayState": fresh["RelayState"]}
		refused("replay, another sign-in", replay, b2, "InResponseTo")
		// Unsigned: the IdP's response (assertion in clear) with its signatures taken out.
		idp.PlainAssertions(true)
		b3 := newBrowser(t)
		_, fresh = b3.toIdP(srv, idp, alice.Email, "/")
		raw, _ := base64.StdEncoding.DecodeString(fresh.Get("SAMLResponse"))
		if !signature.Match(raw) {
			t.Fatalf("the IdP's response carries no signature:\n%s", raw)
		}
		fresh.Set("SAMLResponse", base64.StdEncoding.EncodeToString(signature.ReplaceAll(raw, nil)))
		if !strings.Contains(string(raw), "<saml:Assertion") {
			t.Fatalf("the assertion is not in clear:\n%s", raw)
		}
		refused("unsigned", fresh, b3, "signature element not present")
		idp.PlainAssertions(false)
		// Addressed to another service provider.
		idp.WrongAudience("https://other-sp.example/saml")
		b4 := newBrowser(t)
		_, fresh = b4.toIdP(srv, idp, alice.Email, "/")
		refused("wrong audience", fresh, b4, "AudienceRestriction")
		idp.WrongAudience("")

		if n := o.count(t, `SELECT COUNT(*) FROM sessions`); n != sessions {
			t.Fatalf("refused responses opened %d sessions", n-sessions)
		}
		if n := o.count(t, `SELECT COUNT(*) FROM audit_events WHERE org_id = ? AND action = 'sso.login_failed'`, o.org.ID); n != 3 {
			t.Errorf("%d refusals audited, want 3 (the same-state replay is refused before the connection is known)", n)
		}
	})
}
