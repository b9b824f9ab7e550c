package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Leases of the nodes that answer from their access index without asking the database
// (ARCHITECTURE.md, "The access index"). On PostgreSQL each node's listener keeps a row in
// access_nodes: the revision the node has applied and a lease, renewed on the listener's own
// connection. A transaction that changes access returns only once every node whose lease is
// live has applied it (awaitNodes), so a node that holds a lease may answer a read from memory
// at once: whatever write returned before the read arrived, the node had applied it first.
//
// The lease is counted twice: on the database's clock (expires_at, what writers compare with
// now()) and on the node's, from the moment the node sent the statement that renewed it, which
// is no later than the moment the database ran it. So the node stops trusting its lease before
// the database says it has run out, whatever the two clocks read, as long as they run at
// about the same speed over a couple of seconds.

// AccessLease is how long a lease lasts after each renewal; a node renews it every
// AccessLease/4 and with every acknowledgement. It is also the longest a write waits for a
// node that stopped answering (its connection cut without a word, its process frozen).
const AccessLease = 2 * time.Second

// deafAfter is how long a revision that committed may go unnotified before the listener is
// deemed deaf (errDeaf).
const deafAfter = AccessLease / 2

// ackPoll is how often a waiting write reads the table again when no acknowledgement woke it
// (this process's own listener may be down).
const ackPoll = 50 * time.Millisecond

// nodeLease is what the listener knows of its node's lease.
type nodeLease struct {
	id      string    // this node's row in access_nodes; one per DB, kept across reconnections
	applied int64     // the last revision handed to the AccessListener
	floor   int64     // the revision read when the row was last taken: the lease needs it applied
	seen    int64     // an access revision a renewal read, not yet applied when read...
	seenAt  time.Time // ... then (the oldest such revision still to be applied)
	renewed time.Time // when the statement that last renewed the lease was sent
	held    bool      // the row is ours and was live when last renewed
}

func newNodeID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic("sqlstore: crypto/rand failed: " + err.Error())
	}
	return "node_" + hex.EncodeToString(b)
}

const leaseInterval = `now() + $3 * interval '1 millisecond'`

