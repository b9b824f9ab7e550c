package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// The access index: what the permission tables say, in memory, for the reads a host
// application makes on every screen (check, batch check, a user's stores, the selector) and
// for authenticating service tokens and API keys. It is a cache of roster.Access and of the
// rows it is computed from; the tables stay the one place where access is written.
//
// It is never stale: a read answers from memory only when the index has applied every change
// of access committed before the read arrived (the read barrier, ready). ARCHITECTURE.md,
// "The access index", gives the reasoning.

// DefaultIndexMemory bounds the memory the access index holds, in bytes as its entries are
// estimated (index_size.go). The entries live in two generations of half that each: when the
// current one is full the older one is dropped, and an entry read from the older one moves to
// the current one, so what is used stays and what is not ages out.
const DefaultIndexMemory = 64 << 20

// listenerWait is how long a read waits for the listener to apply a revision that the
// barrier saw before it answers from SQL instead.
const listenerWait = 250 * time.Millisecond

type accessIndex struct {
	db       *sqlstore.DB
	maxBytes int64     // the bound of the two generations together
	macKey   []byte    // keys the in-memory hashes of secrets; new on each start
	macs     sync.Pool // of *macer: HMACs under macKey

	mu        sync.Mutex
	applied   int64         // every change of access up to this revision has been applied
	trusted   bool          // SQLite: always; PostgreSQL: the listener is connected
	leaseEnd  time.Time     // the node's lease holds until then (sqlstore/lease.go)
	leaseMin  int64         // ... once applied has reached this revision
	listening bool          // PostgreSQL: Listen runs
	wanted    bool          // read since AccessWanted was last called (SQLite)
	epoch     uint64        // bumped by every invalidation; a fill that straddles one is dropped
	progress  chan struct{} // closed (and replaced) whenever applied or trusted changes

	cat         *roster.Catalog
	cur, old    *generation              // entries are added to cur; old is what cur was before it filled up
	turnovers   int64                    // times cur filled up (Access.IndexStats)
	graph       graphSize                // how many memberships there are (index_whole.go)
	loading     map[string]chan struct{} // organizations being loaded whole, closed when done
	everyOrgsOf everyOrgsOf              // the read of every user's organizations (index_whole.go)

	barrier barrier

	fromIndex, fromSQL atomic.Int64 // reads answered each way (Access.IndexStats)
}

// generation is one half of the index's entries, with their estimated size.
type generation struct {
	bytes   int64
	users   map[string]indexedUser
	orgs    map[string]indexedOrg
	stores  map[string]roster.Store
	active  map[string][]roster.Store                  // org → its active stores, in name order
	access  map[string]map[string]roster.IndexedAccess // org → user → access
	byUser  map[string][]string                        // user → orgs in access
	whole   map[string]bool                            // orgs whose every membership is in access (index_whole.go)
	tooBig  map[string]bool                            // orgs with too many members to load whole
	affs    map[string][]roster.Affiliation            // user → selector
	render  map[string]rendering                       // user → a caller's rendering of their selector (index_read.go)
	affOrgs map[string]map[string]bool                 // org → users in affs
	orgsOf  map[string][]string                        // user → the organizations they are a member of
	members map[string]map[string]bool                 // org → users in orgsOf that it is in
	keys    map[string]indexedKey                      // API key ID → key
	tokens  map[string]indexedToken                    // MAC of the secret → service token
	oidc    map[string]sqlstore.OIDCToken              // OpenID access token ID → its row
	clients map[string]clientRead                      // OpenID application ID → it, with its secret's hash
}

func newGeneration() *generation {
	return &generation{
		users:   map[string]indexedUser{},
		orgs:    map[string]indexedOrg{},
		stores:  map[string]roster.Store{},
		active:  map[string][]roster.Store{},
		access:  map[string]map[string]roster.IndexedAccess{},
		byUser:  map[string][]string{},
		whole:   map[string]bool{},
		tooBig:  map[string]bool{},
		affs:    map[string][]roster.Affiliation{},
		render:  map[string]rendering{},
		affOrgs: map[string]map[string]bool{},
		orgsOf:  map[string][]string{},
		members: map[string]map[string]bool{},
		keys:    map[string]indexedKey{},
		tokens:  map[string]indexedToken{},
		oidc:    map[string]sqlstore.OIDCToken{},
		clients: map[string]clientRead{},
	}
}

