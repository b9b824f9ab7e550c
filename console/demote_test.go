package console_test

import (
	"fmt"
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

		sel := `tr[data-member="` + adminEmail + `"] select[name=role]`
		admin.open("/orgs/" + orgID + "/members")
		cat := catalogs[lang]
		// On a phone each member is a card: nothing scrolls sideways, the ⋯ menu is in reach.
		admin.fits("the members page")
		if admin.is(`Array.prototype.some.call(document.querySelectorAll(".members-table tbody tr"), function (r) { return r.scrollWidth > r.clientWidth + 1; }) ||
			document.querySelector(".members-wrap").scrollWidth > document.querySelector(".members-wrap").clientWidth + 1`) {
			t.Fatal("the members table scrolls sideways on a phone")
		}
		menu := `tr[data-member="` + adminEmail + `"] details.row-menu`
		admin.must(chromedp.Do(admin.ctx, chromedp.Focus(chromedp.CSS(menu+" > summary"))))
		admin.key(kb.Enter) // opens the menu, as a keyboard user does
		admin.settle(fmt.Sprintf(`document.querySelector(%q)`, menu+"[open]"))
		admin.fits("the open ⋯ menu")
		admin.key(kb.Escape)
		if admin.count(menu+"[open]") != 0 || !admin.is(fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, menu+" > summary")) {
			t.Fatal("Escape does not close the ⋯ menu back onto its button")
		}

		// Choosing "member" with the keyboard opens the warning over the table; Escape
		// cancels it: the list shows "admin" again and has the focus back.
		admin.must(chromedp.Do(admin.ctx, chromedp.Focus(chromedp.CSS(sel))))
		admin.must(chromedp.Do(admin.ctx, chromedp.KeyEvent(kb.ArrowDown)))
		admin.settle(`document.querySelector("#modal dialog[open] [data-testid=confirm-demote]")`)
		admin.check()
		admin.expect("dialog", cat["members.demote_title"])
		if p := admin.path(); p != "/orgs/"+orgID+"/members" {
			t.Fatalf("the warning moved the page to %s", p)
		}
		admin.key(kb.Escape)
		admin.settle(`!document.querySelector("#modal dialog")`)
		if v := admin.value(sel); v != "admin" {
			t.Fatalf("after cancelling, the list shows %q", v)
		}
		if !admin.is(fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, sel)) {
			t.Fatal("after cancelling, the focus is not on the role list")
		}
		if o, err := s.env.App.Organizations.Get(testenv.Ctx, mustActor(t, s, adminEmail), orgID); err != nil || o.Access.Role != roster.OrgAdmin {
			t.Fatalf("cancelling changed the role: %v (%v)", o.Access.Role, err)
		}

		// Again, confirmed this time, by keyboard.
		admin.must(chromedp.Do(admin.ctx, chromedp.KeyEvent(kb.ArrowDown)))
		admin.settle(`document.querySelector("#modal dialog[open] [data-testid=confirm-demote]")`)
		admin.key(kb.Tab) // from Cancel, where the pop-up put the focus, to the confirmation
		if a := admin.active(); a != "confirm-demote" {
			t.Fatalf("Tab from Cancel reached %s", a)
		}
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
		org, err := s.env.App.Organizations.Get(testenv.Ctx, mustActor(t, s, adminEmail), orgID)
		if err != nil || org.Access.Role != roster.OrgMember {
			t.Fatalf("after confirming, the role is %v (%v)", org.Access.Role, err)
		}
		admin.fits("home after demotion")
	})
}
