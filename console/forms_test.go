package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestFormsKeepWhatWasSubmitted: after an error, a form comes back with exactly what the
// person submitted, switches and lists included, never with the saved values in their place.
func TestFormsKeepWhatWasSubmitted(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		email := addr("Polly")
		b := s.browser(t, "owner", lang)
		b.signup("Polly Policy", email)
		orgID := b.createOrg("Acme Shops")

		// The policy with a bad domain and the free-provider switch on: refused, and the
		// switch is still on when the page comes back (it was silently turned off).
		b.open("/orgs/" + orgID + "/policy")
		b.fill("#p-domains", "acme-shops.com\nbad domain!")
		b.click(`input[name=block_free]`)
		b.submit(`form[action$="/policy"] button[type=submit]`)
		if b.count(".flash.error") == 0 {
			t.Fatal("a bad domain was accepted")
		}
		if b.count(`input[name=block_free]:checked`) != 1 {
			t.Fatal("the free-provider switch came back off after the error")
		}
		if got := b.value("#p-domains"); !strings.Contains(got, "bad domain!") {
			t.Fatalf("domains came back as %q", got)
		}
		// Fixing the line and saving keeps free providers refused.
		b.fill("#p-domains", "acme-shops.com")
		b.submit(`form[action$="/policy"] button[type=submit]`)
		b.noError()
		pol, err := s.env.App.Organizations.Policy(testenv.Ctx, mustActor(t, s, email), orgID)
		if err != nil {
			t.Fatal(err)
		}
		if !pol.BlockFreeProviders || len(pol.AllowedDomains) != 1 {
			t.Fatalf("saved policy: %+v", pol)
		}

		// The profile with a language changed and a name too long: the language chosen stays.
		b.open("/account")
		b.fill("#f-locale", "es", `form[action="/account/profile"] input[name=name]`, strings.Repeat("x", 101))
		b.submit(`form[action="/account/profile"] button[type=submit]`)
		if b.count(".flash.error") == 0 {
			t.Fatal("a name of 101 characters was accepted")
		}
		if got := b.value("#f-locale"); got != "es" {
			t.Fatalf("the language came back as %q after the error", got)
		}
	})
}

// TestHomeListsReachableStores: with an organization but no store active, home lists the
// stores the person reaches (an owner all of them, an admin all of them through the
// organization role) instead of saying there is none, and one click opens a store.
func TestHomeListsReachableStores(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		ownerEmail := addr("Oscar")
		owner := s.browser(t, "owner", lang)
		owner.signup("Oscar Owner", ownerEmail)
		orgID := owner.createOrg("Three Shops")
		ownerActor := mustActor(t, s, ownerEmail)
		var stores []roster.Store
		for _, name := range []string{"Lisbon", "Porto", "Faro"} {
			st, err := s.env.App.Stores.Create(testenv.Ctx, ownerActor, orgID, app.StoreInput{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			stores = append(stores, st)
		}
		owner.open("/")
		if n := owner.count(`[data-testid=home-stores] li`); n != 3 {
			t.Fatalf("the owner's home lists %d stores, want 3", n)
		}
		if strings.Contains(owner.text("main"), catalogs[lang]["home.no_store"]) {
			t.Fatal("the owner's home says there is no store")
		}
		owner.submit(`[data-testid=home-stores] form:has(input[value="` + stores[1].ID + `"]) button`)
		owner.noError()
		owner.expect("main h1", "Porto")

		// An admin invited into the organization reaches every store through the role.
		adminEmail := addr("Ada")
		admin := s.browser(t, "admin", lang)
		admin.signup("Ada Admin", adminEmail)
		_, adminUser := s.env.Login(t, adminEmail)
		s.env.Join(t, ownerActor, orgID, adminUser, roster.OrgAdmin)
		admin.open("/")
		if admin.count(`[data-testid=home-stores] li`) != 3 {
			admin.menu("details.selector")
			admin.submit(`details.selector form input[name=org][value="` + orgID + `"] ~ button`)
		}
		if n := admin.count(`[data-testid=home-stores] li`); n != 3 {
			t.Fatalf("the admin's home lists %d stores, want 3: %q", n, admin.text("main"))
		}
		admin.checkAxe()
	})
}

