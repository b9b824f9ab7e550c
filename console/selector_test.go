package console_test

import (
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/sqlstore"
)

// TestSelectorInReadingOrder: the selector lists organizations as people read their names,
// whatever their case and accents (roster.CompareByName): "apple", "Éclair", "zeta", where
// lower-cased bytes had put "Éclair" last.
func TestSelectorInReadingOrder(t *testing.T) {
	chromium(t)
	t.Parallel()
	s := sharedSiteOf(t, sqlstore.SQLite)
	b := s.browser(t, "owner", "fr")
	b.signup("Élodie Ordre", addr("elodie"))
	for _, name := range []string{"zeta", "Éclair", "apple"} {
		b.createOrg(name)
	}
	b.open("/")
	b.menu("details.selector")
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("details.selector .sel-org .org-badge")].map(e => e.nextSibling.textContent.trim())`))
	b.must(err)
	if want := []string{"apple", "Éclair", "zeta"}; !slices.Equal(got, want) {
		t.Fatalf("the selector lists %q, want %q", got, want)
	}
}
