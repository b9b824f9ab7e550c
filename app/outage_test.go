package app_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/faultproxy"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestIndexOutage is issue 13's item 7: when the database stops answering, a node keeps
// answering checks it holds in its index only while its lease holds (its listener, on a
// connection of its own, renews it, and every write waits for it); once the listener is down
// too, checks get 503 with Retry-After, and they answer again when the database is back.
func TestIndexOutage(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Owner")
		org := env.Org(t, owner, "Acme")
		_, m := env.User(t, "Ann")
		_, other := env.User(t, "Bob")
		env.Join(t, owner, org.ID, m, roster.OrgMember)
		env.Join(t, owner, org.ID, other, roster.OrgMember)
		org2 := env.Org(t, owner, "Bolt")
		env.Join(t, owner, org2.ID, other, roster.OrgMember)
		svc, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
		if err != nil {
			t.Fatal(err)
		}
		q := app.CheckInput{UserID: m.ID, OrgID: org.ID, Permission: roster.PermOrgRead}
		unavailable := func(a *app.App, host roster.Actor, q app.CheckInput) {
			t.Helper()
			_, err := a.Access.Check(ctx, host, q)
			if e := roster.AsError(err); e == nil || e.Code != roster.EUnavailable || e.RetryAfter <= 0 {
				t.Fatalf("check during the outage: %v, want unavailable with Retry-After", err)
			}
		}
		allowed := func(a *app.App, host roster.Actor, q app.CheckInput) {
			t.Helper()
			if r, err := a.Access.Check(ctx, host, q); err != nil || !r.Allowed {
				t.Fatalf("check: %+v %v", r, err)
			}
		}

		if e == sqlstore.SQLite {
			// One node, no listener: a database that does not answer means 503.
			db := testenv.OpenDB(t, env.URL)
			a := app.New(db, testenv.Config(), env.Clock, testenv.Logger(t))
			host, err := a.Auth.Authenticate(ctx, svc.Secret, "", "")
			if err != nil {
				t.Fatal(err)
			}
			allowed(a, host, q)
			_ = db.Close()
			unavailable(a, host, q)
			return
		}

		// The node's pool fails but its listener is connected and renews the lease: what the
		// index holds answers.
		n1 := startNode(t, env, env.URL)
		host1, err := n1.app.Auth.Authenticate(ctx, svc.Secret, "", "")
		if err != nil {
			t.Fatal(err)
		}
		allowed(n1.app, host1, q)
		// The listener takes the node's lease after it connects: on a busy machine the check
		// above can come first, and without a lease a read asks the database (the pool, closed next).
		waitFor(t, func() bool { return n1.app.Access.IndexStats().Leased })
		_ = n1.db.Close()
		allowed(n1.app, host1, q)
		// The first check loaded the organization whole (index_whole.go): Bob's access in it
		// is held too. His access in the other organization is not.
		allowed(n1.app, host1, app.CheckInput{UserID: other.ID, OrgID: org.ID, Permission: roster.PermOrgRead})
		if _, err := n1.app.Access.Check(ctx, host1, app.CheckInput{UserID: other.ID, OrgID: org2.ID, Permission: roster.PermOrgRead}); err == nil {
			t.Fatal("a check the index does not hold was answered without the database")
		}

		// The whole database is gone for the node, listener included: 503, then back.
		u, err := url.Parse(env.URL)
		if err != nil {
			t.Fatal(err)
		}
		p := faultproxy.Start(t, u.Host)
		u.Host = p.Addr()
		n2 := startNode(t, env, u.String())
		host2, err := n2.app.Auth.Authenticate(ctx, svc.Secret, "", "")
		if err != nil {
			t.Fatal(err)
		}
		allowed(n2.app, host2, q)
		p.Refuse()
		waitFor(t, func() bool { return !n2.app.Access.IndexStats().Trusted })
		unavailable(n2.app, host2, q)
		p.Resume(t)
		waitFor(t, func() bool { return n2.app.Access.IndexStats().Trusted })
		allowed(n2.app, host2, q)
	})
}

// leaseFixture is a member of an organization, a service token and the check of the
// member's access, for the tests of the nodes' leases.
type leaseFixture struct {
	env   *testenv.Env
	owner roster.Actor
	org   roster.Organization
	check app.CheckInput
	svc   string // the service token's secret
}

