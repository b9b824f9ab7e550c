package console_test

import (
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// languages runs a browser flow twice, each run parallel, in tabs of its own of the shared
// browser, on the engine's shared server: in English on PostgreSQL when it is available (the
// accessibility checks run in English), and in French or Spanish on SQLite (otherLanguage), so
// that every flow meets both engines and no page may show English in the other languages.
// Half the flows check French, half Spanish: what one language's run would catch that the
// other's would not is a text missing from one catalog, which the catalog tests find, and a
// layout too narrow for longer words, which TestPagesFitPhones checks in every language.
func languages(t *testing.T, flow func(t *testing.T, s *site, lang string)) {
	inLanguages(t, sharedSiteOf, []string{"en", otherLanguage(t.Name())}, flow)
}

// everyLanguage runs a flow as languages does, in English, French and Spanish.
func everyLanguage(t *testing.T, flow func(t *testing.T, s *site, lang string)) {
	inLanguages(t, sharedSiteOf, []string{"en", "fr", "es"}, flow)
}

// languagesAlone runs a flow as languages does, each run on a server of its own.
func languagesAlone(t *testing.T, flow func(t *testing.T, s *site, lang string)) {
	inLanguages(t, func(t *testing.T, e sqlstore.Engine) *site { return newSite(t, e) }, []string{"en", otherLanguage(t.Name())}, flow)
}

// otherLanguage is French or Spanish, chosen by the test's name: the same each run.
func otherLanguage(test string) string {
	h := fnv.New32a()
	h.Write([]byte(test))
	return []string{"fr", "es"}[h.Sum32()%2]
}

// inLanguages runs flow once per language, English on PostgreSQL when it is available and
// the others on SQLite.
func inLanguages(t *testing.T, server func(*testing.T, sqlstore.Engine) *site, langs []string, flow func(t *testing.T, s *site, lang string)) {
	t.Parallel()
	english := sqlstore.Postgres
	if !testenv.HasEngine(sqlstore.Postgres) {
		english = sqlstore.SQLite
	}
	for _, lang := range langs {
		e := sqlstore.SQLite
		if lang == "en" {
			e = english
		}
		t.Run(string(e)+"/"+lang, func(t *testing.T) {
			t.Parallel()
			testenv.RequireEngine(t, e)
			flow(t, server(t, e), lang)
		})
	}
}

func addr(name string) string { return strings.ToLower(name) + "." + testenv.Unique() + "@example.com" }

// signup creates an account through the sign-up page; the console signs the person in.
func (b *tab) signup(name, email string) {
	b.t.Helper()
	b.open("/signup")
	b.fill("#name", name, "#email", email, "#password", testenv.Password)
	b.submit(`form[action="/signup"] button[type=submit]`)
	b.noError()
}

// login signs in through the login page.
func (b *tab) login(email string) {
	b.t.Helper()
	b.open("/login")
	b.fill("#email", email, "#password", testenv.Password)
	b.submit(`form[action="/login"] button[type=submit]`)
	b.noError()
}

// createOrg creates an organization from the empty home page or the selector.
func (b *tab) createOrg(name string) string {
	b.t.Helper()
	b.open("/orgs/new")
	b.fill("#name", name)
	b.submit(`form[action="/orgs/new"] button[type=submit]`)
	b.noError()
	p := b.path()
	id := strings.TrimPrefix(strings.Split(p, "/details")[0], "/orgs/")
	if !roster.ValidID(roster.PrefixOrganization, id) {
		b.t.Fatalf("after creating an organization: at %s", p)
	}
	return id
}

// selectStore switches to a store with one click in the selector.
func (b *tab) selectStore(storeID string) {
	b.t.Helper()
	b.menu("details.selector")
	b.submit(fmt.Sprintf(`details.selector form input[name=store][value=%q] ~ button`, storeID))
}

// TestConnectifFlow walks Connectif's flow through the console alone: sign up, create an
// organization, edit its details and logo, create stores until the credits run out,
// manage a member's stores and roles, and transfer ownership.
func TestConnectifFlow(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		owner := s.browser(t, "owner", lang)
		ownerEmail := addr("olivia")
		owner.signup("Olivia Owner", ownerEmail)
		if owner.count(`main a[href="/orgs/new"]`) != 1 {
			t.Fatalf("the empty home page does not offer to create an organization")
		}
		owner.screenshot("home-empty")
		orgID := owner.createOrg("Acme Retail")

		// Details, address and logo.
		owner.fill("#f-legal_name", "Acme Retail SL", "#f-website", "acme.example", "#f-address_line1", "Calle Mayor 1",
			"#f-city", "Madrid", "#f-postal_code", "28013", "#f-country", "ES")
		owner.submit(`#details-form button[type=submit]`)
		owner.noError()
		owner.expect(".flash.success", catalogs[lang]["flash.org_saved"])
		if v := owner.value("#f-country"); v != "ES" {
			t.Fatalf("country after saving: %q, want ES", v)
		}
		owner.must(chromedpSetUpload(owner, "#logo", logoPNG(t)))
		owner.submit(fmt.Sprintf(`form[action="/orgs/%s/logo"] button[type=submit]`, orgID))
		owner.noError()
		if owner.count(`img.logo-lg[src^="/orgs/`+orgID+`/logo"]`) != 1 {
			t.Fatal("the uploaded logo is not shown")
		}
		// The selector shows it beside the organization's name, loaded.
		owner.menu("details.selector")
		owner.settle(`document.querySelector("details.selector img.org-logo[src^='/orgs/` + orgID + `/logo']") && document.querySelector("details.selector img.org-logo").complete`)
		if !owner.is(`document.querySelector("details.selector img.org-logo").naturalWidth > 0`) {
			t.Fatal("the selector's logo did not load")
		}
		owner.click("details.selector > summary")
		owner.screenshot("org-details")
		// Country and currency are chosen from lists named in the page's language; time
		// zones are offered as one types.
		spain := map[string]string{"en": "Spain", "fr": "Espagne", "es": "España"}[lang]
		if got := owner.text(`#f-country option[value="ES"]`); got != spain {
			t.Fatalf("the country list names ES %q, want %q", got, spain)
		}

		// Stores until the credits run out (3 by default).
		owner.open("/orgs/" + orgID + "/stores")
		for _, name := range []string{"Madrid", "Barcelona", "Valencia"} {
			owner.popup(`[data-testid=new-store]`)
			euro := map[string]string{"en": "EUR — Euro", "fr": "EUR — euro", "es": "EUR — euro"}[lang]
			if got := owner.text(`#s-currency option[value="EUR"]`); got != euro {
				t.Fatalf("the currency list shows EUR as %q, want %q", got, euro)
			}
			if n := owner.count(`#tz-list option[value="Europe/Madrid"]`); n != 1 {
				t.Fatalf("the time zone list offers Europe/Madrid %d times", n)
			}
			if name == "Madrid" {
				// Two fields wrong at once: both are marked, each with its message beside it,
				// the notice names both, and what was typed stays.
				owner.fill("#s-name", name, "#s-website", "not a website", "#s-currency", "EUR", "#s-tz", "Mars/Olympus")
				owner.submit(`#modal form button[type=submit]`)
				cat := catalogs[lang]
				for _, f := range []struct{ id, field string }{{"#s-website", "website"}, {"#s-tz", "time_zone"}} {
					if !owner.is(fmt.Sprintf(`document.querySelector(%q).getAttribute("aria-invalid") === "true"`, f.id)) {
						t.Fatalf("%s is not marked invalid", f.id)
					}
					owner.expect("#modal #err-"+f.field, cat["error.field_invalid"])
					owner.expect("#modal .flash.error", cat["field."+f.field])
				}
				if owner.is(`document.querySelector("#s-name").getAttribute("aria-invalid")`) {
					t.Fatal("the valid name is marked invalid")
				}
				if a := owner.active(); a != "s-website" {
					t.Fatalf("the focus is on %s, not on the first field at fault", a)
				}
				if v := owner.value("#s-tz"); v != "Mars/Olympus" {
					t.Fatalf("the time zone typed is gone: %q", v)
				}
				owner.fill("#s-website", "https://madrid.example", "#s-tz", "Europe/Madrid")
			} else {
				owner.fill("#s-name", name, "#s-currency", "EUR", "#s-tz", "Europe/Madrid")
			}
			owner.submit(`#modal form button[type=submit]`)
			owner.noError()
			owner.expect("main", name)
		}
		if owner.count(`[data-testid=new-store]`) != 0 || owner.count(`[data-testid=no-credits]`) != 1 {
			t.Fatal("with no credit left, creating a store is still offered, or the reason is not shown")
		}
		owner.screenshot("org-stores")
		stores, err := s.env.App.Stores.List(testenv.Ctx, roster.Actor{Kind: roster.ActorUser, UserID: ownerID(t, s, ownerEmail)}, orgID, "")
		if err != nil || len(stores) != 3 {
			t.Fatalf("stores: %v %d", err, len(stores))
		}

		// Add a member by email with an organization role and, per store, a store role.
		ownerActor, _ := s.env.Login(t, ownerEmail)
		memberEmail := addr("marc")
		owner.open("/orgs/" + orgID + "/members")
		owner.popup(`[data-testid=add-member]`)
		owner.screenshot("add-member")
		owner.fill("#m-email", memberEmail, "#m-role", "member")
		owner.click(fmt.Sprintf(`#modal tr[data-store=%q] input[name=store]`, stores[0].Name))
		owner.fill(fmt.Sprintf(`#modal tr[data-store=%q] select`, stores[0].Name), roster.StoreRoleMember)
		owner.submit(`[data-testid=send-invitation]`)
		owner.noError()
		owner.expect("main", memberEmail)

		// A second invitation, resent (its old link dies) then cancelled.
		otherEmail := addr("olga")
		owner.open("/orgs/" + orgID + "/members/new")
		owner.fill("#m-email", otherEmail)
		owner.submit(`[data-testid=send-invitation]`)
		owner.noError()
		first := s.link(t, s.mail(t, otherEmail, "invitation"), console.Pages.AcceptInvitation)
		owner.screenshot("org-invitations")
		s.env.Clock.Advance(2 * time.Minute) // resending is limited to once a minute per invitation
		owner.submit(fmt.Sprintf(`tr[data-invitation=%q] [data-testid=resend]`, otherEmail))
		owner.noError()
		owner.expect(".flash.success", catalogs[lang]["flash.invitation_resent"])
		if _, err := s.env.App.Invitations.Lookup(testenv.Ctx, strings.TrimPrefix(first, console.Pages.AcceptInvitation+"?token=")); testenv.Code(err) != roster.ETokenInvalid {
			t.Fatalf("the first link still works after a resend: %v", err)
		}
		owner.popup(fmt.Sprintf(`tr[data-invitation=%q] [data-testid=cancel]`, otherEmail))
		owner.submit(`[data-testid=confirm-cancel]`)
		owner.noError()
		owner.expect(fmt.Sprintf(`tr[data-invitation=%q]`, otherEmail), catalogs[lang]["invstatus.revoked"])

		// The member gets the email, accepts in their own browser by signing up through it.
		invMail := s.mail(t, memberEmail, "invitation")
		accept := s.link(t, invMail, console.Pages.AcceptInvitation)
		// The email shows the organization's logo from an address that needs no session.
		logo := regexp.MustCompile(`<img src="(https?://[^"]+/logos/[^"]+)" alt="Acme Retail"`).FindStringSubmatch(invMail.HTML)
		if logo == nil {
			t.Fatalf("the invitation email has no logo:\n%s", invMail.HTML)
		}
		logoURL, _ := url.Parse(logo[1])
		if res, err := http.Get(s.url + logoURL.Path); err != nil || res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "image/") {
			t.Fatalf("the email's logo without a session: %v %v", res, err)
		} else {
			_ = res.Body.Close()
		}
		member := s.browser(t, "member", lang)
		member.open(accept)
		member.expect("main", "Acme Retail")
		// So does the invitation page, to someone who is not a member yet.
		member.settle(`document.querySelector("[data-testid=accept-logo]") && document.querySelector("[data-testid=accept-logo]").complete`)
		if !member.is(`document.querySelector("[data-testid=accept-logo]").naturalWidth > 0`) {
			t.Fatal("the invitation page's logo did not load")
		}
		member.expect("main", stores[0].Name)
		member.screenshot("accept-invitation")
		member.fill("#name", "Marc Member", "#password", testenv.Password)
		member.submit(`[data-testid=accept-create]`)
		member.noError()
		_, mu := s.env.Login(t, memberEmail)

		// The member sees the organization and its store in the selector and switches.
		member.expect("main h1", stores[0].Name)
		member.menu("details.selector")
		member.expect("details.selector", "Acme Retail")
		member.expect("details.selector", stores[0].Name)
		member.selectStore(stores[0].ID)
		member.expect("main h1", stores[0].Name)

		// The owner manages the member's stores: a role in a second store, a changed role,
		// then removed from a store.
		owner.open("/orgs/" + orgID + "/members")
		owner.screenshot("org-members")
		owner.memberMenu(memberEmail)
		owner.screenshot("member-menu")
		owner.popup(owner.memberMenu(memberEmail) + ` [data-testid=manage-stores]`)
		owner.screenshot("member-stores")
		owner.fill(fmt.Sprintf(`#modal tr[data-store=%q] select[name=role]`, stores[1].Name), roster.StoreRoleViewer)
		owner.submit(fmt.Sprintf(`#modal tr[data-store=%q] form.role-form button`, stores[1].Name))
		owner.noError()
		owner.fill(fmt.Sprintf(`#modal tr[data-store=%q] select[name=role]`, stores[0].Name), roster.StoreRoleAdmin)
		owner.submit(fmt.Sprintf(`#modal tr[data-store=%q] form.role-form button`, stores[0].Name))
		owner.noError()
		m, err := s.env.App.Members.Get(testenv.Ctx, ownerActor, orgID, mu.ID)
		if err != nil || len(m.Stores) != 2 {
			t.Fatalf("member stores after the changes: %v %+v", err, m.Stores)
		}
		// Removing a store's access confirms first.
		owner.popup(fmt.Sprintf(`#modal tr[data-store=%q] [data-testid=remove-store-access]`, stores[1].Name))
		owner.expect("#modal", stores[1].Name)
		if m, _ := s.env.App.Members.Get(testenv.Ctx, ownerActor, orgID, mu.ID); len(m.Stores) != 2 {
			t.Fatalf("the store access went before the confirmation: %+v", m.Stores)
		}
		owner.submit(`[data-testid=confirm-remove-store-access]`)
		owner.noError()
		owner.expect("#modal", catalogs[lang]["flash.removed_from_store"])
		m, _ = s.env.App.Members.Get(testenv.Ctx, ownerActor, orgID, mu.ID)
		if len(m.Stores) != 1 || m.Stores[0].RoleID != roster.StoreRoleAdmin {
			t.Fatalf("member stores after removal: %+v", m.Stores)
		}
		// The members table counts the member's stores and names them; the owner reaches all.
		owner.open("/orgs/" + orgID + "/members")
		storesCell := fmt.Sprintf(`tr[data-member=%q] [data-testid=member-stores]`, memberEmail)
		owner.expect(storesCell, strings.ReplaceAll(catalogs[lang]["members.store_count.one"], "{count}", "1"))
		owner.click(storesCell + " summary")
		owner.expect(storesCell, stores[0].Name)
		owner.expect(fmt.Sprintf(`tr[data-member=%q] [data-testid=member-stores]`, ownerEmail), catalogs[lang]["members.all_stores"])

		// The member, now store admin, reaches the store manager from the selector.
		member.open("/")
		member.menu("details.selector")
		if member.count(`details.selector a[href="/stores/`+stores[0].ID+`"]`) != 1 {
			t.Fatal("a store admin is not offered the store settings")
		}
		if member.count(`details.selector a[data-testid=org-settings]`) != 0 {
			t.Fatal("a member is offered the organization settings")
		}

		// The owner makes the member admin, then transfers ownership to them.
		owner.open("/orgs/" + orgID + "/members")
		// Choosing the role asks to confirm in a pop-up over the table.
		owner.choose(fmt.Sprintf(`tr[data-member=%q] select[name=role]`, memberEmail), "admin")
		owner.settle(`document.querySelector("#modal dialog[open] [data-testid=confirm-role]")`)
		owner.expect("#modal", catalogs[lang]["members.promote_confirm"])
		owner.screenshot("member-role-confirm")
		owner.submit(`[data-testid=confirm-role]`)
		owner.noError()
		owner.expect(".flash.success", catalogs[lang]["flash.member_role_saved"])
		owner.open("/orgs/" + orgID + "/transfer")
		owner.expect(`[data-testid=step-up-fresh]`, catalogs[lang]["stepup.fresh"]) // signed in minutes ago
		owner.fill("#t-name", "Acme Wrong")
		owner.submit(`form[action$="/transfer"] button[type=submit]`)
		owner.expect(".flash.error", catalogs[lang]["error.confirm_name_mismatch"])
		owner.fill("#t-name", "Acme Retail")
		owner.submit(`form[action$="/transfer"] button[type=submit]`)
		owner.noError()
		owner.expect(".flash.success", catalogs[lang]["flash.ownership_transferred"])
		org, err := s.env.App.Organizations.Get(testenv.Ctx, ownerActor, orgID)
		if err != nil || org.Access.Role != roster.OrgAdmin {
			t.Fatalf("after the transfer the old owner is %q (%v)", org.Access.Role, err)
		}
	})
}

