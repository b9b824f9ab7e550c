package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// instance is a running "roster serve".
type instance struct {
	url    string
	stderr *testenv.SyncBuffer
}

// startServe runs "roster serve" in the test's process with an environment, on a free port,
// and stops it (gracefully) when the test ends.
func startServe(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan string, 1)
	in := &instance{stderr: &testenv.SyncBuffer{}}
	m := &Main{Stdout: io.Discard, Stderr: in.stderr, Getenv: func(k string) string { return env[k] }, Listener: ln, Started: started}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, append([]string{"serve"}, args...)) }()
	select {
	case in.url = <-started:
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v\n%s", err, in.stderr)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatalf("serve did not start\n%s", in.stderr)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve ended with %v", err)
		}
	})
	return in
}

// run runs a command to completion and returns its output.
func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut testenv.SyncBuffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
	err = m.Run(context.Background(), args)
	return out.String(), errOut.String(), err
}

// call makes a JSON request and decodes a JSON answer into out (when not nil).
func call(t *testing.T, method, u, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, u, err, data)
		}
	}
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s: %d %s", method, u, resp.StatusCode, data)
	}
	return resp.StatusCode
}

func signupAndLogin(t *testing.T, base, name string) (token, email, id string) {
	t.Helper()
	email = strings.ToLower(name) + "." + testenv.Unique() + "@example.com"
	if s := call(t, "POST", base+"/v1/auth/signup", "", map[string]string{"email": email, "name": name, "password": testenv.Password}, nil); s != 202 {
		t.Fatalf("sign up: %d", s)
	}
	var res struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if s := call(t, "POST", base+"/v1/auth/login", "", map[string]string{"email": email, "password": testenv.Password}, &res); s != 200 {
		t.Fatalf("log in: %d", s)
	}
	return res.Token, email, res.User.ID
}

