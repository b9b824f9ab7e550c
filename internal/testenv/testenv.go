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
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/rosterhq/roster/sqlstore"

	_ "github.com/rosterhq/roster/internal/memtemp" // temporary files in memory
)

// Engines runs fn once per engine, as subtests named "sqlite" and "postgres", in parallel
// with each other and with the package's other parallel tests: most tests wait on a
// database more than they compute, and the suite runs on two cores.
func Engines(t *testing.T, fn func(t *testing.T, engine sqlstore.Engine)) {
	t.Helper()
	t.Parallel()
	engines(t, true, fn)
}

// EnginesInTurn runs fn as Engines does, one engine after the other and beside no other test
// of the package (Go runs the tests that are not parallel alone): for a test that measures
// the process itself, its heap or its goroutines.
func EnginesInTurn(t *testing.T, fn func(t *testing.T, engine sqlstore.Engine)) {
	t.Helper()
	engines(t, false, fn)
}

func engines(t *testing.T, parallel bool, fn func(t *testing.T, engine sqlstore.Engine)) {
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			if parallel {
				t.Parallel()
			}
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
// ends: a SQLite file in the test's temporary directory, or a PostgreSQL database of its own.
func DatabaseURL(t testing.TB, e sqlstore.Engine) string {
	t.Helper()
	RequireEngine(t, e)
	if e == sqlstore.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "roster.db")
	}
	return postgresDatabase(t, "")
}

// MigratedURL returns the URL of a new database of an engine with every migration applied,
// dropped when the test ends: a copy of a template migrated once for all test processes built
// with the same migrations. Migrating a database cost PostgreSQL half a second of CPU (sixty
// migrations of DDL), copying one a tenth; on SQLite, migrating was a ninth of the CPU of the
// app package's tests (parsing DDL), copying the file costs next to nothing.
func MigratedURL(t testing.TB, e sqlstore.Engine) string {
	t.Helper()
	RequireEngine(t, e)
	if e == sqlstore.SQLite {
		tmpl, err := sqliteTemplate()
		if err != nil {
			t.Fatalf("SQLite template database: %v", err)
		}
		path := filepath.Join(t.TempDir(), "roster.db")
		if err := copyFile(tmpl, path); err != nil {
			t.Fatalf("copy the SQLite template: %v", err)
		}
		return "sqlite:" + path
	}
	name, err := migratedTemplate()
	if err != nil {
		t.Fatalf("PostgreSQL template database: %v", err)
	}
	return postgresDatabase(t, name)
}

// DB returns a new migrated database of an engine, closed when the test ends.
func DB(t testing.TB, e sqlstore.Engine) *sqlstore.DB {
	t.Helper()
	return OpenDB(t, MigratedURL(t, e))
}

// postgresDatabase creates a database on the server of ROSTER_TEST_POSTGRES_URL, a copy of
// template when one is named, dropped (its connections ended) when the test ends, and
// returns its URL.
func postgresDatabase(t testing.TB, template string) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "roster_t_" + hex.EncodeToString(b)
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + template
	}
	created := false
	if memoryTablespace() && !tablespaceLost.Load() {
		err := adminExec(create + " TABLESPACE " + MemoryTablespace)
		if created = err == nil; !created {
			// Its directory is gone (a reboot emptied /dev/shm): the default one will do.
			tablespaceLost.Store(true)
			t.Logf("test databases go to the default tablespace: %s is unusable (%v); .ci/run makes it again", MemoryTablespace, err)
		}
	}
	if !created {
		if err := adminExec(create); err != nil {
			t.Fatalf("create test database: %v", err)
		}
	}
	t.Cleanup(func() {
		if err := adminExec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	return postgresURL(name)
}

// MemoryTablespace is the PostgreSQL tablespace the test databases are created in when the
// server has one of that name (.ci/run makes it, in a directory of /dev/shm). Copying the
// template writes some 570 files and dropping a database removes them; on ext4, whose search
// for a free inode skips recently deleted ones, that was most of the server's CPU in the
// suite (perf: ext4_create and recently_deleted, about a second of kernel time per test
// database late in a run, a fifth of that on tmpfs). The template stays in the default
// tablespace, so a directory lost with a reboot costs nothing but its copies.
const MemoryTablespace = "roster_test_memory"

// tablespaceLost: creating a database in MemoryTablespace failed once; the process stops trying.
var tablespaceLost atomic.Bool

var memoryTablespace = sync.OnceValue(func() bool {
	db, err := admin()
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ok bool
	err = db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_tablespace WHERE spcname = $1)", MemoryTablespace).Scan(&ok)
	return err == nil && ok
})

