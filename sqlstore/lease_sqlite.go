package sqlstore

import (
	"context"
	"time"
)

// The lease on SQLite. One process serves a SQLite file, but others may write to it: the
// roster command's administrative subcommands, or a second server on the same machine (WAL
// mode shares memory between the processes, so they are always on one machine and read one
// clock). Nothing notifies them of each other's writes, so the serving process, while its
// index is read, polls the access revision and keeps a row in access_nodes: the revision it
// has applied, and until when the row lives. A write counts the live rows of the other
// processes in its transaction and, after commit, waits until each says it has applied the
// write, or for sqliteWait at most. Writes of the node's own process need no wait: InTx
// applies them to its index before it returns.
//
// The node answers from memory until sqliteWait after the start of its last poll whose
// revision its index had applied (and while its row lives). A read that arrives after a write
// returned is therefore covered: either the node's row said it had applied the write, or the
// write waited sqliteWait, so the node's last poll began after the commit and saw it.
//
// A poll is a read. SQLite writes cost every reader: after one, each pooled connection finds
// its page cache out of date and the write-ahead log non-empty, which halved the throughput of
// checks that read SQL when a row was renewed every half second. So the row is written only
// when it is taken, when another process wrote (its writer waits for it), and every
// sqliteRowTTL/3 to keep it alive; a node that was killed leaves a row that writers wait
// sqliteWait for until it runs out. An idle server keeps no lease: after AccessLease without
// a read, it stops answering from memory and deletes its row, and the first reads after the
// pause go through the read barrier until the poller has taken the lease again.

// sqlitePoll is how often a node that holds its lease reads the access revision, and so about
// how long a write of another process waits for it.
const sqlitePoll = 10 * time.Millisecond

// sqliteWait is the longest a write waits for a node that has not applied it (a node frozen,
// or killed with its row still live), and how long a poll's answer lets the node answer from
// memory.
const sqliteWait = AccessLease

// sqliteRowTTL is how long a node's row lives after it was written.
const sqliteRowTTL = 30 * time.Second

// sqliteAckPoll is how often a write waiting for nodes reads their rows on SQLite.
const sqliteAckPoll = 5 * time.Millisecond

// pollAccess keeps the node's lease while its index is read, until ctx ends.
func (db *DB) pollAccess(ctx context.Context, l AccessListener) {
	defer db.dropLease(l)
	idle := AccessLease / 4 // how often an idle node looks whether it is read again
	t := time.NewTicker(idle)
	defer t.Stop()
	failing := false
	var asked, read time.Time // when AccessWanted was last called, and last said yes
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if db.listener.frozen.Load() {
			continue
		}
		now := time.Now()
		if now.Sub(asked) >= idle {
			asked = now
			if l.AccessWanted() {
				read = now
			}
		}
		var err error
		switch {
		case !db.lease.held:
			if read != asked {
				continue
			}
			if err = db.writeLeaseRow(ctx, l); err == nil {
				t.Reset(sqlitePoll)
			}
		case now.Sub(read) > AccessLease: // no read for a while
			db.dropLease(l)
			t.Reset(idle)
			continue
		case now.Sub(db.lease.renewed) > sqliteRowTTL/3:
			err = db.writeLeaseRow(ctx, l)
		default:
			err = db.pollRevision(ctx, l)
		}
		if err != nil && ctx.Err() == nil && !failing {
			db.log.Warn("the access index's lease could not be kept; checks read the access revision first", "err", err)
		} else if err == nil && failing {
			db.log.Info("the access index's lease is kept again")
		}
		failing = err != nil
	}
}

// pollRevision reads the access revision and brings the index up to it. When another process
// wrote, it writes the node's row, which that process's write is waiting for.
func (db *DB) pollRevision(ctx context.Context, l AccessListener) error {
	sent := time.Now()
	rev, err := db.AccessRevision(ctx)
	if err != nil {
		return err // the lease runs out by itself
	}
	if l.AccessCaughtUp(rev) {
		return db.writeLeaseRow(ctx, l)
	}
	db.extendLease(l, sent, rev)
	return nil
}

// writeLeaseRow takes or renews the node's row in one write transaction: it reads the
// revision, brings the index up to it, then writes the row. SQLite runs write transactions one
// at a time, so a write of another process either committed before (the revision read covers
// it) or counts the row and waits for it.
func (db *DB) writeLeaseRow(ctx context.Context, l AccessListener) error {
	sent := time.Now()
	var rev int64
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.q.QueryRowContext(ctx, `SELECT revision FROM access_revision WHERE id = 1`).Scan(&rev); err != nil {
			return mapError(err)
		}
		l.AccessCaughtUp(rev) // before the row says so
		// The row runs out on the wall clock, rounded up to the millisecond, no earlier
		// than the node stops trusting it on its own clock (extendLease).
		_, err := tx.q.ExecContext(ctx, `INSERT INTO access_nodes (id, applied, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET applied = excluded.applied, expires_at = excluded.expires_at`,
			db.lease.id, rev, sent.Add(sqliteRowTTL).UnixMilli()+1)
		if err != nil {
			return mapError(err)
		}
		// Rows of servers long gone (killed: each start makes a new ID), as on PostgreSQL.
		_, err = tx.q.ExecContext(ctx, `DELETE FROM access_nodes WHERE expires_at < ?`, sent.Add(-time.Hour).UnixMilli())
		return mapError(err)
	})
	if err != nil {
		return err
	}
	db.lease.renewed, db.lease.held = sent, true
	db.extendLease(l, sent, rev)
	return nil
}

// extendLease lets the index answer from memory until sqliteWait after a read of the revision
// rev that began at sent, and no later than its row lives.
func (db *DB) extendLease(l AccessListener, sent time.Time, rev int64) {
	until := sent.Add(sqliteWait)
	if end := db.lease.renewed.Add(sqliteRowTTL); end.Before(until) {
		until = end
	}
	l.AccessLease(until, rev)
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

// FreezeLease stops (true) or resumes the SQLite poller of the node's lease, as if its process
// were frozen. Tests use it to prove that a write of another process waits no longer than
// sqliteWait for such a node, and that the node then no longer answers from memory.
func (db *DB) FreezeLease(frozen bool) { db.listener.frozen.Store(frozen) }
