// Package password hashes passwords with argon2id and decides which passwords are acceptable.
package password

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/gate"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8
}

// Default is the OWASP recommendation for argon2id: 19 MiB, 2 iterations, 1 thread.
var Default = Params{Memory: 19456, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// Hasher hashes and verifies passwords, at most a fixed number at once: each hash takes
// Memory KiB, so a flood of logins cannot exhaust memory. Beyond those, a bounded number of
// requests wait a bounded time for their turn; the rest are refused at once with "busy, try
// again in a second", so that under a flood every client hears back within about a second
// instead of queueing for many.
type Hasher struct {
	params Params
	turns  *gate.Gate
	dummy  string // a hash to verify against for unknown accounts, so they take as long
}

// How many requests may wait for a hash, per hash that may run, and for how long.
const (
	waitingPerSlot = 8
	maxHashWait    = 750 * time.Millisecond
)

// NewHasher returns a hasher that runs at most concurrency hashes at once.
func NewHasher(p Params, concurrency int) *Hasher {
	concurrency = max(1, concurrency)
	h := &Hasher{params: p, turns: gate.New(concurrency, waitingPerSlot*concurrency, maxHashWait)}
	h.dummy = h.encode(make([]byte, saltLen), "not a password")
	return h
}

// errBusy refuses a hash when too many wait already, or waited too long.
var errBusy = &roster.Error{Code: roster.EUnavailable, Message: "the server is busy; try again shortly", RetryAfter: time.Second}

func (h *Hasher) acquire(ctx context.Context) error {
	if !h.turns.Enter(ctx) {
		return errBusy
	}
	return nil
}

func (h *Hasher) release() { h.turns.Leave() }

// Hash returns the PHC string of a password: $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.encode(salt, password), nil
}

func (h *Hasher) encode(salt []byte, password string) string {
	key := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, h.params.Time, h.params.Memory, h.params.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches a PHC string, and whether the hash should be
// replaced because it was made with weaker parameters than the hasher's.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, uint32(len(key))) // #nosec G115 -- decode bounds the key to 1024 bytes
	ok = subtle.ConstantTimeCompare(got, key) == 1
	rehash = p.Memory < h.params.Memory || p.Time < h.params.Time || p.Threads < h.params.Threads
	return ok, ok && rehash, nil
}

// VerifyDummy spends the time of a verification for an account that does not exist, so
// that unknown and known accounts cannot be told apart by timing.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	_, _, _ = h.Verify(ctx, password, h.dummy)
}

func decode(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("password: not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errors.New("password: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errors.New("password: bad argon2 parameters")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, errors.New("password: bad salt")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) == 0 || len(key) > 1024 {
		return p, nil, nil, errors.New("password: bad hash")
	}
	return p, salt, key, nil
}

// MaxLength is the longest password accepted, in characters.
const MaxLength = 256

//go:embed common.txt
var commonList string

// common holds the blocklisted passwords, lower-cased.
var common = func() map[string]struct{} {
	m := make(map[string]struct{}, 20000)
	s := bufio.NewScanner(strings.NewReader(commonList))
	for s.Scan() {
		if line := s.Text(); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = struct{}{}
		}
	}
	return m
}()

// Check decides whether a password may be used: at least minLength and at most MaxLength
// characters (counted as characters, never truncated), not a common password, and not made
// of the words of its context (the product's name, the organization's, the address).
// There are no composition rules (NIST SP 800-63B).
func Check(pw string, minLength int, context ...string) error {
	n := utf8.RuneCountInString(pw)
	if n < minLength {
		return &roster.Error{Code: roster.EPasswordTooShort, Field: "password",
			Message: fmt.Sprintf("the password must be at least %d characters long", minLength), Details: map[string]any{"min_length": minLength}}
	}
	if n > MaxLength {
		return &roster.Error{Code: roster.EPasswordTooLong, Field: "password",
			Message: fmt.Sprintf("the password must be at most %d characters long", MaxLength), Details: map[string]any{"max_length": MaxLength}}
	}
	lower := strings.ToLower(norm.NFKC.String(pw))
	tooCommon := &roster.Error{Code: roster.EPasswordCommon, Field: "password", Message: "this password is too common or too easy to guess; choose another"}
	if _, ok := common[lower]; ok {
		return tooCommon
	}
	rest := lower
	for _, w := range append(context, "roster") {
		if w = strings.ToLower(strings.TrimSpace(w)); utf8.RuneCountInString(w) >= 4 {
			rest = strings.ReplaceAll(rest, w, "")
		}
	}
	if utf8.RuneCountInString(rest) < 8 || distinct(lower) < 4 {
		return tooCommon
	}
	return nil
}

// distinct counts the different characters of s: "aaaaaaaaaaaaaaaa" has one.
func distinct(s string) int {
	seen := map[rune]struct{}{}
	for _, r := range s {
		seen[r] = struct{}{}
	}
	return len(seen)
}