// TestForbiddenSaysWhoMay: a page the person's role does not allow says so, and names the
// roles that may, instead of "Something went wrong".
func TestForbiddenSaysWhoMay(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		ownerEmail, memberEmail := addr("Olga"), addr("Max")
		owner := s.browser(t, "owner", lang)
		owner.signup("Olga Owner", ownerEmail)
		orgID := owner.createOrg("Forbidden Co")
		member := s.browser(t, "member", lang)
		member.signup("Max Member", memberEmail)
		_, mu := s.env.Login(t, memberEmail)
		s.env.Join(t, mustActor(t, s, ownerEmail), orgID, mu, roster.OrgMember)

		member.open("/orgs/" + orgID + "/policy")
		cat := catalogs[lang]
		if h := member.text("main h1"); h != cat["error.forbidden_heading"] {
			t.Fatalf("heading %q, want %q", h, cat["error.forbidden_heading"])
		}
		who := member.text("[data-testid=who-may]")
		for _, role := range []string{cat["orgrole.owner"], cat["orgrole.admin"]} {
			if !strings.Contains(who, role) {
				t.Fatalf("%q does not name %q", who, role)
			}
		}
		if strings.Contains(who, cat["orgrole.member"]) {
			t.Fatalf("%q names members, who may not", who)
		}
		member.checkAxe()
	})
}

// TestAcceptPageStates: a cancelled invitation's page says so and offers nothing; a person
// signed in as someone else is not offered Accept but the way to sign in as the invited
// address; a signed-out person with an account accepts with its password, apart from the
// form that creates an account.
func TestAcceptPageStates(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		cat := catalogs[lang]
		ownerEmail := addr("Ines")
		owner := s.browser(t, "owner", lang)
		owner.signup("Ines Owner", ownerEmail)
		orgID := owner.createOrg("Invites Ltd")
		ownerActor := mustActor(t, s, ownerEmail)

		// Cancelled: the page says it plainly, with no offer and no form.
		gone := addr("Gone")
		inv, err := s.env.App.Invitations.Create(testenv.Ctx, ownerActor, orgID, app.InvitationInput{Email: gone, Locale: lang})
		if err != nil {
			t.Fatal(err)
		}
		link := s.link(t, s.mail(t, gone, "invitation"), console.Pages.AcceptInvitation)
		if err := s.env.App.Invitations.Cancel(testenv.Ctx, ownerActor, inv.ID); err != nil {
			t.Fatal(err)
		}
		visitor := s.browser(t, "visitor", lang)
		visitor.open(link)
		visitor.expect("[data-testid=invitation-closed]", cat["accept.closed.revoked"])
		if visitor.count("form[action='/invitations/accept'], form[action='/invitations/decline']") != 0 {
			t.Fatal("a cancelled invitation still offers to accept or decline")
		}

		// Signed in as someone else: no Accept, the way to the invited identity instead.
		invited := addr("Ivy")
		if _, err := s.env.App.Invitations.Create(testenv.Ctx, ownerActor, orgID, app.InvitationInput{Email: invited, Locale: lang}); err != nil {
			t.Fatal(err)
		}
		link = s.link(t, s.mail(t, invited, "invitation"), console.Pages.AcceptInvitation)
		owner.open(link)
		if owner.count("[data-testid=accept]") != 0 || owner.count("[data-testid=other-identity]") != 1 {
			t.Fatal("Accept is offered to an identity the invitation is not for")
		}
		owner.checkAxe()

		// Signed out, with an account: "I have an account" takes its password.
		if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: invited, Name: "Ivy Invited", Password: testenv.Password, Locale: lang}); err != nil {
			t.Fatal(err)
		}
		ivy := s.browser(t, "ivy", lang)
		ivy.open(link)
		ivy.fill("#existing-password", testenv.Password)
		ivy.submit(`[data-testid=accept-existing] button[type=submit]`)
		ivy.noError()
		if _, err := s.env.App.Members.Get(testenv.Ctx, ownerActor, orgID, mustUserID(t, s, invited)); err != nil {
			t.Fatalf("the invitee with an account did not join: %v", err)
		}

		// Declining asks first: one click opens the question, nothing is declined until confirmed.
		dee := addr("Dee")
		if _, err := s.env.App.Invitations.Create(testenv.Ctx, ownerActor, orgID, app.InvitationInput{Email: dee, Locale: lang}); err != nil {
			t.Fatal(err)
		}
		deeTab := s.browser(t, "dee", lang)
		deeTab.open(s.link(t, s.mail(t, dee, "invitation"), console.Pages.AcceptInvitation))
		deeTab.submit("[data-testid=decline]") // a link: it waits for the page it opens
		deeTab.expect("dialog[open] #dlg-title", strings.ReplaceAll(cat["accept.decline_title"], "{org}", "Invites Ltd"))
		pending := func() int {
			list, err := s.env.App.Invitations.List(testenv.Ctx, ownerActor, orgID, app.InvitationFilter{Status: roster.InvitationPending, Query: dee})
			if err != nil {
				t.Fatal(err)
			}
			return len(list.Items)
		}
		if pending() != 1 {
			t.Fatal("one click declined the invitation")
		}
		deeTab.checkAxe()
		deeTab.submit("[data-testid=confirm-decline]")
		deeTab.noError()
		if pending() != 0 {
			t.Fatal("the confirmed decline left the invitation pending")
		}
	})
}