func newLeaseFixture(t *testing.T, e sqlstore.Engine) leaseFixture {
	t.Helper()
	testenv.RequireEngine(t, e)
	env := testenv.NewEnv(t, e)
	owner, _ := env.User(t, "Owner")
	org := env.Org(t, owner, "Acme")
	_, m := env.User(t, "Ann")
	env.Join(t, owner, org.ID, m, roster.OrgMember)
	svc, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
	if err != nil {
		t.Fatal(err)
	}
	return leaseFixture{env: env, owner: owner, org: org, svc: svc.Secret,
		check: app.CheckInput{UserID: m.ID, OrgID: org.ID, Permission: roster.PermOrgRead}}
}

// leased checks the member's access on a node, and waits until the node holds its lease.
func (f leaseFixture) leased(t *testing.T, nd node) roster.Actor {
	t.Helper()
	host, err := nd.app.Auth.Authenticate(ctx, f.svc, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := nd.app.Access.Check(ctx, host, f.check); err != nil || !r.Allowed {
		t.Fatalf("check before: %+v %v", r, err)
	}
	waitFor(t, func() bool { return nd.app.Access.IndexStats().Leased })
	return host
}

// TestLeaseOfAFrozenNode: a node that answers from memory without asking the database holds
// a lease that every write waits for (sqlstore/lease.go). When the node's connections stall
// without closing, nothing tells it that writes happen elsewhere: a write on another node
// waits until the frozen node's lease has run out and then returns, and from then on the
// frozen node answers nothing from the state before that write (it fails with 503 until the
// database answers it again, then answers what is true). Rows of nodes gone an hour ago are
// cleared when a node registers.
func TestLeaseOfAFrozenNode(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t, sqlstore.Postgres)
	admin := testenv.SQL(t, sqlstore.Postgres, f.env.URL)
	if _, err := admin.ExecContext(ctx, `INSERT INTO access_nodes (id, applied, expires_at) VALUES
		('node_gone', 1, now() - interval '2 hours'), ('node_recent', 1, now() - interval '1 minute')`); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(f.env.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.Start(t, u.Host)
	u.Host = p.Addr()
	a := startNode(t, f.env, f.env.URL)
	b := startNode(t, f.env, u.String())
	var left string
	if err := admin.QueryRowContext(ctx, `SELECT string_agg(id, ' ' ORDER BY id) FROM access_nodes WHERE id IN ('node_gone', 'node_recent')`).Scan(&left); err != nil || left != "node_recent" {
		t.Fatalf("rows of gone nodes left: %q %v", left, err)
	}
	host := f.leased(t, b)

	p.Freeze()
	// Ann leaves, on node a: the write returns once b's lease has run out.
	if err := a.app.Members.Remove(ctx, f.owner, f.org.ID, f.check.UserID); err != nil {
		t.Fatal(err)
	}
	if b.app.Access.IndexStats().Leased {
		t.Fatal("the write returned while the frozen node still held its lease")
	}
	r, err := b.app.Access.Check(ctx, host, f.check)
	if err == nil && r.Allowed {
		t.Fatal("the frozen node allowed a member who had left, after the write returned")
	}
	if e := roster.AsError(err); err != nil && (e == nil || e.Code != roster.EUnavailable) {
		t.Fatalf("the frozen node's check: %v, want 503 or a refusal", err)
	}
	p.Resume(t)
	waitFor(t, func() bool { return b.app.Access.IndexStats().Leased })
	if r, err := b.app.Access.Check(ctx, host, f.check); err != nil || r.Allowed {
		t.Fatalf("check after the thaw: %+v %v, want refused", r, err)
	}
}

// TestLeaseOfADeafNode: a node whose listener does not hear the others' notifications (behind
// a pooler in transaction mode, LISTEN holds on a server connection that the node's later
// statements do not use) must not keep a lease it cannot honour: its renewals read revisions
// it is never told of, it gives the lease up, and a write on another node returns with no
// stale answer from it after.
func TestLeaseOfADeafNode(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t, sqlstore.Postgres)
	a := startNode(t, f.env, f.env.URL)
	deaf := startNode(t, f.env, f.env.URL)
	host := f.leased(t, deaf)
	deaf.db.DeafenListener()
	for round := range 3 {
		// Each write waits for the deaf node until it gives its lease up.
		_, other := f.env.User(t, fmt.Sprintf("Other%d", round))
		f.env.Join(t, f.owner, f.org.ID, other, roster.OrgMember)
		if err := a.app.Members.Remove(ctx, f.owner, f.org.ID, other.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.app.Members.Remove(ctx, f.owner, f.org.ID, f.check.UserID); err != nil {
		t.Fatal(err)
	}
	if r, err := deaf.app.Access.Check(ctx, host, f.check); err != nil || r.Allowed {
		t.Fatalf("the deaf node, after the write returned: %+v %v, want refused", r, err)
	}
}

// TestSQLiteLease: on SQLite, a serving node keeps a lease while its index is read
// (sqlstore/lease_sqlite.go), so checks skip the read barrier; a write made by another
// process on the same file (an administrative command: its own pool, no lease) returns only
// once the node has applied it, and the node's next answer is the new one, still without the
// barrier. When reads stop, the node gives its lease up and its row goes, so that writes no
// longer wait for it. The row of a server gone an hour ago is cleared when a node takes one.
func TestSQLiteLease(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t, sqlstore.SQLite)
	admin := testenv.SQL(t, sqlstore.SQLite, f.env.URL)
	gone := time.Now().Add(-2 * time.Hour).UnixMilli() // a server killed two hours ago
	if _, err := admin.ExecContext(ctx, `INSERT INTO access_nodes (id, applied, expires_at) VALUES ('node_gone', 1, ?)`, gone); err != nil {
		t.Fatal(err)
	}
	nd := startNode(t, f.env, f.env.URL)
	host := f.leased(t, nd)
	before := nd.app.Access.IndexStats()

	if err := f.env.App.Members.Remove(ctx, f.owner, f.org.ID, f.check.UserID); err != nil {
		t.Fatal(err)
	}
	if r, err := nd.app.Access.Check(ctx, host, f.check); err != nil || r.Allowed {
		t.Fatalf("check right after another process removed the member: %+v %v, want refused", r, err)
	}
	after := nd.app.Access.IndexStats()
	if after.Barriers != before.Barriers || after.FromIndex == before.FromIndex {
		t.Errorf("the leased node read the revision first (%d barrier reads, then %d) or did not answer from its index", before.Barriers, after.Barriers)
	}

	rows := func() (n int) {
		if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM access_nodes`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n != 1 {
		t.Fatalf("%d rows in access_nodes while the node holds its lease, want 1 (the gone server's cleared)", n)
	}
	// No more reads: the node stops answering from memory, then its row goes.
	waitFor(t, func() bool { return !nd.app.Access.IndexStats().Leased && rows() == 0 })
}

// TestSQLiteLeaseOfAFrozenNode: a SQLite node whose process stops (here its poller) does not
// hold up another process's writes for longer than a lease, and when such a write returns the
// node no longer answers from memory: its last poll began before the write committed. Once
// it polls again it takes the lease again and answers what is true.
func TestSQLiteLeaseOfAFrozenNode(t *testing.T) {
	t.Parallel()
	f := newLeaseFixture(t, sqlstore.SQLite)
	nd := startNode(t, f.env, f.env.URL)
	host := f.leased(t, nd)

	nd.db.FreezeLease(true)
	// The removal waits for the frozen node; meanwhile this process's next write commits
	// (the writer slot is given back at commit, not after the wait).
	revision := func() int64 {
		rev, err := f.env.DB.AccessRevision(ctx)
		if err != nil {
			t.Error(err)
		}
		return rev
	}
	before := revision()
	removed := make(chan error, 1)
	go func() { removed <- f.env.App.Members.Remove(ctx, f.owner, f.org.ID, f.check.UserID) }()
	waitFor(t, func() bool { return revision() > before })
	renamed := make(chan error, 1)
	go func() {
		org := f.org
		org.Name = "Acme renamed"
		renamed <- f.env.DB.InTx(ctx, func(tx *sqlstore.Tx) error { return tx.UpdateOrganization(ctx, org, f.env.Clock.Now()) })
	}()
	waitFor(t, func() bool { return revision() > before+1 })
	select {
	case <-removed:
		t.Fatal("the second write committed only once the first had done waiting for the frozen node")
	default:
	}
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
	if err := <-renamed; err != nil {
		t.Fatal(err)
	}
	if nd.app.Access.IndexStats().Leased {
		t.Fatal("the write returned while the frozen node still trusted its last poll")
	}
	if r, err := nd.app.Access.Check(ctx, host, f.check); err != nil || r.Allowed {
		t.Fatalf("the frozen node's check after the write: %+v %v, want refused", r, err)
	}
	nd.db.FreezeLease(false)
	waitFor(t, func() bool { return nd.app.Access.IndexStats().Leased })
	if r, err := nd.app.Access.Check(ctx, host, f.check); err != nil || r.Allowed {
		t.Fatalf("check after the thaw: %+v %v, want refused", r, err)
	}
}
