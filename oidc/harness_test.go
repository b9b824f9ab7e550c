package oidc_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/internal/testserver"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/sqlstore"
)

// clock is real time moved by the tests: the library stamps tokens with time.Now, so the
// app's clock must agree with it.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
	frozen time.Time // when set, the time stands still there (but for Advance)
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen.IsZero() {
		return c.frozen.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Freeze stops the clock where it is: a test that counts a rate limiter's budget must not
// see it refill while a slow machine runs it.
func (c *clock) Freeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen = time.Now()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// server is Roster as serve wires it (API, console, OpenID provider) on an httptest server
// whose URL is the base URL, over a fresh database of one engine.
type server struct {
	*testenv.Env
	URL   string
	clock *clock
}

func newServer(t testing.TB, e sqlstore.Engine) *server {
	t.Helper()
	c := &clock{}
	ts := testserver.Start(t, e, c)
	return &server{Env: ts.Env, URL: ts.URL, clock: c}
}

// acme is the cast most tests start from: Olga owns the organization Acme, and a member joins
// it — with the member role in its store North when the test asks for the store.
type acme struct {
	owner  roster.Actor
	member roster.User
	org    roster.Organization
	north  roster.Store // zero unless asked for
}

func (s *server) acme(t testing.TB, member string, withStore bool) acme {
	t.Helper()
	var a acme
	a.owner, _ = s.User(t, "Olga")
	_, a.member = s.User(t, member)
	a.org = s.Org(t, a.owner, "Acme")
	var grants []app.StoreGrantInput
	if withStore {
		a.north = s.Store(t, a.owner, a.org.ID, "North")
		grants = append(grants, app.StoreGrantInput{StoreID: a.north.ID, RoleID: roster.StoreRoleMember})
	}
	s.Join(t, a.owner, a.org.ID, a.member, roster.OrgMember, grants...)
	return a
}

// runOutbox runs the outbox worker, as serve does, until the test ends: back-channel logouts
// are delivered by it. Polling is off: it delivers when a commit wakes it.
func (s *server) runOutbox(t *testing.T) {
	t.Helper()
	s.RunOutbox(t, mail.NewMailbox(0, nil), time.Hour)
}

// client registers an application and returns its OAuth configuration.
func (s *server) client(t testing.TB, public bool, redirect string) (roster.OIDCClient, oauth2.Config) {
	t.Helper()
	cl, secret, err := s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Shop floor", Public: public, RedirectURIs: []string{redirect}, FirstParty: true})
	if err != nil {
		t.Fatal(err)
	}
	return cl, oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: s.URL + "/oidc/authorize", TokenURL: s.URL + "/oidc/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess, "organization"}}
}

// browser is a user agent: a cookie jar, and redirects followed until they leave for the
// application's redirect URI.
type browser struct {
	t        testing.TB
	c        *http.Client
	redirect string
}

func newBrowser(t testing.TB, redirect string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, redirect: redirect}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

type page struct {
	Status   int
	URL      *url.URL
	Location string
	Body     string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{Status: res.StatusCode, URL: res.Request.URL, Location: res.Header.Get("Location"), Body: string(body)}
}

func (b *browser) get(u string) page {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// hidden returns the hidden fields of a page's forms.
func hidden(body string) url.Values { return testserver.Hidden(body) }

// signIn runs the browser side of the code flow from authURL: the console's login page,
// then, when shown, the chooser with choice. It returns the redirect to the application.
func (b *browser) signIn(s *server, authURL, email string, choice *app.OIDCChoice) *url.URL {
	b.t.Helper()
	p := b.get(authURL)
	if p.Status == http.StatusOK && p.URL.Path == "/login" {
		form := hidden(p.Body)
		form.Set("email", email)
		form.Set("password", testenv.Password)
		p = b.post(s.URL+"/login", form)
	}
	if p.Status == http.StatusOK && p.URL.Path == "/oidc/continue" {
		if choice == nil {
			b.t.Fatalf("the chooser was shown: %s", p.Body)
		}
		form := hidden(p.Body)
		form.Set("organization", choice.OrgID)
		form.Set("store", choice.StoreID)
		p = b.post(s.URL+"/oidc/continue", form)
	}
	if p.Status != http.StatusFound || !strings.HasPrefix(p.Location, b.redirect) {
		b.t.Fatalf("sign-in ended at %s with %d, location %q: %.600s", p.URL, p.Status, p.Location, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// claims decodes a JWT's payload (verified elsewhere).
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// call sends a request with a bearer token and decodes the JSON answer.
func call(t *testing.T, method, u, bearer string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

// introspect asks the provider about a token as a client.
func introspect(t *testing.T, s *server, cfg oauth2.Config, tok string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/oidc/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	m := map[string]any{}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("introspection answered %d", res.StatusCode)
	}
	_ = json.NewDecoder(res.Body).Decode(&m)
	return m
}

// oauthCode returns the OAuth error code of a token endpoint refusal.
func oauthCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

func ctx(testing.TB) context.Context { return context.Background() }

// login signs the browser in on the console's login page.
func (b *browser) login(s *server, email string) {
	b.t.Helper()
	p := b.post(s.URL+"/login", url.Values{"email": {email}, "password": {testenv.Password}, "next": {"/"}})
	if p.Status != http.StatusOK || p.URL.Path != "/" {
		b.t.Fatalf("login: %d %s", p.Status, p.URL)
	}
}

// count runs a COUNT query on the server's database.
func (s *server) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := testenv.SQL(t, s.Engine, s.Env.URL).QueryRow(testenv.Rebind(s.Engine, query), args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
