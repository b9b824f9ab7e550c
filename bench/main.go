// Command bench is Roster's load benchmark. It seeds a database with a dataset of the size a
// multi-store SaaS reaches (by default 1,000 organizations, 10,000 stores, 100,000 users,
// about 900,000 store memberships), starts Roster on it and a bare net/http "ceiling" server
// that answers the same requests from memory, drives both with the same closed-loop client,
// checks every answer against the dataset, and prints each figure beside the ceiling measured
// in the same run, with the load average. See BENCHMARKS.md.
//
//	go run ./bench -engine postgres            # or -engine sqlite
//	go run ./bench -engine sqlite -users 1000000 -duration 20s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rosterhq/roster/sqlstore"
)

type options struct {
	engine       string
	pgURL        string
	pgAdminURL   string
	sqlitePath   string
	users, orgs  int
	storesPerOrg int
	seed         uint64
	duration     time.Duration
	warmup       time.Duration
	only         string
	reseed       bool
	ceilingFD    bool
	indexMemory  string
}

func main() {
	var o options
	flag.StringVar(&o.engine, "engine", "sqlite", "database engine: sqlite or postgres")
	flag.StringVar(&o.pgURL, "postgres-url", "postgres://postgres@127.0.0.1:5432/roster_bench?sslmode=disable", "PostgreSQL database of the benchmark (dropped and recreated when seeding)")
	flag.StringVar(&o.pgAdminURL, "postgres-admin-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL database to create the benchmark's from")
	flag.StringVar(&o.sqlitePath, "sqlite-path", filepath.Join(os.TempDir(), "roster-bench.db"), "SQLite file of the benchmark")
	flag.IntVar(&o.users, "users", 100_000, "users in the dataset")
	flag.IntVar(&o.orgs, "orgs", 1_000, "organizations in the dataset")
	flag.IntVar(&o.storesPerOrg, "stores-per-org", 10, "stores per organization")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the dataset and of the questions")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measurement time of each scenario, for Roster and the ceiling each")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each scenario")
	flag.StringVar(&o.only, "only", "", "comma-separated scenarios to run (default all): "+strings.Join(scenarioNames(), ", "))
	flag.StringVar(&o.indexMemory, "index-memory", "1GiB", "Roster's ROSTER_INDEX_MEMORY: the default dataset's 300,000 memberships need about 350MiB to be held whole, -users 1000000's 3,000,000 about 3.5GiB")
	flag.BoolVar(&o.reseed, "reseed", false, "seed again even if the database already holds this dataset")
	flag.BoolVar(&o.ceilingFD, "serve-ceiling", false, "internal: serve the ceiling on the listener passed as file descriptor 3")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	m := newModel(o.users, o.orgs, o.storesPerOrg, o.seed)
	if o.ceilingFD {
		ln, err := net.FileListener(os.NewFile(3, "ceiling"))
		if err != nil {
			return err
		}
		return serveCeiling(m, ln)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	engine, dbURL := sqlstore.SQLite, "sqlite:"+o.sqlitePath
	if o.engine == "postgres" {
		engine, dbURL = sqlstore.Postgres, o.pgURL
	} else if o.engine != "sqlite" {
		return fmt.Errorf("unknown engine %q", o.engine)
	}
	fmt.Printf("dataset: %d users, %d organizations, %d stores, %d organization memberships, %d store memberships\n",
		len(m.users), len(m.orgs), len(m.stores), len(m.members), len(m.storeRoles))

	serviceToken, err := prepareDatabase(ctx, o, engine, dbURL, m, log)
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "roster-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "roster")
	// The binary the README tells operators to build: static, without the C library (cgo
	// would map libc and the dynamic loader: 2 MB of the idle node's resident memory).
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/roster")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build roster (run the benchmark from the repository's root): %w", err)
	}
	if err := fromDisk(bin); err != nil {
		return err
	}

	roster, err := startRoster(ctx, bin, dbURL, o.indexMemory)
	if err != nil {
		return err
	}
	defer roster.stop()
	idle := roster.memory() // before any request: what the first sign-ins and pages fill is not idle
	ceil, err := startCeiling(ctx, o)
	if err != nil {
		return err
	}
	defer ceil.stop()

	selectorToken, err := login(ctx, roster.base, userEmail(m.selectorUser))
	if err != nil {
		return err
	}
	ownerToken, err := login(ctx, roster.base, userEmail(m.orgs[m.bigOrg].owner))
	if err != nil {
		return err
	}
	deepCursor, deepPage, err := walkMembers(ctx, roster.base, ownerToken, m.orgs[m.bigOrg].id, 1000)
	if err != nil {
		return err
	}

	type run struct {
		name   string
		conns  int
		bearer string
		sc     scenario
	}
	runs := []run{
		{"check", 16, serviceToken, checkScenario(m, 0)},
		{"check-c64", 64, serviceToken, checkScenario(m, 0)},
		{"check-active", 16, serviceToken, checkScenario(m, activeUsers)},
		{"check-batch", 16, serviceToken, batchScenario(m, 10)},
		{"user-stores", 16, serviceToken, userStoresScenario(m, 0)},
		{"user-stores-active", 16, serviceToken, userStoresScenario(m, activeUsers)},
		{"selector", 1, selectorToken, selectorScenario(m)},
		{"members-page-1", 1, ownerToken, membersScenario(m, "")},
		{fmt.Sprintf("members-page-%d", deepPage), 1, ownerToken, membersScenario(m, deepCursor)},
		{"login", 16, "", loginScenario(m, false)},
		{"login-flood", 500, "", loginScenario(m, true)},
	}
	fmt.Printf("\nengine %s · index memory %s · start-up to /healthz %v · idle RSS %s\n", engine, o.indexMemory, roster.startup.Round(time.Millisecond), idle)
	onPostgres := engine == sqlstore.Postgres // PostgreSQL does part of Roster's work: its CPU counts too
	cpuOf := "Roster"
	if onPostgres {
		cpuOf = "Roster + PostgreSQL"
	}
	fmt.Printf("\n| scenario | conns | Roster | p50 | p99 | ceiling | its p99 | ratio | CPU per answer, %s | ceiling | CPU ratio | load | Roster's RSS after |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n", cpuOf)
	var wrong []error
	warmed := false
	for _, r := range runs {
		if o.only != "" && !containsWord(o.only, strings.Split(r.name, "-page-")[0]) && !containsWord(o.only, r.name) {
			continue
		}
		warmup := o.warmup
		if !warmed {
			// The index starts empty; the first question in each organization loads it
			// whole (app/index_whole.go): about ten seconds for the default dataset.
			warmup, warmed = max(warmup, 15*time.Second), true
		}
		if strings.HasSuffix(r.name, "-active") {
			// Its point is an index that holds what it is asked: 5,000 users in three
			// organizations each, filled at about 2,000 entries a second on 2 cores.
			warmup = max(warmup, 15*time.Second)
		}
		drive(ctx, roster.base, r.bearer, r.conns, warmup, r.sc, o.seed+99)
		cm := startCPU(ceil.cmd.Process.Pid, false)
		c := drive(ctx, ceil.base, "", r.conns, o.duration, r.sc, o.seed)
		ccpu, _ := cm.since()
		xm := startCPU(roster.cmd.Process.Pid, onPostgres)
		x := drive(ctx, roster.base, r.bearer, r.conns, o.duration, r.sc, o.seed)
		xserver, xpg := xm.since()
		xcpu := xserver + xpg
		unit, xr, cr := "req/s", x.rps(), c.rps()
		xn, cn := x.requests, c.requests
		switch r.name {
		case "check-batch":
			unit, xr, cr = "checks/s", x.qps(), c.qps()
			xn, cn = x.questions, c.questions
		case "login":
			// Logins done, not answers: one refused for load (errRefused) logged no one in.
			unit, xr, cr = "logins/s", x.qps(), c.qps()
			xn, cn = x.questions, c.questions
		}
		xcell := perAnswer(xserver, xn)
		if onPostgres {
			xcell += " + " + perAnswer(xpg, xn)
		}
		fmt.Printf("| %s | %d | %.0f %s%s | %s | %s | %.0f %s%s | %s | %.1f %% | %s | %s | %s | %s | %s |\n", r.name, r.conns, xr, unit, refusals(x), ms(x.p50), ms(x.p99), cr, unit, refusals(c), ms(c.p99), 100*xr/cr,
			xcell, perAnswer(ccpu, cn), cpuRatio(ccpu, cn, xcpu, xn), loadAverage(), roster.memory())
		for _, res := range []result{x, c} {
			if res.wrong > 0 {
				wrong = append(wrong, fmt.Errorf("%s: %d wrong answers, the first: %w", r.name, res.wrong, res.firstWrong))
			}
		}
	}
	fmt.Printf("\nRoster after the load: %s\n", roster.memory())
	fmt.Println("(login-flood counts 429 and 503 answers, which refuse for load with Retry-After, as right answers: its p99 is how long the slowest clients waited to hear back; login counts the logins done, and says how many were refused as busy)")
	return errors.Join(wrong...)
}

