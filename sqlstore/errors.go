package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/rosterhq/roster"
)

// Kinds of driver errors that callers react to; mapError wraps them in a *roster.Error whose
// Details["constraint"] names the kind.
const (
	violationUnique     = "unique"
	violationForeignKey = "foreign_key"
	violationCheck      = "check"
)

// mapError turns driver errors into roster errors, by error code and never by message text.
// It is the one place where SQLite's and PostgreSQL's errors are told apart.
func mapError(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) || roster.AsError(err) != nil {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &roster.Error{Code: roster.EUnavailable, Message: "the request was cancelled or took too long", RetryAfter: time.Second}
	}
	// Whatever refuses a connection while it opens is the database being unavailable: refused
	// or timed-out dials, and errors the server answers at start-up (3D000 the database does
	// not exist, 55000 it does not accept connections, 53300 too many connections, 57P03 it
	// is starting or shutting down, 28xxx authentication).
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return outage(err)
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		switch lite.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return violation(violationUnique, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return violation(violationForeignKey, err)
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return violation(violationCheck, err)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_BUSY_SNAPSHOT, sqlite3.SQLITE_BUSY_TIMEOUT:
			return unavailable(err)
		}
		return err
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == "23505":
			return violation(violationUnique, err)
		case pg.Code == "23503":
			return violation(violationForeignKey, err)
		case pg.Code == "23514", pg.Code == "23502":
			return violation(violationCheck, err)
		case pg.Code == "40001", pg.Code == "40P01":
			return &retryError{err}
		case pg.Code == "55000", pg.Code == "3D000":
			// not accepting connections; database gone (a connection that was open sees them)
			return outage(err)
		case len(pg.Code) == 5 && (pg.Code[:2] == "08" || pg.Code[:2] == "53" || pg.Code[:2] == "57" || pg.Code[:2] == "58"):
			// connection exceptions, insufficient resources (53300 too many connections),
			// operator intervention (57P01 admin shutdown, 57P03 cannot connect now, 57014 a
			// statement cancelled), system errors
			return outage(err)
		}
		return err
	}
	var netErr net.Error
	// A connection cut mid-query ends in EOF: the server went away, as for a refused connection.
	if errors.As(err, &netErr) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return outage(err)
	}
	return err
}

// MapError turns an error met while talking to the database, a context that ended included,
// into the roster error that users see (errors.go's one mapping). Callers that wait on the
// database themselves, such as the access index's read barrier, use it.
func MapError(err error) error { return mapError(err) }

// violation is a constraint the database refused. App code usually checks first and gives a
// precise error; this is the backstop under races, seen as a conflict.
func violation(kind string, cause error) error {
	return &wrapped{
		err: &roster.Error{Code: roster.EConflict, Message: "the change conflicts with the current state; reload and try again",
			Details: map[string]any{"constraint": kind}},
		cause: cause,
	}
}

// unavailable is the database too busy to take a write now (SQLite's lock): try again. Not
// an outage.
func unavailable(cause error) error {
	return &wrapped{err: &roster.Error{Code: roster.EUnavailable, Message: "the database is unavailable; try again shortly", RetryAfter: 5 * time.Second}, cause: cause}
}

// wrapped keeps the driver error for logs behind the roster error shown to users.
type wrapped struct {
	err    *roster.Error
	cause  error
	outage bool // the database is unreachable or not answering (see outage)
}

func (w *wrapped) Error() string   { return w.err.Error() + " (" + w.cause.Error() + ")" }
func (w *wrapped) Unwrap() []error { return []error{w.err, w.cause} }

// retryError marks a transaction that PostgreSQL aborted to resolve a conflict; InTx runs it again.
type retryError struct{ cause error }

func (r *retryError) Error() string { return "transaction conflict: " + r.cause.Error() }
func (r *retryError) Unwrap() error { return r.cause }

func retryable(err error) bool {
	var r *retryError
	return errors.As(err, &r)
}

// IsViolation reports whether err is the database refusing a change for a constraint of
// the given kind ("unique", "foreign_key", "check").
func IsViolation(err error, kind string) bool {
	e := roster.AsError(err)
	return e != nil && e.Details["constraint"] == kind
}

// IsUniqueViolation reports whether a unique constraint refused the change.
func IsUniqueViolation(err error) bool { return IsViolation(err, violationUnique) }
