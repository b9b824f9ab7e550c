package password

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	pooled "github.com/minio/argon2"
	"golang.org/x/crypto/argon2"

	"github.com/rosterhq/roster"
)

var fast = Params{Memory: 64, Time: 1, Threads: 1}

// long256 is a password of 256 characters that repeats nothing and runs along nothing.
var long256 = func() string {
	var b strings.Builder
	x := uint32(7)
	for b.Len() < 256 {
		x = x*1103515245 + 12345
		b.WriteByte("abcdefghjkmnpqrstuvwxyz23456789"[(x>>16)%31])
	}
	return b.String()
}()

func TestCheck(t *testing.T) {
	emoji := "🦊🐻🐼🐨" // four characters, sixteen bytes
	margaret := Context{Name: "Margaret Thatcher"}
	for _, tc := range []struct {
		name, pw string
		min      int
		context  Context
		code     string
	}{
		{"long passphrase", "correct horse battery staple", 15, Context{}, ""},
		{"exactly the minimum", "fjq7-wkz2-mx8pq", 15, Context{}, ""},
		{"one under the minimum", "fjq7-wkz2-mx8p", 15, Context{}, roster.EPasswordTooShort},
		{"empty", "", 15, Context{}, roster.EPasswordTooShort},
		{"minimum lowered to 8", "fjq7wkz2", 8, Context{}, ""},
		// Characters, not bytes: 15 runes of 4 bytes pass, and 14 of them do not.
		{"multi-byte counted as characters", emoji + "🦁🐯🐮🐷🐸🐵🐔🐧🐦🐤🐣", 15, Context{}, ""},
		{"multi-byte one short", emoji + "🦁🐯🐮🐷🐸🐵🐔🐧🐦🐤", 15, Context{}, roster.EPasswordTooShort},
		{"256 characters", long256, 15, Context{}, ""},
		{"257 characters", long256 + "q", 15, Context{}, roster.EPasswordTooLong},
		{"257 four-byte characters", strings.Repeat(emoji, 64) + "🦁", 15, Context{}, roster.EPasswordTooLong},
		// Breached passwords of 15 characters or more, and the ones the review found accepted.
		{"breached", "1qaz2wsx3edc4rfv", 15, Context{}, roster.EPasswordCommon},
		{"breached, other case", "PasswordPassword", 15, Context{}, roster.EPasswordCommon},
		{"breached, full-width", "ｐａｓｓｗｏｒｄｐａｓｓｗｏｒｄ", 15, Context{}, roster.EPasswordCommon},
		{"review: password and digits", "password1234567890", 15, Context{}, roster.EPasswordCommon},
		{"review: digits", "123456789012345", 15, Context{}, roster.EPasswordCommon},
		{"review: keyboard run", "qwertyuiopasdfghjkl", 15, Context{}, roster.EPasswordCommon},
		{"review: repetition", "iloveyouiloveyou", 15, Context{}, roster.EPasswordCommon},
		{"review: alphabet", "abcdefghijklmnop", 15, Context{}, roster.EPasswordCommon},
		{"review: capital and digits", "Password12345678", 15, Context{}, roster.EPasswordCommon},
		{"a breached word padded", "sunshine!!!!!!!!", 15, Context{}, roster.EPasswordCommon},
		{"a keyboard run padded", "qwerty1234567890", 15, Context{}, roster.EPasswordCommon},
		{"a keyboard run backwards", "lkjhgfdsapoiuytrewq", 15, Context{}, roster.EPasswordCommon},
		{"an AZERTY row", "azertyuiopqsdfghj", 15, Context{}, roster.EPasswordCommon},
		{"a sequence down", "zyxwvutsrqponmlk", 15, Context{}, roster.EPasswordCommon},
		{"digits and symbols only", "2024-05-17 #@!!", 15, Context{}, roster.EPasswordCommon},
		{"one character repeated", strings.Repeat("z", 20), 15, Context{}, roster.EPasswordCommon},
		{"three characters", strings.Repeat("xyz", 7), 15, Context{}, roster.EPasswordCommon},
		// The context: the product's name, the person's, the address, the organization's.
		{"the product's name", "rosterroster-1234", 15, Context{}, roster.EPasswordCommon},
		{"the user's name", "Margaret Thatcher!", 15, margaret, roster.EPasswordCommon},
		{"the user's names swapped", "ThatcherMargaret2", 15, margaret, roster.EPasswordCommon},
		{"the address", "jane.doe@acme.com", 15, Context{Email: "jane.doe@acme.com"}, roster.EPasswordCommon},
		{"the organization's name plus little", "AcmeWidgets2026", 15, Context{Words: []string{"acmewidgets"}}, roster.EPasswordCommon},
		{"context plus enough of one's own", "Margaret Thatcher walks far", 15, margaret, ""},
		{"short context words are ignored", "abc tiger plum lamp", 15, Context{Words: []string{"abc"}}, ""},
		// Good passwords pass: no composition rules (NIST SP 800-63B).
		{"no composition rules", "all lower case words here", 15, Context{}, ""},
		{"a passphrase with a number", "my 2 cats hate the vacuum", 15, Context{}, ""},
		{"a passphrase in French", "le chat dort sur le canapé", 15, Context{}, ""},
		{"random characters", "t9#Lq2!vWm4@zR8", 15, Context{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.pw, tc.min, tc.context)
			if got := roster.ErrorCode(err); got != tc.code {
				t.Fatalf("Check(%q) = %v, want %q", tc.pw, err, tc.code)
			}
			if err != nil && roster.AsError(err).Field != "password" {
				t.Errorf("field %q", roster.AsError(err).Field)
			}
		})
	}
	list := breached()
	long, sorted := 0, true
	for i := range list.count() {
		if len(list.at(i)) >= 15 {
			long++
		}
		if i > 0 && list.at(i-1) >= list.at(i) {
			sorted = false
		}
	}
	if list.count() < 100000 || long < 9000 || !sorted {
		t.Errorf("the breached list has %d entries, %d of 15 characters or more, sorted %v", list.count(), long, sorted)
	}
}

