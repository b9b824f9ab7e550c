package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sqlstore"
)

// SQL returns a plain database/sql handle on a test database, closed when the test ends, for
// tests that look at tables directly (secrets at rest, rows written) and for seeding
// benchmarks fast. The app never goes through it.
func SQL(t testing.TB, e sqlstore.Engine, rawURL string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	switch e {
	case sqlstore.SQLite:
		db, err = sql.Open("sqlite", "file:"+strings.TrimPrefix(rawURL, "sqlite:")+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	default:
		db, err = sql.Open("pgx", rawURL)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// SQL returns a plain database/sql handle on the env's database.
func (env *Env) SQL(testing.TB) *sql.DB { return env.sql }

// Tables lists the tables of a test database, sorted, without the migration tool's own.
func Tables(t testing.TB, e sqlstore.Engine, db *sql.DB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if e == sqlstore.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if name != "goose_db_version" {
			out = append(out, name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// RowCounts returns the number of rows in every table of the env's database, in one query.
func (env *Env) RowCounts(t testing.TB) map[string]int {
	t.Helper()
	db := env.SQL(t)
	var parts []string
	for _, table := range Tables(t, env.Engine, db) {
		parts = append(parts, fmt.Sprintf(`SELECT '%s', COUNT(*) FROM %s`, table, table))
	}
	rows, err := db.QueryContext(context.Background(), strings.Join(parts, " UNION ALL "))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var table string
		var n int
		if err := rows.Scan(&table, &n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Rebind rewrites "?" placeholders for an engine, as sqlstore does.
func Rebind(e sqlstore.Engine, query string) string { return sqlstore.Rebind(e, query) }

// Int runs a query that returns one number, such as a COUNT, on the env's database.
func (env *Env) Int(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := env.SQL(t).QueryRowContext(context.Background(), Rebind(env.Engine, query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