func mustUserID(t *testing.T, s *site, email string) string {
	t.Helper()
	_, u := s.env.Login(t, email)
	return u.ID
}

// TestDuplicateInvitationOffersResend: inviting an address that has a pending invitation says
// to resend it, and offers the button that does.
func TestDuplicateInvitationOffersResend(t *testing.T) {
	chromium(t)
	languagesAlone(t, func(t *testing.T, s *site, lang string) { // it moves the clock past the resend cooldown
		ownerEmail := addr("Rey")
		owner := s.browser(t, "owner", lang)
		owner.signup("Rey Owner", ownerEmail)
		orgID := owner.createOrg("Twice Co")
		invitee := addr("twice")
		for range 2 {
			owner.open("/orgs/" + orgID + "/members/new")
			owner.fill("#m-email", invitee)
			owner.submit(`[data-testid=send-invitation]`)
		}
		owner.expect("#modal .flash.error", catalogs[lang]["error.invitation_pending"])
		s.env.Clock.Advance(2 * time.Minute) // a resend waits a minute after the last email
		owner.submit(`[data-testid=resend-pending]`)
		owner.noError()
		if n := s.env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE org_id = ? AND action = 'invitation.resent'`, orgID); n != 1 {
			t.Fatalf("%d resends recorded, want 1", n)
		}
	})
}

// TestEmailLinksOpenInTheEmailsLanguage: an invitation written in French opens a French page
// in a browser set to English, and the visitor can still switch language without losing the
// invitation.
func TestEmailLinksOpenInTheEmailsLanguage(t *testing.T) {
	chromium(t)
	s := sharedSiteOf(t, sqlstore.SQLite)
	ownerEmail := addr("Lou")
	owner := s.browser(t, "owner", "en")
	owner.signup("Lou Owner", ownerEmail)
	orgID := owner.createOrg("Langues SA")
	invitee := addr("amelie")
	// The English-speaking owner invites in French from the "Add new member" pop-up.
	owner.open("/orgs/" + orgID + "/members/new")
	if v := owner.value("#m-locale"); v != "en" {
		t.Fatalf("the invitation language starts as %q, want the page's (en)", v)
	}
	owner.fill("#m-email", invitee, "#m-locale", "fr")
	owner.submit("[data-testid=send-invitation]")
	owner.noError()
	if m := s.mail(t, invitee, "invitation"); m.Locale != "fr" {
		t.Fatalf("the invitation email is in %q, want fr", m.Locale)
	}
	link := s.link(t, s.mail(t, invitee, "invitation"), console.Pages.AcceptInvitation)
	if !strings.Contains(link, "lang=fr") {
		t.Fatalf("the link does not carry the email's language: %s", link)
	}
	visitor := s.browser(t, "visitor", "en")
	visitor.open(link)
	visitor.expect("main h1", strings.ReplaceAll(catalogs["fr"]["accept.heading"], "{org}", "Langues SA"))
	visitor.fill("#lang-select", "en")
	visitor.submit(".lang-form button[type=submit]")
	visitor.expect("main h1", strings.ReplaceAll(catalogs["en"]["accept.heading"], "{org}", "Langues SA"))
}