// ownerID finds a user's ID by address.
func ownerID(t *testing.T, s *site, email string) string {
	t.Helper()
	_, u := s.env.Login(t, email)
	return u.ID
}

func anon() roster.Actor { return roster.Anonymous("192.0.2.1", "test") }

// mustActor signs a user in through the app and returns their actor.
func mustActor(t *testing.T, s *site, email string) roster.Actor {
	t.Helper()
	a, _ := s.env.Login(t, email)
	return a
}

// TestInflowwFlow: agency A creates a custom role "Chatter" that may not add employees and
// invites a person of agency B into two of its creators' stores with it; that person
// switches between A and B from the selector, cannot invite in A until the role gains the
// permission, then can. Then they sign in with a second identity in the same browser ("add
// account"), switch between the identities in one click, and sign one out without the other.
func TestInflowwFlow(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		// Organization A, with three creators' stores, run by Alice in her browser.
		alice := s.browser(t, "alice", lang)
		alice.signup("Alice A", addr("alice"))
		orgA := alice.createOrg("Agency A")
		for _, name := range []string{"Creator One", "Creator Two", "Creator Three"} {
			alice.open("/orgs/" + orgA + "/stores/new")
			alice.fill("#s-name", name)
			alice.submit(`#modal form button[type=submit]`)
			alice.noError()
		}
		aliceActor := mustActor(t, s, ownerEmailOf(t, s, orgA))
		stores, err := s.env.App.Stores.List(testenv.Ctx, aliceActor, orgA, "")
		if err != nil || len(stores) != 3 {
			t.Fatalf("stores of A: %v %d", err, len(stores))
		}

		// The custom role: reads the store and its team, may not invite.
		alice.open("/orgs/" + orgA + "/roles")
		alice.popup(`[data-testid=new-role]`)
		alice.fill("#r-name", "Chatter", "#r-desc", "Chats with fans")
		for _, p := range []string{"store.read", "store.members.read"} {
			alice.click(fmt.Sprintf(`#modal input[name=perm][value=%q]`, p))
		}
		alice.screenshot("role-editor")
		alice.submit(`[data-testid=save-role]`)
		alice.noError()
		alice.expect(`tr[data-role="Chatter"]`, "Chatter")
		// Every role, built-in ones too, shows its permissions on demand.
		alice.click(`tr[data-role="Chatter"] details.perm-list summary`)
		alice.expect(`tr[data-role="Chatter"] details.perm-list`, "store.members.read")
		if n := alice.count(`tbody tr details.perm-list`); n < 4 {
			t.Fatalf("%d roles list their permissions, want the three built-in ones and Chatter", n)
		}
		alice.screenshot("org-roles")
		var chatter string
		roles, err := s.env.App.Roles.List(testenv.Ctx, aliceActor, orgA)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range roles {
			if r.Name == "Chatter" {
				chatter = r.ID
			}
		}

		// Bob works for agency B, which he created in the console.
		bob := s.browser(t, "bob", lang)
		bobEmail := addr("bob")
		bob.signup("Bob B", bobEmail)
		orgB := bob.createOrg("Agency B")

		// Alice invites Bob into two creators' stores as Chatter; Bob accepts, signed in.
		alice.open("/orgs/" + orgA + "/members/new")
		alice.fill("#m-email", bobEmail)
		for _, name := range []string{"Creator One", "Creator Two"} {
			alice.click(fmt.Sprintf(`#modal tr[data-store=%q] input[name=store]`, name))
			alice.fill(fmt.Sprintf(`#modal tr[data-store=%q] select`, name), chatter)
		}
		alice.submit(`[data-testid=send-invitation]`)
		alice.noError()
		bob.open(s.link(t, s.mail(t, bobEmail, "invitation"), console.Pages.AcceptInvitation))
		bob.expect("main", "Chatter")
		bob.submit(`[data-testid=accept]`)
		bob.noError()

		// Both organizations in the selector; A shows only the two shared creators.
		bob.menu("details.selector")
		bob.expect("details.selector", "Agency A")
		bob.expect("details.selector", "Agency B")
		bob.expect("details.selector", "Creator One")
		if strings.Contains(bob.text("details.selector"), "Creator Three") {
			t.Fatal("a store Bob is not in shows in his selector")
		}
		bob.screenshot("selector")
		var creator2 string
		for _, st := range stores {
			if st.Name == "Creator Two" {
				creator2 = st.ID
			}
		}
		bob.selectStore(creator2)
		bob.expect("main h1", "Creator Two")
		bob.expect("main", "Chatter")
		bob.open("/") // the choice is remembered
		bob.expect("main h1", "Creator Two")
		// The team listing names the custom role, to Bob who may not list the roles and to
		// Alice who may: never the generic "Custom role".
		custom := catalogs[lang]["storerole.custom"]
		bob.expect(fmt.Sprintf(`main tr[data-member=%q]`, bobEmail), "Chatter")
		if strings.Contains(bob.text("main"), custom) {
			t.Fatalf("the home page names a custom role %q:\n%s", custom, bob.text("main"))
		}
		bob.screenshot("home-store")
		alice.open("/stores/" + creator2)
		alice.expect(fmt.Sprintf(`main tr[data-member=%q] select option:checked`, bobEmail), "Chatter")
		if strings.Contains(alice.text("main"), custom) {
			t.Fatalf("the store page names a custom role %q", custom)
		}

		// As Chatter, Bob cannot invite anyone into the store; once the role may, he can.
		bob.open("/stores/" + creator2)
		if bob.count(`[data-testid=store-invite]`) != 0 {
			t.Fatal("a Chatter without store.members.invite is offered to invite")
		}
		alice.open("/orgs/" + orgA + "/roles/" + chatter + "/edit")
		alice.click(`#modal input[name=perm][value="store.members.invite"]`)
		alice.submit(`[data-testid=save-role]`)
		alice.noError()
		bob.open("/stores/" + creator2)
		bob.popup(`[data-testid=store-invite]`)
		helper := addr("fan.helper")
		bob.fill("#i-email", helper, "#i-role", roster.StoreRoleViewer)
		bob.submit(`#modal form button[type=submit]`)
		bob.noError()
		bob.expect(".flash.success", catalogs[lang]["flash.invitation_sent"])
		// The store page lists its pending invitation, to Bob who sent it and to the owner, who
		// also gets a link to all of the organization's.
		pendingRow := fmt.Sprintf(`[data-testid=store-invitations] tr[data-invitation=%q]`, helper)
		bob.open("/stores/" + creator2)
		bob.expect(pendingRow, catalogs[lang]["storerole.viewer"])
		if bob.count(`[data-testid=store-invitations] a[href$="/invitations?status=pending"]`) != 0 {
			t.Fatal("a store member is offered the organization's invitations")
		}
		alice.open("/stores/" + creator2)
		alice.expect(pendingRow, "Bob")
		if alice.count(`[data-testid=store-invitations] a[href="/orgs/`+orgA+`/invitations?status=pending"]`) != 1 {
			t.Fatal("the owner is not offered all of the organization's invitations")
		}

		bob.menu("details.selector")
		bob.submit(fmt.Sprintf(`details.selector form input[name=org][value=%q] ~ button`, orgB))
		bob.expect("main h1", "Agency B")

		// Add account: Bob signs in with his other identity, in the same browser.
		bob2Email := addr("bob.b2")
		if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: bob2Email, Name: "Bob Second", Password: testenv.Password, Locale: lang}); err != nil {
			t.Fatal(err)
		}
		bob.open("/login?add=1")
		bob.fill("#email", bob2Email, "#password", testenv.Password)
		bob.submit(`form[action="/login"] button[type=submit]`)
		bob.noError()
		bob.menu("details.usermenu")
		bob.expect("details.usermenu summary", "Bob Second")
		bob.expect("details.usermenu", bobEmail) // the first identity is listed
		bob.screenshot("user-menu")
		bob.submit(`details.usermenu [data-testid=switch-account]`)
		bob.expect("details.usermenu summary", "Bob B")
		bob.expect("main h1", "Agency B") // Bob's own selection, not the other identity's

		// Sign the second identity out from the account page; Bob stays signed in.
		bob.open("/account")
		bob.screenshot("account")
		bob.submit(`[data-testid=signout-account]`)
		bob.noError()
		bob.open("/")
		bob.expect("details.usermenu summary", "Bob B")
		if bob.count(`details.usermenu [data-testid=switch-account]`) != 0 {
			t.Fatal("the signed-out identity is still listed")
		}
		// Signing out Bob now leaves the browser signed out.
		bob.menu("details.usermenu")
		bob.submit(`details.usermenu form[action="/logout"] button`)
		if !strings.HasPrefix(bob.path(), "/login") {
			t.Fatalf("after signing out: at %s", bob.path())
		}
	})
}

