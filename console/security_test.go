package console_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// client is a browser-like HTTP client with cookies that does not follow redirects.
func client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, c *http.Client, method, u string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// TestFormsRefuseForgery proves that a state change needs a same-site request carrying the
// signed-in identity's form token, and that pages carry the security headers.
func TestFormsRefuseForgery(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := sharedSiteOf(t, e)
		email := addr("sam")
		if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: email, Name: "Sam", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		c := client(t)
		res, _ := do(t, c, "POST", s.url+"/login", url.Values{"email": {email}, "password": {testenv.Password}}, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", res.StatusCode)
		}
		for _, ck := range res.Cookies() {
			if ck.Name == "roster_session" && (!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/") {
				t.Fatalf("session cookie flags: %+v", ck)
			}
		}

		res, page := do(t, c, "GET", s.url+"/orgs/new", nil, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("new organization page: %d", res.StatusCode)
		}
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("Content-Security-Policy: %q", csp)
		}
		for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
			"X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
		if strings.Contains(page, "<script>") || strings.Contains(page, " style=") || strings.Contains(page, " onclick=") {
			t.Error("the page has inline script or style, which the CSP forbids")
		}
		m := csrfField.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no form token on the page")
		}
		token := m[1]

		create := func(form url.Values, header map[string]string) int {
			res, _ := do(t, c, "POST", s.url+"/orgs/new", form, header)
			return res.StatusCode
		}
		// A form posted from another site is refused, even with the token.
		if got := create(url.Values{"name": {"Evil"}, "csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); got != http.StatusForbidden {
			t.Errorf("cross-site post: %d, want 403", got)
		}
		// A form without the token, or with a wrong one, is refused.
		if got := create(url.Values{"name": {"No token"}}, nil); got != http.StatusForbidden {
			t.Errorf("post without a token: %d, want 403", got)
		}
		if got := create(url.Values{"name": {"Bad token"}, "csrf": {strings.Repeat("0", len(token))}}, nil); got != http.StatusForbidden {
			t.Errorf("post with a wrong token: %d, want 403", got)
		}
		// A state change never happens on GET.
		if res, _ := do(t, c, "GET", s.url+"/logout", nil, nil); res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /logout: %d, want 405", res.StatusCode)
		}
		affs, err := s.env.App.Accounts.Organizations(testenv.Ctx, mustActor(t, s, email))
		if err != nil || len(affs) != 0 {
			t.Fatalf("a refused post created something: %v %d", err, len(affs))
		}
		// The same-site post with the token works.
		if got := create(url.Values{"name": {"Good"}, "csrf": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": s.url}); got != http.StatusSeeOther {
			t.Errorf("same-site post with the token: %d, want 303", got)
		}
		// The API ignores the console's cookies: one bearer token, one identity.
		if res, _ := do(t, c, "GET", s.url+"/v1/me", nil, nil); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /v1/me with the console's cookies only: %d, want 401", res.StatusCode)
		}
		// A form left open under one identity cannot post once another one is active.
		other := addr("sue")
		if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: other, Name: "Sue", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		res, _ = do(t, c, "POST", s.url+"/login", url.Values{"email": {other}, "password": {testenv.Password}, "csrf": {token}}, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("add account: %d", res.StatusCode)
		}
		if got := create(url.Values{"name": {"Stale"}, "csrf": {token}}, nil); got != http.StatusForbidden {
			t.Errorf("post with the other identity's token: %d, want 403", got)
		}
		_, page = do(t, c, "GET", s.url+"/account", nil, nil)
		if !strings.Contains(page, "Sam") || !strings.Contains(page, "Sue") {
			t.Error("the account page does not list both identities signed in in this browser")
		}

		// Signed out, pages that need an account send to the login page.
		anonClient := client(t)
		if res, _ := do(t, anonClient, "GET", s.url+"/account", nil, nil); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Errorf("signed-out account page: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		// Operator pages do not exist for others.
		if res, _ := do(t, c, "GET", s.url+"/operator/users", nil, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("operator page for a user: %d, want 404", res.StatusCode)
		}
		// An open redirect through ?next= is not possible.
		res, _ = do(t, anonClient, "POST", s.url+"/login", url.Values{"email": {email}, "password": {testenv.Password}, "next": {"//evil.example/x"}}, nil)
		if loc := res.Header.Get("Location"); loc != "/" {
			t.Errorf("login with next=//evil.example: redirected to %q", loc)
		}
	})
}

