package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Conn runs Roster's queries, inside a transaction or not. Every query method of this
// package is a method of Conn.
type Conn struct {
	q      querier
	engine Engine
	tx     *Tx // the transaction this connection runs in, nil outside one
	// db is set outside a transaction (DB.Read): each statement then runs under the
	// database's deadline and tells its health. A transaction has one deadline for all.
	db *DB
}

// Pooled reports whether the connection reads outside any transaction (DB.Read).
func (c *Conn) Pooled() bool { return c.db != nil }

// Tx is a write transaction.
type Tx struct {
	Conn
	afterCommit []func()
	access      accessWrites // what the transaction changed of access (access.go)
	wakes       []string     // the kinds of work it wrote for background loops (wake.go)
}

// AfterCommit registers fn to run once the transaction has committed, for example to wake
// the outbox worker. It does not run when the transaction rolls back.
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// maxAttempts bounds the retries of a PostgreSQL transaction that failed on a deadlock or a
// serialization conflict; fn must therefore be safe to run again.
const maxAttempts = 5

// InTx runs fn in a write transaction, committed when fn returns nil and rolled back when it
// returns an error (or panics). On SQLite, write transactions run one at a time.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	release := func() {}
	if db.writer != nil {
		select {
		case db.writer <- struct{}{}:
			held := true
			release = func() { // once committed, or at the end
				if held {
					held = false
					<-db.writer
				}
			}
			defer release()
		case <-ctx.Done():
			return mapError(ctx.Err())
		}
	}
	// One deadline for the whole transaction, retries included, from the moment it may start.
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := db.inTxOnce(ctx, fn, release)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return db.settle(ctx, err)
		}
		select {
		case <-time.After(time.Duration(attempt*attempt) * 5 * time.Millisecond):
		case <-ctx.Done():
			return db.settle(ctx, ctx.Err())
		}
	}
}

