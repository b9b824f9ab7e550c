package console_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rosterhq/roster/app"
)

// TestConsoleStepUp: right after signing in, making an API key asks for nothing more (the form
// says so); a first passkey comes with recovery codes, shown once; ten minutes later the form
// asks for a code (a recovery code) or the passkey, not the password, refuses a wrong code with
// a readable message, and its link leads to Confirm it's you, where Chromium's virtual
// authenticator answers; back on the form nothing more is asked and the key is made.
func TestConsoleStepUp(t *testing.T) {
	chromium(t)
	inLanguages(t, localhostSite, []string{"en", otherLanguage(t.Name())}, func(t *testing.T, s *site, lang string) {
		cat := catalogs[lang]
		b := s.browser(t, "stella", lang)
		b.authenticator()
		email := addr("stella")
		b.signup("Stella Stone", email)
		org := s.env.Org(t, mustActor(t, s, email), "Step Shop")
		newKey := "/orgs/" + org.ID + "/api-keys/new"

		b.open(newKey)
		b.expect(`[data-testid=step-up-fresh]`, cat["stepup.fresh"])
		if b.count("#k-password") != 0 {
			t.Fatal("the password is asked right after signing in")
		}

		b.open("/account")
		b.fill("#passkey-name", "Laptop")
		b.passkeyButton(`[data-testid=passkey-add]`)
		b.noError()
		b.expect(".flash.success", cat["flash.passkey_added_codes"])
		if n := b.count(`[data-testid=recovery-codes] li`); n != app.RecoveryCodeCount {
			t.Fatalf("%d recovery codes shown with the first passkey", n)
		}
		s.env.Clock.Advance(app.StepUpWindow + time.Second)

		b.open(newKey)
		if b.count("#k-password") != 0 || b.count(`[data-testid=step-up-fresh]`) != 0 || b.count("#k-code") != 1 {
			t.Fatal("an account with a passkey is asked for its password, or nothing, or no code")
		}
		b.fill("#k-name", "Helpdesk", "#k-code", "00000-00000-00000-00000")
		b.submit(`[data-testid=create-key]`)
		b.expect("#err-code", cat["error.invalid_code"])

		b.open(b.attr(`[data-testid=step-up-passkey]`, "href"))
		b.expect("h1", cat["stepup.title"])
		b.passkeyButton(`[data-testid=step-up-passkey-form]`)
		b.noError()
		if p := b.path(); !strings.HasPrefix(p, newKey+"?") {
			t.Fatalf("after confirming: at %s, want %s", p, newKey)
		}
		b.expect(".flash.success", cat["flash.stepped_up"])
		b.expect(`[data-testid=step-up-fresh]`, cat["stepup.fresh"])
		b.fill("#k-name", "Helpdesk")
		b.submit(`[data-testid=create-key]`)
		b.noError()
		if secret := b.value(`[data-testid=key-secret]`); !strings.HasPrefix(secret, "rk_") {
			t.Fatalf("the key's secret: %q", secret)
		}

		// By keyboard only, ten minutes later: deleting the organization, from its name field
		// Tab reaches the code (a wrong one is refused) and then the passkey link; Enter follows it; on Confirm it's
		// you a wrong recovery code is refused and a reload shows the page again (no second
		// post) with its way back; Tab reaches the passkey button, Enter confirms, and the
		// deletion goes through from the keyboard.
		s.env.Clock.Advance(app.StepUpWindow + time.Second)
		deletePage := "/orgs/" + org.ID + "/delete"
		b.open(deletePage)
		b.must(chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS("#d-name"))))
		b.must(chromedp.Do(b.ctx, chromedp.KeyEvent("Step Shop")))
		b.key(kb.Tab)
		if id := b.active(); id != "d-code" {
			t.Fatalf("Tab from the name went to %q, want the code", id)
		}
		b.must(chromedp.Do(b.ctx, chromedp.KeyEvent("00000-00000-00000-00000")))
		b.key(kb.Enter)
		b.settle(`document.querySelector("#err-code")`)
		b.expect("#err-code", cat["error.invalid_code"])
		b.must(chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS("#d-code"))))
		b.key(kb.Tab)
		if id := b.active(); id != "step-up-passkey" {
			t.Fatalf("Tab from the code went to %q, want the passkey link", id)
		}
		b.key(kb.Enter)
		b.settle(`location.pathname === "/account/confirm"`)
		b.expect("h1", cat["stepup.title"])
		b.fill("#c-code", "00000-00000-00000-00000")
		b.submit(`[data-testid=step-up-code-form] button[type=submit]`)
		b.expect(".flash.error", cat["error.invalid_code"])
		b.must(chromedp.Do(b.ctx, chromedp.Reload()))
		b.settle(`location.pathname === "/account/confirm" && !document.querySelector(".flash.error")`)
		if back := b.attr(".auth-links a", "href"); back != deletePage {
			t.Fatalf("after a reload the way back is %q, want %s", back, deletePage)
		}
		for i := 0; !b.is(`document.activeElement.matches("[data-passkey-button]")`); i++ { // from the top of the page
			if i > 30 {
				t.Fatalf("Tab never reached the passkey button (at %q)", b.active())
			}
			b.key(kb.Tab)
		}
		b.key(kb.Enter)
		b.settle(`location.pathname === ` + strconv.Quote(deletePage))
		b.expect(`[data-testid=step-up-fresh]`, cat["stepup.fresh"])
		b.must(chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS("#d-name"))))
		b.must(chromedp.Do(b.ctx, chromedp.KeyEvent("Step Shop")))
		b.key(kb.Enter)
		b.settle(`location.pathname === "/"`)
		b.noError()
	})
}