// indexedUser is what access depends on of a user; the rest of their profile is read from SQL.
type indexedUser struct {
	status   roster.UserStatus
	operator bool
}

func newIndexedUser(status roster.UserStatus, operator bool) indexedUser {
	if status == roster.UserActive {
		status = roster.UserActive // one string for all, not one per row read
	}
	return indexedUser{status: status, operator: operator}
}

type indexedKey struct {
	key roster.APIKey
	mac string // MAC of the secret, once verified against the stored hash
}

type indexedToken struct {
	id       string
	lastUsed time.Time
}

func newAccessIndex(db *sqlstore.DB, maxBytes int64) *accessIndex {
	if maxBytes <= 0 {
		maxBytes = DefaultIndexMemory
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic("app: crypto/rand failed: " + err.Error())
	}
	x := &accessIndex{db: db, maxBytes: maxBytes, macKey: key, progress: make(chan struct{}), loading: map[string]chan struct{}{}}
	x.trusted = db.Engine() == sqlstore.SQLite
	x.barrier.read = db.AccessRevision
	x.clearLocked()
	return x
}

// mac is the in-memory, keyed hash of a high-entropy secret.
func (x *accessIndex) mac(secret string) string {
	m, _ := x.macs.Get().(*macer)
	if m == nil {
		m = &macer{h: hmac.New(sha256.New, x.macKey)}
	}
	m.h.Reset()
	m.buf = append(m.buf[:0], secret...)
	m.h.Write(m.buf)
	clear(m.buf) // the pool keeps no copy of a secret
	m.sum = m.h.Sum(m.sum[:0])
	out := string(m.sum)
	x.macs.Put(m) // keyed once: HMAC's Reset starts again from the keyed state, not from the key
	return out
}

// macer is an HMAC under the index's key with its buffers, reused from a pool: a secret is
// hashed on every request, so what it needs is made once.
type macer struct {
	h        hash.Hash
	buf, sum []byte
}

func (x *accessIndex) clearLocked() {
	x.cat = nil
	x.cur, x.old = newGeneration(), newGeneration()
	x.epoch++
}

func (x *accessIndex) signalLocked() {
	close(x.progress)
	x.progress = make(chan struct{})
}

// AccessReset: the listener is connected again; it will notify every change after rev.
func (x *accessIndex) AccessReset(rev int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.clearLocked()
	x.applied, x.trusted, x.leaseEnd = rev, true, time.Time{}
	x.signalLocked()
}

// AccessDown: notifications may be missed; nothing cached can be trusted.
func (x *accessIndex) AccessDown(error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.clearLocked()
	x.trusted, x.leaseEnd = false, time.Time{}
	x.signalLocked()
}

// AccessLease: the node's lease holds until until (this process's clock), for reads once
// applied has reached floor.
func (x *accessIndex) AccessLease(until time.Time, floor int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.leaseEnd, x.leaseMin = until, floor
}

// AccessCaughtUp: on SQLite, the access revision is rev; what the index has not applied of
// it was written by another process.
func (x *accessIndex) AccessCaughtUp(rev int64) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.catchUpLocked(rev)
}

func (x *accessIndex) catchUpLocked(rev int64) bool {
	if rev <= x.applied {
		return false
	}
	x.clearLocked() // which changes, the revision does not say
	x.applied = rev
	x.signalLocked()
	return true
}

// AccessWanted: on SQLite, whether the index was read since the last call.
func (x *accessIndex) AccessWanted() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	w := x.wanted
	x.wanted = false
	return w
}

// AccessChanged applies a change notified by the listener, in commit order.
func (x *accessIndex) AccessChanged(ch sqlstore.AccessChange) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.trusted {
		return
	}
	switch {
	case ch.Revision <= x.applied:
		x.dropLocked(ch.Keys) // already counted (before a reset): dropping again is harmless
		return
	case ch.Revision == x.applied+1:
		x.dropLocked(ch.Keys)
	default: // a gap cannot happen (revisions commit in order); if it did, start over
		x.clearLocked()
	}
	x.applied = ch.Revision
	x.signalLocked()
}