// TestBreachedListHoldsTheFile: every password of the embedded file is found, and strings
// next to them in the order (one character more or less) are found exactly when the file
// has them too.
func TestBreachedListHoldsTheFile(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(breachedGz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	file := map[string]bool{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			file[line] = true
		}
	}
	list := breached()
	if list.count() != len(file) {
		t.Fatalf("%d passwords in the list, %d in the file", list.count(), len(file))
	}
	for p := range file {
		for _, q := range []string{p, p + "!", p[:len(p)-1], "~" + p} {
			if got := list.contains(q); got != file[q] {
				t.Fatalf("contains(%q) = %v, the file: %v", q, got, file[q])
			}
		}
	}
	if list.contains("") {
		t.Error("the empty string is on the list")
	}
}

func TestHashFormatAndVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(Default, 2)
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(enc) {
		t.Fatalf("not a PHC argon2id string with the production parameters: %s", enc)
	}
	if again, _ := h.Hash(ctx, "correct horse battery staple"); again == enc {
		t.Error("two hashes of one password are equal: no salt")
	}
	if ok, rehash, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || rehash || err != nil {
		t.Errorf("Verify(right) = %v %v %v", ok, rehash, err)
	}
	if ok, rehash, err := h.Verify(ctx, "correct horse battery stapler", enc); ok || rehash || err != nil {
		t.Errorf("Verify(wrong) = %v %v %v", ok, rehash, err)
	}
	for _, bad := range []string{"", "plain", "$2a$10$abcdefghijklmnopqrstuv", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=x,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$", "$argon2id$v=19$m=64,t=0,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=64,t=1,p=0$c2FsdA$aGFzaA"} {
		if ok, _, err := h.Verify(ctx, "x", bad); ok || err == nil {
			t.Errorf("Verify against %q = %v, %v", bad, ok, err)
		}
	}
}

// TestPooledArgon2id holds the argon2id that reuses its memory (minio/argon2) to the standard
// and to x/crypto: RFC 9106's test vector (section 5.3), then the production parameters on
// passwords of several lengths, hashed at once by several goroutines and again in turn, so
// that each hash runs on blocks another one left behind.
func TestPooledArgon2id(t *testing.T) {
	rfc := pooled.NewIDKey(3, 32, 4)(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16),
		bytes.Repeat([]byte{3}, 8), bytes.Repeat([]byte{4}, 12), 32)
	if want := "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"; hex.EncodeToString(rfc) != want {
		t.Fatalf("RFC 9106 argon2id vector: %x, want %s", rfc, want)
	}

	h := NewHasher(Default, 2)
	salt := []byte("sixteen byte slt")
	passwords := []string{"", "x", "correct horse battery staple", "Ünïcödé pässwörd", long256}
	want := make([][]byte, len(passwords))
	for i, pw := range passwords {
		want[i] = argon2.IDKey([]byte(pw), salt, Default.Time, Default.Memory, Default.Threads, keyLen)
	}
	for round := range 2 {
		var wg sync.WaitGroup
		for i, pw := range passwords {
			wg.Go(func() {
				if got := h.derive(pw, Default, salt, keyLen); !bytes.Equal(got, want[i]) {
					t.Errorf("round %d, password %d: %x, x/crypto says %x", round, i, got, want[i])
				}
			})
		}
		wg.Wait()
	}
}