// activeUsers is how many users the -active scenarios ask about: the users of a large
// SaaS signed in at one moment, a twentieth of the default dataset's 100,000.
const activeUsers = 5000

func scenarioNames() []string {
	return []string{"check", "check-c64", "check-active", "check-batch", "user-stores", "user-stores-active", "selector", "members", "login", "login-flood"}
}

func containsWord(list, w string) bool {
	for _, x := range strings.Split(list, ",") {
		if strings.TrimSpace(x) == w {
			return true
		}
	}
	return false
}

// refusals says how many answers refused for load, when some did.
func refusals(r result) string {
	if r.refused == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d refused: busy)", r.refused)
}

// perAnswer is the CPU time one answer cost, "-" when it could not be measured.
func perAnswer(cpu time.Duration, n int) string {
	if cpu <= 0 || n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f µs", float64(cpu.Microseconds())/float64(n))
}

// cpuRatio is the ceiling's CPU per answer as a share of Roster's: what Roster would reach
// of the ceiling's throughput if CPU were the only limit.
func cpuRatio(ccpu time.Duration, cn int, xcpu time.Duration, xn int) string {
	if ccpu <= 0 || xcpu <= 0 || cn == 0 || xn == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f %%", 100*(ccpu.Seconds()/float64(cn))/(xcpu.Seconds()/float64(xn)))
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + " ms"
}