// localChange applies a change this process committed, before its write returns. On SQLite
// it is the whole of invalidation; on PostgreSQL it only drops the keys early (the listener
// will deliver the same change in order and advance the revision).
func (x *accessIndex) localChange(ch sqlstore.AccessChange) {
	if x.db.Engine() == sqlstore.Postgres {
		x.mu.Lock()
		x.dropLocked(ch.Keys)
		x.mu.Unlock()
		return
	}
	x.AccessChanged(ch)
}

// putAccess keeps an access computed from the tables (roster.Access.Pack; any other is not
// kept, and is answered once).
func (g *generation) putAccess(acc roster.Access) {
	if p, ok := acc.Pack(); ok {
		g.putPacked(acc.OrgID, acc.UserID, p)
	}
}

func (g *generation) putPacked(orgID, userID string, p roster.IndexedAccess) {
	m := g.access[orgID]
	if m == nil {
		m = map[string]roster.IndexedAccess{}
		g.access[orgID] = m
	}
	if _, had := m[userID]; !had {
		g.byUser[userID] = append(g.byUser[userID], orgID)
	}
	m[userID] = p
}

func (g *generation) putAffiliations(userID string, affs []roster.Affiliation) {
	g.affs[userID] = affs
	for _, a := range affs {
		if g.affOrgs[a.Organization.ID] == nil {
			g.affOrgs[a.Organization.ID] = map[string]bool{}
		}
		g.affOrgs[a.Organization.ID][userID] = true
	}
}

func (g *generation) putOrgsOf(userID string, orgs []string) {
	g.orgsOf[userID] = orgs
	for _, org := range orgs {
		if g.members[org] == nil {
			g.members[org] = map[string]bool{}
		}
		g.members[org][userID] = true
	}
}

// dropLocked forgets what the keys name (sqlstore/access.go lists them), in both generations.
func (x *accessIndex) dropLocked(keys []string) {
	x.epoch++
	for _, k := range keys {
		kind, rest, _ := strings.Cut(k, ":")
		if kind == sqlstore.AllKeys {
			x.clearLocked()
			return
		}
		for _, g := range []*generation{x.cur, x.old} {
			if !g.drop(kind, rest) {
				x.clearLocked() // unknown: be safe
				return
			}
		}
	}
}

// drop forgets what one key names; false for a kind it does not know.
func (g *generation) drop(kind, rest string) bool {
	switch kind {
	case "o":
		g.dropOrg(rest)
	case "m":
		org, user, _ := strings.Cut(rest, ":")
		g.dropAccess(org, user)
		g.dropAff(user)
		g.dropOrgsOf(user)
		g.dropKeys(func(k roster.APIKey) bool { return k.OrgID == org && k.UserID == user })
	case "u":
		delete(g.users, rest)
		for _, org := range slices.Clone(g.byUser[rest]) { // dropAccess changes the list
			g.dropAccess(org, rest)
		}
		g.dropAff(rest)
		g.dropOrgsOf(rest)
		g.dropKeys(func(k roster.APIKey) bool { return k.UserID == rest })
		g.dropOIDC(func(t sqlstore.OIDCToken) bool { return t.UserID == rest })
	case "k":
		delete(g.keys, rest)
	case "t":
		maps.DeleteFunc(g.tokens, func(_ string, t indexedToken) bool { return t.id == rest })
	case "ot":
		delete(g.oidc, rest)
	case "of":
		g.dropOIDC(func(t sqlstore.OIDCToken) bool { return t.FamilyID == rest })
	case "ou":
		g.dropOIDC(func(t sqlstore.OIDCToken) bool { return t.UserID == rest })
	case "cl":
		delete(g.clients, rest)
	case "oc":
		g.dropOIDC(func(t sqlstore.OIDCToken) bool { return t.ClientID == rest })
	default:
		return false
	}
	return true
}

func (g *generation) dropOIDC(match func(sqlstore.OIDCToken) bool) {
	maps.DeleteFunc(g.oidc, func(_ string, t sqlstore.OIDCToken) bool { return match(t) })
}