// TestMainEndToEnd drives the real command on SQLite: serve; the first operator through the
// setup link printed at start; sign up, organization, store; the check API with a service
// token from "admin token create"; the other admin commands; migrate; backup; --help.
func TestMainEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"ROSTER_DATABASE_URL": "sqlite:" + filepath.Join(dir, "roster.db"), "ROSTER_LOG_FORMAT": "json"}
	srv := startServe(t, env)
	base := srv.url
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json", "/docs", "/metrics"} {
		if s := call(t, "GET", base+p, "", nil, nil); s != 200 {
			t.Errorf("GET %s: %d", p, s)
		}
	}

	// The first operator, through the one-time link printed in the log.
	m := regexp.MustCompile(`"link":"[^"]*[?&]token=(rl_[A-Za-z0-9_-]{43})"`).FindStringSubmatch(srv.stderr.String())
	if m == nil {
		t.Fatalf("no setup link in the log:\n%s", srv.stderr)
	}
	opEmail := "op." + testenv.Unique() + "@example.com"
	if s := call(t, "POST", base+"/v1/setup", "", map[string]string{"token": m[1], "email": opEmail, "name": "Op", "password": testenv.Password}, nil); s != 200 {
		t.Fatalf("setup: %d", s)
	}
	if s := call(t, "POST", base+"/v1/setup", "", map[string]string{"token": m[1], "email": "again@example.com", "name": "Op", "password": testenv.Password}, nil); s != 422 {
		t.Fatalf("the setup link works twice: %d", s)
	}

	// Sign up, create an organization and a store.
	tok, _, userID := signupAndLogin(t, base, "Olivia")
	var org struct {
		ID           string `json:"id"`
		StoreCredits int    `json:"store_credits"`
	}
	if s := call(t, "POST", base+"/v1/organizations", tok, map[string]string{"name": "Acme"}, &org); s != 201 {
		t.Fatalf("create organization: %d", s)
	}
	var store struct {
		ID string `json:"id"`
	}
	if s := call(t, "POST", base+"/v1/organizations/"+org.ID+"/stores", tok, map[string]string{"name": "Shop"}, &store); s != 201 {
		t.Fatalf("create store: %d", s)
	}

	// A service token from the command line, used on the check API.
	out, _, err := run(t, env, "admin", "token", "create", "--name", "host app")
	if err != nil {
		t.Fatal(err)
	}
	svc := regexp.MustCompile(`rsvc_[A-Za-z0-9_-]{43}`).FindString(out)
	if svc == "" {
		t.Fatalf("no token printed: %q", out)
	}
	var check struct {
		Allowed bool   `json:"allowed"`
		Reason  string `json:"reason"`
	}
	if s := call(t, "POST", base+"/v1/check", svc, map[string]string{"user_id": userID, "permission": "store.members.invite", "store_id": store.ID}, &check); s != 200 ||
		!check.Allowed || check.Reason != "organization_role" {
		t.Fatalf("check: %d %+v", s, check)
	}
	// /metrics tells how the access index answered: the check's organization is held whole.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`roster_index_whole_organizations 1`, `roster_index_limit_bytes 6.7108864e+07`, `roster_index_reads_total{answered_from="index"} `} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}

	// The other admin commands act on the running instance's database.
	if out, _, err := run(t, env, "admin", "set-credits", "--org", org.ID, "--credits", "5"); err != nil || !strings.Contains(out, "5 store credits") {
		t.Fatalf("set-credits: %q %v", out, err)
	}
	call(t, "GET", base+"/v1/organizations/"+org.ID, tok, nil, &org)
	if org.StoreCredits != 5 {
		t.Errorf("credits after set-credits: %d", org.StoreCredits)
	}
	memberTok, memberEmail, _ := signupAndLogin(t, base, "Marc")
	if _, _, err := run(t, env, "admin", "deactivate-user", "--user", memberEmail); err != nil {
		t.Fatal(err)
	}
	if s := call(t, "GET", base+"/v1/me", memberTok, nil, nil); s != 401 {
		t.Errorf("a deactivated user's session still works: %d", s)
	}
	if _, _, err := run(t, env, "admin", "deactivate-user", "--user", userID); err == nil || !strings.Contains(err.Error(), "owns organizations") {
		t.Errorf("deactivating an owner: %v", err)
	}
	if _, _, err := run(t, env, "admin", "reactivate-user", "--user", memberEmail); err != nil {
		t.Fatal(err)
	}
	if out, _, err := run(t, env, "admin", "reset-factors", "--user", memberEmail); err != nil || !strings.Contains(out, memberEmail+" (usr_") {
		t.Fatalf("reset-factors: %q %v", out, err)
	}
	if _, _, err := run(t, env, "admin", "reset-factors", "--user", "nobody@example.com"); err == nil {
		t.Error("reset-factors of an unknown address succeeded")
	}
	if out, _, err := run(t, env, "admin", "create-operator", "--email", memberEmail); err != nil || !strings.Contains(out, "is an operator") {
		t.Fatalf("create-operator: %q %v", out, err)
	}
	if out, _, err := run(t, env, "admin", "create-operator", "--email", "newop@example.com"); err != nil || !strings.Contains(out, "/reset-password?token=rl_") {
		t.Fatalf("create-operator for a new address: %q %v", out, err)
	}

	// migrate is idempotent on a migrated database; backup writes a copy that opens.
	if _, _, err := run(t, env, "migrate"); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if out, _, err := run(t, env, "backup", "--to", copyPath); err != nil || !strings.Contains(out, copyPath) {
		t.Fatalf("backup: %q %v", out, err)
	}
	if _, _, err := run(t, env, "backup", "--to", copyPath); err == nil {
		t.Error("backup overwrote an existing file")
	}
	db, err := sqlstore.Open(context.Background(), "sqlite:"+copyPath, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	if o, err := db.Read().Organization(context.Background(), org.ID); err != nil || o.StoreCredits != 5 {
		t.Errorf("the backup lacks the organization: %+v %v", o, err)
	}
	db.Close()
	if out, _, err := run(t, env, "version"); err != nil || !strings.HasPrefix(out, "roster ") {
		t.Errorf("version: %q %v", out, err)
	}
}

// TestHelp: every command and subcommand answers --help with its usage, and no error.
func TestHelp(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ROSTER_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "r.db")}
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"-h"},
		{"serve", "--help"}, {"migrate", "--help"}, {"backup", "--help"}, {"admin", "--help"},
		{"admin", "create-operator", "--help"}, {"admin", "set-credits", "--help"}, {"admin", "deactivate-user", "--help"}, {"admin", "reset-factors", "--help"},
		{"admin", "reactivate-user", "--help"}, {"admin", "token", "--help"}, {"admin", "token", "create", "--help"},
	} {
		_, stderr, err := run(t, env, args...)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(stderr, "Usage: roster") {
			t.Errorf("%v: no usage: %q", args, stderr)
		}
	}
	if _, err := os.Stat(strings.TrimPrefix(env["ROSTER_DATABASE_URL"], "sqlite:")); err == nil {
		t.Error("--help created the database")
	}
	for _, args := range [][]string{{}, {"nonsense"}, {"admin"}, {"admin", "nonsense"}, {"admin", "token", "delete"}, {"admin", "set-credits"},
		{"admin", "set-credits", "--org", "org_x"}, {"admin", "create-operator"}, {"admin", "deactivate-user"}, {"admin", "reset-factors"}, {"admin", "token", "create"}, {"backup"}} {
		if _, _, err := run(t, env, args...); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	// A command refused for its flags does not get as far as creating the database.
	if _, err := os.Stat(strings.TrimPrefix(env["ROSTER_DATABASE_URL"], "sqlite:")); err == nil {
		t.Error("a refused command created the database")
	}
}

