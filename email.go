package roster

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits on an address (RFC 5321).
const (
	maxEmailLength = 254
	maxLocalLength = 64
)

// NormalizeEmail returns the canonical form of an email address: trimmed, the local part
// lower-cased, the domain lower-cased and converted to ASCII (IDNA), without a trailing dot.
// Sub-addresses are kept: "a+x@d.com" and "a@d.com" are different addresses. Anything that
// could inject a header (CR, LF) or is not a plain address is refused.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (string, error) {
		return "", &Error{Code: EInvalidEmail, Field: "email", Message: "invalid email address: " + why}
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > maxEmailLength*4 {
		return bad("too long")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return bad("it must look like name@example.com")
	}
	local, domain := s[:at], s[at+1:]
	if !validLocalPart(local) {
		return bad("the part before @ has characters that are not allowed")
	}
	d, err := NormalizeDomain(domain)
	if err != nil {
		return bad("the domain is not valid")
	}
	out := strings.ToLower(local) + "@" + d
	if len(out) > maxEmailLength {
		return bad("too long")
	}
	return out, nil
}

// validLocalPart accepts an RFC 5322 dot-atom: printable ASCII without specials or spaces,
// no leading, trailing or doubled dot. Quoted local parts are not accepted.
func validLocalPart(s string) bool {
	if s == "" || len(s) > maxLocalLength || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0:
		default:
			return false
		}
	}
	return true
}

var domainProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.VerifyDNSLength(true), idna.Transitional(false))

// NormalizeDomain returns a domain lower-cased, in ASCII (punycode for international names),
// without a trailing dot. It needs at least two labels: "localhost" is not an email domain.
func NormalizeDomain(s string) (string, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" || strings.ContainsAny(s, " \t\r\n@") || !utf8.ValidString(s) {
		return "", Invalidf("domain", "invalid domain")
	}
	d, err := domainProfile.ToASCII(s)
	if err != nil {
		return "", Invalidf("domain", "invalid domain %q", s)
	}
	d = strings.ToLower(d)
	if !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") || len(d) > 253 {
		return "", Invalidf("domain", "invalid domain %q", s)
	}
	return d, nil
}

// EmailDomain returns the domain of a normalized address.
func EmailDomain(email string) string {
	return email[strings.LastIndexByte(email, '@')+1:]
}

// MaskEmail hides most of an address for showing it to someone who holds only a link:
// "jane.doe@acme.com" becomes "j•••e@acme.com".
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return "•••"
	}
	local := []rune(email[:at])
	switch {
	case len(local) == 0:
		return "•••" + email[at:]
	case len(local) <= 2:
		return string(local[:1]) + "•••" + email[at:]
	}
	return string(local[:1]) + "•••" + string(local[len(local)-1:]) + email[at:]
}