// TestECPowerFlow: a one-store organization; the owner invites a member, who registers a
// password through the link (valid 7 days); the owner removes them after a confirmation
// step, and the removed member receives an email that their access was removed.
func TestECPowerFlow(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		owner := s.browser(t, "owner", lang)
		owner.signup("Emi Owner", addr("emi"))
		orgID := owner.createOrg("EC Shop")
		owner.open("/orgs/" + orgID + "/stores/new")
		owner.fill("#s-name", "Main store")
		owner.submit(`#modal form button[type=submit]`)
		owner.noError()

		memberEmail := addr("ken")
		owner.open("/orgs/" + orgID + "/members/new")
		owner.fill("#m-email", memberEmail)
		owner.click(`#modal tr[data-store="Main store"] input[name=store]`)
		owner.fill(`#modal tr[data-store="Main store"] select`, roster.StoreRoleMember)
		owner.submit(`[data-testid=send-invitation]`)
		owner.noError()
		inv := s.mail(t, memberEmail, "invitation")
		invs, err := s.env.App.Invitations.List(testenv.Ctx, mustActor(t, s, ownerEmailOf(t, s, orgID)), orgID, app.InvitationFilter{})
		if err != nil || len(invs.Items) != 1 || invs.Items[0].ExpiresAt.Sub(invs.Items[0].CreatedAt) != roster.DefaultInvitationTTL {
			t.Fatalf("the invitation is not valid for 7 days: %v %+v", err, invs.Items)
		}

		member := s.browser(t, "member", lang)
		member.open(s.link(t, inv, console.Pages.AcceptInvitation))
		member.fill("#name", "Ken Member", "#password", testenv.Password)
		member.submit(`[data-testid=accept-create]`)
		member.noError()
		member.expect("main h1", "Main store")

		// Removal after a confirmation step; the email arrives.
		owner.open("/orgs/" + orgID + "/members")
		owner.popup(owner.memberMenu(memberEmail) + ` [data-testid=remove-member]`)
		owner.screenshot("remove-member")
		owner.expect("#modal", memberEmail)
		owner.submit(`[data-testid=confirm-remove]`)
		owner.noError()
		if owner.count(fmt.Sprintf(`tr[data-member=%q]`, memberEmail)) != 0 {
			t.Fatal("the removed member is still listed")
		}
		s.mail(t, memberEmail, "access_removed")

		// The removed member's next request no longer shows the organization.
		member.open("/")
		if strings.Contains(member.text("body"), "EC Shop") {
			t.Fatal("the removed member still sees the organization")
		}

		// The member changes their email address, with verification of the new one.
		newEmail := addr("ken.new")
		member.open("/account")
		member.fill("#new-email", newEmail, "#email-pw", testenv.Password)
		member.submit(`form[action="/account/email"] button[type=submit]`)
		member.noError()
		member.expect(".flash.success", catalogs[lang]["flash.email_change_sent"])
		member.open(s.link(t, s.mail(t, newEmail, "change_email"), console.Pages.ConfirmEmail))
		member.submit(`form[action="/confirm-email"] button[type=submit]`)
		member.noError()
		member.expect("main", newEmail)
		s.mail(t, memberEmail, "email_changed") // the old address is told
	})
}

