package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestWithTimeout: a transaction longer than the database deadline is ended as an outage,
// unless its context asks for a longer deadline (a bulk import's). PostgreSQL only: its
// pg_sleep stands for a long transaction.
func TestWithTimeout(t *testing.T) {
	testenv.RequireEngine(t, sqlstore.Postgres)
	db := testenv.OpenDBWith(t, testenv.DatabaseURL(t, sqlstore.Postgres), sqlstore.Options{Timeout: 200 * time.Millisecond, ConnectTimeout: 5 * time.Second})
	long := func(ctx context.Context) error {
		return db.InTx(ctx, func(tx *sqlstore.Tx) error { return tx.Sleep(ctx, 500*time.Millisecond) })
	}
	if err := long(context.Background()); roster.ErrorCode(err) != roster.EUnavailable {
		t.Fatalf("a transaction past the deadline: %v, want unavailable", err)
	}
	if err := long(sqlstore.WithTimeout(context.Background(), 5*time.Second)); err != nil {
		t.Fatalf("a transaction given a longer deadline: %v", err)
	}
}
