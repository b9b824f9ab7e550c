package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/faultproxy"
	"github.com/rosterhq/roster/internal/smtptest"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/outbox"
	"github.com/rosterhq/roster/sqlstore"
)

// proxied returns the API over a PostgreSQL database reached through a fault proxy, with
// short database deadlines so that a hang shows at once.
func proxied(t *testing.T) (*server, *faultproxy.Proxy) {
	t.Helper()
	testenv.RequireEngine(t, sqlstore.Postgres)
	direct := testenv.DatabaseURL(t, sqlstore.Postgres)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.Start(t, u.Host)
	u.Host = p.Addr()
	db := testenv.OpenDBWith(t, u.String(), sqlstore.Options{Timeout: time.Second, ConnectTimeout: time.Second})
	env := &testenv.Env{DB: db, Clock: testenv.NewClock(), Engine: sqlstore.Postgres, URL: direct}
	a := app.New(db, testenv.Config(), env.Clock, testenv.Logger(t))
	env.App = a
	return serve(t, env, a, testenv.Logger(t)), p
}

// request is one request of the outage tests.
type request struct {
	method, path string
	token        string
	body         any
}

func outageRequests(tok, email string) []request {
	return []request{
		{"GET", "/v1/me", tok, nil},
		{"POST", "/v1/auth/login", "", map[string]string{"email": email, "password": testenv.Password}},
		{"POST", "/v1/organizations", tok, map[string]string{"name": "Down"}},
		{"POST", "/v1/auth/signup", "", map[string]string{"email": "down@example.com", "name": "D", "password": testenv.Password}},
	}
}

// wantUnavailable checks an answer given while the database is down: 503 problem+json with
// Retry-After, never a 500.
func wantUnavailable(t *testing.T, req request, r response) {
	t.Helper()
	var pr problem
	if r.status != 503 || r.header.Get("Retry-After") == "" || jsonInto(r.body, &pr) != nil || pr.Code != "unavailable" {
		t.Errorf("%s %s while the database is down: %s %v", req.method, req.path, r, r.header)
	}
}

// TestPostgresOutage: while PostgreSQL is unreachable, requests get 503 problem+json with
// Retry-After and readiness fails; once it is back, Roster recovers without a restart.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	s, p := proxied(t)
	tok, email := s.signup(t, "Uma")
	if r := s.do(t, "GET", "/v1/me", tok, nil); r.status != 200 {
		t.Fatal(r)
	}

	p.Refuse()
	for _, req := range outageRequests(tok, email) {
		wantUnavailable(t, req, s.do(t, req.method, req.path, req.token, req.body))
	}
	if r := s.do(t, "GET", "/readyz", "", nil); r.status != 503 {
		t.Errorf("readyz while down: %s", r)
	}
	if r := s.do(t, "GET", "/healthz", "", nil); r.status != 200 {
		t.Errorf("healthz while down: %s", r)
	}

	p.Resume(t) // the database is back, at the same address
	if r := s.do(t, "GET", "/v1/me", tok, nil); r.status != 200 {
		t.Errorf("a read after recovery: %s", r)
	}
	if r := s.do(t, "GET", "/readyz", "", nil); r.status != 200 {
		t.Errorf("readyz after recovery: %s", r)
	}
	if r := s.do(t, "POST", "/v1/organizations", tok, map[string]string{"name": "Up"}); r.status != 201 {
		t.Errorf("a write after recovery: %s", r)
	}
}

