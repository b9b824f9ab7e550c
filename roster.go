// Package roster is the vocabulary of Roster: the organizations, stores, users, memberships,
// roles and permissions of a multi-store SaaS, and the pure decisions made about them.
//
// It does no I/O. The use cases live in package app, storage in sqlstore, the REST API in api
// and the web console in console; all of them speak the types defined here.
package roster

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"
)

// ID prefixes. IDs are opaque to clients, but prefixed so that a user, an organization and a
// store can never be mistaken for one another, and sortable by creation time.
const (
	PrefixUser         = "usr"
	PrefixOrganization = "org"
	PrefixStore        = "sto"
	PrefixInvitation   = "inv"
	PrefixRole         = "rol"
	PrefixAPIKey       = "key"
	PrefixEvent        = "evt"
	PrefixSession      = "ses"
	PrefixImage        = "img"
	PrefixServiceToken = "svc"
	PrefixMessage      = "msg"
	PrefixWebhook      = "whk"
	PrefixDelivery     = "dlv"
	PrefixToken        = "tok"
	PrefixDomain       = "dom"
	PrefixJoinRequest  = "jrq"
	PrefixDirectory    = "dir" // a SCIM directory
	PrefixSCIMGroup    = "grp" // a group a SCIM directory pushed
	PrefixSSO          = "sso"
	PrefixPasskey      = "pky"
	PrefixSetupLink    = "stl" // a setup link for an organization's IT administrator
)

// NewID returns a new random, time-sortable ID with the given prefix, such as "org_01j…".
// IDs made by one process in the same millisecond still sort in the order they were made
// (monotonic entropy): lists ordered by ID, like an API key's request log, stay in order.
func NewID(prefix string) string {
	idMu.Lock()
	id, err := ulid.New(ulid.Timestamp(time.Now()), idEntropy)
	idMu.Unlock()
	if err != nil { // the millisecond's increments overflowed: a random one
		id = ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader)
	}
	return prefix + "_" + strings.ToLower(id.String())
}

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// ValidID reports whether s has the shape of an ID with the given prefix. It lets callers
// answer "not found" for malformed IDs without touching the database.
func ValidID(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(rest)
	return err == nil
}

// Clock tells the time. Production uses the wall clock; tests set the time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, truncated to microseconds (the precision stored).
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// CleanText makes text that came from outside (a header, a path) safe to store: invalid UTF-8
// becomes U+FFFD, and it is cut to at most max bytes on a character boundary, never in the
// middle of one. PostgreSQL refuses invalid UTF-8; a byte cut splits characters.
func CleanText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
