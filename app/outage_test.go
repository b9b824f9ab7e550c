package app_test

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// proxy is a TCP proxy to the database on 127.0.0.1 that a test cuts and restores: an outage
// of the database as a node sees it, its listener included.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
	frozen sync.RWMutex // held by freeze: bytes read are held back until thaw
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				_ = c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				_ = c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { p.copy(up, c); _ = up.Close() }()
			go func() { p.copy(c, up); _ = c.Close() }()
		}
	}()
	return p
}

func (p *proxy) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.frozen.RLock() // waits while frozen
			_, werr := dst.Write(buf[:n])
			p.frozen.RUnlock()
			if werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeze stops every byte in both directions, connections staying open, until thaw: the
// database as a node sees it when the network path stalls or the node's process is paused.
func (p *proxy) freeze() { p.frozen.Lock() }
func (p *proxy) thaw()   { p.frozen.Unlock() }

// cut closes every connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestIndexOutage is issue 13's item 7: when the database stops answering, a node keeps
// answering checks it holds in its index only while its listener is connected (every change
// that commits reaches it); once the listener is down too, checks get 503 with Retry-After,
// and they answer again when the database is back.
func TestIndexOutage(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Owner")
		org := env.Org(t, owner, "Acme")
		_, m := env.User(t, "Ann")
		_, other := env.User(t, "Bob")
		env.Join(t, owner, org.ID, m, roster.OrgMember)
		env.Join(t, owner, org.ID, other, roster.OrgMember)
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

		// The node's pool fails but its listener is connected: what the index holds answers.
		n1 := startNode(t, env, env.URL)
		host1, err := n1.app.Auth.Authenticate(ctx, svc.Secret, "", "")
		if err != nil {
			t.Fatal(err)
		}
		allowed(n1.app, host1, q)
		_ = n1.db.Close()
		allowed(n1.app, host1, q)
		if _, err := n1.app.Access.Check(ctx, host1, app.CheckInput{UserID: other.ID, OrgID: org.ID, Permission: roster.PermOrgRead}); err == nil {
			t.Fatal("a check the index does not hold was answered without the database")
		}

		// The whole database is gone for the node, listener included: 503, then back.
		u, err := url.Parse(env.URL)
		if err != nil {
			t.Fatal(err)
		}
		p := newProxy(t, u.Host)
		u.Host = p.ln.Addr().String()
		n2 := startNode(t, env, u.String())
		host2, err := n2.app.Auth.Authenticate(ctx, svc.Secret, "", "")
		if err != nil {
			t.Fatal(err)
		}
		allowed(n2.app, host2, q)
		p.cut()
		waitFor(t, func() bool { return !n2.app.Access.IndexStats().Trusted })
		unavailable(n2.app, host2, q)
		p.restore()
		waitFor(t, func() bool { return n2.app.Access.IndexStats().Trusted })
		allowed(n2.app, host2, q)
	})
}

