package app

import (
	"slices"
	"testing"

	"github.com/rosterhq/roster"
)

// TestCountryAndCurrencyCodes: only ISO codes pass, in their current upper-case form, and
// the lists forms offer hold exactly codes that pass.
func TestCountryAndCurrencyCodes(t *testing.T) {
	for in, want := range map[string]string{"es": "ES", " FR ": "FR", "uk": "GB", "": "", "XK": "XK"} {
		if got, err := countryCode("country", in); err != nil || got != want {
			t.Errorf("country %q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"ZZ", "EU", "QQ", "E1", "ESP", "X"} {
		if got, err := countryCode("country", in); roster.ErrorCode(err) != roster.EInvalid || roster.AsError(err).Field != "country" {
			t.Errorf("country %q accepted as %q (%v)", in, got, err)
		}
	}
	for in, want := range map[string]string{"eur": "EUR", "USD": "USD", "DEM": "DEM", "": ""} {
		if got, err := currencyCode("currency", in); err != nil || got != want {
			t.Errorf("currency %q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"ABC", "EU", "EURO", "€"} {
		if got, err := currencyCode("currency", in); roster.ErrorCode(err) != roster.EInvalid || roster.AsError(err).Field != "currency" {
			t.Errorf("currency %q accepted as %q (%v)", in, got, err)
		}
	}
	countries, currencies := Countries(), Currencies()
	if len(countries) < 240 || !slices.Contains(countries, "ES") || slices.Contains(countries, "UK") || !slices.IsSorted(countries) {
		t.Errorf("countries: %d, sorted %v", len(countries), slices.IsSorted(countries))
	}
	if len(currencies) < 140 || !slices.Contains(currencies, "EUR") || slices.Contains(currencies, "DEM") || !slices.IsSorted(currencies) {
		t.Errorf("currencies: %d, sorted %v", len(currencies), slices.IsSorted(currencies))
	}
	for _, c := range currencies {
		if _, err := currencyCode("currency", c); err != nil {
			t.Errorf("the list offers %s, which is refused: %v", c, err)
		}
	}
}
