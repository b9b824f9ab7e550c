package sqlstore

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
)

// TestSQLiteConnectionMemory: each pooled SQLite connection keeps a bounded page cache of its
// own and maps nothing of the file, so that the process's resident size is its memory, not
// the database file counted once per connection (db.go).
func TestSQLiteConnectionMemory(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "roster.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conns := make([]*sql.Conn, 3) // held at once: three connections of the pool
	for i := range conns {
		if conns[i], err = db.sql.Conn(ctx); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
	}
	for i, c := range conns {
		var mmap, cache int64
		if err := c.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
			t.Fatal(err)
		}
		if mmap != 0 || cache != -8192 {
			t.Errorf("connection %d: mmap_size %d, cache_size %d; want 0 and -8192 (8 MiB)", i, mmap, cache)
		}
	}
	if max := db.sql.Stats().MaxOpenConnections; max*8 > 64 {
		t.Errorf("%d connections of 8 MiB: more than the 64 MiB the pool's caches are said to hold", max)
	}
}