// TestOperatorPages: the first operator is created through the setup link, edits an
// organization's store credits, deactivates and reactivates a user, and reads the
// development mailbox. It runs on servers of its own: the setup link needs an instance
// without an operator.
func TestOperatorPages(t *testing.T) {
	chromium(t)
	languagesAlone(t, func(t *testing.T, s *site, lang string) {
		link, err := s.env.App.Operator.SetupLink(testenv.Ctx)
		if err != nil || link == "" {
			t.Fatalf("setup link: %q %v", link, err)
		}
		u, _ := url.Parse(link)
		ownerEmail := addr("oscar")
		if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: ownerEmail, Name: "Oscar Owner", Password: testenv.Password, Locale: lang}); err != nil {
			t.Fatal(err)
		}
		org := s.env.Org(t, mustActor(t, s, ownerEmail), "Credits Inc")

		op := s.browser(t, "operator", lang)
		// Until an operator exists, the sign-in page says that setup is pending and how to finish it.
		op.open("/login")
		op.expect("[data-testid=setup-pending]", "roster admin create-operator")
		op.checkAxe()
		op.open(u.RequestURI())
		op.fill("#name", "Opal Operator", "#email", addr("opal"), "#password", testenv.Password)
		op.submit(`form[action="/setup"] button[type=submit]`)
		op.noError()
		op.expect(fmt.Sprintf(`tr[data-org=%q]`, "Credits Inc"), ownerEmail)
		op.fill(`tr[data-org="Credits Inc"] input[name=credits]`, "5")
		op.submit(`tr[data-org="Credits Inc"] form button`)
		op.noError()
		op.screenshot("operator-orgs")
		visitor := s.browser(t, "visitor", lang)
		visitor.open("/login")
		if visitor.count("[data-testid=setup-pending]") != 0 {
			t.Fatal("the sign-in page still says setup is pending once an operator exists")
		}
		if o, err := s.env.App.Organizations.Get(testenv.Ctx, mustActor(t, s, ownerEmail), org.ID); err != nil || o.StoreCredits != 5 {
			t.Fatalf("store credits: %v %d", err, o.StoreCredits)
		}

		op.open("/operator/users")
		// The owner cannot be deactivated while they own an organization: not offered, and said why.
		op.expect(fmt.Sprintf(`tr[data-user=%q] [data-testid=owns-organizations]`, ownerEmail), catalogs[lang]["operator.owns_organizations"])
		if op.count(fmt.Sprintf(`tr[data-user=%q] [data-testid=deactivate]`, ownerEmail)) != 0 {
			t.Fatal("Deactivate is offered for the owner of an organization")
		}
		memberEmail := addr("uma")
		if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: memberEmail, Name: "Uma User", Password: testenv.Password, Locale: lang}); err != nil {
			t.Fatal(err)
		}
		op.open("/operator/users")
		op.submit(fmt.Sprintf(`tr[data-user=%q] [data-testid=deactivate]`, memberEmail)) // asks first
		if u, _, err := s.env.DB.Read().UserByEmail(testenv.Ctx, memberEmail); err != nil || u.Status != roster.UserActive {
			t.Fatalf("one click deactivated the user: %v %v", err, u.Status)
		}
		op.checkAxe()
		op.submit(`[data-testid=confirm-deactivate]`)
		op.noError()
		op.expect(fmt.Sprintf(`tr[data-user=%q]`, memberEmail), catalogs[lang]["status.deactivated"])
		op.submit(fmt.Sprintf(`tr[data-user=%q] form[action$="/reactivate"] button`, memberEmail))
		op.noError()
		op.screenshot("operator-users")

		s.mail(t, memberEmail, "verify_email")
		op.open("/operator/mailbox")
		op.expect(fmt.Sprintf(`article.mail[data-to=%q]`, memberEmail), memberEmail)
		op.screenshot("operator-mailbox")
	})
}

