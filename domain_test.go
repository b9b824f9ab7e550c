package roster_test

import (
	"testing"

	"github.com/rosterhq/roster"
)

func TestCheckDomainName(t *testing.T) {
	for in, want := range map[string]string{
		"acme.com": "acme.com", " ACME.com. ": "acme.com", "Bücher.example": "xn--bcher-kva.example", "eu.acme.co.uk": "eu.acme.co.uk",
		"co.uk": "", "com": "", "github.io": "", "a@b.com": "", "": "", "acme..com": "",
	} {
		got, err := roster.CheckDomainName(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("CheckDomainName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, c := range []struct {
		p    roster.JoinPolicy
		role roster.OrgRole
		ok   bool
	}{{roster.JoinOff, roster.OrgMember, true}, {roster.JoinSuggest, roster.OrgAdmin, true}, {roster.JoinAutomatic, roster.OrgMember, true},
		{roster.JoinAutomatic, roster.OrgOwner, false}, {"sometimes", roster.OrgMember, false}, {roster.JoinOff, "", false}} {
		if err := roster.CheckJoin(c.p, c.role); (err == nil) != c.ok {
			t.Errorf("CheckJoin(%s, %s) = %v", c.p, c.role, err)
		}
	}
}

// FuzzCheckDomainName: a domain an organization claims is a normalized, registrable name,
// and checking it again gives the same name.
func FuzzCheckDomainName(f *testing.F) {
	for _, s := range []string{"acme.com", "MÜNCHEN.de.", "co.uk", "xn--zz.com", "a.b.c.github.io", "..", "com."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := roster.CheckDomainName(in)
		if err != nil {
			return
		}
		if n, err := roster.NormalizeDomain(out); err != nil || n != out {
			t.Fatalf("CheckDomainName(%q) = %q, not normalized (%q, %v)", in, out, n, err)
		}
		if again, err := roster.CheckDomainName(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
	})
}