// TestPostgresHang: a PostgreSQL that keeps its connections open and stops answering gives
// 503 with Retry-After within the database deadline, even to more requests at once than the
// pool holds connections, and the outbox worker fails its round instead of hanging. When the
// database answers again, requests succeed and the worker delivers, without a restart.
func TestPostgresHang(t *testing.T) {
	t.Parallel()
	s, p := proxied(t)
	smtp := smtptest.Start(t, smtptest.Options{})
	sender, err := mail.NewSMTP(mail.SMTPConfig{URL: smtp.URL(), From: "roster@example.com", TLS: smtp.ClientTLS(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	w := outbox.New(s.env.App, renderer, sender, testenv.Logger(t), outbox.Options{Poll: time.Hour})
	tok, email := s.signup(t, "Uma")
	if r := s.do(t, "GET", "/v1/me", tok, nil); r.status != 200 {
		t.Fatal(r)
	}

	p.Freeze()
	// A generous bound: the deadlines are a second; without them these calls never return.
	bound, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	const concurrent = 30 // more than the 25 connections of the pool
	var wg sync.WaitGroup
	for i := range concurrent {
		req := outageRequests(tok, email)[i%4]
		wg.Go(func() { wantUnavailable(t, req, s.doCtx(t, bound, req.method, req.path, req.token, req.body)) })
	}
	wg.Wait()
	if _, err := w.DeliverDue(bound); err == nil || bound.Err() != nil {
		t.Errorf("outbox round while the database hangs: %v (bound: %v)", err, bound.Err())
	}
	if r := s.doCtx(t, bound, "GET", "/readyz", "", nil); r.status != 503 {
		t.Errorf("readyz while the database hangs: %s", r)
	}

	p.Resume(t)
	if r := s.do(t, "GET", "/v1/me", tok, nil); r.status != 200 {
		t.Errorf("a read after the hang: %s", r)
	}
	if r := s.do(t, "POST", "/v1/organizations", tok, map[string]string{"name": "Up"}); r.status != 201 {
		t.Errorf("a write after the hang: %s", r)
	}
	if n, err := w.DeliverDue(ctx); err != nil || n != 1 {
		t.Errorf("outbox after the hang: delivered %d, %v", n, err)
	}
	if m := smtp.Wait(t, 1, 5*time.Second); m[0].To[0] != email {
		t.Errorf("delivered to %v", m[0].To)
	}
}

// doCtx sends a request bounded by ctx, from any goroutine: a request still unanswered when
// ctx ends is reported as an error of the test.
func (s *server) doCtx(t *testing.T, ctx context.Context, method, path, token string, body any) response {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Error(err)
			return response{}
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, rd)
	if err != nil {
		t.Error(err)
		return response{}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return response{}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// TestPostgresRefusesConnections: a database that refuses connections (ALLOW_CONNECTIONS
// false, its backends terminated: SQLSTATE 55000 and 57P01) answers 503 with Retry-After,
// never 500; the outage is logged once at WARN when it starts and once at INFO when it ends,
// with no ERROR; and Roster recovers on its own.
func TestPostgresRefusesConnections(t *testing.T) {
	t.Parallel()
	testenv.RequireEngine(t, sqlstore.Postgres)
	base, err := url.Parse(os.Getenv("ROSTER_TEST_POSTGRES_URL"))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", base.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	name := "roster_outage_" + testenv.Unique()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u := *base
	u.Path = "/" + name
	logs := &recorder{}
	log := slog.New(logs)
	db := testenv.OpenDBWith(t, u.String(), sqlstore.Options{Log: log, Timeout: 2 * time.Second, ConnectTimeout: 2 * time.Second})
	env := &testenv.Env{DB: db, Clock: testenv.NewClock(), Engine: sqlstore.Postgres, URL: u.String()}
	env.App = app.New(db, testenv.Config(), env.Clock, log)
	s := serve(t, env, env.App, log)
	tok, email := s.signup(t, "Uma")

	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		for _, req := range outageRequests(tok, email) {
			wantUnavailable(t, req, s.do(t, req.method, req.path, req.token, req.body))
		}
		if r := s.do(t, "GET", "/readyz", "", nil); r.status != 503 {
			t.Errorf("readyz while refused: %s", r)
		}
	}

	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true"); err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "GET", "/v1/me", tok, nil); r.status != 200 {
		t.Errorf("a read after recovery: %s", r)
	}
	if r := s.do(t, "POST", "/v1/organizations", tok, map[string]string{"name": "Up"}); r.status != 201 {
		t.Errorf("a write after recovery: %s", r)
	}
	if r := s.do(t, "GET", "/readyz", "", nil); r.status != 200 {
		t.Errorf("readyz after recovery: %s", r)
	}

	if got := logs.count(slog.LevelWarn, "database unavailable"); got != 1 {
		t.Errorf("%d WARN database unavailable, want 1:\n%s", got, logs)
	}
	if got := logs.count(slog.LevelInfo, "database available again"); got != 1 {
		t.Errorf("%d INFO database available again, want 1:\n%s", got, logs)
	}
	if got := logs.count(slog.LevelError, ""); got != 0 {
		t.Errorf("%d ERROR records during an outage:\n%s", got, logs)
	}
}

// recorder is a slog handler that keeps every record, for tests of what is logged.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}

// count counts the records of a level with a message ("" for any).
func (r *recorder) count(level slog.Level, msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.records {
		if rec.Level == level && (msg == "" || rec.Message == msg) {
			n++
		}
	}
	return n
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.records {
		fmt.Fprintf(&b, "%s %s", rec.Level, rec.Message)
		rec.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s", a); return true })
		b.WriteByte('\n')
	}
	return b.String()
}
