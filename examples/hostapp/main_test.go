package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/internal/testserver"
	"github.com/rosterhq/roster/sqlstore"
)

// TestHostAppSignsInSwitchesChecksAndSignsOut drives the example as a browser would (a cookie
// jar following redirects): sign in with Roster, choose an organization and store, see the
// claims, switch organization without signing in again, ask Roster a question with the access
// token, and sign out through Roster.
func TestHostAppSignsInSwitchesChecksAndSignsOut(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		// The wall clock: the OpenID library stamps tokens with time.Now, so the app's clock agrees.
		rs := testserver.Start(t, e, roster.SystemClock{})
		env, issuer := rs.Env, rs.URL
		owner, _ := env.User(t, "Olga")
		hanaActor, hana := env.User(t, "Hana")
		acme := env.Org(t, owner, "Acme")
		north := env.Store(t, owner, acme.ID, "North")
		env.Join(t, owner, acme.ID, hana, roster.OrgMember, app.StoreGrantInput{StoreID: north.ID, RoleID: roster.StoreRoleMember})
		side := env.Org(t, hanaActor, "Side project") // Hana owns it
		lab := env.Store(t, hanaActor, side.ID, "Lab")

		hostSrv := httptest.NewUnstartedServer(nil)
		base := "http://" + hostSrv.Listener.Addr().String()
		cl, secret, err := env.App.CreateClient(testenv.Ctx, roster.System(), app.ClientInput{Name: "Host app", FirstParty: true,
			RedirectURIs: []string{base + "/callback"}, PostLogoutRedirectURIs: []string{base + "/"}})
		if err != nil {
			t.Fatal(err)
		}
		h, err := newApp(testenv.Ctx, config{Issuer: issuer, ClientID: cl.ID, ClientSecret: secret, BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		hostSrv.Config.Handler = h
		hostSrv.Start()
		t.Cleanup(hostSrv.Close)

		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		visit := func(method, u string, form url.Values) (string, string) {
			t.Helper()
			var res *http.Response
			var err error
			if method == http.MethodGet {
				res, err = browser.Get(u)
			} else {
				res, err = browser.PostForm(u, form)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s ended at %s with %d: %.500s", method, u, res.Request.URL, res.StatusCode, b)
			}
			return res.Request.URL.String(), string(b)
		}

		_, body := visit(http.MethodGet, base+"/", nil)
		if !strings.Contains(body, `id="signin"`) {
			t.Fatalf("signed out home: %s", body)
		}
		at, body := visit(http.MethodGet, base+"/login", nil)
		if !strings.HasPrefix(at, issuer+"/login") {
			t.Fatalf("sign-in did not reach Roster's login page: %s", at)
		}
		form := testserver.Hidden(body)
		form.Set("email", hana.Email)
		form.Set("password", testenv.Password)
		at, body = visit(http.MethodPost, issuer+"/login", form)
		if !strings.HasPrefix(at, issuer+"/oidc/continue") {
			t.Fatalf("two organizations: the chooser was expected, got %s", at)
		}
		form = testserver.Hidden(body)
		form.Set("organization", acme.ID)
		form.Set("store", north.ID)
		at, body = visit(http.MethodPost, issuer+"/oidc/continue", form)
		if at != base+"/" || !strings.Contains(body, acme.ID) || !strings.Contains(body, north.ID) || !strings.Contains(body, string(roster.PermStoreRead)) {
			t.Fatalf("after sign-in, at %s: %s", at, body)
		}
		if !strings.Contains(body, "Side project") || !strings.Contains(body, "Lab") {
			t.Errorf("the switcher does not list the other organization: %s", body)
		}

		_, body = visit(http.MethodPost, base+"/check", url.Values{"permission": {string(roster.PermStoreUpdate)}})
		if !strings.Contains(body, `id="answer">No`) {
			t.Errorf("a member may not update the store: %s", body)
		}

		_, body = visit(http.MethodPost, base+"/switch", url.Values{"organization": {side.ID}, "store": {lab.ID}})
		if !strings.Contains(body, side.ID) || !strings.Contains(body, lab.ID) || !strings.Contains(body, "as owner") {
			t.Fatalf("after switching to the side project: %s", body)
		}
		_, body = visit(http.MethodPost, base+"/check", url.Values{"permission": {string(roster.PermStoreUpdate)}})
		if !strings.Contains(body, `id="answer">Yes`) {
			t.Errorf("the owner may update their store: %s", body)
		}

		at, body = visit(http.MethodPost, base+"/logout", nil)
		if at != base+"/" || !strings.Contains(body, `id="signin"`) {
			t.Fatalf("after signing out, at %s: %s", at, body)
		}
		if _, err := env.App.Authenticate(testenv.Ctx, jarSession(t, jar, issuer), "192.0.2.1", "test"); err == nil {
			t.Error("the Roster session in this browser outlived the sign-out")
		}
	})
}

// jarSession returns the Roster session cookie the browser holds, "" when none.
func jarSession(t *testing.T, jar http.CookieJar, issuer string) string {
	u, _ := url.Parse(issuer)
	for _, c := range jar.Cookies(u) {
		if c.Name == httpserver.SessionCookie {
			return c.Value
		}
	}
	return "none"
}
