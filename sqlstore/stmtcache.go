package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// stmtCache runs a SQLite transaction's statements, preparing each distinct one once: SQLite
// parses the SQL text on every call otherwise, which dominates transactions that repeat
// statements (a bulk import writes hundreds of rows with the same few). The statements close
// with the transaction. PostgreSQL needs none: pgx caches prepared statements per connection.
type stmtCache struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return c.tx.QueryRowContext(ctx, query, args...) // carries the same error to Scan
	}
	return st.QueryRowContext(ctx, args...)
}

// maxReadStmts bounds the statements readStmts keeps: every query of this package is a
// constant or one of a few shapes, so the bound is only a guard.
const maxReadStmts = 1024

// readStmts runs the reads made outside a transaction on SQLite through statements prepared
// once and reused (database/sql prepares each on a pooled connection the first time it runs
// there): re-parsing the SQL text of every read took a fifth of the CPU of a permission check
// (BENCHMARKS.md). The statements live as long as the pool.
type readStmts struct {
	db    *sql.DB
	stmts sync.Map // query → *sql.Stmt
	n     atomic.Int32
}

func (r *readStmts) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := r.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	if r.n.Load() >= maxReadStmts {
		return nil
	}
	st, err := r.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the query runs unprepared and reports its error itself
	}
	if prev, loaded := r.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt)
	}
	r.n.Add(1)
	return st
}

func (r *readStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := r.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return r.db.ExecContext(ctx, query, args...)
}

func (r *readStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := r.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.db.QueryContext(ctx, query, args...)
}

func (r *readStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := r.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.db.QueryRowContext(ctx, query, args...)
}
