package sqlstore_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

func TestWritesAccessTable(t *testing.T) {
	for q, want := range map[string]bool{
		`UPDATE api_keys SET revoked_at = ? WHERE id = ?`:                                          true,
		`DELETE FROM store_members WHERE store_id = ?`:                                             true,
		`INSERT INTO org_members (org_id) VALUES (?)`:                                              true,
		`SELECT id FROM organizations WHERE id = ? FOR UPDATE`:                                     false,
		`INSERT INTO api_usage (org_id) VALUES (?) ON CONFLICT (org_id) DO UPDATE SET n = 1`:       false,
		`UPDATE sessions SET last_seen_at = ?`:                                                     false,
		`WITH gone AS (DELETE FROM roles WHERE org_id = ? RETURNING id) SELECT count(*) FROM gone`: true,
	} {
		if got := sqlstore.WritesAccessTable(q); got != want {
			t.Errorf("WritesAccessTable(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestAccessChanges: every transaction that changes access bumps the revision once and tells
// the index what changed before InTx returns; a write to an access table by a method that
// names no keys (one added later) invalidates everything; other writes change nothing.
func TestAccessChanges(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		db := testenv.DB(t, e)
		ctx := context.Background()
		var mu sync.Mutex
		var got []sqlstore.AccessChange
		db.OnAccessChange(func(ch sqlstore.AccessChange) { mu.Lock(); got = append(got, ch); mu.Unlock() })
		last := func() sqlstore.AccessChange {
			mu.Lock()
			defer mu.Unlock()
			if len(got) == 0 {
				return sqlstore.AccessChange{}
			}
			return got[len(got)-1]
		}
		rev0, err := db.AccessRevision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		tok := roster.ServiceToken{ID: roster.NewID(roster.PrefixServiceToken), Name: "host", CreatedAt: now}
		rctx := sqlstore.WithRevisionSink(ctx)
		if err := db.InTx(rctx, func(tx *sqlstore.Tx) error { return tx.CreateServiceToken(ctx, tok, "hash") }); err != nil {
			t.Fatal(err)
		}
		if ch := last(); ch.Revision != rev0+1 || !slices.Equal(ch.Keys, []string{"t:" + tok.ID}) {
			t.Fatalf("after creating a service token: %+v, want revision %d and its key", ch, rev0+1)
		}
		if r := sqlstore.Revision(rctx); r != rev0+1 {
			t.Errorf("the request's revision is %d, want %d", r, rev0+1)
		}
		// A last-use time is no change of access.
		if err := db.InTx(ctx, func(tx *sqlstore.Tx) error { return tx.TouchServiceToken(ctx, tok.ID, now) }); err != nil {
			t.Fatal(err)
		}
		if ch := last(); ch.Revision != rev0+1 {
			t.Errorf("touching a token made change %+v", ch)
		}
		// A method that names nothing: everything goes.
		if err := db.InTx(ctx, func(tx *sqlstore.Tx) error {
			return tx.ExecUnnamed(ctx, `UPDATE service_tokens SET revoked_at = ? WHERE id = ?`, now.UnixMicro(), tok.ID)
		}); err != nil {
			t.Fatal(err)
		}
		if ch := last(); ch.Revision != rev0+2 || !slices.Equal(ch.Keys, []string{sqlstore.AllKeys}) {
			t.Errorf("an unnamed write to an access table gave %+v, want revision %d and *", ch, rev0+2)
		}
		// A rolled-back transaction changes nothing.
		_ = db.InTx(ctx, func(tx *sqlstore.Tx) error {
			_ = tx.RevokeServiceToken(ctx, tok.ID, now)
			return roster.Errorf(roster.EConflict, "no")
		})
		if rev, err := db.AccessRevision(ctx); err != nil || rev != rev0+2 || last().Revision != rev0+2 {
			t.Errorf("after a rollback the revision is %d (%v), last change %+v", rev, err, last())
		}
	})
}
