package sqlstore

import (
	"context"
	"time"
)

// The lease on SQLite. One process serves a SQLite file, but others may write to it: the
// roster command's administrative subcommands, or a second server on the same machine (WAL
// mode shares memory between the processes, so they are always on one machine and read one
// clock). There is no notification between them, so the serving process polls the access
// revision while its index is read, and keeps a row in access_nodes as a PostgreSQL node does:
// the revision it has applied and a lease. A write from another process returns only once
// each live node has applied it (awaitNodes), so a node that holds a lease answers from memory
// without reading the revision on every request. Writes of the node's own process need no
// wait: InTx applies them to its index before it returns.
//
// Each renewal is one write transaction, and SQLite runs write transactions one at a time: it
// reads the revision, brings the index up to it, then writes the row. A write of another
// process committed either before (the revision read covers it) or after (it sees the row
// and waits), as with register on PostgreSQL. An idle server keeps no lease: the first reads
// after a pause ask the database (the read barrier) until the poller has taken the lease again.

// sqlitePoll is how often a node that holds its lease reads the access revision to learn of
// other processes' writes, which wait for it about this long.
const sqlitePoll = 10 * time.Millisecond

// sqliteAckPoll is how often a write waiting for nodes reads their rows on SQLite.
const sqliteAckPoll = 5 * time.Millisecond

// pollAccess keeps the node's lease while its index is read, until ctx ends.
func (db *DB) pollAccess(ctx context.Context, l AccessListener) {
	defer db.dropLease(l)
	t := time.NewTicker(AccessLease / 4)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if db.lease.held && time.Now().Before(db.lease.due()) {
			rev, err := db.AccessRevision(ctx)
			if err != nil || !l.AccessCaughtUp(rev) {
				continue // nothing from other processes (or the lease runs out by itself)
			}
			// Another process wrote: its write waits until the row says it is applied.
		} else if !l.AccessWanted() {
			if db.lease.held {
				db.dropLease(l) // no read since the last renewal
				t.Reset(AccessLease / 4)
			}
			continue
		}
		if err := db.renewSQLiteLease(ctx, l); err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failing {
				db.log.Warn("the access index's lease could not be renewed; checks read the access revision first", "err", err)
			}
			failing = true
			continue
		}
		if failing {
			db.log.Info("the access index's lease is renewed again")
		}
		failing = false
		t.Reset(sqlitePoll)
	}
}

// renewSQLiteLease takes or renews the lease in one write transaction (see above).
func (db *DB) renewSQLiteLease(ctx context.Context, l AccessListener) error {
	sent := time.Now()
	var rev int64
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.q.QueryRowContext(ctx, `SELECT revision FROM access_revision WHERE id = 1`).Scan(&rev); err != nil {
			return mapError(err)
		}
		l.AccessCaughtUp(rev) // before the row says so
		// The row runs out on the wall clock, rounded up to the millisecond, no earlier
		// than the node stops trusting it on its own clock (sent + AccessLease).
		_, err := tx.q.ExecContext(ctx, `INSERT INTO access_nodes (id, applied, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET applied = excluded.applied, expires_at = excluded.expires_at`,
			db.lease.id, rev, sent.Add(AccessLease).UnixMilli()+1)
		return mapError(err)
	})
	if err != nil {
		return err
	}
	db.lease.applied, db.lease.renewed, db.lease.held = rev, sent, true
	l.AccessLease(sent.Add(AccessLease), rev)
	return nil
}

// dropLease gives the lease up: first the index stops answering from memory, then writes
// stop waiting for the node.
func (db *DB) dropLease(l AccessListener) {
	if !db.lease.held {
		return
	}
	l.AccessLease(time.Time{}, 0)
	db.lease.held = false
	db.releaseLease()
}
