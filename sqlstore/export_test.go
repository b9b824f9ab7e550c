package sqlstore

import (
	"context"
	"time"
)

// MigrateTo applies the migrations up to a version, for tests of a later migration on a
// database that already holds data.
func (db *DB) MigrateTo(ctx context.Context, version int64) error { return db.migrate(ctx, version) }

// ExecUnnamed runs a statement in a transaction as a method that names no access keys would.
func (tx *Tx) ExecUnnamed(ctx context.Context, query string, args ...any) error {
	_, err := tx.exec(ctx, query, args...)
	return err
}

// WritesAccessTable exposes the statement classifier.
var WritesAccessTable = writesAccessTable

// Sleep holds the transaction for d on PostgreSQL (pg_sleep), as a long transaction would.
func (tx *Tx) Sleep(ctx context.Context, d time.Duration) error {
	_, err := tx.exec(ctx, `SELECT pg_sleep(?)`, d.Seconds())
	return err
}