// ownerEmailOf returns the owner's address of an organization.
func ownerEmailOf(t *testing.T, s *site, orgID string) string {
	t.Helper()
	page, err := s.env.App.Operator.Organizations(testenv.Ctx, roster.System(), "", "", 200)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range page.Items {
		if o.ID == orgID {
			return o.OwnerEmail
		}
	}
	t.Fatalf("no organization %s", orgID)
	return ""
}

// TestConnectorFlow: the admin forces one email domain and refuses free providers, creates
// a user directly (who chooses a password through the emailed link, never receiving one),
// sends a password reset, suspends and reactivates the user.
func TestConnectorFlow(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		domain := "connector-" + testenv.Unique() + ".com"
		admin := s.browser(t, "admin", lang)
		admin.signup("Ana Admin", "ana@"+domain)
		orgID := admin.createOrg("Connector Co")

		// Policy: only the company's domain, no free providers.
		admin.open("/orgs/" + orgID + "/policy")
		admin.fill("#p-domains", domain)
		admin.click(`input[name=block_free]`)
		admin.submit(`form[action$="/policy"] button[type=submit]`)
		admin.noError()
		admin.screenshot("org-policy")

		admin.open("/orgs/" + orgID + "/stores/new")
		admin.fill("#s-name", "Support desk")
		admin.submit(`#modal form button[type=submit]`)
		admin.noError()
		desk, err := s.env.App.Stores.List(testenv.Ctx, mustActor(t, s, "ana@"+domain), orgID, "")
		if err != nil || len(desk) != 1 {
			t.Fatalf("stores: %v %d", err, len(desk))
		}

		// A gmail address is refused, with the rule named.
		admin.open("/orgs/" + orgID + "/members/create")
		admin.fill("#m-email", "someone@gmail.com", "#m-name", "Some One")
		admin.submit(`[data-testid=send-invitation]`)
		if e := admin.text("#modal .flash.error"); e != catalogs[lang]["error.email_domain_not_allowed"] && e != catalogs[lang]["error.free_email_provider_blocked"] {
			t.Fatalf("gmail address: error %q", e)
		}

		// Direct creation: the user gets a set-password link, never a password.
		userEmail := "rita@" + domain
		admin.fill("#m-email", userEmail, "#m-name", "Rita Regular")
		admin.click(`#modal tr[data-store="Support desk"] input[name=store]`)
		admin.fill(`#modal tr[data-store="Support desk"] select`, roster.StoreRoleMember)
		admin.submit(`[data-testid=send-invitation]`)
		admin.noError()
		m := s.mail(t, userEmail, "set_password")
		if strings.Contains(m.Text, testenv.Password) {
			t.Fatal("a password is in the email")
		}
		rita := s.browser(t, "rita", lang)
		rita.open(s.link(t, m, console.Pages.SetPassword))
		rita.fill("#password", testenv.Password, "#password2", testenv.Password)
		rita.submit(`form[action="/reset-password"] button[type=submit]`)
		rita.noError()
		rita.login(userEmail)
		rita.expect("details.usermenu summary", "Rita Regular")

		// Password reset sent by the admin; suspension and reactivation.
		admin.open("/orgs/" + orgID + "/members")
		admin.popup(admin.memberMenu(userEmail) + ` [data-testid=send-reset]`)
		admin.expect("#modal", userEmail)
		admin.submit(`[data-testid=confirm-reset]`)
		admin.noError()
		s.mail(t, userEmail, "password_reset")
		admin.submit(admin.memberMenu(userEmail) + ` form[action$="/suspend"] button`)
		admin.noError()
		rita.open("/")
		if strings.Contains(rita.text("details.selector"), "Connector Co") && !strings.Contains(rita.text("details.selector"), catalogs[lang]["status.suspended"]) {
			t.Fatal("the suspended user still reaches the organization")
		}
		admin.submit(admin.memberMenu(userEmail) + ` form[action$="/reactivate"] button`)
		admin.noError()

		// Connections: only the admin creates API keys, and clones one for the regular user.
		admin.open("/orgs/" + orgID + "/api-keys")
		admin.popup(`[data-testid=new-key]`)
		admin.fill("#k-name", "Zendesk", "#k-store", desk[0].ID, "#k-role", roster.StoreRoleMember)
		admin.submit(`[data-testid=create-key]`)
		admin.noError()
		secret := admin.value(`[data-testid=key-secret]`)
		if !strings.HasPrefix(secret, "rk_") {
			t.Fatalf("the new key's secret is not shown: %q", secret)
		}
		// Its copy button puts it on the clipboard and says so in the status beside it.
		admin.grantClipboard()
		if got := admin.copyButton("k-secret"); got != secret {
			t.Fatalf("the copy button copied %q, want the secret", got)
		}
		admin.screenshot("key-created")
		if res, _ := bearer(t, s, secret, "/v1/organizations/"+orgID); res != http.StatusOK {
			t.Fatalf("GET the organization with the new key: %d", res)
		}
		admin.open("/orgs/" + orgID + "/api-keys")
		admin.screenshot("org-keys")
		admin.popup(`tr[data-key="Zendesk"] a[href$="/requests"]`)
		admin.expect("#modal", "/v1/organizations/"+orgID)
		admin.open("/orgs/" + orgID + "/api-keys")
		admin.popup(`tr[data-key="Zendesk"] [data-testid=clone-key]`)
		admin.fill("#k-name", "Zendesk for Rita")
		admin.submit(`[data-testid=create-key]`)
		admin.noError()
		if c := admin.value(`[data-testid=key-secret]`); !strings.HasPrefix(c, "rk_") || c == secret {
			t.Fatalf("the clone's secret: %q", c)
		}
		rita.open("/orgs/" + orgID + "/api-keys")
		if rita.count(`[data-testid=new-key]`) != 0 {
			t.Fatal("a regular user is offered to create API keys")
		}
		rita.expect("main", "Zendesk for Rita") // her own key
		rita.open("/orgs/" + orgID + "/usage")
		rita.expect("[data-testid=stores-usage]", "1 / 3")
		rita.screenshot("org-usage")

		// Revoking stops the key at once.
		admin.open("/orgs/" + orgID + "/api-keys")
		admin.popup(`tr[data-key="Zendesk"] [data-testid=revoke-key]`)
		admin.submit(`[data-testid=confirm-revoke]`)
		admin.noError()
		if res, _ := bearer(t, s, secret, "/v1/organizations/"+orgID); res != http.StatusUnauthorized {
			t.Fatalf("GET the organization with a revoked key: %d", res)
		}
	})
}

