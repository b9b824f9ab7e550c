// Package testenv gives tests a real, migrated database on each engine Roster supports, a
// clock they can set, and fixtures. SQLite always runs; PostgreSQL runs when
// ROSTER_TEST_POSTGRES_URL is set, and must run in CI (CI=true): there a missing server
// fails the test instead of skipping it.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/rosterhq/roster/sqlstore"
)

// Engines runs fn once per engine, as subtests named "sqlite" and "postgres".
func Engines(t *testing.T, fn func(t *testing.T, engine sqlstore.Engine)) {
	t.Helper()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			RequireEngine(t, e)
			fn(t, e)
		})
	}
}

// HasEngine reports whether the tests may use an engine: SQLite always, PostgreSQL when
// ROSTER_TEST_POSTGRES_URL is set — or in CI, where its absence fails the tests that need it.
func HasEngine(e sqlstore.Engine) bool {
	return e == sqlstore.SQLite || os.Getenv("ROSTER_TEST_POSTGRES_URL") != "" || os.Getenv("CI") != ""
}

// RequireEngine skips (or, in CI, fails) a test whose engine is not available.
func RequireEngine(t testing.TB, e sqlstore.Engine) {
	t.Helper()
	if e == sqlstore.Postgres && os.Getenv("ROSTER_TEST_POSTGRES_URL") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("ROSTER_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI")
		}
		t.Skip("PostgreSQL tests skipped: set ROSTER_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/roster_test?sslmode=disable to run them")
	}
}

// Logger returns a logger that writes to the test log when -v is given, and nowhere else.
func Logger(t testing.TB) *slog.Logger {
	if _, fuzz := t.(*testing.F); testing.Verbose() && !fuzz { // a fuzz target may not log through F
		return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// DatabaseURL returns the URL of a new, empty database of an engine, dropped when the test
// ends: a SQLite file in the test's temporary directory, or a PostgreSQL schema of its own.
func DatabaseURL(t testing.TB, e sqlstore.Engine) string {
	t.Helper()
	RequireEngine(t, e)
	if e == sqlstore.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "roster.db")
	}
	base := os.Getenv("ROSTER_TEST_POSTGRES_URL")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema on %s: %v", base, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// DB returns a new migrated database of an engine, closed when the test ends.
func DB(t testing.TB, e sqlstore.Engine) *sqlstore.DB {
	t.Helper()
	return OpenDB(t, DatabaseURL(t, e))
}

// OpenDB opens and migrates the database at a URL, closed when the test ends.
func OpenDB(t testing.TB, rawURL string) *sqlstore.DB {
	t.Helper()
	return OpenDBWith(t, rawURL, sqlstore.Options{})
}

// OpenDBWith opens and migrates the database at a URL with options (deadlines, logger; the
// test's logger when none), closed when the test ends. Under the race detector, which makes
// SQLite 20 to 150 times slower and a loaded CI machine slower still, the database deadline
// is 30 s unless the test sets one: the tests of the deadline itself (outage tests) set theirs.
func OpenDBWith(t testing.TB, rawURL string, o sqlstore.Options) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	if o.Log == nil {
		o.Log = Logger(t)
	}
	if o.Timeout == 0 && Race {
		o.Timeout = 30 * time.Second
	}
	db, err := sqlstore.OpenWith(ctx, rawURL, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// Clock is a clock that tests set and move.
type Clock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration // how far each reading moves the clock (Tick)
}

// NewClock returns a clock stopped at a fixed time.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now
	c.now = c.now.Add(c.step)
	return now
}

// Tick makes every reading of the clock move it forward by d (0 stops it again): time passes
// between the steps of one use case, as between a check and the transaction after it.
func (c *Clock) Tick(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = d
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Unique returns a short random string to make names and addresses unique in a test.
func Unique() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
