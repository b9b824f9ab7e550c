package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Access changes. The in-memory access index (app/index.go) is a cache of what the permission
// tables say; it stays exact because every transaction that changes those tables says so, in
// the transaction itself:
//
//   - each sqlstore method that writes an access table names the keys it changes with
//     Conn.touch (or says "nothing the index holds" with Conn.touchNothing);
//   - a write to an access table that named nothing — a method added later, say — is caught
//     by exec/query (writesAccessTable) and invalidates everything ("*"): never stale, only
//     slower, until someone names its keys;
//   - at commit, InTx bumps the one access revision row and, on PostgreSQL, sends the keys
//     with pg_notify in the same transaction; after commit it hands them to the local
//     index (DB.OnAccessChange) before the write returns.
//
// Keys, as the index understands them:
//
//	*               everything (the permission catalog changed, or a write named nothing)
//	o:<org>         an organization: its existence, details, stores, custom roles and keys
//	m:<org>:<user>  one member of one organization: role, status, store roles, their API keys
//	u:<user>        one user: status, operator right, and everything that hangs off them
//	k:<key>         one API key
//	t:<token>       one service token
//	ot:<token>      one OpenID token (its revocation)
//	of:<family>     every OpenID token of one family (a refresh token's descendants)
//	ou:<user>       every OpenID token of one user
//	cl:<client>     one OpenID application (its registration, its secret)
//	oc:<client>     every OpenID token of one application (it was deleted)

// AccessChange is one committed transaction's change of access: the revision it made and
// the keys it touched.
type AccessChange struct {
	Revision int64
	Keys     []string
}

// AllKeys is the key that invalidates everything.
const AllKeys = "*"

// accessTables are the tables whose rows the access index caches.
var accessTables = map[string]bool{
	"users": true, "organizations": true, "org_members": true, "stores": true, "store_members": true,
	"roles": true, "permissions": true, "api_keys": true, "service_tokens": true,
	"oidc_clients": true, "oidc_tokens": true,
}

// writesAccessTable reports whether a statement inserts, updates or deletes rows of an access
// table. Statements are constants of this package, so the answer is cached.
func writesAccessTable(query string) bool {
	if v, ok := writesCache.Load(query); ok {
		return v.(bool)
	}
	words := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	})
	hit := false
	for i, w := range words {
		var table string
		switch {
		case (w == "insert" && i+2 < len(words) && words[i+1] == "into") || (w == "delete" && i+2 < len(words) && words[i+1] == "from"):
			table = words[i+2]
		case w == "update" && i+1 < len(words) && (i == 0 || words[i-1] != "for" && words[i-1] != "do"):
			table = words[i+1]
		}
		if accessTables[table] {
			hit = true
			break
		}
	}
	writesCache.Store(query, hit)
	return hit
}

var writesCache sync.Map

// accessWrites is what a transaction has changed of access so far.
type accessWrites struct {
	keys    map[string]struct{}
	covered bool // the next write to an access table is described by keys already given
}

// touch records keys that the next write to an access table changes. Outside a transaction
// it does nothing: every change of access runs in one (InTx).
func (c *Conn) touch(keys ...string) {
	if c.tx == nil {
		return
	}
	w := &c.tx.access
	if w.keys == nil {
		w.keys = map[string]struct{}{}
	}
	for _, k := range keys {
		w.keys[k] = struct{}{}
	}
	w.covered = true
}

// touchNothing says that the next write to an access table changes nothing the access index
// holds (a last-use time, a profile name).
func (c *Conn) touchNothing() {
	if c.tx != nil {
		c.tx.access.covered = true
	}
}

// track is called before each statement: a write to an access table that no touch described
// invalidates everything.
func (c *Conn) track(query string) {
	if c.tx == nil || !writesAccessTable(query) {
		return
	}
	if !c.tx.access.covered {
		c.touch(AllKeys)
	}
	c.tx.access.covered = false
}

// touchStore records a change of a store: its organization's key.
func (c *Conn) touchStore(ctx context.Context, storeID string) {
	var orgID string
	if err := c.queryRow(ctx, `SELECT org_id FROM stores WHERE id = ?`, storeID).Scan(&orgID); err != nil {
		c.touch(AllKeys) // no such store: the write that follows changes nothing, but be safe
		return
	}
	c.touch("o:" + orgID)
}

// touchStoreMember records a change of a user's role in a store: their membership's key.
func (c *Conn) touchStoreMember(ctx context.Context, storeID, userID string) {
	var orgID string
	if err := c.queryRow(ctx, `SELECT org_id FROM stores WHERE id = ?`, storeID).Scan(&orgID); err != nil {
		c.touch("u:" + userID)
		return
	}
	c.touch("m:" + orgID + ":" + userID)
}