// TestArchiveAndDelete: a store is archived after a confirmation (it frees a credit), then
// deleted; a custom role is deleted; the owner deletes the organization after typing its
// name and their password.
func TestArchiveAndDelete(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		owner := s.browser(t, "owner", lang)
		owner.signup("Dora Owner", addr("dora"))
		orgID := owner.createOrg("Short Lived")
		owner.open("/orgs/" + orgID + "/stores/new")
		owner.fill("#s-name", "Popup shop")
		owner.submit(`#modal form button[type=submit]`)
		owner.noError()
		owner.popup(`tr[data-store="Popup shop"] a[href$="/archive"]`)
		owner.submit(`#modal form button[type=submit]`)
		owner.noError()
		owner.expect(`tr[data-store="Popup shop"]`, catalogs[lang]["storestatus.archived"])
		owner.expect("[data-testid=credits]", "3")
		owner.popup(`tr[data-store="Popup shop"] a[href$="/delete"]`)
		owner.submit(`#modal form button[type=submit]`)
		owner.noError()
		if owner.count(`tr[data-store="Popup shop"]`) != 0 {
			t.Fatal("the deleted store is still listed")
		}

		// A custom role nobody holds is deleted after a confirmation.
		owner.open("/orgs/" + orgID + "/roles/new")
		owner.fill("#r-name", "Temporary")
		owner.click(`#modal input[name=perm][value="store.read"]`)
		owner.submit(`[data-testid=save-role]`)
		owner.noError()
		owner.popup(`tr[data-role="Temporary"] [data-testid=delete-role]`)
		owner.submit(`[data-testid=confirm-delete-role]`)
		owner.noError()
		if owner.count(`tr[data-role="Temporary"]`) != 0 {
			t.Fatal("the deleted role is still listed")
		}

		owner.open("/orgs/" + orgID + "/delete")
		owner.fill("#d-name", "Short Lived")
		owner.submit(`[data-testid=confirm-delete-org]`)
		owner.noError()
		owner.expect(".flash.success", catalogs[lang]["flash.org_deleted"])
		if strings.Contains(owner.text("details.selector"), "Short Lived") {
			t.Fatal("the deleted organization is still in the selector")
		}
	})
}