func TestNeverTruncated(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fast, 1)
	// Two 256-character passwords that differ only in their last character (bcrypt would
	// see only the first 72 bytes of either).
	a := strings.Repeat("abcdefghijklmnop", 16)
	b := a[:255] + "Q"
	enc, err := h.Hash(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := h.Verify(ctx, b, enc); ok {
		t.Fatal("a password that differs in its 256th character verifies")
	}
	if ok, _, _ := h.Verify(ctx, a[:72], enc); ok {
		t.Fatal("the first 72 bytes of a password verify")
	}
	if ok, _, _ := h.Verify(ctx, a, enc); !ok {
		t.Fatal("the password itself does not verify")
	}
	// Unicode normalization: the same text typed as composed or decomposed characters is one
	// password.
	enc, _ = h.Hash(ctx, "caf\u00e9 au lait tous les jours")
	if ok, _, _ := h.Verify(ctx, "cafe\u0301 au lait tous les jours", enc); !ok {
		t.Error("the decomposed spelling of a password does not verify")
	}
}

func TestRehash(t *testing.T) {
	ctx := context.Background()
	weak, _ := NewHasher(fast, 1).Hash(ctx, "correct horse battery staple")
	strong := NewHasher(Params{Memory: 128, Time: 2, Threads: 1}, 1)
	if ok, rehash, err := strong.Verify(ctx, "correct horse battery staple", weak); !ok || !rehash || err != nil {
		t.Errorf("a weaker hash: ok %v rehash %v err %v; want a rehash", ok, rehash, err)
	}
	if ok, rehash, _ := strong.Verify(ctx, "wrong password entirely", weak); ok || rehash {
		t.Error("a wrong password asks for a rehash")
	}
	same, _ := strong.Hash(ctx, "correct horse battery staple")
	if _, rehash, _ := strong.Verify(ctx, "correct horse battery staple", same); rehash {
		t.Error("a hash with the current parameters asks for a rehash")
	}
	// A stronger hash than the current parameters is kept.
	if _, rehash, _ := NewHasher(fast, 1).Verify(ctx, "correct horse battery staple", same); rehash {
		t.Error("a stronger hash asks for a rehash")
	}
}

// TestBoundedConcurrency proves that no more than the configured number of hashes run at
// once: with every turn taken, a hash waits, and gives up with "unavailable" when its request
// ends; once a turn frees, it runs. (internal/gate tests the waiting room itself.)
func TestBoundedConcurrency(t *testing.T) {
	h := NewHasher(fast, 3)
	for range 3 {
		if !h.turns.Enter(context.Background()) {
			t.Fatal("a free turn was refused")
		}
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(done, "correct horse battery staple"); roster.ErrorCode(err) != roster.EUnavailable {
		t.Fatalf("Hash with every turn taken = %v, want unavailable", err)
	}
	if _, _, err := h.Verify(done, "x", h.dummy); roster.ErrorCode(err) != roster.EUnavailable {
		t.Fatalf("Verify with every turn taken = %v, want unavailable", err)
	}
	got := make(chan error, 1)
	go func() { _, err := h.Hash(context.Background(), "correct horse battery staple"); got <- err }()
	h.turns.Leave() // one hash ends
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	h.turns.Leave()
	h.turns.Leave()
}

// TestVerifyDummy: the dummy is a well-formed hash with the hasher's own parameters (so that
// verifying against it costs what verifying a real account does) that no password matches.
func TestVerifyDummy(t *testing.T) {
	h := NewHasher(fast, 1)
	h.VerifyDummy(context.Background(), "anything at all here")
	p, salt, key, err := decode(h.dummy)
	if err != nil || p != fast || len(salt) != saltLen || len(key) != keyLen {
		t.Fatalf("the dummy hash is not a hash with the hasher's parameters: %+v %v", p, err)
	}
	for _, pw := range []string{"", "not a password", "anything at all here"} {
		if ok, rehash, err := h.Verify(context.Background(), pw, h.dummy); ok || rehash || err != nil {
			t.Errorf("%q against the dummy: ok=%v rehash=%v err=%v", pw, ok, rehash, err)
		}
	}
}
