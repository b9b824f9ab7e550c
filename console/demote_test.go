package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
)

// TestSelfDemotionConfirms: an admin who makes themselves a member is warned first, by
// keyboard on a phone, and after confirming lands on a page the member role may see, with
// one notice and no error.
func TestSelfDemotionConfirms(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		ownerEmail, adminEmail := addr("Olive"), addr("Adam")
		owner := s.browser(t, "owner", lang)
		owner.signup("Olive Owner", ownerEmail)
		orgID := owner.createOrg("Demote Co")
		admin := s.browser(t, "admin", lang)
		admin.signup("Adam Admin", adminEmail)
		_, au := s.env.Login(t, adminEmail)
		s.env.Join(t, mustActor(t, s, ownerEmail), orgID, au, roster.OrgAdmin)
		admin.must(chromedp.Do(admin.ctx, chromedp.EmulateViewport(390, 844)))

		row := `tr[data-member="` + adminEmail + `"] .role-form`
		admin.open("/orgs/" + orgID + "/members")
		admin.fill(row+" select", "member")
		admin.must(chromedp.Do(admin.ctx, chromedp.Focus(chromedp.CSS(row+" button"))))
		admin.must(chromedp.Do(admin.ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("main").dataset.stale = "1"`)))
		admin.must(chromedp.Do(admin.ctx, chromedp.KeyEvent(kb.Enter)))
		admin.settle(`document.querySelector("[data-testid=confirm-demote]")`)
		admin.check()
		if p := admin.path(); p != "/orgs/"+orgID+"/members/"+au.ID+"/demote" {
			t.Fatalf("the warning is at %s", p)
		}
		cat := catalogs[lang]
		admin.expect("dialog", cat["members.demote_title"])

		admin.must(chromedp.Do(admin.ctx, chromedp.Focus(chromedp.CSS("[data-testid=confirm-demote]"))))
		admin.must(chromedp.Do(admin.ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("main").dataset.stale = "1"`)))
		admin.must(chromedp.Do(admin.ctx, chromedp.KeyEvent(kb.Enter)))
		admin.settle(`document.getElementById("main") && !document.getElementById("main").dataset.stale`)
		admin.check()
		admin.noError()
		if p := admin.path(); p != "/?ok=self_demoted" {
			t.Fatalf("after demoting oneself the page is %s", p)
		}
		if n := admin.count(".flash"); n != 1 {
			t.Fatalf("%d notices after demoting oneself, want one: %q", n, admin.text("main"))
		}
		admin.expect(".flash", cat["flash.self_demoted"])
		org, err := s.env.App.Organization(testenv.Ctx, mustActor(t, s, adminEmail), orgID)
		if err != nil || org.Access.Role != roster.OrgMember {
			t.Fatalf("after confirming, the role is %v (%v)", org.Access.Role, err)
		}
		admin.fits("home after demotion")
	})
}
