// Package freemail knows the free email providers (gmail.com, hotmail.com, …) and disposable
// email domains, for organizations whose policy refuses them. The lists ship with Roster and
// are regenerated from their npm packages by scripts/update-lists.sh.
package freemail

import (
	"bufio"
	_ "embed"
	"strings"
	"sync"

	"golang.org/x/net/publicsuffix"
)

//go:embed free.txt
var freeList string

//go:embed disposable.txt
var disposableList string

var domains = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 140000)
	for _, list := range []string{freeList, disposableList} {
		s := bufio.NewScanner(strings.NewReader(list))
		for s.Scan() {
			if line := s.Text(); line != "" && !strings.HasPrefix(line, "#") {
				m[line] = struct{}{}
			}
		}
	}
	return m
})

// IsFree reports whether a normalized domain belongs to a free or disposable email provider.
// Subdomains of a listed domain count too: "eu.mailinator.com" is as disposable as
// "mailinator.com", but "uw.edu.pl" is not free because "edu.pl" is listed: a public suffix
// (ICANN section) stops the climb.
func IsFree(domain string) bool {
	m := domains()
	for d := domain; d != ""; {
		if _, ok := m[d]; ok {
			return true
		}
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			break
		}
		d = d[dot+1:]
		if !strings.Contains(d, ".") { // stop before a bare top-level domain
			break
		}
		// Stop before a public suffix such as edu.pl or net.ua: the lists hold a few, and
		// every organization's domain under them would count as free.
		if ps, icann := publicsuffix.PublicSuffix(d); icann && ps == d {
			break
		}
	}
	return false
}

// Count returns how many domains are known.
func Count() int { return len(domains()) }
