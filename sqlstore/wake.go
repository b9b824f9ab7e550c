package sqlstore

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Wake-ups. A transaction that writes work for a background loop (an email or a webhook
// delivery to the outbox, an event to the feed) names its kind with Conn.wake. After commit
// InTx calls the functions registered with OnWake for each kind, in this process; on
// PostgreSQL the kinds are also sent with pg_notify after commit, and Listen hands them to
// the same functions in every other process. The loops therefore start at once on any
// node, instead of at their next poll.

// Wake kinds: what a committed transaction wrote.
const (
	WakeEmail   = "email"   // an email to the outbox
	WakeWebhook = "webhook" // a webhook delivery to the outbox
	WakeEvent   = "event"   // an event to the feed
	// WakeLogout: a back-channel logout to the outbox (its outbox kind).
	WakeLogout = "backchannel_logout"
)

// WakeKinds lists every wake kind.
var WakeKinds = []string{WakeEmail, WakeWebhook, WakeEvent, WakeLogout}

type wakers struct {
	mu  sync.Mutex
	fns []func(kind string)
}

// OnWake registers fn to be called with the kind of work a committed transaction wrote, in
// this process (after commit) and, on PostgreSQL while Listen runs, in the others.
func (db *DB) OnWake(fn func(kind string)) {
	db.wakers.mu.Lock()
	defer db.wakers.mu.Unlock()
	db.wakers.fns = append(db.wakers.fns, fn)
}

func (db *DB) woke(kinds []string) {
	db.wakers.mu.Lock()
	fns := slices.Clone(db.wakers.fns)
	db.wakers.mu.Unlock()
	for _, k := range kinds {
		for _, fn := range fns {
			fn(k)
		}
	}
}

// wake records that the transaction wrote work of a kind. Outside a transaction it does
// nothing (every write that wakes runs in one).
func (c *Conn) wake(kind string) {
	if c.tx != nil && !slices.Contains(c.tx.wakes, kind) {
		c.tx.wakes = append(c.tx.wakes, kind)
	}
}

// notifyWakes tells the other processes, once the transaction has committed, which kinds of
// work it wrote (PostgreSQL only). It runs after the commit, in a statement of its own, and
// not in the transaction: PostgreSQL serializes the commits of all transactions that notify
// (a lock held through the commit's flush), which made every audited write of the cluster
// wait in one line. A wake-up lost to a crash between the two costs one poll interval.
func (db *DB) notifyWakes(ctx context.Context, kinds []string) {
	if db.engine != Postgres || len(kinds) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_, _ = db.sql.ExecContext(ctx, `SELECT pg_notify('roster_wake_' || current_schema(), k) FROM unnest($1::text[]) AS k`, kinds)
}
