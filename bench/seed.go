package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/password"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// benchPassword is every seeded user's password.
const benchPassword = "bench password of the load test"

// table is one table's rows, in column order.
type table struct {
	name string
	cols []string
	rows [][]any
}

// seed writes the model into a fresh, migrated database and returns a service token for the
// check API. PostgreSQL gets COPY; SQLite multi-row INSERTs in one transaction.
func seed(ctx context.Context, engine sqlstore.Engine, dbURL string, m *model, log *slog.Logger) (string, error) {
	db, err := sqlstore.Open(ctx, dbURL, log)
	if err != nil {
		return "", err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return "", err
	}
	db.Close()

	hash, err := password.NewHasher(password.Default, 1).Hash(ctx, benchPassword)
	if err != nil {
		return "", err
	}
	now := epoch.UnixMicro()
	ttl := (7 * 24 * time.Hour).Microseconds()
	tables := []*table{
		{name: "users", cols: []string{"id", "email", "name", "password_hash", "locale", "status", "is_operator", "email_verified_at", "created_at", "updated_at"}},
		{name: "organizations", cols: []string{"id", "name", "store_credits", "policy_invitation_ttl", "created_at", "updated_at"}},
		{name: "permissions", cols: []string{"key", "area", "description", "member_default", "viewer_default", "created_at", "updated_at"}},
		{name: "roles", cols: []string{"id", "org_id", "name", "description", "permissions", "created_at", "updated_at"}},
		{name: "stores", cols: []string{"id", "org_id", "name", "status", "created_at", "updated_at"}},
		{name: "org_members", cols: []string{"org_id", "user_id", "role", "status", "created_at", "updated_at"}},
		{name: "store_members", cols: []string{"store_id", "org_id", "user_id", "role_id", "created_at", "updated_at"}},
		{name: "service_tokens", cols: []string{"id", "name", "token_hash", "created_at"}},
	}
	users, orgs, perms, roles, stores, members, storeMembers, tokens := tables[0], tables[1], tables[2], tables[3], tables[4], tables[5], tables[6], tables[7]
	for u, id := range m.users {
		users.rows = append(users.rows, []any{id, userEmail(int32(u)), fmt.Sprintf("User %d", u), hash, "en", "active", false, now, now, now})
	}
	customPerms, _ := json.Marshal(customPermissions)
	for o, org := range m.orgs {
		orgs.rows = append(orgs.rows, []any{org.id, fmt.Sprintf("Organization %d", o), int64(len(org.stores)), ttl, now, now})
		if org.custom != "" {
			roles.rows = append(roles.rows, []any{org.custom, org.id, "Chatter", "", string(customPerms), now, now})
		}
	}
	for _, p := range hostPermissions {
		perms.rows = append(perms.rows, []any{string(p.Key), p.Area, "", p.Member, p.Viewer, now, now})
	}
	for s, st := range m.stores {
		stores.rows = append(stores.rows, []any{st.id, m.orgs[st.org].id, fmt.Sprintf("Store %d", s), "active", now, now})
	}
	for k, role := range m.members {
		members.rows = append(members.rows, []any{m.orgs[k[0]].id, m.users[k[1]], string(role), "active", now, now})
	}
	for k, role := range m.storeRoles {
		st := m.stores[k[0]]
		storeMembers.rows = append(storeMembers.rows, []any{st.id, m.orgs[st.org].id, m.users[k[1]], role, now, now})
	}
	plain, tokenHash := token.New(token.PrefixService)
	tokens.rows = append(tokens.rows, []any{roster.NewID(roster.PrefixServiceToken), "bench", tokenHash, now})

	switch engine {
	case sqlstore.Postgres:
		err = copyPostgres(ctx, dbURL, tables)
	default:
		err = insertSQLite(ctx, strings.TrimPrefix(dbURL, "sqlite:"), tables)
	}
	return plain, err
}

func copyPostgres(ctx context.Context, dbURL string, tables []*table) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	for _, t := range tables {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
			return fmt.Errorf("copy %s: %w", t.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	// VACUUM as well as ANALYZE, as autovacuum would do in time: it sets the visibility map,
	// without which PostgreSQL reads the table's pages even for a read its index covers
	// (index-only scans; BENCHMARKS.md, 0047). A cluster may run with autovacuum off.
	_, err = conn.Exec(ctx, "VACUUM (ANALYZE)")
	return err
}

func insertSQLite(ctx context.Context, path string, tables []*table) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	for _, t := range tables {
		per := max(1, 30000/len(t.cols)) // rows per statement, under SQLite's 32,766 parameters
		for start := 0; start < len(t.rows); start += per {
			batch := t.rows[start:min(start+per, len(t.rows))]
			one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(t.cols)), ",") + ")"
			q := "INSERT INTO " + t.name + " (" + strings.Join(t.cols, ",") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", len(batch)), ",")
			args := make([]any, 0, len(batch)*len(t.cols))
			for _, r := range batch {
				args = append(args, r...)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("insert %s: %w", t.name, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "ANALYZE")
	return err
}

// freshDatabase empties the benchmark's database: a new SQLite file, or a dropped and
// recreated PostgreSQL database.
func freshDatabase(ctx context.Context, engine sqlstore.Engine, dbURL, adminURL string) error {
	if engine == sqlstore.SQLite {
		path := strings.TrimPrefix(dbURL, "sqlite:")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		return nil
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	name := pgx.Identifier{cfg.Database}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	return err
}

// openRaw opens the benchmark's database with database/sql, for the few statements the
// benchmark runs itself, and returns the placeholder rewriting of its engine.
func openRaw(dbURL string) (*sql.DB, func(string) string, error) {
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		return db, func(q string) string { return q }, err
	}
	db, err := sql.Open("pgx", dbURL)
	return db, func(q string) string { return sqlstore.Rebind(sqlstore.Postgres, q) }, err
}

// holdsDataset tells whether the database was seeded with this very dataset.
func holdsDataset(ctx context.Context, dbURL string, m *model, log *slog.Logger) bool {
	db, rebind, err := openRaw(dbURL)
	if err != nil {
		return false
	}
	defer db.Close()
	var users, storeMembers int
	var first string
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&users); err != nil {
		return false
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM store_members").Scan(&storeMembers); err != nil {
		return false
	}
	if err := db.QueryRowContext(ctx, rebind("SELECT role_id FROM store_members WHERE store_id = ? AND user_id = ?"),
		m.stores[m.userStores[0][0]].id, m.users[0]).Scan(&first); err != nil {
		return false
	}
	log.Debug("database holds", "users", users, "store_members", storeMembers)
	return users == len(m.users) && storeMembers == len(m.storeRoles) && first == m.storeRoles[[2]int32{m.userStores[0][0], 0}]
}

// newServiceToken adds a service token for the check API and returns its secret.
func newServiceToken(ctx context.Context, dbURL string, _ *slog.Logger) (string, error) {
	db, rebind, err := openRaw(dbURL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	plain, hash := token.New(token.PrefixService)
	_, err = db.ExecContext(ctx, rebind("INSERT INTO service_tokens (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)"),
		roster.NewID(roster.PrefixServiceToken), "bench", hash, time.Now().UnixMicro())
	return plain, err
}
