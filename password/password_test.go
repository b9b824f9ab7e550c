package password

import (
	"context"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// TestCheck is SECURITY.md's password line as a table: 15 to 256 characters counted as
// characters, no composition rules, common passwords and the context's words refused.
func TestCheck(t *testing.T) {
	for _, c := range []struct {
		pw   string
		code string
	}{
		{strings.Repeat("x", 3) + "abcdefghijk", roster.EPasswordTooShort},      // 14
		{"correct horse battery staple", ""},                                    // no digits, no symbols: fine
		{"ééééééééééééééé" + "zqwr", ""},                                        // 19 characters, 34 bytes
		{"ééééééé", roster.EPasswordTooShort},                                   // 7 characters, 14 bytes
		{strings.Repeat("abcd efgh ", 25) + "123456", ""},                       // 256
		{strings.Repeat("abcd efgh ", 25) + "1234567", roster.EPasswordTooLong}, // 257
		{"aaaaaaaaaaaaaaaaaaaa", roster.EPasswordCommon},                        // one character repeated
		{"Roster Roster Roster", roster.EPasswordCommon},                        // the product's name
		{"olivia.martin olivia.martin", roster.EPasswordCommon},                 // the address
		{"Acme Corporation Acme", roster.EPasswordCommon},                       // the organization's name
	} {
		err := Check(c.pw, 15, "olivia.martin", "Acme Corporation")
		if roster.ErrorCode(err) != c.code {
			t.Errorf("Check(%.30q): %v, want %q", c.pw, err, c.code)
		}
	}
	if roster.ErrorCode(Check("123456789987654321", 15)) != roster.EPasswordCommon || roster.ErrorCode(Check("MailCreated5240", 15)) != roster.EPasswordCommon {
		t.Error("a listed password is accepted")
	}
}

// TestHashNeverTruncates: argon2id with the configured parameters, a PHC string, a 16-byte
// salt; a password that differs only in its last of 256 characters does not verify.
func TestHashNeverTruncates(t *testing.T) {
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1}, 2)
	ctx := context.Background()
	long := strings.Repeat("abcdefgh", 32) // 256 characters
	enc, err := h.Hash(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("PHC string %q", enc)
	}
	if _, salt, _, err := decode(enc); err != nil || len(salt) != 16 {
		t.Fatalf("salt of %d bytes: %v", len(salt), err)
	}
	if ok, _, _ := h.Verify(ctx, long, enc); !ok {
		t.Fatal("the password does not verify")
	}
	if ok, _, _ := h.Verify(ctx, long[:255]+"X", enc); ok {
		t.Fatal("a password differing in its 256th character verifies: truncated")
	}
	if ok, _, _ := h.Verify(ctx, long[:255], enc); ok {
		t.Fatal("a prefix verifies")
	}
	if Default != (Params{Memory: 19456, Time: 2, Threads: 1}) {
		t.Fatalf("default parameters %+v", Default)
	}
}

// TestHashesAreBounded: when every slot is taken, a hash waits, and gives up with a 503
// that says when to come back once its request is cancelled, instead of piling up memory.
func TestHashesAreBounded(t *testing.T) {
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1}, 1)
	h.slots <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.Hash(ctx, "correct horse battery staple")
	if e := roster.AsError(err); e == nil || e.Code != roster.EUnavailable || e.RetryAfter <= 0 {
		t.Fatalf("hash with no free slot: %v", err)
	}
	<-h.slots
	if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
}