// changedKeys returns the keys a transaction touched, sorted, or nil.
func (w *accessWrites) changedKeys() []string {
	if len(w.keys) == 0 {
		return nil
	}
	if _, all := w.keys[AllKeys]; all {
		return []string{AllKeys}
	}
	out := make([]string, 0, len(w.keys))
	for k := range w.keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// maxNotifyPayload keeps pg_notify's payload under PostgreSQL's 8,000-byte limit; a larger
// change is sent as "*".
const maxNotifyPayload = 7000

// bumpRevision runs in the transaction, as its last statements: it takes the next access
// revision (the row lock orders access-changing transactions, so revisions commit in order)
// and counts the nodes whose lease is live (lease.go, lease_sqlite.go): after commit, the
// write waits for them. On PostgreSQL it also queues the notification that PostgreSQL
// delivers on commit. The count runs while the row lock is held, in a statement that began
// after it was taken, and a node registers under a share lock of the same row (on SQLite, in
// a write transaction of its own: they run one at a time), so a node it does not see
// registers only after this commit, with a floor that covers it. self is this process's node,
// left out on SQLite, where InTx applies the change to its index itself.
func bumpRevision(ctx context.Context, tx *sql.Tx, engine Engine, self string, keys []string) (rev int64, nodes int, err error) {
	if err := tx.QueryRowContext(ctx, `UPDATE access_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision`).Scan(&rev); err != nil {
		return 0, 0, mapError(err)
	}
	if engine == Postgres {
		payload := strconv.FormatInt(rev, 10) + " " + strings.Join(keys, " ")
		if len(payload) > maxNotifyPayload {
			payload = strconv.FormatInt(rev, 10) + " " + AllKeys
		}
		var void sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT pg_notify('roster_access_' || current_schema(), $1)::text,
			(SELECT count(*) FROM access_nodes WHERE expires_at > now())`, payload).Scan(&void, &nodes); err != nil {
			return 0, 0, mapError(err)
		}
	} else if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_nodes WHERE expires_at > ? AND id <> ?`,
		time.Now().UnixMilli(), self).Scan(&nodes); err != nil {
		// SQLite: the nodes of other processes on this file (lease_sqlite.go); this process's
		// own index applies the change before InTx returns.
		return 0, 0, mapError(err)
	}
	return rev, nodes, nil
}

// parseAccessChange reads a notification payload: "<revision> <key> <key>…".
func parseAccessChange(payload string) (AccessChange, error) {
	f := strings.Fields(payload)
	if len(f) == 0 {
		return AccessChange{}, errors.New("empty access notification")
	}
	rev, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return AccessChange{}, errors.New("malformed access notification")
	}
	return AccessChange{Revision: rev, Keys: f[1:]}, nil
}

// AccessRevision reads the current access revision.
func (db *DB) AccessRevision(ctx context.Context) (int64, error) {
	var rev int64
	err := db.reads.QueryRowContext(ctx, `SELECT revision FROM access_revision WHERE id = 1`).Scan(&rev)
	return rev, mapError(err)
}

// OnAccessChange sets the function called, after commit and before InTx returns, with each
// committed change of access made through this DB. The app's access index sets it.
func (db *DB) OnAccessChange(fn func(AccessChange)) { db.onAccess.Store(&fn) }

// accessHook is what OnAccessWrite registers.
type accessHook func(ctx context.Context, tx *Tx, keys []string) error

// OnAccessWrite sets the function called in each transaction that changes access, once its
// function has returned and before it commits, with the keys it touched: what fn writes commits
// with the change or not at all, and an error from fn rolls the change back. The app queues
// there the back-channel logouts of the applications whose tokens the change ended, so that a
// committed change always has them and a rolled-back one never does.
func (db *DB) OnAccessWrite(fn func(ctx context.Context, tx *Tx, keys []string) error) {
	h := accessHook(fn)
	db.inAccess.Store(&h)
}

// accessWritten runs the OnAccessWrite function in tx, if the transaction changed access, and
// returns the keys it changed.
func (db *DB) accessWritten(ctx context.Context, tx *Tx) ([]string, error) {
	keys := tx.access.changedKeys()
	fn := db.inAccess.Load()
	if keys == nil || fn == nil {
		return keys, nil
	}
	if err := (*fn)(ctx, tx, keys); err != nil {
		return nil, err
	}
	return tx.access.changedKeys(), nil // in case fn changed access too
}

func (db *DB) accessChanged(ch AccessChange) {
	if fn := db.onAccess.Load(); fn != nil {
		(*fn)(ch)
	}
}

// revisionSink is where InTx records the revision of the writes of one request.
type revisionSink struct{ rev atomic.Int64 }

type revisionKey struct{}

// WithRevisionSink returns a context in which InTx records the highest access revision that
// its writes made; Revision reads it. The API uses it for the Roster-Revision header.
func WithRevisionSink(ctx context.Context) context.Context {
	return context.WithValue(ctx, revisionKey{}, &revisionSink{})
}

// RecordRevision raises the revision recorded in ctx's sink to rev (a write that changed no
// access reports the revision it saw).
func RecordRevision(ctx context.Context, rev int64) {
	if s, ok := ctx.Value(revisionKey{}).(*revisionSink); ok {
		for {
			cur := s.rev.Load()
			if rev <= cur || s.rev.CompareAndSwap(cur, rev) {
				return
			}
		}
	}
}

// Revision returns the highest access revision recorded in ctx's sink, 0 for none.
func Revision(ctx context.Context) int64 {
	if s, ok := ctx.Value(revisionKey{}).(*revisionSink); ok {
		return s.rev.Load()
	}
	return 0
}
