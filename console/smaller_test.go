package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUserMenuAndBackground: the user menu shows a long address whole (wrapped, not clipped)
// on a phone and a desktop, and the page background fills a short page to the bottom.
func TestUserMenuAndBackground(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		email := "a.very.long.address.for.the.menu." + addr("Lou")
		b := s.browser(t, "lou", lang)
		b.signup("Lou", email)
		for _, w := range []int64{390, 1280} {
			b.must(chromedp.Do(b.ctx, chromedp.EmulateViewport(w, 1400)))
			b.open("/account")
			b.menu("details.usermenu")
			js := `(function () {
				var e = document.querySelector("details.usermenu .um-who small"), ul = e.closest("ul");
				var r = e.getBoundingClientRect(), u = ul.getBoundingClientRect();
				if (e.scrollWidth > e.clientWidth + 1) return "clipped: " + e.scrollWidth + " > " + e.clientWidth;
				if (r.left < u.left - 0.5 || r.right > u.right + 0.5) return "outside the menu: " + r.left + "-" + r.right + " in " + u.left + "-" + u.right;
				if (r.right > window.innerWidth) return "outside the window";
				return e.innerText;
			})()`
			out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
			b.must(err)
			if strings.ReplaceAll(out, "\n", "") != email {
				t.Fatalf("at %d px the menu's address: %s", w, out)
			}
			b.click("details.usermenu > summary")
		}
		b.must(chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 2400)))
		b.open("/account")
		js := `getComputedStyle(document.documentElement).backgroundColor === getComputedStyle(document.body).backgroundColor && getComputedStyle(document.body).backgroundColor !== "rgb(255, 255, 255)"`
		same, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
		b.must(err)
		if !same {
			t.Fatal("below a short page the background is not the page's")
		}
	})
}
