package console_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
)

// TestSetupLinkPages: the owner makes a setup link on the Security tab and reads its address,
// shown once; an IT administrator without an account opens it in a browser of their own and,
// on pages that show the organization's name and nothing else of it, verifies a domain and
// creates a SCIM directory; the organization's other pages stay closed to them; once the owner
// revokes the link, its pages say so, reloaded or not; the audit log names the link as actor.
func TestSetupLinkPages(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		cat := catalogs[lang]
		owner := s.browser(t, "owner", lang)
		owner.signup("Ilse Owner", addr("ilse"))
		orgName := "Itco " + testenv.Unique()
		orgID := owner.createOrg(orgName)
		owner.open("/orgs/" + orgID + "/domains")
		owner.submit("[data-testid=setup-links-tab]")
		owner.expect("main", cat["setup_links.empty"])
		owner.expect("[data-testid=step-up-fresh]", cat["stepup.fresh"]) // just signed up: no proof asked
		owner.submit("[data-testid=create-setup-link]")
		owner.noError()
		owner.expect("#modal dialog[open] h2", cat["setup_links.made_title"])
		owner.screenshot("setup-link-created")
		link, err := url.Parse(owner.value("[data-testid=setup-link-url]"))
		if err != nil || link.Path != "/it-setup" || !strings.HasPrefix(link.Query().Get("token"), "rsetup_") {
			t.Fatalf("the setup link %v: %v", link, err)
		}
		owner.open("/orgs/" + orgID + "/setup-links")
		if strings.Contains(owner.text("main"), link.Query().Get("token")) || owner.count("[data-testid=revoke-setup-link]") != 1 {
			t.Fatal("the link is shown again, or not listed")
		}

		// The IT administrator: the link's pages, the organization's name, nothing else.
		it := s.browser(t, "it", lang)
		it.open(link.RequestURI())
		if p := it.path(); p != "/it-setup/domains" {
			t.Fatalf("the link opened %s", p)
		}
		it.expect("[data-testid=setup-portal] h1", strings.ReplaceAll(cat["setup_link.portal_title"], "{org}", orgName))
		if n := it.count(`a[href^="/orgs/"], [data-testid=setup-links-tab], [data-testid=join-requests]`); n != 0 {
			t.Fatalf("%d links to the organization's other pages on the setup page", n)
		}
		// By keyboard only: Tab from the top of the page to the domain field, type, Enter.
		domain := "it" + testenv.Unique() + ".example"
		for i := 0; it.active() != "d-domain"; i++ {
			if i > 30 {
				t.Fatalf("Tab never reached the domain field (at %q)", it.active())
			}
			it.key(kb.Tab)
		}
		it.must(chromedp.Do(it.ctx, chromedp.KeyEvent(domain)))
		it.key(kb.Enter)
		it.settle(`document.querySelector(".flash.success")`)
		it.noError()
		it.expect(".flash.success", cat["flash.domain_added"])
		it.must(chromedp.Do(it.ctx, chromedp.Reload())) // a reload shows the page, never posts again
		it.settle(`location.pathname === "/it-setup/domains"`)
		if n := it.count("[data-domain]"); n != 1 {
			t.Fatalf("%d domains after a reload", n)
		}
		s.dns.SetTXT(it.text("[data-testid=record-name]"), it.text("[data-testid=record-value]"))
		it.submit("[data-testid=verify-domain]")
		it.noError()
		it.expect("[data-testid=domain-status]", cat["domains.status.verified"])
		it.screenshot("it-setup-domains")

		it.submit("[data-testid=portal-next]") // the guided steps: domains, then single sign-on, then SCIM
		it.noError()
		if p := it.path(); p != "/it-setup/sso" {
			t.Fatalf("the next step after the domains is %s", p)
		}
		if it.count("#sso-mappings") != 0 {
			t.Fatal("the setup page shows the single sign-on role mappings (stores and roles)")
		}
		it.submit("[data-testid=portal-next]")
		it.fill("#scim-name", "Okta")
		it.submit("[data-testid=create-directory]")
		it.noError()
		if token := it.value("[data-testid=scim-token]"); !strings.HasPrefix(token, "rscim_") {
			t.Fatalf("the directory's token %q", token)
		}
		it.open("/it-setup/scim")
		it.expect("[data-directory=Okta]", cat["setup_link.groups_owner"])

		// The organization's own pages: the link is no session.
		it.open("/orgs/" + orgID + "/members")
		if p := it.path(); !strings.HasPrefix(p, "/login") {
			t.Fatalf("the organization's members page led the IT administrator to %s", p)
		}

		// The owner sees who did it, and revokes the link.
		owner.open("/orgs/" + orgID + "/sso")
		if owner.count("#sso-mappings") != 1 {
			t.Fatal("the owner's single sign-on page has no role mappings")
		}
		owner.open("/orgs/" + orgID + "/audit")
		owner.expect("main", cat["actor.setup_link"])
		owner.open("/orgs/" + orgID + "/domains")
		owner.expect(`[data-domain="`+domain+`"] [data-testid=domain-status]`, cat["domains.status.verified"])
		owner.open("/orgs/" + orgID + "/setup-links")
		owner.submit("[data-testid=revoke-setup-link]")
		owner.noError()
		owner.expect(".flash.success", cat["flash.setup_link_revoked"])
		owner.expect("main", cat["setup_links.empty"])

		it.open("/it-setup/domains")
		it.expect("main", cat["error.token_expired"])
		it.open(link.RequestURI())
		it.expect("main", cat["error.token_expired"])
	})
}

// TestSetupLinkStepUp: once the login's proof has aged, making a setup link asks for the
// password (the account has no second factor); a wrong one is refused beside the field, in
// words about that password, not a login's "email or password".
func TestSetupLinkStepUp(t *testing.T) {
	chromium(t)
	languagesAlone(t, func(t *testing.T, s *site, lang string) {
		cat := catalogs[lang]
		owner := s.browser(t, "owner", lang)
		owner.signup("Sten Owner", addr("sten"))
		orgID := owner.createOrg("Stepco " + testenv.Unique())
		s.env.Clock.Advance(app.StepUpWindow + time.Second)
		owner.open("/orgs/" + orgID + "/setup-links")
		if owner.count("#sl-password") != 1 {
			t.Fatal("no password asked ten minutes after the login")
		}
		owner.fill("#sl-password", "not the password at all")
		owner.submit("[data-testid=create-setup-link]")
		owner.expect("#err-password", cat["error.invalid_credentials.password"])
		if owner.count("#modal dialog[open]") != 0 {
			t.Fatal("a link was made with a wrong password")
		}
		owner.fill("#sl-password", testenv.Password)
		owner.submit("[data-testid=create-setup-link]")
		owner.noError()
		if u := owner.value("[data-testid=setup-link-url]"); !strings.Contains(u, "/it-setup?token=rsetup_") {
			t.Fatalf("the link made after the step-up: %q", u)
		}
	})
}
