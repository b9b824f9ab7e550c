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

// world is Roster with Hana, member of Acme (store North) and owner of Side project (store
// Lab), and the host application on its own port, registered as a client whose CORS origin
// is the host's; a cookie-jar browser visits them.
type world struct {
	env          *testenv.Env
	issuer, base string
	hana         roster.User
	acme, side   roster.Organization
	north, lab   roster.Store
	handler      http.Handler
	jar          http.CookieJar
	browser      *http.Client
}

func startWorld(t *testing.T, e sqlstore.Engine) *world {
	t.Helper()
	// The wall clock: the OpenID library stamps tokens with time.Now, so the app's clock agrees.
	rs := testserver.Start(t, e, roster.SystemClock{})
	w := &world{env: rs.Env, issuer: rs.URL}
	env := w.env
	owner, _ := env.User(t, "Olga")
	hanaActor, hana := env.User(t, "Hana")
	w.hana = hana
	w.acme = env.Org(t, owner, "Acme")
	w.north = env.Store(t, owner, w.acme.ID, "North")
	env.Join(t, owner, w.acme.ID, hana, roster.OrgMember, app.StoreGrantInput{StoreID: w.north.ID, RoleID: roster.StoreRoleMember})
	w.side = env.Org(t, hanaActor, "Side project") // Hana owns it
	w.lab = env.Store(t, hanaActor, w.side.ID, "Lab")

	hostSrv := httptest.NewUnstartedServer(nil)
	w.base = "http://" + hostSrv.Listener.Addr().String()
	cl, secret, err := env.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Host app", FirstParty: true,
		RedirectURIs: []string{w.base + "/callback"}, PostLogoutRedirectURIs: []string{w.base + "/"}, CORSOrigins: []string{w.base}})
	if err != nil {
		t.Fatal(err)
	}
	if w.handler, err = newApp(testenv.Ctx, config{Issuer: w.issuer, ClientID: cl.ID, ClientSecret: secret, BaseURL: w.base}); err != nil {
		t.Fatal(err)
	}
	hostSrv.Config.Handler = w.handler
	hostSrv.Start()
	t.Cleanup(hostSrv.Close)
	w.jar, _ = cookiejar.New(nil)
	w.browser = &http.Client{Jar: w.jar}
	return w
}

// visit sends a request as the browser and returns where it ended and the page.
func (w *world) visit(t *testing.T, method, u string, form url.Values) (string, string) {
	t.Helper()
	var res *http.Response
	var err error
	if method == http.MethodGet {
		res, err = w.browser.Get(u)
	} else {
		res, err = w.browser.PostForm(u, form)
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

// signIn signs Hana in to the host application with Roster, choosing Acme's North store, and
// returns the host's page.
func (w *world) signIn(t *testing.T) string {
	t.Helper()
	at, body := w.visit(t, http.MethodGet, w.base+"/login", nil)
	if !strings.HasPrefix(at, w.issuer+"/login") {
		t.Fatalf("sign-in did not reach Roster's login page: %s", at)
	}
	form := testserver.Hidden(body)
	form.Set("email", w.hana.Email)
	form.Set("password", testenv.Password)
	at, body = w.visit(t, http.MethodPost, w.issuer+"/login", form)
	if !strings.HasPrefix(at, w.issuer+"/oidc/continue") {
		t.Fatalf("two organizations: the chooser was expected, got %s", at)
	}
	form = testserver.Hidden(body)
	form.Set("organization", w.acme.ID)
	form.Set("store", w.north.ID)
	at, body = w.visit(t, http.MethodPost, w.issuer+"/oidc/continue", form)
	if at != w.base+"/" || !strings.Contains(body, w.acme.ID) || !strings.Contains(body, w.north.ID) || !strings.Contains(body, string(roster.PermStoreRead)) {
		t.Fatalf("after sign-in, at %s: %s", at, body)
	}
	return body
}

// TestHostAppSignsInSwitchesChecksAndSignsOut drives the example as a browser would (a cookie
// jar following redirects): sign in with Roster, choose an organization and store, see the
// claims, switch organization without signing in again, ask Roster a question with the access
// token, and sign out through Roster.
func TestHostAppSignsInSwitchesChecksAndSignsOut(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		w := startWorld(t, e)
		base, issuer, side, lab := w.base, w.issuer, w.side, w.lab
		_, body := w.visit(t, http.MethodGet, base+"/", nil)
		if !strings.Contains(body, `id="signin"`) {
			t.Fatalf("signed out home: %s", body)
		}
		body = w.signIn(t)
		if !strings.Contains(body, "Side project") || !strings.Contains(body, "Lab") {
			t.Errorf("the switcher's fallback without scripts does not list the other organization: %s", body)
		}
		if !strings.Contains(body, `<roster-switcher roster="`+issuer+`"`) || !strings.Contains(body, issuer+"/switcher/v1/roster-switcher.js") {
			t.Errorf("the page has no switcher: %s", body)
		}

		_, body = w.visit(t, http.MethodPost, base+"/check", url.Values{"permission": {string(roster.PermStoreUpdate)}})
		if !strings.Contains(body, `id="answer">No`) {
			t.Errorf("a member may not update the store: %s", body)
		}

		_, body = w.visit(t, http.MethodPost, base+"/switch", url.Values{"organization": {side.ID}, "store": {lab.ID}})
		if !strings.Contains(body, side.ID) || !strings.Contains(body, lab.ID) || !strings.Contains(body, "as owner") {
			t.Fatalf("after switching to the side project: %s", body)
		}
		_, body = w.visit(t, http.MethodPost, base+"/check", url.Values{"permission": {string(roster.PermStoreUpdate)}})
		if !strings.Contains(body, `id="answer">Yes`) {
			t.Errorf("the owner may update their store: %s", body)
		}

		at, body := w.visit(t, http.MethodPost, base+"/logout", nil)
		if at != base+"/" || !strings.Contains(body, `id="signin"`) {
			t.Fatalf("after signing out, at %s: %s", at, body)
		}
		if _, err := w.env.App.Auth.Authenticate(testenv.Ctx, jarSession(t, w.jar, issuer), "192.0.2.1", "test"); err == nil {
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
