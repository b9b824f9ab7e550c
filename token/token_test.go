package token_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/rosterhq/roster/token"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{token.PrefixSession, token.PrefixLink, token.PrefixService} {
		for range 100 {
			plain, hash := token.New(prefix)
			if !strings.HasPrefix(plain, prefix) || len(plain) != len(prefix)+43 {
				t.Fatalf("New(%q) = %q", prefix, plain)
			}
			if !token.WellFormed(prefix, plain) {
				t.Fatalf("WellFormed(%q, %q) = false", prefix, plain)
			}
			if hash != token.Hash(plain) || len(hash) != 64 || strings.Contains(hash, plain) {
				t.Fatalf("hash of %q: %q", plain, hash)
			}
			if _, err := hex.DecodeString(hash); err != nil {
				t.Fatal(err)
			}
			if seen[plain] {
				t.Fatal("a secret repeated")
			}
			seen[plain] = true
		}
	}
}

func TestHash(t *testing.T) {
	// SHA-256 test vector (FIPS 180-2): the stored hash is plain SHA-256 in hex.
	if got := token.Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("Hash(abc) = %s", got)
	}
	if token.Hash("rs_a") == token.Hash("rs_b") {
		t.Fatal("different secrets hash alike")
	}
	if !token.Equal(token.Hash("x"), token.Hash("x")) || token.Equal(token.Hash("x"), token.Hash("y")) || token.Equal("", "a") {
		t.Fatal("Equal")
	}
}

func TestWellFormed(t *testing.T) {
	good, _ := token.New(token.PrefixSession)
	for _, tc := range []struct {
		prefix, s string
		want      bool
	}{
		{token.PrefixSession, good, true},
		{token.PrefixLink, good, false},                        // another kind of secret
		{token.PrefixSession, good[:len(good)-1], false},       // too short
		{token.PrefixSession, good + "A", false},               // too long
		{token.PrefixSession, good[:len(good)-1] + "=", false}, // not URL-safe base64
		{token.PrefixSession, good[:len(good)-1] + "+", false},
		{token.PrefixSession, good[:len(good)-1] + "/", false},
		{token.PrefixSession, " " + good, false},
		{token.PrefixSession, good[:10] + "\r" + good[11:], false}, // the decoder skips CR and LF; WellFormed must not
		{token.PrefixSession, good[:10] + "\n" + good[11:], false},
		{token.PrefixSession, strings.ToUpper(good[:3]) + good[3:], false},
		{token.PrefixSession, "", false},
		{token.PrefixSession, token.PrefixSession, false},
		{token.PrefixService, "rsvc_" + strings.Repeat("A", 43), true},
		{token.PrefixService, "rsvc_" + strings.Repeat("é", 21) + "A", false},
	} {
		if got := token.WellFormed(tc.prefix, tc.s); got != tc.want {
			t.Errorf("WellFormed(%q, %q) = %v, want %v", tc.prefix, tc.s, got, tc.want)
		}
	}
}

// FuzzWellFormed checks that token parsing never panics and accepts only what New makes:
// the prefix, then exactly 43 URL-safe base64 characters.
func FuzzWellFormed(f *testing.F) {
	good, _ := token.New(token.PrefixSession)
	for _, s := range []string{good, "rs_", "rs_" + strings.Repeat("A", 43), "rsvc_x", "rl_\x00", "rs_" + strings.Repeat("-", 43), "rk_key_secret"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, prefix := range []string{token.PrefixSession, token.PrefixLink, token.PrefixService, token.PrefixAPIKey} {
			if !token.WellFormed(prefix, s) {
				continue
			}
			rest := s[len(prefix):]
			if !strings.HasPrefix(s, prefix) || len(rest) != 43 || strings.Trim(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				t.Fatalf("WellFormed(%q, %q) = true", prefix, s)
			}
		}
		if h := token.Hash(s); len(h) != 64 {
			t.Fatalf("Hash(%q) = %q", s, h)
		}
	})
}
