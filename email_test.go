package roster_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rosterhq/roster"
)

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"jane@example.com":         "jane@example.com",
		"  Jane.Doe@Example.COM  ": "jane.doe@example.com",
		"A+shop1@x.com":            "a+shop1@x.com", // sub-addresses are kept …
		"a@x.com":                  "a@x.com",       // … and differ from the bare address
		"a@x.com.":                 "a@x.com",       // the root's trailing dot
		"a@BÜCHER.de":              "a@xn--bcher-kva.de",
		"a@bücher.de":              "a@xn--bcher-kva.de",
		"a@xn--bcher-kva.de":       "a@xn--bcher-kva.de",
		"a@ＡＣＭＥ.com":               "a@acme.com", // full-width letters map to ASCII
		"o'brien@x.com":            "o'brien@x.com",
		"a@b.com\n":                "a@b.com", // trailing white space is trimmed, not kept
		"x_y-z{}|~^`=?/*&%$#!@sub.domain.example.org": "x_y-z{}|~^`=?/*&%$#!@sub.domain.example.org",
	} {
		got, err := roster.NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if a, _ := roster.NormalizeEmail("a+x@d.com"); a == "a@d.com" {
		t.Error("plus-addressing folded into the bare address")
	}
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 60) + ".com"
	for _, in := range []string{
		"", "   ", "jane", "jane@", "@example.com", "jane@localhost", "jane@example..com", "jane@.example.com",
		"jane@example.com..", "jane..doe@example.com", ".jane@example.com", "jane.@example.com", `"jane"@example.com`,
		"jané@example.com", "jane doe@example.com", "jane@exa mple.com", "jane@example.com\r\nBcc: x@evil.com",
		"jane@example.com\rx", "jane\n@example.com", "a@b.com\r\n@c.com", "jane@[127.0.0.1]", "jane@exa_mple.com",
		"jane@-example.com", "jane@xn--zz.com", "jane@example.com@example.com", strings.Repeat("a", 65) + "@x.com",
		"a@" + strings.Repeat("b", 64) + ".com", long, "jane\x00@example.com", "jane@exam\x00ple.com",
	} {
		if got, err := roster.NormalizeEmail(in); err == nil || roster.ErrorCode(err) != roster.EInvalidEmail {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want invalid_email", in, got, err)
		} else if e := roster.AsError(err); e.Field != "email" {
			t.Errorf("NormalizeEmail(%q): field %q", in, e.Field)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	for in, want := range map[string]string{
		"acme.com": "acme.com", "ACME.com": "acme.com", " acme.com ": "acme.com", "acme.com.": "acme.com",
		"münchen.de": "xn--mnchen-3ya.de", "MÜNCHEN.DE": "xn--mnchen-3ya.de", "eu.acme.co.uk": "eu.acme.co.uk",
	} {
		got, err := roster.NormalizeDomain(in)
		if err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "com", "localhost", ".acme.com", "acme..com", "acme.com..", "ac me.com", "acme.com\n.evil",
		"a@acme.com", "acme_x.com", "-acme.com", "xn--zz.com", strings.Repeat("a", 64) + ".com", strings.Repeat("abcdefghi.", 26) + "com"} {
		if got, err := roster.NormalizeDomain(in); err == nil {
			t.Errorf("NormalizeDomain(%q) = %q, want an error", in, got)
		}
	}
	// A domain and the domain of an address normalize alike, so a policy "acme.com" matches
	// every spelling of it and nothing else.
	for _, addr := range []string{"x@ACME.COM", "x@acme.com.", "x@Acme.Com"} {
		e, _ := roster.NormalizeEmail(addr)
		d, _ := roster.NormalizeDomain("Acme.COM.")
		if roster.EmailDomain(e) != d {
			t.Errorf("%s: domain %q, policy %q", addr, roster.EmailDomain(e), d)
		}
	}
	for _, addr := range []string{"x@acme.com.evil.com", "x@evilacme.com", "x@sub.acme.com"} {
		e, _ := roster.NormalizeEmail(addr)
		if roster.EmailDomain(e) == "acme.com" {
			t.Errorf("%s counts as acme.com", addr)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"jane.doe@acme.com": "j•••e@acme.com",
		"ab@acme.com":       "a•••@acme.com",
		"a@acme.com":        "a•••@acme.com",
		"@acme.com":         "•••@acme.com",
		"éric@acme.com":     "é•••c@acme.com",
		"no address":        "•••",
	} {
		if got := roster.MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzNormalizeEmail checks what every normalized address must be: idempotent, lower-case
// ASCII, one @, no control characters, within RFC 5321's length, and maskable.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"jane@example.com", "A+x@BÜCHER.de.", "a@b.com\r\nBcc: c@d.com", "\"q\"@x.com", "a@xn--bcher-kva.de", "a@ＡＣＭＥ.com", "@", "a@b.com.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := roster.NormalizeEmail(in)
		if err != nil {
			if roster.ErrorCode(err) != roster.EInvalidEmail {
				t.Fatalf("NormalizeEmail(%q): error code %q", in, roster.ErrorCode(err))
			}
			return
		}
		if len(out) > 254 || strings.Count(out, "@") != 1 || strings.ContainsAny(out, "\r\n\t \x00") || strings.HasSuffix(out, ".") {
			t.Fatalf("NormalizeEmail(%q) = %q", in, out)
		}
		for i := 0; i < len(out); i++ {
			if c := out[i]; c >= utf8.RuneSelf || (c >= 'A' && c <= 'Z') {
				t.Fatalf("NormalizeEmail(%q) = %q: not lower-case ASCII", in, out)
			}
		}
		again, err := roster.NormalizeEmail(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
		d, err := roster.NormalizeDomain(roster.EmailDomain(out))
		if err != nil || d != roster.EmailDomain(out) {
			t.Fatalf("the domain of %q normalizes to %q, %v", out, d, err)
		}
		local := out[:strings.IndexByte(out, '@')]
		if m := roster.MaskEmail(out); !utf8.ValidString(m) || !strings.HasSuffix(m, out[len(local):]) ||
			len(local) > 2 && strings.Contains(strings.TrimSuffix(m, out[len(local):]), local) {
			t.Fatalf("MaskEmail(%q) = %q", out, m)
		}
	})
}

// FuzzNormalizeDomain checks that normalized domains are stable, ASCII and well formed.
func FuzzNormalizeDomain(f *testing.F) {
	for _, s := range []string{"acme.com", "MÜNCHEN.de.", "a..b", "xn--zz.com", "eu.mailinator.com", ".", "acme.com.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := roster.NormalizeDomain(in)
		if err != nil {
			return
		}
		if out == "" || len(out) > 253 || !strings.Contains(out, ".") || strings.HasPrefix(out, ".") || strings.HasSuffix(out, ".") ||
			strings.Contains(out, "..") || strings.ToLower(out) != out {
			t.Fatalf("NormalizeDomain(%q) = %q", in, out)
		}
		for _, r := range out {
			if r >= utf8.RuneSelf || r <= ' ' {
				t.Fatalf("NormalizeDomain(%q) = %q: not printable ASCII", in, out)
			}
		}
		if again, err := roster.NormalizeDomain(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
	})
}

// FuzzMaskEmail checks that masking never panics and never shows a whole local part.
func FuzzMaskEmail(f *testing.F) {
	for _, s := range []string{"jane@x.com", "@x.com", "", "é@x", "a@b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m := roster.MaskEmail(in)
		if !strings.Contains(m, "•••") {
			t.Fatalf("MaskEmail(%q) = %q", in, m)
		}
	})
}
