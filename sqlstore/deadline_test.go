package sqlstore_test

import (
	"context"
	"database/sql"
	"log/slog"
	"runtime"
	"strings"
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

// TestTransactionOfAGoneClient: when a request's context ends during its transaction (the
// client went away), database/sql rolls the transaction back and its commit answers "already
// rolled back"; that is the request being cancelled (unavailable, retry), never an internal
// error logged as a bug.
func TestTransactionOfAGoneClient(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		db := testenv.OpenDB(t, testenv.DatabaseURL(t, e))
		ctx, cancel := context.WithCancel(context.Background())
		err := db.InTx(ctx, func(tx *sqlstore.Tx) error {
			cancel()
			// Until database/sql has rolled the transaction back, as it does once its context
			// ends: a statement on another context then finds it done.
			for {
				if _, err := tx.User(context.Background(), "usr_01m00000000000000000000000"); roster.ErrorCode(err) != roster.ENotFound {
					break
				}
				runtime.Gosched()
			}
			return nil
		})
		if roster.ErrorCode(err) != roster.EUnavailable {
			t.Fatalf("the commit of a cancelled request: %v, want unavailable", err)
		}
	})
}

// TestStatementOfAGoneClient: when a client goes away during a statement of its transaction
// (PostgreSQL: pgx cancels the statement and closes the connection it ran on), the request was
// cancelled (unavailable, retry), whether the error meets the statement or the commit, and no
// outage is logged.
func TestStatementOfAGoneClient(t *testing.T) {
	testenv.RequireEngine(t, sqlstore.Postgres)
	url := testenv.DatabaseURL(t, sqlstore.Postgres)
	var logs testenv.SyncBuffer
	db := testenv.OpenDBWith(t, url, sqlstore.Options{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	watch, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	for _, during := range []string{"statement", "commit"} {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			// Cancel once the statement runs on the server.
			defer cancel()
			for ctx.Err() == nil {
				var n int
				if err := watch.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%' AND state = 'active'`).Scan(&n); err != nil || n > 0 {
					return
				}
				runtime.Gosched()
			}
		}()
		err := db.InTx(ctx, func(tx *sqlstore.Tx) error {
			err := tx.Sleep(ctx, 10*time.Second)
			if during == "commit" {
				return nil // the statement's error is ignored: the commit meets the closed connection
			}
			return err
		})
		cancel()
		if roster.ErrorCode(err) != roster.EUnavailable {
			t.Fatalf("%s of a cancelled request: %v, want unavailable", during, err)
		}
		if strings.Contains(logs.String(), "database unavailable") {
			t.Fatalf("%s of a cancelled request logged an outage:\n%s", during, logs.String())
		}
	}
}