// TestLeaseOfAFrozenNode: a node that answers from memory without asking the database holds
// a lease that every write waits for (sqlstore/lease.go). When the node's connections stall
// without closing, nothing tells it that writes happen elsewhere: a write on another node
// waits until the frozen node's lease has run out and then returns, and from then on the
// frozen node answers nothing from the state before that write (it fails with 503 until the
// database answers it again, then answers what is true).
func TestLeaseOfAFrozenNode(t *testing.T) {
	testenv.RequireEngine(t, sqlstore.Postgres)
	t.Parallel()
	env := testenv.NewEnv(t, sqlstore.Postgres)
	owner, _ := env.User(t, "Owner")
	org := env.Org(t, owner, "Acme")
	_, m := env.User(t, "Ann")
	env.Join(t, owner, org.ID, m, roster.OrgMember)
	svc, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	// Rows of nodes gone long ago are cleared when a node registers; a recent one stays.
	admin := testenv.SQL(t, sqlstore.Postgres, env.URL)
	if _, err := admin.ExecContext(ctx, `INSERT INTO access_nodes (id, applied, expires_at) VALUES
		('node_gone', 1, now() - interval '2 hours'), ('node_recent', 1, now() - interval '1 minute')`); err != nil {
		t.Fatal(err)
	}
	a := startNode(t, env, env.URL)
	b := startNode(t, env, u.String())
	var left []string
	rows, err := admin.QueryContext(ctx, `SELECT id FROM access_nodes WHERE id IN ('node_gone', 'node_recent')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		left = append(left, id)
	}
	if err := rows.Close(); err != nil || len(left) != 1 || left[0] != "node_recent" {
		t.Fatalf("rows of gone nodes left: %v %v", left, err)
	}
	hostB, err := b.app.Auth.Authenticate(ctx, svc.Secret, "", "")
	if err != nil {
		t.Fatal(err)
	}
	q := app.CheckInput{UserID: m.ID, OrgID: org.ID, Permission: roster.PermOrgRead}
	if r, err := b.app.Access.Check(ctx, hostB, q); err != nil || !r.Allowed {
		t.Fatalf("check before: %+v %v", r, err)
	}
	waitFor(t, func() bool { return b.app.Access.IndexStats().Leased })

	p.freeze()
	thawed := false
	defer func() {
		if !thawed {
			p.thaw()
		}
	}()
	// Ann leaves, on node a: the write returns once b's lease has run out.
	if err := a.app.Members.Remove(ctx, owner, org.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	if st := b.app.Access.IndexStats(); st.Leased {
		t.Fatal("the write returned while the frozen node still held its lease")
	}
	r, err := b.app.Access.Check(ctx, hostB, q)
	if err == nil && r.Allowed {
		t.Fatal("the frozen node allowed a member who had left, after the write returned")
	}
	if e := roster.AsError(err); err != nil && (e == nil || e.Code != roster.EUnavailable) {
		t.Fatalf("the frozen node's check: %v, want 503 or a refusal", err)
	}
	p.thaw()
	thawed = true
	waitFor(t, func() bool { return b.app.Access.IndexStats().Leased })
	if r, err := b.app.Access.Check(ctx, hostB, q); err != nil || r.Allowed {
		t.Fatalf("check after the thaw: %+v %v, want refused", r, err)
	}
}

// TestLeaseOfADeafNode: a node whose listener does not hear the others' notifications (behind
// a pooler in transaction mode, LISTEN holds on a server connection that the node's later
// statements do not use) must not keep a lease it cannot honour: its renewals read revisions
// it is never told of, it gives the lease up, and a write on another node returns with no
// stale answer from it after.
func TestLeaseOfADeafNode(t *testing.T) {
	testenv.RequireEngine(t, sqlstore.Postgres)
	t.Parallel()
	env := testenv.NewEnv(t, sqlstore.Postgres)
	owner, _ := env.User(t, "Owner")
	org := env.Org(t, owner, "Acme")
	_, m := env.User(t, "Ann")
	env.Join(t, owner, org.ID, m, roster.OrgMember)
	svc, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
	if err != nil {
		t.Fatal(err)
	}
	a := startNode(t, env, env.URL)
	deaf := startNode(t, env, env.URL)
	host, err := deaf.app.Auth.Authenticate(ctx, svc.Secret, "", "")
	if err != nil {
		t.Fatal(err)
	}
	check := app.CheckInput{UserID: m.ID, OrgID: org.ID, Permission: roster.PermOrgRead}
	if r, err := deaf.app.Access.Check(ctx, host, check); err != nil || !r.Allowed {
		t.Fatalf("check before: %+v %v", r, err)
	}
	waitFor(t, func() bool { return deaf.app.Access.IndexStats().Leased })
	deaf.db.DeafenListener()
	for round := range 3 {
		// Each write waits for the deaf node until it gives its lease up.
		_, other := env.User(t, fmt.Sprintf("Other%d", round))
		env.Join(t, owner, org.ID, other, roster.OrgMember)
		if err := a.app.Members.Remove(ctx, owner, org.ID, other.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.app.Members.Remove(ctx, owner, org.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	r, err := deaf.app.Access.Check(ctx, host, check)
	if err != nil || r.Allowed {
		t.Fatalf("the deaf node, after the write returned: %+v %v, want refused", r, err)
	}
}
