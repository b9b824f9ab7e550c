package sqlstore

import (
	"context"
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

// ListenerPID returns the backend process ID of the access listener's connection, 0 while it
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

// ListenAccess keeps a dedicated connection listening for access changes until ctx ends,
// reconnecting after a failure (with a growing pause, up to 2 s). It does nothing on SQLite,
// where every write goes through this process (InTx tells the index directly).
func (db *DB) ListenAccess(ctx context.Context, l AccessListener) {
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
		l.AccessDown(err)
		db.log.Warn("access listener disconnected; checks answer from SQL until it is back", "err", err)
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
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{"roster_access_" + schema}.Sanitize()); err != nil {
		return false, err
	}
	// Read after LISTEN: every change after this revision will be notified.
	var rev int64
	if err := conn.QueryRow(ctx, `SELECT revision FROM access_revision WHERE id = 1`).Scan(&rev); err != nil {
		return false, err
	}
	db.setListenerPID(conn.PgConn().PID())
	l.AccessReset(rev)
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
		ch, err := parseAccessChange(n.Payload)
		if err != nil {
			return true, err // cannot tell what changed: reconnect, which resets the index
		}
		l.AccessChanged(ch)
	}
}