// inTxOnce runs fn in one transaction. Once it has committed and the local index has applied
// the change, it calls committed before waiting for other nodes: InTx gives SQLite's writer
// slot back there, so this process's next write does not queue behind that wait.
func (db *DB) inTxOnce(ctx context.Context, fn func(*Tx) error, committed func()) (err error) {
	sqlTx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return mapError(err)
	}
	tx := &Tx{Conn: Conn{q: sqlTx, engine: db.engine}}
	tx.Conn.tx = tx
	if db.engine == SQLite {
		tx.q = &stmtCache{tx: sqlTx, stmts: map[string]*sql.Stmt{}}
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	keys, err := db.accessWritten(ctx, tx)
	if err != nil {
		return err
	}
	if db.commitFaults.Load() > 0 && db.commitFaults.Add(-1) >= 0 {
		return &retryError{errInjectedConflict} // rolled back by the deferred call
	}
	var rev int64
	var nodes int // nodes with a live lease (lease.go), to wait for after commit
	if keys != nil {
		if rev, nodes, err = bumpRevision(ctx, sqlTx, db.engine, db.lease.id, keys); err != nil {
			return err
		}
	}
	if err = sqlTx.Commit(); err != nil {
		return mapError(err)
	}
	if keys != nil {
		// Before the write returns: the local index forgets what changed (on SQLite, the
		// only node, this is the whole of invalidation), in commit order.
		db.accessChanged(AccessChange{Revision: rev, Keys: keys})
	}
	committed()
	if keys != nil {
		if nodes > 0 {
			db.awaitNodes(ctx, rev) // and every node that answers from memory has applied it
		}
		RecordRevision(ctx, rev)
	}
	db.woke(tx.wakes)
	db.notifyWakes(ctx, tx.wakes)
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// errInjectedConflict stands for PostgreSQL's serialization failure (SQLSTATE 40001) in
// tests of retried transactions (FailNextCommits).
var errInjectedConflict = errors.New("injected serialization failure (SQLSTATE 40001)")

// FailNextCommits makes the next n transactions roll back at commit time as PostgreSQL does
// on a serialization failure, so that InTx runs them again. Tests use it to prove that a use
// case gives the same result when its transaction is retried, on either engine.
func (db *DB) FailNextCommits(n int) { db.commitFaults.Store(int32(n)) }

// rebind rewrites "?" placeholders to "$1, $2, …" for PostgreSQL. Queries are constants of
// this package, so the result is cached.
func (c *Conn) rebind(query string) string {
	if c.engine != Postgres {
		return query
	}
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	q := Rebind(Postgres, query)
	rebound.Store(query, q)
	return q
}

// Rebind rewrites a query's "?" placeholders (outside quoted strings) for an engine: "$1,
// $2, …" for PostgreSQL. Tests and the load benchmark use it for the SQL they run themselves.
func Rebind(e Engine, query string) string {
	if e != Postgres {
		return query
	}
	var b strings.Builder
	n, inString := 0, false
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case ch == '\'':
			inString = !inString
			b.WriteByte(ch)
		case ch == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

var rebound sync.Map

// deadline bounds a statement outside a transaction; a transaction has its own.
func (c *Conn) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.db == nil {
		return ctx, func() {}
	}
	return c.db.deadline(ctx)
}

// settle maps a statement's error (see DB.settle outside a transaction).
func (c *Conn) settle(ctx context.Context, err error) error {
	if c.db == nil {
		return mapError(err)
	}
	return c.db.settle(ctx, err)
}

func (c *Conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	count(ctx, true)
	c.track(query)
	ctx, cancel := c.deadline(ctx)
	defer cancel()
	res, err := c.q.ExecContext(ctx, c.rebind(query), args...)
	return res, c.settle(ctx, err)
}

// execOne runs a statement that must change exactly one row; none is ErrNoRows.
func (c *Conn) execOne(ctx context.Context, query string, args ...any) error {
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapError(err)
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}

// queryRows are the rows of a query, read under the statement's deadline, which ends when
// they are closed.
type queryRows struct {
	*sql.Rows
	c      *Conn
	ctx    context.Context
	cancel context.CancelFunc
}

// Close closes the rows, then ends their deadline.
func (r *queryRows) Close() error {
	err := r.Rows.Close()
	r.cancel()
	return err
}

// Err is the error that ended the iteration, mapped.
func (r *queryRows) Err() error { return r.c.settle(r.ctx, r.Rows.Err()) }

func (c *Conn) query(ctx context.Context, query string, args ...any) (*queryRows, error) {
	count(ctx, false)
	c.track(query)
	ctx, cancel := c.deadline(ctx)
	rows, err := c.q.QueryContext(ctx, c.rebind(query), args...)
	if err != nil {
		err = c.settle(ctx, err)
		cancel()
		return nil, err
	}
	return &queryRows{Rows: rows, c: c, ctx: ctx, cancel: cancel}, nil
}

// row is a query of one row, run when it is scanned.
type row struct {
	c     *Conn
	ctx   context.Context
	query string
	args  []any
}

// Scan runs the query and reads its one row; sql.ErrNoRows when there is none.
func (r *row) Scan(dest ...any) error {
	ctx, cancel := r.c.deadline(r.ctx)
	defer cancel()
	return r.c.settle(ctx, r.c.q.QueryRowContext(ctx, r.c.rebind(r.query), r.args...).Scan(dest...))
}

func (c *Conn) queryRow(ctx context.Context, query string, args ...any) *row {
	count(ctx, false)
	c.track(query)
	return &row{c: c, ctx: ctx, query: query, args: args}
}

// forUpdate is the row-locking suffix of a SELECT: PostgreSQL locks the rows; SQLite has
// already locked the whole database for the write transaction.
func (c *Conn) forUpdate() string {
	if c.engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// scanAll reads every row of a query with scan.
func scanAll[T any](rows *queryRows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	return scanAllN(rows, err, 0, scan)
}

// scanAllN is scanAll for a query that returns at most n rows (its LIMIT): the slice is made
// to hold them at once.
func scanAllN[T any](rows *queryRows, err error, n int, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	if n > 0 {
		out = make([]T, 0, min(n, 1000))
	}
	for rows.Next() {
		v, err := scan(rows.Rows)
		if err != nil {
			return nil, rows.c.settle(rows.ctx, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// IsNotFound reports whether err means that no row matched.
func IsNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }
