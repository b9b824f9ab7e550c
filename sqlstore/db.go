// Package sqlstore holds all of Roster's SQL. It speaks to SQLite (modernc.org/sqlite, no cgo)
// and PostgreSQL (pgx) through database/sql with the same queries: written with "?"
// placeholders, rewritten to "$n" for PostgreSQL. Driver errors become roster.Error codes in
// one place (errors.go).
package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/rosterhq/roster/internal/bell"
	"modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

func init() {
	// roster_lower lower-cases text as Go does, Unicode included, for searches on SQLite (see
	// Conn.lower). Deterministic, and used in no index.
	err := sqlite.RegisterDeterministicScalarFunction("roster_lower", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		}
		return args[0], nil
	})
	if err != nil {
		panic(err)
	}
}

// Engine names a database engine.
type Engine string

// Supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is Roster's database: a pool of connections to SQLite or PostgreSQL.
type DB struct {
	sql    *sql.DB
	engine Engine
	log    *slog.Logger

	// writer serializes write transactions on SQLite, so concurrent writers queue in Go
	// instead of meeting "database is locked". Nil on PostgreSQL.
	writer chan struct{}

	commitFaults atomic.Int32 // transactions left to fail at commit (FailNextCommits)

	reads querier // where reads outside transactions run: prepared statements on SQLite
	read  *Conn   // what Read returns: one for all, as nothing changes it

	url      string                             // the PostgreSQL URL, for the listener (listen.go)
	onAccess atomic.Pointer[func(AccessChange)] // the local access index (OnAccessChange)
	inAccess atomic.Pointer[accessHook]         // work written with a change of access (OnAccessWrite)
	listener listenerState                      // the PostgreSQL listener of access changes and wake-ups (listen.go)
	lease    nodeLease                          // this node's lease, kept by the listener (lease.go)
	acks     bell.Bell                          // rung by acknowledgements; wakes writes waiting for nodes (lease.go)
	wakers   wakers                             // what a commit wakes (wake.go)

	timeout time.Duration // see Options.Timeout
	health  health
}

// ParseURL checks a database URL: "sqlite:PATH" or "postgres://…" (also "postgresql://").
func ParseURL(raw string) (Engine, string, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if path == "" {
			return "", "", errors.New("sqlite: URL needs a file path, as in sqlite:roster.db")
		}
		return SQLite, path, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // without the URL, which may hold a password
			}
			return "", "", fmt.Errorf("invalid PostgreSQL URL: %v", err)
		}
		return Postgres, raw, nil
	}
	return "", "", fmt.Errorf("unsupported database URL %q: use sqlite:PATH or postgres://…", RedactURL(raw))
}

// Options tune a database connection.
type Options struct {
	Log *slog.Logger
	// Timeout bounds one statement outside a transaction, and one transaction from its start
	// (waiting for a pooled connection included) to its commit: a database that stops
	// answering costs a request this long, then a 503. DefaultTimeout when zero.
	Timeout time.Duration
	// ConnectTimeout bounds opening one PostgreSQL connection, authentication included, unless
	// the URL sets connect_timeout. DefaultConnectTimeout when zero.
	ConnectTimeout time.Duration
}

// SQLite's pool: sqliteConns connections, each with a page cache of sqliteCacheKiB of pages.
// A cached page costs about twice its 4 KiB: SQLite asks for the page and its header together
// (about 4.3 KiB) and modernc's allocator gives each such request an 8 KiB slot. So the pool's
// caches hold 32 MiB of pages in about 64 MiB of memory (TestSQLiteConnectionMemory measures
// it); twice as much cache was no faster in the benchmark (BENCHMARKS.md, 2026-12-07, evening).
const (
	sqliteConns    = 8
	sqliteCacheKiB = 4096
)

// Default deadlines of a database connection.
const (
	DefaultTimeout        = 5 * time.Second
	DefaultConnectTimeout = 5 * time.Second
)

// Open connects to the database named by a URL. It does not migrate: call Migrate.
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*DB, error) {
	return OpenWith(ctx, rawURL, Options{Log: log})
}

// OpenWith connects to the database named by a URL with options. It does not migrate.
func OpenWith(ctx context.Context, rawURL string, o Options) (*DB, error) {
	engine, target, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	db := &DB{engine: engine, log: o.Log, timeout: o.Timeout}
	db.lease.id = newNodeID()
	switch engine {
	case SQLite:
		// Pragmas are set on every pooled connection. _txlock=immediate makes each transaction
		// take the write lock when it begins rather than fail to upgrade halfway. Each
		// connection keeps a page cache (sqliteCacheKiB) and reads the rest with pread from the
		// operating system's page cache. Memory-mapping the file instead (mmap_size) was no
		// faster in the benchmark and counted every mapped page once per connection in the
		// resident size — 2.1 GB for a 523 MB database — so that the process's memory could
		// not be read from it (BENCHMARKS.md).
		dsn := "file:" + target + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)" +
			"&_pragma=synchronous(FULL)&_pragma=mmap_size(0)&_pragma=cache_size(-" + strconv.Itoa(sqliteCacheKiB) + ")&_txlock=immediate"
		db.sql, err = sql.Open("sqlite", dsn)
		if err != nil {
			return nil, err
		}
		db.sql.SetMaxOpenConns(sqliteConns)
		db.sql.SetMaxIdleConns(sqliteConns)
		db.sql.SetConnMaxIdleTime(5 * time.Minute)
		db.writer = make(chan struct{}, 1)
		db.reads = &readStmts{db: db.sql}
	case Postgres:
		db.url = target
		cfg, err := pgx.ParseConfig(target)
		if err != nil {
			return nil, fmt.Errorf("invalid PostgreSQL URL %s: %w", RedactURL(target), errors.Unwrap(err))
		}
		if cfg.ConnectTimeout == 0 {
			cfg.ConnectTimeout = o.ConnectTimeout
		}
		db.sql = stdlib.OpenDB(*cfg)
		db.reads = db.sql // pgx caches prepared statements per connection itself
		db.sql.SetMaxOpenConns(25)
		db.sql.SetMaxIdleConns(25)
		db.sql.SetConnMaxIdleTime(5 * time.Minute)
	}
	db.read = &Conn{q: db.reads, engine: db.engine, db: db}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.sql.PingContext(pingCtx); err != nil {
		_ = db.sql.Close() // the connection error is the one to report
		return nil, fmt.Errorf("connect to %s database: %w", engine, err)
	}
	return db, nil
}

// Engine returns which database engine this is.
func (db *DB) Engine() Engine { return db.engine }

// Close closes every connection.
func (db *DB) Close() error { return db.sql.Close() }

// Ping checks that the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	return db.settle(ctx, db.sql.PingContext(ctx))
}

// Migrate applies the embedded migrations of this engine that have not run yet. Several
// processes may start at once on PostgreSQL: a session lock lets one migrate at a time.
func (db *DB) Migrate(ctx context.Context) error { return db.migrate(ctx, 0) }

// MigrationsDigest is a digest of an engine's embedded migrations, their names and contents:
// two builds with the same digest migrate to the same schema. The tests name by it the
// template database they copy, migrated once.
func MigrationsDigest(e Engine) string {
	h := sha256.New()
	dir := "migrations/" + string(e)
	entries, _ := migrations.ReadDir(dir) // embedded: read errors cannot happen
	for _, f := range entries {
		b, _ := migrations.ReadFile(dir + "/" + f.Name())
		fmt.Fprintf(h, "%s %d\n", f.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// migrate applies the migrations up to a version, or all of them for 0.
func (db *DB) migrate(ctx context.Context, version int64) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.engine))
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.engine == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.sql, sub, opts...)
	if err != nil {
		return err
	}
	up := p.Up
	if version > 0 {
		up = func(ctx context.Context) ([]*goose.MigrationResult, error) { return p.UpTo(ctx, version) }
	}
	results, err := up(ctx)
	for i, r := range results {
		if i > 0 && r.Source.Version > results[i-1].Source.Version+1 {
			// Numbers were taken on parallel branches; a gap is never filled (ARCHITECTURE.md).
			db.log.Info("migration numbers skipped: never used", "from", results[i-1].Source.Version+1, "to", r.Source.Version-1)
		}
		db.log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Backup writes a consistent copy of a SQLite database to path (VACUUM INTO), safe while
// Roster runs. PostgreSQL has pg_dump.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.engine != SQLite {
		return errors.New("backup works on SQLite only; use pg_dump for PostgreSQL")
	}
	_, err := db.sql.ExecContext(ctx, "VACUUM INTO ?", path)
	return err
}

// Read returns a connection for reading outside a transaction. On SQLite with WAL, readers
// never wait for the writer.
// Each statement has its own deadline (Options.Timeout); on SQLite it runs as a statement
// prepared once (readStmts).
func (db *DB) Read() *Conn { return db.read }

// RedactURL hides the password of a URL before it reaches a log or an error, even in a URL
// too malformed to parse.
func RedactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return raw
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
