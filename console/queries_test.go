package console_test

import (
	"net/http"
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

// membersPageReads bounds the queries of an organization's members page, measured once the
// access was derived once per request: the browser's identities (1), the workspace (5:
// organizations, their stores, the user's store memberships, the permission catalog, the
// selection), the member listing (3: the page of members, then the names of their stores and
// who has a second factor, one query each for the whole page) and the store roles (2). It was
// 23 before (35 with five identities).
const membersPageReads = 11

// counted GETs a page with the statements of the request counted.
func counted(t *testing.T, s *site, c *http.Client, path string) (reads, writes int64, page string) {
	t.Helper()
	id := testenv.Unique()
	res, page := do(t, c, "GET", s.url+path, nil, map[string]string{"X-Test-Count": id})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, page)
	}
	v, ok := s.counts.Load(id)
	if !ok {
		t.Fatalf("GET %s was not counted", path)
	}
	n := v.(*sqlstore.QueryCount)
	return n.Reads(), n.Writes(), page
}

// steadily counts a page's queries as counted does, after a first view that may record the
// session's use (at most once a minute), while the shared site's clock stands still: other
// tests on the site move it (resends wait a minute), and a minute passed makes the session's
// use due again. It tries again when the clock moved, a few times.
func steadily(t *testing.T, s *site, c *http.Client, path string) (reads, writes int64, page string) {
	t.Helper()
	for range 5 {
		before := s.env.Clock.Now()
		counted(t, s, c, path)
		reads, writes, page = counted(t, s, c, path)
		if s.env.Clock.Now().Equal(before) {
			return reads, writes, page
		}
	}
	t.Fatal("the shared site's clock kept moving")
	return
}

// consoleLogin signs in through the console's login form; with a browser signed in already
// it adds an identity ("add account"), which becomes the active one.
func consoleLogin(t *testing.T, s *site, c *http.Client, email string) {
	t.Helper()
	form := url.Values{"email": {email}, "password": {testenv.Password}}
	if _, page := do(t, c, "GET", s.url+"/login?add=1", nil, nil); csrfField.MatchString(page) {
		form.Set("csrf", csrfField.FindStringSubmatch(page)[1])
	}
	if res, page := do(t, c, "POST", s.url+"/login", form, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("log in %s: %d\n%s", email, res.StatusCode, page)
	}
}

// csrfOf returns the form token of a page.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no form token on the page")
	}
	return m[1]
}

var switchButton = regexp.MustCompile(`data-testid="switch-account"`)

// TestPageQueriesDoNotGrowWithIdentities proves that a page derives the user's access once:
// the members page runs at most membersPageReads queries and writes nothing, and exactly as
// many with five identities signed in in the browser as with one.
func TestPageQueriesDoNotGrowWithIdentities(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := sharedSiteOf(t, e)
		owner, ou := s.env.User(t, "Quinn")
		org := s.env.Org(t, owner, "Counted")
		st := s.env.Store(t, owner, org.ID, "Only store")
		for _, name := range []string{"Ann", "Ben", "Cy"} {
			_, u := s.env.User(t, name)
			s.env.Join(t, owner, org.ID, u, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: roster.StoreRoleViewer})
		}
		c := client(t)
		consoleLogin(t, s, c, ou.Email)
		path := "/orgs/" + org.ID + "/members"
		reads1, writes1, page := steadily(t, s, c, path)
		if n := len(switchButton.FindAllString(page, -1)); n != 0 {
			t.Fatalf("one identity: %d others offered", n)
		}

		for _, name := range []string{"Dee", "Eve", "Flo", "Gus"} {
			_, u := s.env.User(t, name)
			consoleLogin(t, s, c, u.Email)
		}
		_, _, page = counted(t, s, c, "/")
		if res, _ := do(t, c, "POST", s.url+"/accounts/switch", url.Values{"user": {ou.ID}, "csrf": {csrfOf(t, page)}}, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("switch back to the owner: %d", res.StatusCode)
		}
		reads5, writes5, page := steadily(t, s, c, path)
		if n := len(switchButton.FindAllString(page, -1)); n != 4 || !strings.Contains(page, "Quinn") {
			t.Fatalf("five identities: %d others offered, want 4", n)
		}
		t.Logf("members page: %d reads, %d writes with one identity; %d reads, %d writes with five", reads1, writes1, reads5, writes5)
		if reads5 != reads1 || writes5 != writes1 {
			t.Errorf("the members page costs %d reads and %d writes with five identities, %d and %d with one", reads5, writes5, reads1, writes1)
		}
		if reads1 > membersPageReads || writes1 != 0 {
			t.Errorf("the members page costs %d reads and %d writes, want at most %d reads and no write", reads1, writes1, membersPageReads)
		}
	})
}

// TestBackgroundIdentityExpires proves that an identity left in the background of a browser
// is listed without being used: while the browser keeps working as another identity, the
// background session still ends after the idle limit, and is no longer offered.
func TestBackgroundIdentityExpires(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSite(t, e) // of its own: the test moves the clock by days
		_, bu := s.env.User(t, "Bea")
		_, au := s.env.User(t, "Abe")
		c := client(t)
		consoleLogin(t, s, c, bu.Email)
		bToken := sessionToken(t, s, c)
		consoleLogin(t, s, c, au.Email) // Abe is active, Bea in the background

		idle := s.env.App.Config().SessionIdle
		step := idle / 4
		for elapsed := time.Duration(0); elapsed < idle; elapsed += step {
			_, _, page := counted(t, s, c, "/account")
			if elapsed < idle-step && !strings.Contains(page, bu.Email) {
				t.Fatalf("after %s Bea is no longer offered", elapsed)
			}
			s.env.Clock.Advance(step)
		}
		_, _, page := counted(t, s, c, "/account")
		if strings.Contains(page, bu.Email) || switchButton.MatchString(page) {
			t.Fatalf("after %s of Abe's use, Bea's idle session is still offered", idle)
		}
		if !strings.Contains(page, au.Email) {
			t.Fatal("Abe's session, in use, ended")
		}
		if _, err := s.env.App.Auth.Authenticate(testenv.Ctx, bToken, "192.0.2.1", "test"); testenv.Code(err) != roster.EUnauthenticated {
			t.Fatalf("Bea's idle session still authenticates: %v", err)
		}
	})
}

// sessionToken returns the token of the browser's active session.
func sessionToken(t *testing.T, s *site, c *http.Client) string {
	t.Helper()
	u, _ := url.Parse(s.url)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "roster_session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}
