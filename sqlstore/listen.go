package sqlstore

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// AccessListener receives what the PostgreSQL listener learns, in order.
type AccessListener interface {
	// AccessReset says that the listener is (again) connected and listening, and that the
	// access revision was rev when it started to: whatever was cached before may be stale.
	AccessReset(rev int64)
	// AccessChanged is one committed change of access, in commit order.
	AccessChanged(AccessChange)
	// AccessDown says that the listener lost its connection: notifications may be missed
	// until the next AccessReset.
	AccessDown(err error)
	// AccessLease says that the node's lease (lease.go) holds until until, on this process's
	// clock: once it has applied revision floor, and until then, the node may answer from
	// its index without asking the database, since every write waits for it. A zero until
	// ends it.
	AccessLease(until time.Time, floor int64)

	// SQLite (lease_sqlite.go), where no change is notified:

	// AccessCaughtUp says that the access revision has reached rev: changes up to it that the
	// index has not applied came from another process and are not known in detail. It
	// reports whether there were any.
	AccessCaughtUp(rev int64) bool
	// AccessWanted reports whether the index was read since the last call: the lease is kept
	// only while it is used.
	AccessWanted() bool
}

// listenerState is the running listener's connection, for tests and /readyz.
type listenerState struct {
	mu     sync.Mutex
	pid    uint32      // the listener's backend process ID, 0 while disconnected
	deaf   atomic.Bool // DeafenListener
	frozen atomic.Bool // FreezeLease
}

// DeafenListener makes the listener ignore every change of access notified from now on, as a
// listener behind a pooler in transaction mode never hears them. Tests use it to prove that
// such a node gives its lease up (lease.go, errDeaf).
func (db *DB) DeafenListener() { db.listener.deaf.Store(true) }

// ListenerPID returns the backend process ID of the listener's connection, 0 while it
// is not connected. Tests cut the connection with pg_terminate_backend.
func (db *DB) ListenerPID() uint32 {
	db.listener.mu.Lock()
	defer db.listener.mu.Unlock()
	return db.listener.pid
}

func (db *DB) setListenerPID(pid uint32) {
	db.listener.mu.Lock()
	db.listener.pid = pid
	db.listener.mu.Unlock()
}

// listenPing is how long the listener waits for a notification before it checks that its
// connection still answers.
const listenPing = 5 * time.Second

// Listen keeps one dedicated connection listening, until ctx ends, for what the other
// processes on this PostgreSQL database commit: changes of access, handed to l in commit order
// (nil when the node keeps no access index), and wake-ups of background loops (OnWake). After
// a failure it reconnects with a growing pause, up to 2 s; each time it is listening again it
// resets l (what it cached may be stale) and wakes every kind (notifications may have been
// missed). On SQLite, where this process's writes tell the index and the loops directly
// (InTx), it keeps the node's lease while l is read (lease_sqlite.go), and does nothing
// without l.
func (db *DB) Listen(ctx context.Context, l AccessListener) {
	if db.engine != Postgres {
		if l != nil {
			db.pollAccess(ctx, l)
		}
		return
	}
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := db.listenOnce(ctx, l)
		db.setListenerPID(0)
		if connected {
			pause = 50 * time.Millisecond
		}
		if l != nil {
			// First the index stops answering from memory, then writes stop waiting for it.
			l.AccessDown(err)
			db.releaseLease()
		}
		if ctx.Err() != nil {
			return
		}
		db.log.Warn("listener disconnected; checks answer from SQL and background work waits for its poll until it is back", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(pause*2, 2*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, l AccessListener) (connected bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, db.url)
	cancel()
	if err != nil {
		return false, err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(c)
	}()
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return false, err
	}
	accessChannel, wakeChannel, ackChannel := "roster_access_"+schema, "roster_wake_"+schema, "roster_ack_"+schema
	for _, ch := range []string{accessChannel, wakeChannel, ackChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return false, err
		}
	}
	// Read after LISTEN: every change after this revision will be notified.
	var rev int64
	if err := conn.QueryRow(ctx, `SELECT revision FROM access_revision WHERE id = 1`).Scan(&rev); err != nil {
		return false, err
	}
	db.setListenerPID(conn.PgConn().PID())
	if l != nil {
		l.AccessReset(rev)
		db.lease.applied = rev
		if err := db.renewLease(ctx, conn, l, false); err != nil {
			return true, err
		}
	}
	db.woke(WakeKinds) // whatever was written while this process was not listening
	for {
		wait := listenPing
		if l != nil {
			wait = time.Until(db.lease.due())
		}
		var n *pgconn.Notification
		if wait > 0 {
			wctx, cancel := context.WithTimeout(ctx, wait)
			n, err = conn.WaitForNotification(wctx)
			cancel()
			if err != nil && (ctx.Err() != nil || wctx.Err() == nil) {
				return true, cmp.Or(ctx.Err(), err)
			}
		}
		if n == nil {
			// Quiet for a while: renew the lease, which also proves the connection answers.
			if l != nil {
				err = db.renewLease(ctx, conn, l, false)
			} else {
				pctx, cancel := context.WithTimeout(ctx, listenPing)
				err = conn.Ping(pctx)
				cancel()
			}
			if err != nil {
				return true, err
			}
			continue
		}
		switch n.Channel {
		case wakeChannel:
			if slices.Contains(WakeKinds, n.Payload) {
				db.woke([]string{n.Payload})
			}
		case ackChannel:
			db.acks.Ring()
		case accessChannel:
			if l == nil || db.listener.deaf.Load() {
				continue
			}
			ch, err := parseAccessChange(n.Payload)
			if err != nil {
				return true, err // cannot tell what changed: reconnect, which resets the index
			}
			l.AccessChanged(ch)
			db.lease.applied = ch.Revision
			if err := db.renewLease(ctx, conn, l, true); err != nil {
				return true, err
			}
		}
	}
}

// renewLease renews the node's lease, acknowledging the revision it has applied when ack,
// and takes the row again if it had run out; then it tells l how long the lease holds.
func (db *DB) renewLease(ctx context.Context, conn *pgx.Conn, l AccessListener, ack bool) error {
	ctx, cancel := context.WithTimeout(ctx, AccessLease)
	defer cancel()
	live := false
	if db.lease.held {
		var err error
		if live, err = db.lease.renew(ctx, conn, ack); err != nil {
			return err
		}
	}
	if !live {
		if err := db.lease.register(ctx, conn); err != nil {
			return err
		}
	}
	l.AccessLease(db.lease.renewed.Add(AccessLease), db.lease.floor)
	return nil
}