// register takes (or takes again) the node's row, applied = the revision the listener reset
// the index to or has applied since, and sets floor to the access revision read under a share
// lock of its row in the same transaction. A write takes that row's lock to bump the revision
// and then counts the live nodes (bumpRevision): either it committed before this registration
// read the revision (floor covers it) or it counts this node and waits for it. So the node
// may trust its lease once it has applied floor.
func (n *nodeLease) register(ctx context.Context, conn *pgx.Conn) error {
	sent := time.Now()
	var floor int64
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := tx.QueryRow(ctx, `SELECT revision FROM access_revision WHERE id = 1 FOR SHARE`).Scan(&floor); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO access_nodes (id, applied, expires_at) VALUES ($1, $2, `+leaseInterval+`)
		ON CONFLICT (id) DO UPDATE SET applied = excluded.applied, expires_at = excluded.expires_at`,
		n.id, n.applied, AccessLease.Milliseconds()); err != nil {
		return err
	}
	// Rows of nodes long gone (a killed process, each start makes a new ID) are cleared here,
	// an hour after they ran out, so the table stays as small as the fleet.
	if _, err := tx.Exec(ctx, `DELETE FROM access_nodes WHERE expires_at < now() - interval '1 hour'`); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	n.renewed, n.held, n.floor, n.seen, n.seenAt = sent, true, floor, floor, sent
	return nil
}

// errDeaf: a revision that a renewal read has not been notified a second later, when
// PostgreSQL delivers a notification within milliseconds: this connection does not hear what
// the others commit. The node stops answering from memory and connects
// again rather than hold a lease it cannot honour.
var errDeaf = errors.New("the listener was not notified of changes that committed: is its connection " +
	"pooled in transaction mode? Roster's LISTEN needs a session of its own (a direct connection, or session pooling)")

// renew extends the lease and records the applied revision, waking the writes that wait for
// it when ack. It reports false when the row had run out (or was gone): writers may have
// stopped waiting for this node, which must register again before it trusts a lease.
func (n *nodeLease) renew(ctx context.Context, conn *pgx.Conn, ack bool) (bool, error) {
	sent := time.Now()
	if n.applied < n.seen && sent.Sub(n.seenAt) > deafAfter {
		return false, errDeaf
	}
	q := `UPDATE access_nodes SET applied = $2, expires_at = ` + leaseInterval + ` WHERE id = $1 AND expires_at > now()`
	q = `WITH renewed AS (` + q + ` RETURNING 1) SELECT count(*), (SELECT revision FROM access_revision WHERE id = 1) FROM renewed`
	if ack {
		q += `, (SELECT pg_notify('roster_ack_' || current_schema(), '')) AS n`
	}
	var live int
	var rev int64
	if err := conn.QueryRow(ctx, q, n.id, n.applied, AccessLease.Milliseconds()).Scan(&live, &rev); err != nil {
		return false, err
	}
	if n.applied >= n.seen { // else the clock keeps running for the older revision
		n.seen, n.seenAt = rev, sent
	}
	if live == 0 {
		n.held = false
		return false, nil
	}
	n.renewed = sent
	return true, nil
}

// due is when the lease should next be renewed.
func (n *nodeLease) due() time.Time { return n.renewed.Add(AccessLease / 4) }

// release gives the row up, once the node no longer answers from its index (best effort: a
// row left behind runs out by itself).
func (db *DB) releaseLease() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = db.sql.ExecContext(ctx, Rebind(db.engine, `DELETE FROM access_nodes WHERE id = ?`), db.lease.id)
}

// awaitNodes returns once every node whose lease is live has applied rev (or its lease ran
// out; on SQLite, or sqliteWait has passed). It runs after the commit of a transaction that
// changed access, before the write returns; the write has committed whatever happens here, so
// a failure is logged, not returned.
func (db *DB) awaitNodes(ctx context.Context, rev int64) {
	bound := 2 * AccessLease
	if db.engine == SQLite {
		bound = sqliteWait // then the lagging node no longer trusts its last poll (lease_sqlite.go)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	for {
		wake := db.acks.Wait()
		lagging, left, err := db.laggingNodes(ctx, rev)
		if err != nil {
			db.log.Error("a change of access committed but whether every node applied it could not be read", "revision", rev, "err", err)
			return
		}
		if lagging == 0 {
			return
		}
		poll := ackPoll
		if db.engine == SQLite {
			poll = sqliteAckPoll // no acknowledgement rings there
		}
		pause := min(left+time.Millisecond, poll)
		t := time.NewTimer(pause)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			db.log.Error("a change of access committed but nodes did not apply it in time", "revision", rev, "nodes", lagging)
			return
		}
		t.Stop()
	}
}

// laggingNodes counts the other nodes whose lease is live and that have not applied rev, and
// how long until the first of their leases runs out.
func (db *DB) laggingNodes(ctx context.Context, rev int64) (int, time.Duration, error) {
	var lagging int
	if db.engine == SQLite { // expires_at: Unix milliseconds on this machine's clock
		var first int64
		now := time.Now().UnixMilli()
		err := db.sql.QueryRowContext(ctx, `SELECT count(*), coalesce(min(expires_at), 0) FROM access_nodes
			WHERE expires_at > ? AND applied < ? AND id <> ?`, now, rev, db.lease.id).Scan(&lagging, &first)
		return lagging, time.Duration(first-now) * time.Millisecond, err
	}
	var left float64 // seconds
	err := db.sql.QueryRowContext(ctx, `SELECT count(*), coalesce(extract(epoch FROM min(expires_at) - now()), 0)::float8
		FROM access_nodes WHERE expires_at > now() AND applied < $1`, rev).Scan(&lagging, &left)
	return lagging, time.Duration(left * float64(time.Second)), err
}