// TestAuditTabRefusesBadFilters: the audit tab and its downloads check their text filters
// like the API: bytes that are not UTF-8 and control characters get a 422 page, never a 500
// or a download cut short.
func TestAuditTabRefusesBadFilters(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSite(t, e)
		email := addr("olivia")
		if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: email, Name: "Olivia", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		org := s.env.Org(t, mustActor(t, s, email), "Acme")
		c := client(t)
		if res, _ := do(t, c, "POST", s.url+"/login", url.Values{"email": {email}, "password": {testenv.Password}}, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", res.StatusCode)
		}
		for _, path := range []string{"/audit?", "/audit/export?format=csv&", "/audit/export?format=jsonl&"} {
			for _, q := range []string{"action=%FF", "action=member.%C3", "actor=%FF", "action=a%00b"} {
				if res, _ := do(t, c, "GET", s.url+"/orgs/"+org.ID+path+q, nil, nil); res.StatusCode != http.StatusUnprocessableEntity {
					t.Errorf("%s%s: %d, want 422", path, q, res.StatusCode)
				}
			}
			if res, _ := do(t, c, "GET", s.url+"/orgs/"+org.ID+path+"action=organization.created", nil, nil); res.StatusCode != http.StatusOK {
				t.Errorf("%s with a good filter: %d", path, res.StatusCode)
			}
		}
	})
}

// TestDeleteOrganizationAsksForPassword: ten minutes after logging in, the console deletes an
// organization only with the owner's password (a step-up: app/stepup.go).
func TestDeleteOrganizationAsksForPassword(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSite(t, e)
		email := addr("olivia")
		if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: email, Name: "Olivia", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		org := s.env.Org(t, mustActor(t, s, email), "Acme Widgets")
		c := client(t)
		if res, _ := do(t, c, "POST", s.url+"/login", url.Values{"email": {email}, "password": {testenv.Password}}, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", res.StatusCode)
		}
		s.env.Clock.Advance(app.StepUpWindow + time.Second)
		res, page := do(t, c, "GET", s.url+"/orgs/"+org.ID+"/delete", nil, nil)
		m := csrfField.FindStringSubmatch(page)
		if res.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("delete page: %d, form token %v", res.StatusCode, m != nil)
		}
		for what, form := range map[string]url.Values{
			"no password":    {"confirm_name": {"Acme Widgets"}, "csrf": {m[1]}},
			"empty password": {"confirm_name": {"Acme Widgets"}, "password": {""}, "csrf": {m[1]}},
			"wrong password": {"confirm_name": {"Acme Widgets"}, "password": {"not my password at all"}, "csrf": {m[1]}},
		} {
			res, page := do(t, c, "POST", s.url+"/orgs/"+org.ID+"/delete", form, nil)
			if res.StatusCode == http.StatusSeeOther || !strings.Contains(page, `id="d-password" name="password" type="password" autocomplete="current-password" required aria-invalid="true"`) {
				t.Errorf("%s: %d, the form is not shown again with the password marked", what, res.StatusCode)
			}
			if _, err := s.env.App.Organizations.Get(testenv.Ctx, mustActor(t, s, email), org.ID); err != nil {
				t.Fatalf("%s: the organization is gone: %v", what, err)
			}
		}
		form := url.Values{"confirm_name": {"Acme Widgets"}, "password": {testenv.Password}, "csrf": {m[1]}}
		if res, _ := do(t, c, "POST", s.url+"/orgs/"+org.ID+"/delete", form, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete with the password: %d", res.StatusCode)
		}
		if _, err := s.env.App.Organizations.Get(testenv.Ctx, mustActor(t, s, email), org.ID); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("after deletion: %v", err)
		}
	})
}