func (g *generation) dropOrg(org string) {
	delete(g.orgs, org)
	delete(g.active, org)
	for id, s := range g.stores {
		if s.OrgID == org {
			delete(g.stores, id)
		}
	}
	for user := range g.access[org] {
		g.forgetByUser(user, org)
	}
	delete(g.access, org)
	delete(g.whole, org)
	delete(g.tooBig, org)
	for user := range g.affOrgs[org] {
		g.dropAff(user)
	}
	for user := range g.members[org] {
		g.dropOrgsOf(user)
	}
	g.dropKeys(func(k roster.APIKey) bool { return k.OrgID == org })
}

// dropAccess forgets a user's access in an organization. The organization is no longer held
// whole: the user may have just joined it.
func (g *generation) dropAccess(org, user string) {
	if m := g.access[org]; m != nil {
		delete(m, user)
	}
	g.forgetByUser(user, org)
	delete(g.whole, org)
}

func (g *generation) forgetByUser(user, org string) {
	orgs := slices.DeleteFunc(g.byUser[user], func(o string) bool { return o == org })
	if len(orgs) == 0 {
		delete(g.byUser, user)
	} else {
		g.byUser[user] = orgs
	}
}

func (g *generation) dropAff(user string) {
	for _, a := range g.affs[user] {
		delete(g.affOrgs[a.Organization.ID], user)
	}
	delete(g.affs, user)
	delete(g.render, user)
}

func (g *generation) dropOrgsOf(user string) {
	for _, org := range g.orgsOf[user] {
		delete(g.members[org], user)
	}
	delete(g.orgsOf, user)
}

func (g *generation) dropKeys(match func(roster.APIKey) bool) {
	maps.DeleteFunc(g.keys, func(_ string, k indexedKey) bool { return match(k.key) })
}

// ready decides whether a read that arrives now may answer from the index: yes when the
// index has applied every change committed before the read arrived, or, when the client asks
// only for atLeast, every change up to atLeast. It knows the first in one of two ways. While
// the node's lease holds (sqlstore/lease.go, lease_sqlite.go), at once: every write waits,
// before it returns, until each node with a live lease has applied it. Otherwise it reads the
// access revision (the read barrier: a read that started after this one arrived, shared with
// the reads waiting at that moment) and waits for the index to apply it. It returns the epoch
// to fill entries under. When the database does not answer, what the index holds answers
// while the lease holds (the listener renews it on its own connection), and the read fails
// with 503 otherwise.
func (x *accessIndex) ready(ctx context.Context, atLeast int64) (uint64, bool, error) {
	x.mu.Lock()
	x.wanted = true
	if !x.trusted && x.db.Engine() == sqlstore.Postgres && !x.listening {
		x.mu.Unlock()
		return 0, false, checkAhead(ctx, x.db, atLeast) // no listener runs (an admin command, a test): SQL only
	}
	if x.trusted && (atLeast > 0 || x.leasedLocked()) && x.applied >= atLeast {
		e := x.epoch
		x.mu.Unlock()
		return e, true, nil
	}
	x.mu.Unlock()
	rev, err := x.requestRevision(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return 0, false, sqlstore.MapError(err)
		}
		return 0, false, &roster.Error{Code: roster.EUnavailable, Message: "the database is unavailable; try again shortly", RetryAfter: 2 * time.Second}
	}
	if atLeast > rev {
		return 0, false, errAhead
	}
	deadline := time.NewTimer(listenerWait)
	defer deadline.Stop()
	for {
		x.mu.Lock()
		if x.db.Engine() == sqlstore.SQLite {
			x.catchUpLocked(rev) // another process wrote to this SQLite file (an admin command)
		}
		if x.trusted && x.applied >= rev {
			e := x.epoch
			x.mu.Unlock()
			return e, true, nil
		}
		if !x.trusted {
			x.mu.Unlock()
			return 0, false, nil // the listener is down: answer from SQL
		}
		wake := x.progress
		x.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			return 0, false, nil // the listener lags or is down: answer from SQL
		case <-ctx.Done():
			return 0, false, sqlstore.MapError(ctx.Err())
		}
	}
}

// leasedLocked: the node's lease holds now and the index has applied what the lease
// requires, so no write has returned that the index has not applied.
func (x *accessIndex) leasedLocked() bool {
	return x.applied >= x.leaseMin && time.Now().Before(x.leaseEnd)
}