// bearer calls the API with a bearer token and returns the status and body.
func bearer(t *testing.T, s *site, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestAccountPages: the email verification link, "forgot password" through to a new
// password, the audit log with its filters, and the error page.
func TestAccountPages(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		email := addr("vera")
		b := s.browser(t, "vera", lang)
		b.signup("Vera Verify", email)
		// Until the address is confirmed, every page says so and can send the link again;
		// sending it stays on the page.
		cat := catalogs[lang]
		// A page's query goes back with it (a sign-in's chooser is nothing without its own).
		b.open("/orgs/new?from=menu")
		b.expect("[data-testid=verify-banner]", strings.ReplaceAll(cat["verify.banner"], "{email}", email))
		first := s.link(t, s.mail(t, email, "verify_email"), console.Pages.VerifyEmail)
		b.submit("[data-testid=resend-verification]")
		b.noError()
		if p := b.path(); p != "/orgs/new?from=menu&ok=verification_sent" {
			t.Fatalf("after sending the link again the page is %s", p)
		}
		b.expect(".flash.success", cat["flash.verification_sent"])
		again := first
		for deadline := time.Now().Add(20 * time.Second); again == first; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("sending the link again sent no new link")
			}
			again = s.link(t, s.mail(t, email, "verify_email"), console.Pages.VerifyEmail)
		}
		b.open(again)
		b.submit(`form[action="/verify-email"] button[type=submit]`)
		b.noError()
		b.expect(".flash.success", cat["flash.email_verified"])
		if n := b.count("[data-testid=verify-banner]"); n != 0 {
			t.Fatal("the banner stays after the address is confirmed")
		}

		orgID := b.createOrg("Audited")
		b.open("/orgs/" + orgID + "/audit")
		b.expect("main", catalogs[lang]["action.organization.created"])
		b.fill(`select[name=action]`, "store.")
		b.submit(`form.filters button[type=submit]`)
		b.expect("main", catalogs[lang]["audit.empty"])
		b.screenshot("org-audit")

		// The download links keep the filters and work as plain links with the session
		// cookie; they give what the API's export gives for the same filters.
		if _, csv := b.download(`[data-testid=export-csv]`); strings.Contains(csv, "organization.created") || !strings.HasPrefix(csv, "id,created_at,") {
			t.Fatalf("the CSV download with the store. filter:\n%s", csv)
		}
		b.fill(`select[name=action]`, "organization.")
		b.submit(`form.filters button[type=submit]`)
		login, err := s.env.App.Auth.Login(testenv.Ctx, anon(), app.LoginInput{Email: email, Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"csv", "jsonl"} {
			ctype, got := b.download(`[data-testid=export-` + format + `]`)
			if !strings.Contains(got, "organization.created") || !strings.Contains(ctype, map[string]string{"csv": "text/csv", "jsonl": "application/jsonl"}[format]) {
				t.Fatalf("the %s download (%s) misses the organization's creation:\n%s", format, ctype, got)
			}
			status, want := bearer(t, s, login.Token, "/v1/organizations/"+orgID+"/audit-events/export?action=organization.&format="+format)
			if status != http.StatusOK || got != want {
				t.Fatalf("the console's %s download differs from the API's export (%d):\n%s\n---\n%s", format, status, got, want)
			}
		}

		b.open("/orgs/org_00000000000000000000000000/details")
		b.expect("main", catalogs[lang]["error.not_found"])

		// Forgot password, from a signed-out browser.
		anon := s.browser(t, "anonymous", lang)
		anon.open("/login")
		anon.submit(`a[href="/forgot-password"]`)
		anon.fill("#email", email)
		anon.submit(`form[action="/forgot-password"] button[type=submit]`)
		anon.noError()
		anon.expect("main", catalogs[lang]["forgot.sent_title"])
		anon.open(s.link(t, s.mail(t, email, "password_reset"), console.Pages.SetPassword))
		newPassword := "a brand new passphrase for vera"
		anon.fill("#password", newPassword, "#password2", newPassword)
		anon.submit(`form[action="/reset-password"] button[type=submit]`)
		anon.noError()
		anon.expect(".flash.success", catalogs[lang]["flash.password_set"])
		anon.fill("#email", email, "#password", newPassword)
		anon.submit(`form[action="/login"] button[type=submit]`)
		anon.noError()
		anon.expect("details.usermenu summary", "Vera Verify")
	})
}
