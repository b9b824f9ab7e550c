package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestOrganizationRequiringTwoFactor: on the Policy tab the owner is told, in place and in
// their language, to set up a second factor before requiring one; once they have, the switch
// saves; a member without one who opens the organization is sent to their account's
// two-factor section with a message, while their own organization still opens.
func TestOrganizationRequiringTwoFactor(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSite(t, e)
		ownerEmail, memberEmail := addr("olga"), addr("mia")
		for _, em := range []string{ownerEmail, memberEmail} {
			if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: em, Name: "N", Password: testenv.Password, Locale: "fr"}); err != nil {
				t.Fatal(err)
			}
		}
		owner, member := mustActor(t, s, ownerEmail), mustActor(t, s, memberEmail)
		org := s.env.Org(t, owner, "Acme")
		mine := s.env.Org(t, member, "Mia")
		memberUser, err := s.env.App.Accounts.Me(testenv.Ctx, member)
		if err != nil {
			t.Fatal(err)
		}
		s.env.Join(t, owner, org.ID, memberUser, roster.OrgMember)

		signIn := func(email string) *http.Client {
			c := client(t)
			if res, _ := do(t, c, "POST", s.url+"/login", url.Values{"email": {email}, "password": {testenv.Password}}, nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("login %s: %d", email, res.StatusCode)
			}
			return c
		}
		policy := func(c *http.Client) (*http.Response, string) {
			_, page := do(t, c, "GET", s.url+"/orgs/"+org.ID+"/policy", nil, nil)
			form := url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}, "ttl_days": {"7"}, "require_two_factor": {"on"}}
			return do(t, c, "POST", s.url+"/orgs/"+org.ID+"/policy", form, nil)
		}
		oc := signIn(ownerEmail)
		res, page := policy(oc)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, catalogs["fr"]["error.two_factor_first"]) || !strings.Contains(page, `id="err-require_two_factor"`) {
			t.Fatalf("turning it on without a factor: %d %.400s", res.StatusCode, page)
		}
		s.enrollTOTP(t, owner)
		if res, _ := policy(oc); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("turning it on with a factor: %d", res.StatusCode)
		}
		// The account page says since when, and when a code was last accepted.
		if _, page := do(t, oc, "GET", s.url+"/account", nil, nil); !strings.Contains(page, `data-testid="two-factor-dates"`) || !strings.Contains(page, "Configurée le") {
			t.Fatalf("the account page does not date the authenticator: %.300s", page)
		}

		mc := signIn(memberEmail)
		res, _ = do(t, mc, "GET", s.url+"/orgs/"+org.ID, nil, nil) // the organization's first tab
		if res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/orgs/"+org.ID+"/") {
			res, _ = do(t, mc, "GET", s.url+res.Header.Get("Location"), nil, nil)
		}
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account?ok=two_factor_required#two-factor" {
			t.Fatalf("a member without a factor opening Acme: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		if _, page := do(t, mc, "GET", s.url+"/account?ok=two_factor_required", nil, nil); !strings.Contains(page, catalogs["fr"]["flash.two_factor_required"]) {
			t.Fatalf("the account page does not say why: %.400s", page)
		}
		if res, _ := do(t, mc, "GET", s.url+"/orgs/"+mine.ID+"/usage", nil, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("their own organization: %d", res.StatusCode)
		}
	})
}
