package api_test

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// proxy is a TCP relay to PostgreSQL that the test can cut and restore, so that the database
// "goes down" for this test alone.
type proxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target, conns: map[net.Conn]struct{}{}}
	p.start(t, "127.0.0.1:0")
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// stop closes the listener and every relayed connection: the database is unreachable.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// TestPostgresOutage: while PostgreSQL is unreachable, requests get 503 problem+json with
// Retry-After and readiness fails; once it is back, Roster recovers without a restart.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	testenv.RequireEngine(t, sqlstore.Postgres)
	direct := testenv.DatabaseURL(t, sqlstore.Postgres)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	db := testenv.OpenDB(t, u.String())
	env := &testenv.Env{DB: db, Clock: testenv.NewClock(), Engine: sqlstore.Postgres, URL: direct}
	a := app.New(db, testenv.Config(), env.Clock, testenv.Logger(t))
	s := serve(t, env, a, testenv.Logger(t))

	tok, email := s.signup(t, "Uma")
	if r := s.do(t, "GET", "/v1/me", tok, nil); r.status != 200 {
		t.Fatal(r)
	}

	p.stop()
	for _, req := range []struct {
		method, path string
		token        string
		body         any
	}{
		{"GET", "/v1/me", tok, nil},
		{"POST", "/v1/auth/login", "", map[string]string{"email": email, "password": testenv.Password}},
		{"POST", "/v1/organizations", tok, map[string]string{"name": "Down"}},
		{"POST", "/v1/auth/signup", "", map[string]string{"email": "down@example.com", "name": "D", "password": testenv.Password}},
	} {
		r := s.do(t, req.method, req.path, req.token, req.body)
		var pr problem
		if r.status != 503 || r.header.Get("Retry-After") == "" || jsonInto(r.body, &pr) != nil || pr.Code != "unavailable" {
			t.Errorf("%s %s while the database is down: %s %v", req.method, req.path, r, r.header)
		}
	}
	if r := s.do(t, "GET", "/readyz", "", nil); r.status != 503 {
		t.Errorf("readyz while down: %s", r)
	}
	if r := s.do(t, "GET", "/healthz", "", nil); r.status != 200 {
		t.Errorf("healthz while down: %s", r)
	}

	p.start(t, p.addr) // the database is back, at the same address
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.do(t, "GET", "/v1/me", tok, nil)
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %s", r)
		}
		time.Sleep(50 * time.Millisecond) // polling for recovery
	}
	if r := s.do(t, "GET", "/readyz", "", nil); r.status != 200 {
		t.Errorf("readyz after recovery: %s", r)
	}
	if r := s.do(t, "POST", "/v1/organizations", tok, map[string]string{"name": "Up"}); r.status != 201 {
		t.Errorf("a write after recovery: %s", r)
	}
}
