package testenv

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sqlstore"
)

// Dump returns every row of every table of an env's database as text, as a database dump
// would show them, for tests that look for secrets stored in clear.
func (env *Env) Dump(t testing.TB) string {
	t.Helper()
	driver, dsn := "pgx", env.URL
	if env.Engine == sqlstore.SQLite {
		driver, dsn = "sqlite", "file:"+strings.TrimPrefix(env.URL, "sqlite:")+"?mode=ro"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`
	if env.Engine == sqlstore.SQLite {
		q = `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1`
	}
	tables, err := column(db, q)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`) // #nosec G202 -- test helper; the name comes from the database's own catalog
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			b.WriteString(table)
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "\t%v", v)
			}
			b.WriteByte('\n')
		}
		_ = rows.Close()
	}
	return b.String()
}

func column(db *sql.DB, q string) ([]string, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
