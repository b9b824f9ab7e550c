// Package password hashes passwords with argon2id and decides which passwords are acceptable.
package password

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	pooled "github.com/minio/argon2"
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
	key    func(password, salt, secret, data []byte, keyLen uint32) []byte // argon2id with params, reusing its memory
	turns  *gate.Gate
	dummy  string // a hash to verify against for unknown accounts, so they take as long

	capacity int // hashes that may run or wait at once
}

// Capacity is how many hashes may run or wait at once; beyond, Hash and Verify refuse at once.
func (h *Hasher) Capacity() int { return h.capacity }

// How many requests may wait for a hash, per hash that may run, and for how long. Waiting
// holds no hash memory: a queue of 32 on 2 cores is served within the wait on an idle machine
// (at about 30 ms a hash), and maxHashWait refuses what a slower one cannot serve.
const (
	waitingPerSlot = 16
	maxHashWait    = 750 * time.Millisecond
)

// NewHasher returns a hasher that runs at most concurrency hashes at once.
func NewHasher(p Params, concurrency int) *Hasher {
	concurrency = max(1, concurrency)
	h := &Hasher{params: p, turns: gate.New(concurrency, waitingPerSlot*concurrency, maxHashWait), capacity: (1 + waitingPerSlot) * concurrency}
	// The dummy needs the hasher's parameters, not a real key: verifying against it costs
	// one hash like any other. Not hashing here keeps the 19 MiB of an argon2id run out of an
	// idle process.
	h.dummy = phc(p, make([]byte, saltLen), make([]byte, keyLen))
	// x/crypto/argon2 allocates its Memory KiB at every call and cannot be given them
	// (golang/go#36634): at 70 logins a second that is 1.3 GB/s of garbage, and marking the
	// live heap as often costs a login more CPU than all the rest of its work. minio/argon2 is
	// x/crypto's code with the blocks kept in a sync.Pool and wiped after each use: at most
	// one set per hash running at once (the gate bounds them), none before the first login.
	// Hashes made with other parameters (older ones, rehashed on login) use x/crypto.
	h.key = pooled.NewIDKey(p.Time, p.Memory, p.Threads)
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
	return phc(h.params, salt, h.derive(password, h.params, salt, keyLen))
}

// derive computes the argon2id key of a password: NFKC-normalized, so that one typed on
// another keyboard or platform is the same password.
func (h *Hasher) derive(password string, p Params, salt []byte, keyLen uint32) []byte {
	pw := []byte(norm.NFKC.String(password))
	if p == h.params {
		return h.key(pw, salt, nil, nil, keyLen)
	}
	return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, keyLen)
}

