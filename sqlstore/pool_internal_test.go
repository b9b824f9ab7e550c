package sqlstore

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// TestSQLiteConnectionMemory: each pooled SQLite connection keeps a bounded page cache of its
// own and maps nothing of the file, so that the process's resident size is its memory, not
// the database file counted once per connection (db.go). And what db.go says the pool's
// caches cost is what they cost: a connection reads a table larger than its cache, and the
// process's anonymous memory grows by about twice the cache's pages (modernc's allocator
// gives each page and its header an 8 KiB slot), so that the pool stays within 64 MiB.
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
		if mmap != 0 || cache != -sqliteCacheKiB {
			t.Errorf("connection %d: mmap_size %d, cache_size %d; want 0 and -%d", i, mmap, cache, sqliteCacheKiB)
		}
	}
	const perConn = 2 * sqliteCacheKiB << 10 // what a full cache is said to cost
	if max := db.sql.Stats().MaxOpenConnections; max*perConn > 64<<20 {
		t.Errorf("%d connections of %d MiB: more than the 64 MiB the pool's caches are said to hold", max, perConn>>20)
	}

	if runtime.GOOS != "linux" {
		return // the rest reads /proc
	}
	// A table of twice the cache's size, written by one connection and read by another,
	// whose cache starts empty.
	if _, err := conns[0].ExecContext(ctx, `CREATE TABLE filler (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conns[0].ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO filler SELECT printf('%.1000c', 'x') || i FROM n`, 2*sqliteCacheKiB); err != nil {
		t.Fatal(err)
	}
	before := anonymousKiB(t)
	var n int64
	if err := conns[1].QueryRowContext(ctx, `SELECT sum(length(v)) FROM filler`).Scan(&n); err != nil || n < 2*sqliteCacheKiB*1000 {
		t.Fatalf("reading the filler: %d bytes, %v", n, err)
	}
	grew := anonymousKiB(t) - before
	t.Logf("a full cache of %d KiB of pages: %d KiB of anonymous memory", sqliteCacheKiB, grew)
	if grew < sqliteCacheKiB/2 || grew > perConn>>10+perConn>>14 {
		t.Errorf("a connection's full cache grew anonymous memory by %d KiB; db.go says about %d KiB", grew, perConn>>10)
	}
}

// anonymousKiB returns the process's anonymous resident memory once Go's garbage is returned.
func anonymousKiB(t *testing.T) int {
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return kib
		}
	}
	t.Fatal("no RssAnon in /proc/self/status")
	return 0
}
