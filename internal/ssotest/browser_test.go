package ssotest_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/ssotest"
	"github.com/rosterhq/roster/internal/testchrome"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/internal/testserver"
	"github.com/rosterhq/roster/sqlstore"
)

// waitFor polls a JavaScript condition across navigations, up to 20 seconds.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Until(deadline))
		_, err := chromedp.Run(pctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond)))
		cancel()
		if err == nil {
			return
		}
		if !testchrome.Interrupted(err) || time.Now().After(deadline) {
			at, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + (document.body ? document.body.innerText.slice(0, 400) : "")`))
			t.Fatalf("%s: %v (at %s)", what, err, at)
		}
	}
}

func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestSSOInChromium: in headless Chromium, with the keyboard's path through the login page
// (the address, then "Sign in with SSO", a boosted form that must leave for the provider),
// a person signs in through zitadel/oidc's example provider and lands signed in on Roster's
// console; then another person through crewjam/saml's IdP, whose page posts the answer back.
func TestSSOInChromium(t *testing.T) {
	ctx := testchrome.Context(t)
	e := sqlstore.SQLite
	dns := testenv.DNSServer(t)
	srv := testserver.Start(t, e, roster.SystemClock{}, func(c *app.Config) { c.DNSResolver = dns.Addr })
	o := newOrg(t, e, srv, dns)
	alice := &ssotest.Person{ID: "u-alice", Username: "alice", Password: "alice-pw", Email: "alice@" + o.domain.Domain, Name: "Alice Adams"}
	op := ssotest.StartOP(t, "roster-client", "roster-secret", srv.URL+app.SSOCallbackPath, alice)
	o.configureOIDC(t, op, "roster-client", "roster-secret")

	step(t, ctx, "open the login page", chromedp.Navigate(srv.URL+"/login"))
	waitFor(t, ctx, "the login page", `!!document.querySelector("#email") && window.htmx !== undefined`)
	axeCheck(t, ctx, "the login page")
	// With the keyboard: type the address, move to "Sign in with SSO", press Enter.
	step(t, ctx, "type the address, choose SSO", chromedp.SendKeys(chromedp.CSS("#email"), alice.Email, chromedp.NodeReady),
		chromedp.Focus(chromedp.CSS(`[data-testid="login-sso"]`), chromedp.NodeReady), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the provider's login page", `location.href.startsWith(`+jsString(op.Issuer)+`) && !!document.querySelector("#username")`)
	step(t, ctx, "sign in at the provider", chromedp.SetValue(chromedp.CSS("#username"), "alice", chromedp.NodeReady),
		chromedp.SetValue(chromedp.CSS("#password"), "alice-pw", chromedp.NodeReady),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('form button[type=submit]').click()`))
	waitFor(t, ctx, "signed in to Roster", `location.href.startsWith(`+jsString(srv.URL)+`) && document.body.innerText.includes("Alice Adams")`)
	if got := o.memberRole(t, alice.Email); got != "member" {
		t.Fatalf("alice's role %q", got)
	}

	// SAML, in a browser of its own.
	bob := &ssotest.Person{ID: "u-bob", Username: "bob", Email: "bob@" + o.domain.Domain, Name: "Bob Brown"}
	idp := ssotest.StartIdP(t, bob)
	idp.SignInAs("bob")
	if _, err := srv.App.SSO.Configure(ctx, o.owner, o.org.ID, app.SSOInput{Protocol: roster.SSOSAML, Enabled: true, IdPMetadataURL: idp.MetadataURL,
		JIT: true, DefaultRole: roster.OrgMember}); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	step(t, ctx2, "open the login page", chromedp.Navigate(srv.URL+"/login"))
	waitFor(t, ctx2, "the login page", `!!document.querySelector("#email") && window.htmx !== undefined`)
	step(t, ctx2, "type the address, choose SSO", chromedp.SetValue(chromedp.CSS("#email"), bob.Email, chromedp.NodeReady),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="login-sso"]').click()`))
	waitFor(t, ctx2, "signed in to Roster through SAML", `location.href.startsWith(`+jsString(srv.URL)+`) && document.body.innerText.includes("Bob Brown")`)

	// The owner's Single sign-on tab, in a third browser.
	ctx3, cancel3 := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel3()
	step(t, ctx3, "open the login page", chromedp.Navigate(srv.URL+"/login"))
	waitFor(t, ctx3, "the login page", `!!document.querySelector("#email") && window.htmx !== undefined`)
	step(t, ctx3, "the owner logs in", chromedp.SendKeys(chromedp.CSS("#email"), o.oemail, chromedp.NodeReady),
		chromedp.SendKeys(chromedp.CSS("#password"), testenv.Password+kb.Enter, chromedp.NodeReady))
	waitFor(t, ctx3, "signed in", `!document.querySelector("#password")`)
	step(t, ctx3, "open the tab", chromedp.Navigate(srv.URL+"/orgs/"+o.org.ID+"/sso"))
	waitFor(t, ctx3, "the tab", `!!document.querySelector('[data-testid="sso-form"]') && !!document.querySelector('[data-testid="sso-metadata"]')`)
	axeCheck(t, ctx3, "the Single sign-on tab")
}

// axeCheck runs axe-core on the page and fails on serious or critical violations.
func axeCheck(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	axe, err := os.ReadFile("../../console/testdata/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](string(axe)+`;axe.run(document, {resultTypes: ["violations"]}).then(r =>
		JSON.stringify(r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html)}))))`,
		chromedp.EvalAwaitPromise))
	if err != nil || out != "[]" {
		t.Errorf("%s: accessibility violations: %v %s", what, err, out)
	}
}

func jsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
