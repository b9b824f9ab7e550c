// Package token makes the secrets Roster hands out (session tokens, one-time links, API keys,
// service tokens) and the hashes it keeps of them: 256 bits from crypto/rand, stored only as
// SHA-256.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Prefixes tell the kinds of secret apart at a glance (and to secret scanners).
const (
	PrefixSession = "rs_"     // a signed-in session, as cookie or bearer token
	PrefixLink    = "rl_"     // a one-time link: invitation, reset, verification
	PrefixService = "rsvc_"   // an instance token of the host application
	PrefixAPIKey  = "rk_"     // an API key: rk_<key id>_<secret>
	PrefixLogin   = "rmfa_"   // a login waiting for its second factor (five minutes, once)
	PrefixSSO     = "rsso_"   // a single sign-on on its way to the identity provider (the state; ten minutes, once)
	PrefixSCIM    = "rscim_"  // a SCIM directory's bearer token
	PrefixSetup   = "rsetup_" // a setup link for an organization's IT administrator (seven days, until revoked)
)

// secretBytes is the entropy of every secret: 256 bits.
const secretBytes = 32

// New returns a new random secret with a prefix, and the hash to store.
func New(prefix string) (plain, hash string) {
	plain = prefix + Random()
	return plain, Hash(plain)
}

// Random returns 256 random bits, URL-safe base64 encoded (43 characters).
func Random() string {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		panic("token: crypto/rand failed: " + err.Error()) // never happens on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the hex SHA-256 of a secret: what is stored and looked up.
func Hash(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// Equal compares two hashes in constant time.
func Equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// WellFormed reports whether s could be a secret made by New with prefix: the right prefix,
// the right length, URL-safe base64 only. Malformed tokens are refused without a lookup.
func WellFormed(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return false
	}
	// Checked character by character: the decoder skips CR and LF, which a token never holds.
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
