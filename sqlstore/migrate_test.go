package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestSearchMigrationOnExistingData applies migration 0010 (member search indexes) to a
// database of version 0009 that already holds members: the search finds them, including
// past the memberships SQLite scans before it asks the index, and PostgreSQL has its indexes.
func TestSearchMigrationOnExistingData(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		ctx := context.Background()
		url := testenv.DatabaseURL(t, e)
		db, err := sqlstore.Open(ctx, url, testenv.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := db.MigrateTo(ctx, 9); err != nil {
			t.Fatal(err)
		}
		raw := testenv.SQL(t, e, url)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := raw.ExecContext(ctx, testenv.Rebind(e, q), args...); err != nil {
				t.Fatalf("%.60s: %v", q, err)
			}
		}
		exec(`INSERT INTO organizations (id, name, store_credits, policy_invitation_ttl, created_at, updated_at) VALUES ('org_old', 'Old', 3, 604800, 0, 0)`)
		const n = 1200
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		users := testenv.Rebind(e, `INSERT INTO users (id, email, name, locale, status, created_at, updated_at) VALUES (?, ?, ?, 'en', 'active', 0, 0)`)
		members := testenv.Rebind(e, `INSERT INTO org_members (org_id, user_id, role, status, created_at, updated_at) VALUES ('org_old', ?, 'member', 'active', 0, 0)`)
		for i := range n {
			id := fmt.Sprintf("usr_%026d", i)
			if _, err := tx.ExecContext(ctx, users, id, fmt.Sprintf("p%d@old.example", i), fmt.Sprintf("Zoë Person %d", i)); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, members, id); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]int{"ZOË PERSON 1199": 1, "p1150@old": 1, "person 115": 11, "zoë": 50, "nobody": 0} {
			got, err := db.Read().ListMembers(ctx, sqlstore.MemberFilter{OrgID: "org_old", Query: q, Limit: 50})
			if err != nil || len(got) != want {
				t.Errorf("search %q after the migration: %d members, want %d (%v)", q, len(got), want, err)
			}
		}
		if e == sqlstore.Postgres {
			var indexes int
			if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN ('users_name_trgm', 'users_email_trgm')`).Scan(&indexes); err != nil || indexes != 2 {
				t.Errorf("trigram indexes: %d %v", indexes, err)
			}
		}
	})
}
