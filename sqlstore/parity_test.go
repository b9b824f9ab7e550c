package sqlstore_test

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// Objects (tables, indexes) one engine has by design, with the reason. Everything else must match.
var (
	// SQLite's member search: an FTS5 trigram table, its shadow tables, and the stable integer
	// keys FTS5 needs (users have text IDs). PostgreSQL uses pg_trgm indexes instead.
	sqliteOnly = map[string]string{
		"user_search":         "FTS5 trigram table (migration 0010)",
		"user_search_config":  "FTS5 shadow table",
		"user_search_content": "FTS5 shadow table",
		"user_search_data":    "FTS5 shadow table",
		"user_search_docsize": "FTS5 shadow table",
		"user_search_idx":     "FTS5 shadow table",
		"user_search_keys":    "FTS5 row keys for users (migration 0010)",
	}
	// PostgreSQL's member search: pg_trgm GIN indexes (present when the extension is).
	postgresOnly = map[string]string{
		"users_name_trgm":  "pg_trgm index (migration 0010)",
		"users_email_trgm": "pg_trgm index (migration 0010)",
	}
)

// TestSchemaParity: a fresh SQLite and a fresh PostgreSQL schema, migrated, have the same
// tables, the same columns with the same nullability, the same named indexes (table,
// columns, uniqueness, partial or not) and the same primary and unique keys. Types differ
// by engine and are not compared; goose's own table and the engine-specific objects above
// are the exceptions.
func TestSchemaParity(t *testing.T) {
	testenv.RequireEngine(t, sqlstore.Postgres)
	lite := describe(t, sqlstore.SQLite)
	pg := describe(t, sqlstore.Postgres)
	for name := range sqliteOnly {
		if !lite[name] {
			t.Errorf("SQLite lacks %q, listed as a SQLite-only object: update the exceptions", name)
		}
	}
	for _, fact := range sortedFacts(lite) {
		if !pg[fact] && sqliteOnly[object(fact)] == "" {
			t.Errorf("only SQLite has %s", fact)
		}
	}
	for _, fact := range sortedFacts(pg) {
		if !lite[fact] && postgresOnly[object(fact)] == "" {
			t.Errorf("only PostgreSQL has %s", fact)
		}
	}
	// The comparison sees what matters: a partial unique index (one owner per organization)
	// and a plain one, on both engines.
	for _, fact := range []string{"index org_members_status on org_members(org_id,status,user_id)", "org_members.status not null"} {
		if !lite[fact] || !pg[fact] {
			t.Errorf("%q: SQLite %v, PostgreSQL %v", fact, lite[fact], pg[fact])
		}
	}
	partial := 0
	for fact := range lite {
		if strings.HasSuffix(fact, " unique partial") && pg[fact] {
			partial++
		}
	}
	if partial == 0 || len(lite) < 100 {
		t.Fatalf("the schemas describe %d facts, %d partial unique indexes in common", len(lite), partial)
	}
}

// object names the table or index a fact is about.
func object(fact string) string {
	if name, ok := strings.CutPrefix(fact, "index "); ok {
		return strings.SplitN(name, " ", 2)[0]
	}
	return strings.FieldsFunc(fact, func(r rune) bool { return r == '.' || r == '(' })[0]
}

func sortedFacts(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// describe migrates a fresh database of an engine and returns its schema as a set of facts:
// "TABLE", "TABLE.COLUMN null|not null", "index NAME on TABLE(COLS) [unique] [partial]",
// "TABLE(COLS) [unique]" for primary and unique keys.
func describe(t *testing.T, e sqlstore.Engine) map[string]bool {
	t.Helper()
	u := testenv.DatabaseURL(t, e)
	testenv.OpenDB(t, u)
	db := testenv.SQL(t, e, u)
	out := map[string]bool{}
	queries := map[sqlstore.Engine][]string{
		sqlstore.SQLite: {
			// Tables, virtual ones and FTS5 shadow tables included.
			`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`,
			// Columns; a primary key column is NOT NULL on PostgreSQL whatever it says.
			`SELECT m.name || '.' || c.name || CASE WHEN c."notnull" = 1 OR c.pk > 0 THEN ' not null' ELSE ' null' END
			 FROM sqlite_master m, pragma_table_info(m.name) c
			 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version' AND m.sql NOT LIKE 'CREATE VIRTUAL%'`,
			// Named indexes.
			`SELECT 'index ' || i.name || ' on ' || i.tbl_name || '(' ||
			   (SELECT group_concat(coalesce(c.name, '<expr>'), ',') FROM (SELECT name FROM pragma_index_xinfo(i.name) WHERE key = 1 ORDER BY seqno) c) || ')' ||
			   CASE WHEN l."unique" = 1 THEN ' unique' ELSE '' END || CASE WHEN l.partial = 1 THEN ' partial' ELSE '' END
			 FROM sqlite_master i JOIN pragma_index_list(i.tbl_name) l ON l.name = i.name
			 WHERE i.type = 'index' AND i.sql IS NOT NULL`,
			// Unique keys (constraints).
			`SELECT m.name || '(' || (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno)) || ') unique'
			 FROM sqlite_master m JOIN pragma_index_list(m.name) l
			 WHERE m.type = 'table' AND l.origin = 'u'`,
			// Primary keys, whether an index or the rowid holds them.
			`SELECT m.name || '(' || (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info(m.name) WHERE pk > 0 ORDER BY pk)) || ')'
			 FROM sqlite_master m
			 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version' AND m.sql NOT LIKE 'CREATE VIRTUAL%'
			   AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) WHERE pk > 0)`,
		},
		sqlstore.Postgres: {
			`SELECT table_name FROM information_schema.tables
			 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version'`,
			`SELECT table_name || '.' || column_name || CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE ' null' END
			 FROM information_schema.columns
			 WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'`,
			`SELECT 'index ' || ic.relname || ' on ' || tc.relname || '(' ||
			   (SELECT string_agg(coalesce(a.attname, '<expr>'), ',' ORDER BY k.n)
			    FROM unnest(ix.indkey[0:ix.indnkeyatts-1]) WITH ORDINALITY k(attnum, n)
			    LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum) || ')' ||
			   CASE WHEN ix.indisunique THEN ' unique' ELSE '' END || CASE WHEN ix.indpred IS NOT NULL THEN ' partial' ELSE '' END
			 FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid JOIN pg_class tc ON tc.oid = ix.indrelid
			 WHERE tc.relnamespace = current_schema()::regnamespace AND tc.relname <> 'goose_db_version'
			   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)`,
			`SELECT tc.relname || '(' ||
			   (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
			    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) || ')' ||
			   CASE WHEN c.contype = 'u' THEN ' unique' ELSE '' END
			 FROM pg_constraint c JOIN pg_class tc ON tc.oid = c.conrelid
			 WHERE tc.relnamespace = current_schema()::regnamespace AND c.contype IN ('p', 'u') AND tc.relname <> 'goose_db_version'`,
		},
	}
	for _, q := range queries[e] {
		for _, fact := range strs(t, db, q) {
			out[fact] = true
		}
	}
	return out
}

func strs(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
