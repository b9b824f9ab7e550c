package console

import (
	"slices"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/rosterhq/roster/app"
)

// option is one entry of a list a form offers.
type option struct{ Value, Label string }

// choiceLists are the countries (named in each language with CLDR's names through x/text,
// sorted by them) and currencies (by code) that forms offer; built once per language.
var choiceLists sync.Map // "countries en" → []option

func choices(kind, loc string) []option {
	if v, ok := choiceLists.Load(kind + " " + loc); ok {
		return v.([]option)
	}
	tag := language.Make(loc)
	var out []option
	switch kind {
	case "countries":
		names := display.Regions(tag)
		for _, code := range app.Countries() {
			r := language.MustParseRegion(code)
			if n := names.Name(r); n != "" {
				out = append(out, option{code, n})
			}
		}
		c := collate.New(tag)
		slices.SortFunc(out, func(a, b option) int { return c.CompareString(a.Label, b.Label) })
	case "currencies":
		// By code; roster.js adds each currency's name in the page's language (Intl).
		for _, code := range app.Currencies() {
			out = append(out, option{code, code})
		}
	}
	choiceLists.Store(kind+" "+loc, out)
	return out
}