// prepareDatabase seeds the dataset unless the database already holds it, and returns a
// new service token.
func prepareDatabase(ctx context.Context, o options, engine sqlstore.Engine, dbURL string, m *model, log *slog.Logger) (string, error) {
	if !o.reseed && holdsDataset(ctx, dbURL, m, log) {
		fmt.Println("the database already holds this dataset: not seeding again (-reseed to force)")
		return newServiceToken(ctx, dbURL, log)
	}
	if err := freshDatabase(ctx, engine, dbURL, o.pgAdminURL); err != nil {
		return "", err
	}
	t0 := time.Now()
	tok, err := seed(ctx, engine, dbURL, m, log)
	if err != nil {
		return "", err
	}
	fmt.Printf("seeded in %v\n", time.Since(t0).Round(time.Second))
	return tok, nil
}

// rosterProcess is a running Roster, or ceiling, process.
type rosterProcess struct {
	cmd      *exec.Cmd
	base     string
	startup  time.Duration
	graceful bool // stopped by an interrupt rather than killed
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startRoster(ctx context.Context, bin, dbURL, indexMemory string) (*rosterProcess, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "serve")
	// One client IP sends every login: its per-IP limit is raised so that the hash, not the
	// limit, is what a login benchmark measures.
	cmd.Env = append(os.Environ(), "ROSTER_DATABASE_URL="+dbURL, "ROSTER_LISTEN="+addr, "ROSTER_LOG_LEVEL=warn", "ROSTER_LOGIN_PER_IP=100000", "ROSTER_INDEX_MEMORY="+indexMemory)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	p := &rosterProcess{cmd: cmd, base: "http://" + addr, graceful: true}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitHealthy(ctx, p.base); err != nil {
		p.stop()
		return nil, err
	}
	p.startup = time.Since(t0)
	return p, nil
}

func waitHealthy(ctx context.Context, base string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond) // polling a process that starts: nothing to wait on
	}
	return fmt.Errorf("%s did not become healthy", base)
}

// stop ends the process: Roster shuts down gracefully on an interrupt; the ceiling is killed.
func (p *rosterProcess) stop() {
	if p.cmd.Process != nil {
		if p.graceful {
			_ = p.cmd.Process.Signal(os.Interrupt)
		} else {
			_ = p.cmd.Process.Kill()
		}
		_ = p.cmd.Wait()
	}
}

// fromDisk writes the binary out and drops its pages from the page cache, so that Roster
// starts from the disk as an installed binary does. Started from the linker's own pages
// still in the cache, the same binary read 1.8–2 MB more resident at idle, all of it in its
// file pages (a copy of it read as little as the disk's), a figure no deployment sees.
func fromDisk(bin string) error {
	f, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// memory reads the process's resident memory, and how much of it is anonymous (heap and
// stacks rather than mapped files).
func (p *rosterProcess) memory() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return "unknown"
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("%s (anonymous %s, peak %s)", fields["VmRSS"], fields["RssAnon"], fields["VmHWM"])
}

// startCeiling runs this program again as the ceiling server, in a process of its own like
// Roster's, on a listener it inherits.
func startCeiling(ctx context.Context, o options) (*rosterProcess, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-serve-ceiling", "-users", strconv.Itoa(o.users), "-orgs", strconv.Itoa(o.orgs),
		"-stores-per-org", strconv.Itoa(o.storesPerOrg), "-seed", strconv.FormatUint(o.seed, 10))
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	p := &rosterProcess{cmd: cmd, base: "http://" + ln.Addr().String()}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ln.Close()
	if err := waitHealthy(ctx, p.base); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// login signs a seeded user in and returns the session token to send as a bearer.
func login(ctx context.Context, base, email string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": benchPassword})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Token == "" {
		return "", fmt.Errorf("log in %s: %d %s", email, resp.StatusCode, snippet(b))
	}
	return out.Token, nil
}

// walkMembers reads an organization's member pages up to page n and returns the cursor
// of that page and its number (smaller when the organization has fewer pages).
func walkMembers(ctx context.Context, base, bearer, orgID string, n int) (string, int, error) {
	cursor := ""
	page := 1
	for ; page < n; page++ {
		path := "/v1/organizations/" + orgID + "/members?limit=50"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		status, b, err := send(ctx, http.DefaultClient, base, bearer, request{method: http.MethodGet, path: path}, new(bytes.Buffer))
		if err != nil {
			return "", 0, err
		}
		var out membersPage
		if err := expectOK(status, b, &out); err != nil {
			return "", 0, err
		}
		if out.NextCursor == "" {
			break
		}
		cursor = out.NextCursor
	}
	return cursor, page, nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
