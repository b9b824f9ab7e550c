package console_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
)

// TestTwoFactorFlow: a person sets up an authenticator app from the account page, reading the
// key as text from the page and computing codes with pquerna/otp (another implementation of
// RFC 6238 than a browser's), saves the recovery codes, signs out, signs in with the password
// and a code of the app, then with a recovery code, and turns two-factor authentication off.
func TestTwoFactorFlow(t *testing.T) {
	chromium(t)
	languagesAlone(t, func(t *testing.T, s *site, lang string) {
		cat := catalogs[lang]
		b := s.browser(t, "nadia", lang)
		email := addr("nadia")
		b.signup("Nadia Nord", email)

		b.open("/account")
		b.expect("#two-factor", cat["twofa.title"])
		b.submit(`[data-testid=two-factor-setup]`)
		b.noError()
		if !b.is(`document.querySelector("img.totp-qr").complete && document.querySelector("img.totp-qr").naturalWidth >= 200`) {
			t.Fatal("the QR code is not shown")
		}
		key := strings.ReplaceAll(b.text(`[data-testid=totp-key]`), " ", "")
		code := func() string {
			t.Helper()
			c, err := totp.GenerateCode(key, s.env.Clock.Now())
			if err != nil {
				t.Fatalf("code from the key %q shown: %v", key, err)
			}
			return c
		}
		// A wrong first code turns nothing on and shows the same key again.
		b.fill("#totp-code", "000000")
		b.submit(`form[action="/account/2fa/confirm"] button[type=submit]`)
		b.expect(".flash.error", cat["error.invalid_code"])
		if again := strings.ReplaceAll(b.text(`[data-testid=totp-key]`), " ", ""); again != key {
			t.Fatalf("the key changed after a wrong code: %q, was %q", again, key)
		}
		b.fill("#totp-code", code())
		b.submit(`form[action="/account/2fa/confirm"] button[type=submit]`)
		b.noError()
		b.expect(`[data-testid=recovery-codes]`, cat["twofa.codes_title"])
		var codes []string
		for _, c := range strings.Split(b.text(`ul.recovery-codes`), "\n") {
			if c = strings.TrimSpace(c); c != "" {
				codes = append(codes, c)
			}
		}
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown: %q", len(codes), codes)
		}
		href, err := url.PathUnescape(strings.TrimPrefix(b.attr(`[data-testid=download-codes]`, "href"), "data:text/plain;charset=utf-8,"))
		if err != nil || href != strings.Join(codes, "\n")+"\n" {
			t.Fatalf("the download holds %q (%v)", href, err)
		}
		b.screenshot("two-factor-codes")
		b.open("/account")
		b.expect(`[data-testid=two-factor-on]`, cat["twofa.on"])

		signOut := func() {
			t.Helper()
			b.menu("details.usermenu")
			b.submit(`details.usermenu form[action="/logout"] button`)
		}
		passwordStep := func(next string) {
			t.Helper()
			signOut()
			b.open("/login" + next)
			b.fill("#email", email, "#password", testenv.Password)
			b.submit(`form[action="/login"] button[type=submit]`)
			b.noError()
			b.expect("h1", cat["mfa.title"])
			if b.count("details.usermenu") != 0 {
				t.Fatal("signed in after the password alone")
			}
		}

		// Password, then a code of the next step (the first one is spent); the login goes on
		// where it was headed.
		passwordStep("?next=%2Faccount")
		s.env.Clock.Advance(30 * time.Second)
		b.fill("#code", code())
		b.submit(`[data-testid=mfa-code] button[type=submit]`)
		b.noError()
		if p := b.path(); p != "/account" {
			t.Fatalf("after the second step: at %s, want /account", p)
		}
		b.expect("details.usermenu summary", "Nadia Nord")

		// Password, then a recovery code; the same code a second time is refused.
		passwordStep("")
		b.click("[data-testid=use-recovery] > summary")
		b.fill("#recovery", codes[0])
		b.submit(`[data-testid=mfa-recovery] button[type=submit]`)
		b.noError()
		b.open("/")
		b.expect("details.usermenu summary", "Nadia Nord")
		passwordStep("")
		b.click("[data-testid=use-recovery] > summary")
		b.fill("#recovery", codes[0])
		b.submit(`[data-testid=mfa-recovery] button[type=submit]`)
		b.expect(".flash.error", cat["error.invalid_code"])

		// The page asks again; a fresh code finishes the login, then turning it off needs proof.
		s.env.Clock.Advance(30 * time.Second)
		b.fill("#code", code())
		b.submit(`[data-testid=mfa-code] button[type=submit]`)
		b.noError()
		s.env.Clock.Advance(app.StepUpWindow + time.Second) // the login no longer confirms it
		b.open("/account")
		if b.count("#remove-password") != 0 {
			t.Fatal("turning the app off asks for the password")
		}
		b.fill("#remove-code", code())
		b.submit(`form[action="/account/2fa/remove"] button[type=submit]`)
		b.noError()
		b.expect(".flash.success", cat["flash.two_factor_removed"])
		signOut()
		b.login(email)
		b.expect("details.usermenu summary", "Nadia Nord")
	})
}

// attr returns an attribute of the first element sel matches.
func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute(%q) || ""`, sel, name)))
	b.must(err)
	return v
}
