package console_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestPostsLeaveAPageAddress: after a post, failed or not, the address bar holds the page's
// own address, so a reload shows the page (not a raw logo image) and posts nothing again;
// the notice is in view and focused on a 700 px high window, even when the form was far
// down the page.
func TestPostsLeaveAPageAddress(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		owner := s.browser(t, "owner", lang)
		owner.signup("Pam Owner", addr("Pam"))
		orgID := owner.createOrg("Reload Co")
		owner.must(chromedp.Do(owner.ctx, chromedp.EmulateViewport(1280, 700)))
		details := "/orgs/" + orgID + "/details"
		cat := catalogs[lang]

		// A logo that is not an image: refused, and the address is the details page's.
		notImage := filepath.Join(t.TempDir(), "logo.png")
		if err := os.WriteFile(notImage, []byte("not an image"), 0o644); err != nil {
			t.Fatal(err)
		}
		owner.open(details)
		owner.must(chromedpSetUpload(owner, "#logo", notImage))
		owner.submit(fmt.Sprintf(`form[action="/orgs/%s/logo"] button[type=submit]`, orgID))
		if owner.text(".flash.error") == "" {
			t.Fatal("a file that is not an image was not refused")
		}
		if p := owner.path(); p != details {
			t.Fatalf("after a refused logo the address is %s, want %s", p, details)
		}
		owner.noticeInView(".flash.error")
		owner.must(chromedp.Do(owner.ctx, chromedp.Reload()))
		owner.settle("")
		if p := owner.path(); p != details {
			t.Fatalf("after reloading the address is %s", p)
		}
		owner.noError()
		owner.expect("main h1", "Reload Co")

		// The details form, saved from the bottom of the page: its notice is in view.
		owner.fill("#details-form [name=city]", "Lyon")
		owner.must(chromedp.Do(owner.ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.body.scrollHeight)`)))
		owner.submit(`#details-form button[type=submit]`)
		owner.noError()
		owner.expect(".flash.success", cat["flash.org_saved"])
		owner.noticeInView(".flash.success")
		if p := owner.path(); !strings.HasPrefix(p, details) {
			t.Fatalf("after saving the address is %s", p)
		}
	})
}

// noticeInView fails unless the notice sel is wholly visible below the sticky top bar and
// has the focus, so that it is seen and read out.
func (b *tab) noticeInView(sel string) {
	b.t.Helper()
	js := fmt.Sprintf(`(function () {
		var f = document.querySelector(%q);
		if (!f) return "no notice";
		var r = f.getBoundingClientRect(), bar = document.querySelector(".topbar").getBoundingClientRect().bottom;
		if (r.top < bar || r.bottom > window.innerHeight) return "notice at " + r.top + "-" + r.bottom + ", window " + bar + "-" + window.innerHeight;
		if (document.activeElement !== f) return "the notice has not the focus";
		return "";
	})()`, sel)
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	b.must(err)
	if out != "" {
		b.t.Fatalf("%s on %s: %s", b.name, b.path(), out)
	}
}
