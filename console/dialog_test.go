package console_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestPopupsAreModal: by keyboard only, a pop-up is a modal dialog — the focus goes to its
// first field, Tab never leaves it, the page behind cannot take the focus, and Escape closes
// it in place and gives the focus back to the button that opened it. A pop-up the page came
// with (after a refused post) closes by going to the page under it, which reloads cleanly.
func TestPopupsAreModal(t *testing.T) {
	chromium(t)
	t.Parallel()
	s := sharedSiteOf(t, sqlstore.SQLite)
	b := s.browser(t, "owner", "en")
	email := addr("Mona")
	b.signup("Mona Modal", email)
	orgID := b.createOrg("Modal Co " + testenv.Unique())
	members := "/orgs/" + orgID + "/members"

	for _, width := range []int64{1280, 390} {
		b.must(chromedp.Do(b.ctx, chromedp.EmulateViewport(width, 800)))
		b.open(members)
		b.must(chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS("[data-testid=add-member]"))))
		b.key(kb.Enter)
		b.settle(`document.querySelector("#modal dialog:modal") && document.activeElement.closest("dialog")`)
		b.check()
		if id := b.active(); id != "m-email" {
			t.Fatalf("%d px: the pop-up opened with the focus on %q, want its first field", width, id)
		}
		// Tab goes round the pop-up's controls and never to the page behind.
		seen := map[string]bool{}
		for i := range 30 {
			b.key(kb.Tab)
			if !b.is(`document.querySelector("#modal dialog").contains(document.activeElement)`) {
				t.Fatalf("%d px: Tab %d left the pop-up for %q", width, i+1, b.active())
			}
			seen[b.active()] = true
		}
		if len(seen) < 4 {
			t.Fatalf("%d px: Tab reached only %v", width, seen)
		}
		// The page behind is inert: it cannot take the focus.
		b.must(chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#main a[href]").focus()`)))
		if !b.is(`document.querySelector("#modal dialog").contains(document.activeElement)`) {
			t.Fatalf("%d px: a link behind the pop-up took the focus", width)
		}
		b.key(kb.Escape)
		b.settle(`!document.querySelector("#modal dialog")`)
		if !b.is(`document.activeElement === document.querySelector("[data-testid=add-member]")`) {
			t.Fatalf("%d px: after Escape the focus is on %q, not on the button that opened the pop-up", width, b.active())
		}
		if p := b.path(); p != members {
			t.Fatalf("%d px: closing the pop-up moved to %s", width, p)
		}
	}

	// Cancel closes in place too, and the same button opens the pop-up again.
	b.must(chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS("[data-testid=add-member]"))))
	b.key(kb.Enter)
	b.settle(`document.querySelector("#modal dialog[open]")`)
	b.click(`#modal .dialog-actions a[role=button]`)
	b.settle(`!document.querySelector("#modal dialog")`)
	if !b.is(`document.activeElement === document.querySelector("[data-testid=add-member]")`) {
		t.Fatalf("after Cancel the focus is on %q", b.active())
	}

	// A refused post comes back as a page with the pop-up open: still modal; Escape goes
	// to the page under it.
	b.must(chromedp.Do(b.ctx, chromedp.Focus(chromedp.CSS("[data-testid=add-member]"))))
	b.key(kb.Enter)
	b.settle(`document.querySelector("#modal dialog[open]")`)
	b.fill("#m-email", email) // already a member
	b.submit("[data-testid=send-invitation]")
	b.settle(`document.querySelector("#modal dialog:modal .flash.error")`)
	b.key(kb.Escape)
	b.settle(`location.pathname === ` + fmt.Sprintf("%q", members) + ` && !document.querySelector("#modal dialog")`)
	b.noError()
}

// key presses one key in the tab, as a keyboard user would.
func (b *tab) key(k string) {
	b.t.Helper()
	b.must(chromedp.Do(b.ctx, chromedp.KeyEvent(k)))
}

// is evaluates a JavaScript condition in the tab.
func (b *tab) is(cond string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
	b.must(err)
	return ok
}

// active names the focused element: its id, else its test id, else its tag and text.
func (b *tab) active() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(function () {
		var e = document.activeElement;
		if (!e) return "";
		return e.id || e.getAttribute("data-testid") || (e.tagName + " " + (e.textContent || "").trim().slice(0, 30));
	})()`))
	b.must(err)
	return s
}
