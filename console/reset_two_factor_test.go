package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestResetMemberTwoFactor: the members tab marks who has a second factor; the owner resets a
// member's from the row's menu, after a pop-up that says what goes, and is told it is done in
// their language; a member whose account other organizations share is refused with a message
// that says why and what the member can do instead, and keeps their factor.
func TestResetMemberTwoFactor(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSite(t, e)
		cat := catalogs["es"]
		ownerEmail, miaEmail, samEmail := addr("olga"), addr("mia"), addr("sam")
		for _, em := range []string{ownerEmail, miaEmail, samEmail} {
			if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: em, Name: strings.Split(em, ".")[0], Password: testenv.Password, Locale: "es"}); err != nil {
				t.Fatal(err)
			}
		}
		owner, mia, sam := mustActor(t, s, ownerEmail), mustActor(t, s, miaEmail), mustActor(t, s, samEmail)
		org := s.env.Org(t, owner, "Acme")
		for _, a := range []roster.Actor{mia, sam} {
			u, err := s.env.App.Accounts.Me(testenv.Ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			s.env.Join(t, owner, org.ID, u, roster.OrgMember)
			s.enrollTOTP(t, a)
		}
		s.env.Org(t, sam, "Sam's own") // Sam's account is not Acme's alone

		c := client(t)
		if res, _ := do(t, c, "POST", s.url+"/login", url.Values{"email": {ownerEmail}, "password": {testenv.Password}}, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", res.StatusCode)
		}
		members := s.url + "/orgs/" + org.ID + "/members"
		_, page := do(t, c, "GET", members, nil, nil)
		if n := strings.Count(page, `data-testid="two-factor-badge"`); n != 2 {
			t.Fatalf("%d members marked with a second factor, want 2", n)
		}
		if !strings.Contains(page, "/members/"+mia.UserID+"/two-factor-reset") {
			t.Fatal("no reset in Mia's menu")
		}
		// Domains, single sign-on and SCIM are the pages of one Security tab.
		if !regexp.MustCompile(`href="/orgs/` + org.ID + `/domains"\s+data-testid="security-tab"`).MatchString(page) {
			t.Fatalf("no Security tab leading to the domains: %.300s", page)
		}
		_, scim := do(t, c, "GET", s.url+"/orgs/"+org.ID+"/scim", nil, nil)
		if !regexp.MustCompile(`aria-current="page"\s+data-testid="security-tab"`).MatchString(scim) || !regexp.MustCompile(`aria-current="page"\s+data-testid="scim-tab"`).MatchString(scim) ||
			!strings.Contains(scim, `data-testid="sso-tab"`) {
			t.Fatal("on the SCIM page, Security is not the current tab with SCIM its current page")
		}

		_, dialog := do(t, c, "GET", members+"/"+mia.UserID+"/two-factor-reset", nil, nil)
		if !strings.Contains(html.UnescapeString(dialog), strings.ReplaceAll(cat["members.reset_factors_text"], "{email}", miaEmail)) {
			t.Fatalf("the pop-up does not say what goes: %.600s", dialog)
		}
		reset := func(userID string) (*http.Response, string) {
			form := url.Values{"csrf": {csrfField.FindStringSubmatch(dialog)[1]}}
			return do(t, c, "POST", members+"/"+userID+"/two-factor-reset", form, nil)
		}
		res, _ := reset(mia.UserID)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/orgs/"+org.ID+"/members?ok=two_factor_reset" {
			t.Fatalf("reset: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		_, page = do(t, c, "GET", s.url+res.Header.Get("Location"), nil, nil)
		if !strings.Contains(html.UnescapeString(page), cat["flash.two_factor_reset"]) || strings.Count(page, `data-testid="two-factor-badge"`) != 1 {
			t.Fatalf("after the reset: %.600s", page)
		}

		res, page = reset(sam.UserID)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(page), cat["error.account_not_managed"]) {
			t.Fatalf("a shared account: %d %.600s", res.StatusCode, page)
		}
		if on := s.env.Int(t, `SELECT COUNT(*) FROM user_totp WHERE user_id = ? AND confirmed_at IS NOT NULL`, sam.UserID); on != 1 {
			t.Fatal("the refused reset removed Sam's authenticator")
		}
	})
}

// TestOperatorResetsFactors: the operator's user list offers a reset to users with a second
// factor only; after a pop-up that says what goes, the user's factors are gone and the
// operator is told, in their language.
func TestOperatorResetsFactors(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSite(t, e)
		cat := catalogs["fr"]
		opEmail, userEmail, plainEmail := addr("opal"), addr("ulla"), addr("paul")
		for _, em := range []string{opEmail, userEmail, plainEmail} {
			if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: em, Name: strings.Split(em, ".")[0], Password: testenv.Password, Locale: "fr"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.env.App.Operator.CreateOperator(testenv.Ctx, roster.System(), opEmail, ""); err != nil {
			t.Fatal(err)
		}
		ulla := mustActor(t, s, userEmail)
		s.enrollTOTP(t, ulla)

		c := client(t)
		if res, _ := do(t, c, "POST", s.url+"/login", url.Values{"email": {opEmail}, "password": {testenv.Password}}, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", res.StatusCode)
		}
		_, page := do(t, c, "GET", s.url+"/operator/users", nil, nil)
		if n := strings.Count(page, `data-testid="reset-factors"`); n != 1 || !strings.Contains(page, "reset="+ulla.UserID) {
			t.Fatalf("%d resets offered, want Ulla's alone", n)
		}
		_, dialog := do(t, c, "GET", s.url+"/operator/users?reset="+ulla.UserID, nil, nil)
		if !strings.Contains(html.UnescapeString(dialog), strings.ReplaceAll(cat["operator.reset_factors_text"], "{email}", userEmail)) {
			t.Fatalf("the pop-up does not say what goes: %.600s", dialog)
		}
		res, _ := do(t, c, "POST", s.url+"/operator/users/"+ulla.UserID+"/reset-factors", url.Values{"csrf": {csrfField.FindStringSubmatch(dialog)[1]}}, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/operator/users?ok=operator_factors_reset" {
			t.Fatalf("reset: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		if _, page := do(t, c, "GET", s.url+res.Header.Get("Location"), nil, nil); !strings.Contains(html.UnescapeString(page), cat["flash.operator_factors_reset"]) {
			t.Fatalf("no notice after the reset: %.600s", page)
		}
		if n := s.env.Int(t, `SELECT COUNT(*) FROM user_totp WHERE user_id = ?`, ulla.UserID); n != 0 {
			t.Fatal("the authenticator is still there")
		}
	})
}

// enrollTOTP sets up an authenticator app for a signed-in person, with codes made by
// pquerna/otp as the app would make them.
func (s *site) enrollTOTP(t *testing.T, actor roster.Actor) {
	t.Helper()
	setup, err := s.env.App.MFA.BeginTOTP(testenv.Ctx, actor, "")
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(setup.Secret, s.env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.env.App.MFA.ConfirmTOTP(testenv.Ctx, actor, code); err != nil {
		t.Fatal(err)
	}
}
