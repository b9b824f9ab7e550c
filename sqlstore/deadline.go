package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster"
)

// Deadlines and outages. A database that accepts connections and stops answering must cost a
// request a few seconds, never a hung goroutine holding a pooled connection: every statement
// outside a transaction, and every transaction as a whole, runs under Options.Timeout, and
// PostgreSQL connections open under Options.ConnectTimeout. pgx closes a connection whose
// context ends mid-call, so a stuck connection leaves the pool with its call.

// errTimedOut is the cause of a context that ran out of Options.Timeout.
var errTimedOut = errors.New("the database did not answer in time")

// deadline bounds one database operation by the database's timeout, or the longer one its
// context asks for (WithTimeout).
func (db *DB) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	d := db.timeout
	if long, ok := ctx.Value(timeoutKey{}).(time.Duration); ok && long > d {
		d = long
	}
	return context.WithTimeoutCause(ctx, d, errTimedOut)
}

type timeoutKey struct{}

// WithTimeout lets the database operations of ctx take up to d, when that is longer than
// Options.Timeout: for the few use cases whose one transaction is long by nature, such as a
// bulk import of a thousand rows. Everything else keeps the short deadline that makes a hung
// database a quick 503.
func WithTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, timeoutKey{}, d)
}

// settle maps the error of an operation run under deadline, and notes whether the database
// answered. Whatever the driver says once the operation's own deadline has passed, the
// database did not answer in time: an outage.
func (db *DB) settle(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && errors.Is(err, sql.ErrTxDone) {
		// database/sql rolled the transaction back when its context ended (a client that went
		// away, a deadline): what ended it is the cause, not a misused transaction.
		err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
	}
	if err != nil && errors.Is(context.Cause(ctx), errTimedOut) {
		if e := roster.AsError(err); e == nil || e.Code == roster.EUnavailable {
			err = outage(fmt.Errorf("%w (%v): %w", errTimedOut, db.timeout, err))
		}
	}
	err = mapError(err)
	if isOutage(err) && ctx.Err() != nil && !errors.Is(context.Cause(ctx), errTimedOut) {
		// The caller went away before the database's deadline (a client that closed its
		// connection, a node shutting down): pgx closed the connection to cancel the statement,
		// and what the driver says of it then ("driver: bad connection", EOF) follows from
		// that, not from an outage. Its text is kept; the error is the cancellation's.
		err = mapError(fmt.Errorf("%w (%v)", context.Cause(ctx), err))
	}
	db.health.observe(db, err)
	return err
}

// health remembers whether the database is down, so that an outage is logged twice, when it
// starts (WARN) and when it ends (INFO), and never once per failed request.
type health struct {
	down  atomic.Bool
	since atomic.Int64 // Unix nanoseconds of the first failure
}

func (h *health) observe(db *DB, err error) {
	switch {
	case isOutage(err):
		if h.down.CompareAndSwap(false, true) {
			h.since.Store(time.Now().UnixNano())
			db.log.Warn("database unavailable", "engine", db.engine, "err", err)
		}
	case err == nil || roster.ErrorCode(err) != roster.EUnavailable:
		// The database answered (a refused constraint or a missing row is an answer).
		if h.down.Load() && h.down.CompareAndSwap(true, false) {
			db.log.Info("database available again", "engine", db.engine,
				"down_for", time.Since(time.Unix(0, h.since.Load())).Round(time.Millisecond))
		}
	}
}

// outage is the database being unreachable, refusing connections or not answering: a 503
// with Retry-After for the client, and an outage for the logs.
func outage(cause error) error {
	return &wrapped{err: &roster.Error{Code: roster.EUnavailable, Message: "the database is unavailable; try again shortly", RetryAfter: 5 * time.Second},
		cause: cause, outage: true}
}

func isOutage(err error) bool {
	var w *wrapped
	return errors.As(err, &w) && w.outage
}