// phc formats an argon2id hash as a PHC string.
func phc(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
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
	got := h.derive(password, p, salt, uint32(len(key))) // #nosec G115 -- decode bounds the key to 1024 bytes
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
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 {
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

//go:embed breached.txt.gz
var breachedGz []byte

// breached is the list of breached passwords (breached.txt.gz, lower-cased), read once, on
// the first check.
var breached = sync.OnceValue(func() breachedList {
	zr, err := gzip.NewReader(bytes.NewReader(breachedGz))
	if err != nil {
		panic("password: embedded list: " + err.Error())
	}
	var list []string
	s := bufio.NewScanner(zr)
	for s.Scan() {
		if line := s.Text(); line != "" && !strings.HasPrefix(line, "#") {
			list = append(list, line)
		}
	}
	if err := s.Err(); err != nil {
		panic("password: embedded list: " + err.Error())
	}
	slices.Sort(list)
	return newBreachedList(slices.Compact(list))
})

// breachedList is a sorted list of passwords kept as one string, the passwords end to end,
// and where each ends: 2.3 MB on the heap where a slice of strings took 5.4 (a header and an
// allocation per password), and nothing in it for the collector to follow at every cycle of a
// node that has checked one password.
type breachedList struct {
	text string
	ends []uint32 // ends[i] is where the i-th password ends in text
}

func newBreachedList(sorted []string) breachedList {
	var b strings.Builder
	n := 0
	for _, p := range sorted {
		n += len(p)
	}
	b.Grow(n)
	ends := make([]uint32, len(sorted))
	for i, p := range sorted {
		b.WriteString(p)
		ends[i] = uint32(b.Len())
	}
	return breachedList{text: b.String(), ends: ends}
}

// count is the number of passwords.
func (l breachedList) count() int { return len(l.ends) }

// at is the i-th password in sorted order.
func (l breachedList) at(i int) string {
	start := uint32(0)
	if i > 0 {
		start = l.ends[i-1]
	}
	return l.text[start:l.ends[i]]
}

// contains reports whether p is on the list (a binary search).
func (l breachedList) contains(p string) bool {
	_, found := sort.Find(l.count(), func(i int) int { return strings.Compare(p, l.at(i)) })
	return found
}

// isBreached reports whether a lower-cased password is on the breached list.
func isBreached(lower string) bool { return breached().contains(lower) }

// Context is what a password may not be made of: the person's address and name, and words
// around them such as the organization's name. "roster" always counts.
type Context struct {
	Email string
	Name  string
	Words []string
}

// words returns the context's words of 4 characters or more, lower-cased: the address's
// local part and domain name, the name and each of its parts, the other words, "roster".
func (c Context) words() []string {
	list := []string{"roster", c.Name}
	if local, domain, ok := strings.Cut(c.Email, "@"); ok {
		list = append(list, local, strings.Split(domain, ".")[0])
	}
	list = append(list, strings.Fields(c.Name)...)
	list = append(list, c.Words...)
	out := make([]string, 0, len(list))
	for _, w := range list {
		if w = strings.ToLower(norm.NFKC.String(strings.TrimSpace(w))); utf8.RuneCountInString(w) >= 4 {
			out = append(out, w)
		}
	}
	return out
}

// Check decides whether a password may be used: at least minLength and at most MaxLength
// characters (counted as characters, never truncated), and not easy to guess — not a breached
// password, not one padded with digits or symbols, not a repetition, a sequence or a
// keyboard run, and not made of the words of its context. There are no composition rules
// (NIST SP 800-63B). It is the one place that decides; every form that sets a password calls it.
func Check(pw string, minLength int, c Context) error {
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
	if easyToGuess(lower, c.words()) {
		return &roster.Error{Code: roster.EPasswordCommon, Field: "password", Message: "this password is too common or too easy to guess; choose another"}
	}
	return nil
}

// easyToGuess applies the rules of Check to a lower-cased password.
func easyToGuess(lower string, context []string) bool {
	if isBreached(lower) || distinct(lower) < 4 || repeats(lower) || isSequence(lower) || onKeyboard(lower) {
		return true
	}
	// A breached password (or nothing at all) padded with ASCII digits, symbols and spaces:
	// "password1234567890", "Password12345678", "sunshine!!!!!!!!".
	core := strings.TrimFunc(lower, func(r rune) bool { return r < utf8.RuneSelf && !unicode.IsLetter(r) })
	if core != lower && (utf8.RuneCountInString(core) < 4 || isBreached(core) || repeats(core) || isSequence(core) || onKeyboard(core)) {
		return true
	}
	// What is left once the context's words are taken out must be a password on its own.
	rest := lower
	for _, w := range context {
		rest = strings.ReplaceAll(rest, w, "")
	}
	return utf8.RuneCountInString(rest) < 8
}

// repeats reports whether s is one shorter string said again and again: "iloveyouiloveyou".
func repeats(s string) bool {
	r := []rune(s)
	for unit := 1; unit <= len(r)/2; unit++ {
		if len(r)%unit != 0 {
			continue
		}
		same := true
		for i := unit; i < len(r) && same; i++ {
			same = r[i] == r[i-unit]
		}
		if same {
			return true
		}
	}
	return false
}

// isSequence reports whether s runs up or down one step at a time: "abcdefghijklmnop",
// "123456789012345" (digits wrap from 9 to 0), "zyxwvu".
func isSequence(s string) bool {
	r := []rune(s)
	if len(r) < 4 {
		return false
	}
	step := func(a, b rune) int {
		switch {
		case b == a+1 || (a == '9' && b == '0'):
			return 1
		case b == a-1 || (a == '0' && b == '9'):
			return -1
		}
		return 0
	}
	dir := step(r[0], r[1])
	if dir == 0 {
		return false
	}
	for i := 2; i < len(r); i++ {
		if step(r[i-1], r[i]) != dir {
			return false
		}
	}
	return true
}

// keyboardRuns are the rows and columns of QWERTY and AZERTY keyboards, typed in a row.
var keyboardRuns = []string{
	"1234567890", "qwertyuiopasdfghjklzxcvbnm", "azertyuiopqsdfghjklmwxcvbn", "qwertzuiopasdfghjklyxcvbnm",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp",
}

// onKeyboard reports whether s is keys typed along a keyboard's rows or columns, either way:
// "qwertyuiopasdfghjkl", "poiuytreza".
func onKeyboard(s string) bool {
	if utf8.RuneCountInString(s) < 4 {
		return false
	}
	for _, run := range keyboardRuns {
		rev := []rune(run)
		slices.Reverse(rev)
		if strings.Contains(run, s) || strings.Contains(string(rev), s) || strings.Contains(run+run, s) {
			return true
		}
	}
	return false
}

// distinct counts the different characters of s: "aaaaaaaaaaaaaaaa" has one.
func distinct(s string) int {
	seen := map[rune]struct{}{}
	for _, r := range s {
		seen[r] = struct{}{}
	}
	return len(seen)
}
