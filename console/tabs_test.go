package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/sqlstore"
)

// TestReusedTabIsEmpty: a tab handed from one test to the next (browser keeps them, since
// opening one costs Chromium ten page loads) carries nothing over: the person of the first
// test is signed out in the second, and the phone width the first set is gone.
func TestReusedTabIsEmpty(t *testing.T) {
	s := sharedSiteOf(t, sqlstore.SQLite)
	var first target.ID
	t.Run("signs in on a phone", func(t *testing.T) {
		b := s.browser(t, "first", "en")
		b.signup("First", addr("first"))
		b.must(chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844)))
		first = chromedp.FromContext(b.ctx).Target.TargetID
		b.open("/")
		if p := b.path(); p == "/login" || p == "/signup" {
			t.Fatalf("signed up, yet at %s", p)
		}
	})
	t.Run("finds the tab empty", func(t *testing.T) {
		if first == "" {
			t.Skip("the first test failed")
		}
		b := s.browser(t, "second", "en")
		if id := chromedp.FromContext(b.ctx).Target.TargetID; id != first {
			t.Fatalf("the first test's tab was not handed on (got %s, want %s)", id, first)
		}
		b.open("/")
		if p := b.path(); !strings.HasPrefix(p, "/login?") {
			t.Fatalf("a reused tab opens / at %s, not the login page: the first person's session stayed", p)
		}
		if !b.is(`window.innerWidth === 1280`) {
			t.Fatalf("a reused tab kept the phone width: innerWidth is not 1280")
		}
	})
}