// revision returns the access revision the index has applied.
func (x *accessIndex) revision() int64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.applied
}

// admitLocked reports whether an entry filled under epoch, estimated at cost bytes, may be
// kept: only when no change of access was applied since the fill began. It makes room: when
// the current generation cannot take the entry, it becomes the old one and the old one goes.
func (x *accessIndex) admitLocked(epoch uint64, cost int64) bool {
	if epoch != x.epoch || !x.trusted {
		return false
	}
	return x.roomLocked(cost)
}

// roomLocked accounts for cost bytes in the current generation, turning generations over when
// it is full; false for an entry larger than a generation, which is answered but not kept.
func (x *accessIndex) roomLocked(cost int64) bool {
	half := x.maxBytes / 2
	if cost > half {
		return false
	}
	if x.cur.bytes+cost > half {
		x.old, x.cur = x.cur, newGeneration()
		x.turnovers++
	}
	x.cur.bytes += cost
	return true
}

// barrier coalesces reads of the access revision: a caller waits for a read that started
// after it called, and every caller waiting when a read starts shares it. Under load that
// is one tiny query per round of concurrent reads, not one per read.
type barrier struct {
	read    func(context.Context) (int64, error)
	mu      sync.Mutex
	next    *barrierCall // the read that will start next; callers join it
	running bool
	calls   int64 // callers so far
	reads   int64 // reads run so far
}

type barrierCall struct {
	done chan struct{}
	rev  int64
	err  error
}

func (b *barrier) wait(ctx context.Context) (int64, error) {
	b.mu.Lock()
	if b.next == nil {
		b.next = &barrierCall{done: make(chan struct{})}
		if !b.running {
			b.running = true
			go b.run()
		}
	}
	c := b.next
	b.calls++
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.rev, c.err
	case <-ctx.Done():
		return 0, sqlstore.MapError(ctx.Err())
	}
}

func (b *barrier) run() {
	for {
		b.mu.Lock()
		c := b.next
		b.next = nil
		if c == nil {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.reads++
		b.mu.Unlock()
		// Every caller of c joined before this line: the read starts after each arrived.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.rev, c.err = b.read(ctx)
		cancel()
		close(c.done)
	}
}

// errAhead refuses an at_least_revision that no write has answered with yet.
var errAhead = &roster.Error{Code: roster.EInvalid, Field: "at_least_revision",
	Message: "at_least_revision is ahead of every revision Roster has made"}

// checkAhead refuses, for a read answered from SQL, an at_least_revision from the future.
func checkAhead(ctx context.Context, db *sqlstore.DB, atLeast int64) error {
	if atLeast <= 0 {
		return nil
	}
	rev, err := db.AccessRevision(ctx)
	if err != nil {
		return err
	}
	if atLeast > rev {
		return errAhead
	}
	return nil
}

// requestBarrier remembers, for one request, the revision its first read barrier saw: every
// later read of the request (a check after the authentication of its token) may use it, since
// the request as a whole arrived before that barrier read started.
type requestBarrier struct {
	mu  sync.Mutex
	rev int64
}

type requestBarrierKey struct{}

// WithRequestBarrier returns a context whose reads share one read barrier. The API gives one
// to each request.
func WithRequestBarrier(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestBarrierKey{}, &requestBarrier{})
}

// requestRevision returns the revision of the request's read barrier, waiting for one when
// the request has none yet.
func (x *accessIndex) requestRevision(ctx context.Context) (int64, error) {
	rb, _ := ctx.Value(requestBarrierKey{}).(*requestBarrier)
	if rb == nil {
		return x.barrier.wait(ctx)
	}
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if rb.rev > 0 {
		return rb.rev, nil
	}
	rev, err := x.barrier.wait(ctx)
	if err == nil {
		rb.rev = rev
	}
	return rev, err
}

// forgetRequestBarrier makes the request's next read wait for a new barrier, after a write.
func forgetRequestBarrier(ctx context.Context) {
	if rb, _ := ctx.Value(requestBarrierKey{}).(*requestBarrier); rb != nil {
		rb.mu.Lock()
		rb.rev = 0
		rb.mu.Unlock()
	}
}
