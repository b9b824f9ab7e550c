package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
)

// TestPagesFitPhones opens every page of the console, with its tables and pop-ups filled,
// at a phone's width (390 CSS pixels) in each language: no page may be wider than the
// screen. Tables scroll sideways inside their own box instead.
func TestPagesFitPhones(t *testing.T) {
	chromium(t)
	everyLanguage(t, func(t *testing.T, s *site, lang string) {
		email, paths := richOrg(t, s, lang)
		b := s.browser(t, "pia", lang)
		b.login(email)
		b.must(chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844)))
		for _, path := range paths {
			b.open(path)
			b.noError()
			b.fits(path)
		}
		// A short page on a tall window: the page's background reaches the bottom of the window
		// (the canvas, not a white band under the footer), and the footer sits at the bottom.
		b.must(chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 4000)))
		b.open("/account")
		filled, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(function () {
			var html = getComputedStyle(document.documentElement).backgroundColor, body = getComputedStyle(document.body).backgroundColor;
			var foot = document.querySelector("body > footer");
			return html === body && html !== "rgba(0, 0, 0, 0)" && (!foot || Math.abs(foot.getBoundingClientRect().bottom - window.innerHeight) < 2);
		})()`))
		b.must(err)
		if !filled {
			why, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`getComputedStyle(document.documentElement).backgroundColor + " " + getComputedStyle(document.body).backgroundColor + " footer " + (document.querySelector("body > footer") ? document.querySelector("body > footer").getBoundingClientRect().bottom : "none") + " of " + window.innerHeight + " scroll " + document.documentElement.scrollHeight`))
			t.Errorf("%s: on a short page the background or the footer stops short of the window's bottom: %s", lang, why)
		}
		b.must(chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844)))
		b.open("/")
		for _, menu := range []string{"details.selector", "details.usermenu"} {
			b.menu(menu)
			b.fits("/ with " + menu + " open")
			b.click(menu + " > summary") // closes it
		}
	})
}

// fits fails when the page is wider than the window, naming the elements that stick out
// (those inside a box that scrolls sideways do not count).
func (b *tab) fits(what string) {
	b.t.Helper()
	js := `(function () {
		var de = document.documentElement, w = window.innerWidth;
		if (de.scrollWidth <= w) return "";
		var out = [];
		document.querySelectorAll("body *").forEach(function (e) {
			var r = e.getBoundingClientRect();
			if (r.right <= w + 0.5 || r.width === 0) return;
			for (var p = e.parentElement; p; p = p.parentElement) {
				var ox = getComputedStyle(p).overflowX;
				if (ox === "auto" || ox === "scroll" || ox === "hidden") return;
			}
			if (e.parentElement && e.parentElement.getBoundingClientRect().right > w + 0.5) return; // its container sticks out already
			out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") +
				" right=" + Math.round(r.right) + " " + JSON.stringify((e.innerText || "").slice(0, 40)));
		});
		return "scrollWidth " + de.scrollWidth + " > innerWidth " + w + ":\n" + out.slice(0, 12).join("\n");
	})()`
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	b.must(err)
	if out != "" {
		b.t.Errorf("%s: %s is wider than a phone (%s):\n%s", b.name, what, b.lang, out)
	}
	// A table box that scrolls sideways takes the focus (so the keyboard scrolls it) and has
	// a name, or holds a control the focus reaches.
	unreachable, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(function () {
		var out = [];
		document.querySelectorAll(".table-wrap").forEach(function (w) {
			if (w.scrollWidth <= w.clientWidth + 1) return;
			if (w.getAttribute("tabindex") === "0" || w.querySelector("a[href], button, input, select, textarea")) return;
			out.push((w.querySelector("th") || w).textContent.trim().slice(0, 30));
		});
		return out.join(", ");
	})()`))
	b.must(err)
	if unreachable != "" {
		b.t.Errorf("%s: on %s a table scrolls sideways without a way to scroll it by keyboard: %s", b.name, what, unreachable)
	}
}

// richOrg makes an operator who owns an organization with long names, stores, a custom role,
// a member, an invitation and an API key, so that every table has rows; it returns the
// operator's address and the path of every page and pop-up of the console.
func richOrg(t *testing.T, s *site, lang string) (string, []string) {
	t.Helper()
	email := addr("pia")
	if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: email, Name: "Pia Phone-Fitzgerald Longname", Password: testenv.Password, Locale: lang}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.env.App.Operator.CreateOperator(testenv.Ctx, roster.System(), email, ""); err != nil {
		t.Fatal(err)
	}
	pia := mustActor(t, s, email)
	org := s.env.Org(t, pia, "International Phone Fitting Company of Greater Examples")
	if _, err := s.env.App.Operator.SetStoreCredits(testenv.Ctx, roster.System(), org.ID, 5); err != nil {
		t.Fatal(err)
	}
	main := s.env.Store(t, pia, org.ID, "Flagship store on the Very Long Avenue")
	s.env.Store(t, pia, org.ID, "Second store")
	role, err := s.env.App.Roles.Create(testenv.Ctx, pia, org.ID, app.RoleInput{Name: "Community manager for social networks",
		Description: "Answers the fans on every network", Permissions: []roster.Permission{"store.read", "store.members.read"}})
	if err != nil {
		t.Fatal(err)
	}
	memberEmail := addr("maximilian.membership-verylongname")
	if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: memberEmail, Name: "Maximilian Membership-Verylongname", Password: testenv.Password, Locale: lang}); err != nil {
		t.Fatal(err)
	}
	memberActor, member := s.env.Login(t, memberEmail)
	s.env.Join(t, pia, org.ID, member, roster.OrgMember, app.StoreGrantInput{StoreID: main.ID, RoleID: role.ID})
	s.enrollTOTP(t, memberActor) // the members tab marks them, and offers a reset
	if _, err := s.env.App.Invitations.Create(testenv.Ctx, pia, org.ID, app.InvitationInput{Email: addr("invited.person.with.a.long.address"),
		Stores: []app.StoreGrantInput{{StoreID: main.ID, RoleID: role.ID}}}); err != nil {
		t.Fatal(err)
	}
	key, err := s.env.App.APIKeys.Create(testenv.Ctx, pia, org.ID, app.APIKeyInput{Name: "Helpdesk connection for the support team",
		StoreID: main.ID, RoleID: role.ID, Proof: app.OwnerProof{Password: testenv.Password}})
	if err != nil {
		t.Fatal(err)
	}

	o := "/orgs/" + org.ID
	return email, []string{"/", "/account", "/orgs/new",
		o + "/details", o + "/stores", o + "/stores/new", o + "/members", o + "/members/new", o + "/members/create",
		o + "/members/" + member.ID + "/stores", o + "/members/" + member.ID + "/remove", o + "/members/" + member.ID + "/two-factor-reset", o + "/invitations",
		o + "/roles", o + "/roles/new", o + "/roles/" + role.ID + "/edit", o + "/policy",
		o + "/api-keys", o + "/api-keys/new", o + "/api-keys/" + key.Key.ID + "/requests", o + "/audit", o + "/usage",
		o + "/transfer", o + "/delete", "/stores/" + main.ID, "/stores/" + main.ID + "/invite",
		"/operator/organizations", "/operator/users", "/operator/mailbox", "/operator/keys"}
}
