package sqlstore

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
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
}

// listenerState is the running listener's connection, for tests and /readyz.
type listenerState struct {
	mu  sync.Mutex
	pid uint32 // the listener's backend process ID, 0 while disconnected
}

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
// missed). It does nothing on SQLite, where every write goes through this process: InTx tells
// the index and the loops directly.
func (db *DB) Listen(ctx context.Context, l AccessListener) {
	if db.engine != Postgres {
		return
	}
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := db.listenOnce(ctx, l)
		db.setListenerPID(0)
		if connected {
			pause = 50 * time.Millisecond
		}
		if ctx.Err() != nil {
			return
		}
		if l != nil {
			l.AccessDown(err)
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
	accessChannel, wakeChannel := "roster_access_"+schema, "roster_wake_"+schema
	for _, ch := range []string{accessChannel, wakeChannel} {
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
	}
	db.woke(WakeKinds) // whatever was written while this process was not listening
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			if wctx.Err() == nil {
				return true, err
			}
			// Quiet for a while: make sure the connection still answers.
			pctx, cancel := context.WithTimeout(ctx, listenPing)
			err = conn.Ping(pctx)
			cancel()
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
		case accessChannel:
			if l == nil {
				continue
			}
			ch, err := parseAccessChange(n.Payload)
			if err != nil {
				return true, err // cannot tell what changed: reconnect, which resets the index
			}
			l.AccessChanged(ch)
		}
	}
}
