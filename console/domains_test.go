package console_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/internal/testenv"
)

// TestDomainsPage: an owner adds a domain, reads the TXT record to publish, fails to verify it
// before it is published, verifies it against the test's DNS server, and sets its join
// policy to automatic; a person who signs up at that domain and verifies their address lands
// in the organization. Set to suggest, the next person is offered to join on their home page,
// asks, and lands in the organization once the owner approves.
func TestDomainsPage(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		cat := catalogs[lang]
		owner := s.browser(t, "owner", lang)
		owner.signup("Dana Owner", addr("dana"))
		orgName := "Zorblat " + testenv.Unique()
		orgID := owner.createOrg(orgName)
		owner.open("/orgs/" + orgID + "/domains")
		owner.expect("main", cat["domains.empty"])

		domain := "d" + testenv.Unique() + ".example"
		owner.fill("#d-domain", "gmail.com")
		owner.submit("[data-testid=add-domain]")
		owner.expect("#err-domain", cat["error.free_email_provider_blocked"])
		owner.fill("#d-domain", strings.ToUpper(domain)+".")
		owner.submit("[data-testid=add-domain]")
		owner.noError()
		owner.expect(".flash.success", cat["flash.domain_added"])
		name, value := owner.text("[data-testid=record-name]"), owner.text("[data-testid=record-value]")
		if name != "_roster-verification."+domain || !strings.HasPrefix(value, "roster-verification=") || len(value) < 40 {
			t.Fatalf("the record shown is %q = %q", name, value)
		}
		owner.submit("[data-testid=verify-domain]")
		owner.expect(".flash.error", cat["error.domain_verification_failed"])
		owner.expect("[data-testid=domain-status]", cat["domains.status.pending"])

		s.dns.SetTXT(name, value)
		owner.submit("[data-testid=verify-domain]")
		owner.noError()
		owner.expect(".flash.success", cat["flash.domain_verified"])
		owner.expect("[data-testid=domain-status]", cat["domains.status.verified"])
		owner.fill("[data-testid=join-policy]", "automatic")
		owner.submit("[data-testid=save-join]")
		owner.noError()
		owner.expect(".flash.success", cat["flash.domain_saved"])
		if got := owner.value("[data-testid=join-policy]"); got != "automatic" {
			t.Fatalf("the join policy shows %q", got)
		}

		joiner := s.browser(t, "joiner", lang)
		email := "jo." + testenv.Unique() + "@" + domain
		joiner.signup("Jo Joiner", email)
		joiner.open(s.link(t, s.mail(t, email, "verify_email"), console.Pages.VerifyEmail))
		joiner.submit(`form[action="/verify-email"] button[type=submit]`)
		joiner.noError()
		joiner.open("/")
		joiner.expect("body", orgName)
		if n := s.env.Int(t, `SELECT COUNT(*) FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND u.email = ? AND m.role = 'member'`, orgID, email); n != 1 {
			t.Fatalf("the new sign-up is not a member (%d)", n)
		}

		owner.fill("[data-testid=join-policy]", "suggest")
		owner.submit("[data-testid=save-join]")
		owner.noError()
		asker := s.browser(t, "asker", lang)
		askerEmail := "al." + testenv.Unique() + "@" + domain
		asker.signup("Al Asker", askerEmail)
		asker.open(s.link(t, s.mail(t, askerEmail, "verify_email"), console.Pages.VerifyEmail))
		asker.submit(`form[action="/verify-email"] button[type=submit]`)
		asker.noError()
		asker.open("/")
		asker.expect("[data-testid=join-suggestions]", strings.NewReplacer("{org}", orgName, "{domain}", domain).Replace(cat["join.suggest"]))
		asker.submit("[data-testid=request-join]")
		asker.noError()
		asker.expect(".flash.success", cat["flash.join_requested"])
		asker.expect("[data-testid=join-requested]", cat["join.requested"])
		owner.open("/orgs/" + orgID + "/domains")
		owner.expect("[data-testid=join-requests]", askerEmail)
		owner.submit("[data-testid=approve-join]")
		owner.noError()
		owner.expect(".flash.success", cat["flash.join_approved"])
		asker.open("/")
		asker.expect("body", orgName)
		if n := asker.count("[data-testid=join-suggestions]"); n != 0 {
			t.Fatal("a member is still offered to join")
		}

		// Removing the domain asks first; Cancel keeps it, the confirmation removes it.
		owner.open("/orgs/" + orgID + "/domains")
		owner.popup("[data-testid=remove-domain]")
		owner.expect("#modal dialog[open]", strings.ReplaceAll(cat["domains.remove_title"], "{domain}", domain))
		owner.oneClose()
		owner.click("#modal dialog[open] a.secondary")
		owner.settle(`!document.querySelector("#modal dialog[open]")`)
		if n := owner.count("[data-testid=remove-domain]"); n != 1 {
			t.Fatal("Cancel removed the domain")
		}
		owner.popup("[data-testid=remove-domain]")
		owner.submit("[data-testid=confirm-remove-domain]")
		owner.noError()
		owner.expect(".flash.success", cat["flash.domain_removed"])
		if n := owner.count("[data-testid=remove-domain]"); n != 0 {
			t.Fatal("the confirmed removal left the domain")
		}
	})
}

// joinRequestOf gives an organization a verified domain that suggests joining, and a request
// to join from a person with a proven address there; it returns their IDs.
func joinRequestOf(t *testing.T, s *site, owner roster.Actor, orgID string) (domainID, requestID string) {
	t.Helper()
	a := s.env.App
	d, err := a.Domains.Add(testenv.Ctx, owner, orgID, "d"+testenv.Unique()+".example")
	if err == nil {
		s.dns.SetTXT(d.RecordName(), d.RecordValue())
		d, err = a.Domains.Verify(testenv.Ctx, owner, orgID, d.ID)
	}
	if err == nil {
		_, err = a.Domains.SetJoin(testenv.Ctx, owner, orgID, d.ID, roster.JoinSuggest, roster.OrgMember)
	}
	email := "asker@" + d.Domain
	if err == nil {
		err = a.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: email, Name: "Asker", Password: testenv.Password})
	}
	if err == nil {
		_, err = a.Accounts.VerifyEmail(testenv.Ctx, anon(), testenv.Token(s.mail(t, email, "verify_email")))
	}
	var r roster.JoinRequest
	if err == nil {
		r, err = a.Domains.RequestToJoin(testenv.Ctx, mustActor(t, s, email), orgID)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d.ID, r.ID
}
