package freemail_test

import (
	"testing"

	"golang.org/x/net/publicsuffix"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/freemail"
)

func TestIsFree(t *testing.T) {
	for domain, want := range map[string]bool{
		// DESIGN §3 rule 6's examples.
		"gmail.com": true, "hotmail.com": true, "outlook.com": true, "yahoo.com": true,
		"googlemail.com": true, "yahoo.co.uk": true, "proton.me": true,
		// Disposable providers, and their subdomains.
		"mailinator.com": true, "eu.mailinator.com": true, "a.b.mailinator.com": true,
		// Companies.
		"acme.com": false, "example.com": false, "github.com": false, "acme.co.uk": false,
		// Look-alikes are not the provider.
		"gmail.com.evil.com": false, "notgmail.com": false, "gmail.co": false,
		// A public suffix in a list does not make every domain under it free.
		"uw.edu.pl": false, "acme.net.ua": false, "net.ua": true, "edu.pl": true,
		// Bare top-level domains are never free.
		"com": false, "uk": false, "": false,
	} {
		if got := freemail.IsFree(domain); got != want {
			t.Errorf("IsFree(%q) = %v, want %v", domain, got, want)
		}
	}
	if n := freemail.Count(); n < 10000 {
		t.Errorf("only %d known domains", n)
	}
}

// TestIsFreeNormalized shows how callers must use IsFree: on a normalized domain, so that
// case, IDNA and a trailing dot cannot slip a free provider past a policy.
func TestIsFreeNormalized(t *testing.T) {
	for _, addr := range []string{"Jane@GMAIL.com", "jane@gmail.com.", "jane@Gmail.Com", "jane@ＧＭＡＩＬ.com"} {
		e, err := roster.NormalizeEmail(addr)
		if err != nil {
			t.Fatal(err)
		}
		if !freemail.IsFree(roster.EmailDomain(e)) {
			t.Errorf("%s (normalized %s) is not seen as free", addr, e)
		}
	}
}

// FuzzIsFree checks that any input is answered without a panic, and that a free domain's
// subdomains count as free unless that domain is a public suffix.
func FuzzIsFree(f *testing.F) {
	for _, s := range []string{"gmail.com", "x.mailinator.com", "a..b", ".", "", "uw.edu.pl", "xn--bcher-kva.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		free := freemail.IsFree(s)
		if d, err := roster.NormalizeDomain(s); err == nil && d == s && free && !freemail.IsFree("sub."+d) {
			if ps, icann := publicsuffix.PublicSuffix(d); !icann || ps != d {
				t.Fatalf("%s is free but sub.%s is not", d, d)
			}
		}
	})
}