// postgresURL is ROSTER_TEST_POSTGRES_URL with another database.
func postgresURL(database string) string {
	u, err := url.Parse(os.Getenv("ROSTER_TEST_POSTGRES_URL"))
	if err != nil {
		panic(fmt.Sprintf("ROSTER_TEST_POSTGRES_URL: %v", err))
	}
	u.Path = "/" + database
	return u.String()
}

// admin is a connection pool to the database of ROSTER_TEST_POSTGRES_URL, where the tests
// create and drop their databases.
var admin = sync.OnceValues(func() (*sql.DB, error) {
	return sql.Open("pgx", os.Getenv("ROSTER_TEST_POSTGRES_URL"))
})

func adminExec(query string) error {
	db, err := admin()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = db.ExecContext(ctx, query)
	return err
}

// templateLock is the key of the advisory lock under which a test process builds the template.
const templateLock = "hashtext('roster test template')"

// migratedTemplate returns the name of the template database holding the embedded
// migrations, creating it if no test process has yet. Its name carries their digest
// (sqlstore.MigrationsDigest), so a changed migration makes a new one (and the old ones
// are dropped).
var migratedTemplate = sync.OnceValues(func() (string, error) {
	name := "roster_template_" + sqlstore.MigrationsDigest(sqlstore.Postgres)
	db, err := admin()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := db.Conn(ctx) // an advisory lock is its session's: one connection throughout
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Test processes run in parallel: the first to come builds the template, the others wait.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+templateLock+")"); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock("+templateLock+")") //nolint:errcheck // the session ends next anyway
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	var old []string // templates of other migrations, or one whose build was cut short
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'roster\_template\_%'`)
	if err != nil {
		return "", err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return "", err
		}
		old = append(old, n)
	}
	rows.Close()
	for _, n := range old {
		if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)"); err != nil {
			return "", err
		}
	}
	build := name + "_build"
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+build); err != nil {
		return "", err
	}
	m, err := sqlstore.OpenWith(ctx, postgresURL(build), sqlstore.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return "", err
	}
	err = m.Migrate(ctx)
	m.Close()
	if err != nil {
		return "", err
	}
	// Renamed only once whole: a template under its final name is complete.
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+build+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
})

// sqliteTemplate returns the path of a migrated SQLite database in the temporary directory
// (in memory, internal/memtemp), named by the digest of the embedded migrations, making it
// if no test process has yet. A process builds it under a name of its own and renames it:
// a template under its final name is complete.
var sqliteTemplate = sync.OnceValues(func() (string, error) {
	path := filepath.Join(os.TempDir(), "roster-template-"+sqlstore.MigrationsDigest(sqlstore.SQLite)+".db")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	dir, err := os.MkdirTemp(os.TempDir(), "roster-template-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	build := filepath.Join(dir, "roster.db")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := sqlstore.OpenWith(ctx, "sqlite:"+build, sqlstore.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return "", err
	}
	err = m.Migrate(ctx)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	// Closing the last connection checkpoints the write-ahead log into the file: the file
	// alone is the database.
	if st, err := os.Stat(build + "-wal"); err == nil && st.Size() > 0 {
		return "", fmt.Errorf("the template's write-ahead log was not checkpointed (%d bytes)", st.Size())
	}
	return path, os.Rename(build, path)
})

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
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
