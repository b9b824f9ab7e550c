package app

import (
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"

	"github.com/rosterhq/roster"
)

// text trims a free-text field and checks its length in characters. Control characters
// (CR and LF above all, which could forge email headers) are refused.
func text(field, s string, required bool, max int) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", roster.Invalidf(field, "%s is required", humanField(field))
	}
	if utf8.RuneCountInString(s) > max {
		return "", roster.Invalidf(field, "%s must be at most %d characters", humanField(field), max)
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", roster.Invalidf(field, "%s contains characters that are not allowed", humanField(field))
	}
	return s, nil
}

func humanField(f string) string { return strings.ReplaceAll(f, "_", " ") }

// website checks an optional http(s) URL.
func website(field, s string) (string, error) {
	s, err := text(field, s, false, 300)
	if err != nil || s == "" {
		return s, err
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", roster.Invalidf(field, "%s must be a web address such as https://example.com", humanField(field))
	}
	return u.String(), nil
}

// upperCode checks an optional code of n ASCII letters (a country or a currency) and
// returns it upper-cased.
func upperCode(field, s string, n int) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if len(s) != n {
		return "", roster.Invalidf(field, "%s must be a %d-letter code", humanField(field), n)
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return "", roster.Invalidf(field, "%s must be a %d-letter code", humanField(field), n)
		}
	}
	return s, nil
}

// currencyCode checks an optional ISO 4217 currency code (one in use or a historic one that
// data may still carry) and returns it upper-cased.
func currencyCode(field, s string) (string, error) {
	s, err := upperCode(field, s, 3)
	if err != nil || s == "" {
		return s, err
	}
	if _, err := currency.ParseISO(s); err != nil {
		return "", roster.Invalidf(field, "%s is not an ISO 4217 currency code", s)
	}
	return s, nil
}

// countryCode checks an optional ISO 3166-1 alpha-2 country code and returns it in its
// current form (a withdrawn code such as UK becomes GB).
func countryCode(field, s string) (string, error) {
	s, err := upperCode(field, s, 2)
	if err != nil || s == "" {
		return s, err
	}
	r, err := language.ParseRegion(s)
	if err != nil || !r.IsCountry() {
		return "", roster.Invalidf(field, "%s is not an ISO 3166 country code", s)
	}
	return r.Canonicalize().String(), nil
}

// Currencies are the ISO 4217 codes in use today, sorted: what a form offers.
var Currencies = sync.OnceValue(func() []string {
	seen := map[string]bool{}
	for it := currency.Query(); it.Next(); {
		seen[it.Unit().String()] = true
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
})

// Countries are the ISO 3166-1 alpha-2 codes countryCode accepts in their current form,
// sorted: what a form offers.
var Countries = sync.OnceValue(func() []string {
	var out []string
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			if c, err := countryCode("country", code); err == nil && c == code {
				out = append(out, code)
			}
		}
	}
	return out
})

// timeZone checks an optional IANA time zone name.
func timeZone(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > roster.MaxTimeZoneLength || strings.ContainsAny(s, " .\\") && !strings.Contains(s, "/") {
		return "", roster.Invalidf(field, "unknown time zone %q", s)
	}
	if _, err := time.LoadLocation(s); err != nil || s == "Local" {
		return "", roster.Invalidf(field, "unknown time zone %q", s)
	}
	return s, nil
}

// locale checks an optional locale; "" gives the fallback.
func locale(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return roster.Locales[0], nil
	}
	if !roster.ValidLocale(s) {
		return "", roster.Invalidf("locale", "locale must be one of %s", strings.Join(roster.Locales, ", "))
	}
	return s, nil
}

// email normalizes an address given as input.
func email(s string) (string, error) { return roster.NormalizeEmail(s) }

// grantCount bounds the store grants one invitation or new member carries.
func grantCount(grants []StoreGrantInput) error {
	if len(grants) > roster.MaxStoreGrants {
		return roster.Invalidf("stores", "at most %d stores at once", roster.MaxStoreGrants)
	}
	return nil
}

// pageLimit bounds the size of a page.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return roster.DefaultPageSize
	case n > roster.MaxPageSize:
		return roster.MaxPageSize
	}
	return n
}

// Page is one page of a listing; Next is the cursor of the following page, "" at the end.
type Page[T any] struct {
	Items []T
	Next  string
}

// page cuts one extra fetched item off into a cursor.
func page[T any](items []T, limit int, cursor func(T) string) Page[T] {
	if len(items) > limit {
		return Page[T]{Items: items[:limit], Next: cursor(items[limit-1])}
	}
	return Page[T]{Items: items}
}