// TestTwoProcessesOnePostgres starts two Roster instances on one PostgreSQL database: what
// one changes, the other sees at once — accounts, sessions, organizations, deactivation and
// the per-account login throttle.
func TestTwoProcessesOnePostgres(t *testing.T) {
	t.Parallel()
	testenv.RequireEngine(t, sqlstore.Postgres)
	dbURL := testenv.DatabaseURL(t, sqlstore.Postgres)
	env := map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_LOG_LEVEL": "warn"}
	// Both start at once: their migrations must not collide.
	var a, b *instance
	var wg sync.WaitGroup
	wg.Go(func() { a = startServe(t, env) })
	wg.Go(func() { b = startServe(t, env) })
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	tok, email, userID := signupAndLogin(t, a.url, "Olivia")
	// The session made on A works on B.
	var me struct {
		ID string `json:"id"`
	}
	if s := call(t, "GET", b.url+"/v1/me", tok, nil, &me); s != 200 || me.ID != userID {
		t.Fatalf("B does not know A's session: %d", s)
	}
	var org struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if s := call(t, "POST", a.url+"/v1/organizations", tok, map[string]string{"name": "Acme"}, &org); s != 201 {
		t.Fatal(s)
	}
	if s := call(t, "PATCH", b.url+"/v1/organizations/"+org.ID, tok, map[string]string{"name": "Acme Renamed"}, nil); s != 200 {
		t.Fatalf("B renames A's organization: %d", s)
	}
	if call(t, "GET", a.url+"/v1/organizations/"+org.ID, tok, nil, &org); org.Name != "Acme Renamed" {
		t.Fatalf("A reads %q", org.Name)
	}
	// Stores created through both never exceed the credits together.
	created := 0
	for i := range 6 {
		u := []string{a.url, b.url}[i%2]
		if call(t, "POST", u+"/v1/organizations/"+org.ID+"/stores", tok, map[string]string{"name": "S"}, nil) == 201 {
			created++
		}
	}
	if created != 3 {
		t.Errorf("%d stores created through two instances with 3 credits", created)
	}
	// The login throttle is shared: failures on A and B add up, in the one database.
	for i := range 5 {
		u := []string{a.url, b.url}[i%2]
		call(t, "POST", u+"/v1/auth/login", "", map[string]string{"email": email, "password": "wrong password, try again"}, nil)
	}
	db := testenv.SQL(t, sqlstore.Postgres, dbURL)
	var failures int
	if err := db.QueryRow(`SELECT failures FROM login_throttle`).Scan(&failures); err != nil || failures != 5 {
		t.Fatalf("failures counted across instances: %d (%v)", failures, err)
	}
	// The lock five failures earn lasts a second, which a loaded machine can spend between two
	// requests: lengthen it, so that what is tested is that both instances obey it.
	if _, err := db.Exec(`UPDATE login_throttle SET locked_until = locked_until + 600000000`); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{a.url, b.url} {
		if s := call(t, "POST", u+"/v1/auth/login", "", map[string]string{"email": email, "password": testenv.Password}, nil); s != 429 {
			t.Errorf("after 5 failures across instances: %d", s)
		}
	}
	// Deactivation through the command line ends the session on both.
	other, otherEmail, _ := signupAndLogin(t, b.url, "Marc")
	if _, _, err := run(t, env, "admin", "deactivate-user", "--user", otherEmail); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{a.url, b.url} {
		if s := call(t, "GET", u+"/v1/me", other, nil, nil); s != 401 {
			t.Errorf("a deactivated user's session on %s: %d", u, s)
		}
	}
}

// tryCall POSTs JSON and decodes a 2xx answer into out; a failed connection is an error.
func tryCall(u, token string, body, out any) (int, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", u, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return 0, err
		}
	}
	return resp.StatusCode, nil
}
