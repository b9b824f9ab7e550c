// Command webhooks is the benchmark of webhook delivery: deliveries per second to a local
// receiver when a backlog drains, and the time from an event's commit to its delivery, each
// beside a ceiling measured in the same run — a bare net/http client loop posting the same
// signed bodies to the same receiver, with the same concurrency. See BENCHMARKS.md.
//
//	go run ./bench/webhooks -engine postgres   # or -engine sqlite
//	go run ./bench/webhooks -engine sqlite -backlog 20000 -endpoints 32
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/outbox"
	"github.com/rosterhq/roster/password"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/webhook"
)

type options struct {
	engine     string
	pgURL      string
	sqlitePath string
	backlog    int
	endpoints  int
	slots      int
	latency    int
	interval   time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.engine, "engine", "sqlite", "database engine: sqlite or postgres")
	flag.StringVar(&o.pgURL, "postgres-url", "postgres://postgres@127.0.0.1:5432/roster_bench?sslmode=disable", "PostgreSQL database; the benchmark works in a schema of its own, dropped at the end")
	flag.StringVar(&o.sqlitePath, "sqlite-path", filepath.Join(os.TempDir(), "roster-bench-webhooks.db"), "SQLite file of the benchmark (replaced)")
	flag.IntVar(&o.backlog, "backlog", 10_000, "events in the backlog drained for the throughput figure")
	flag.IntVar(&o.endpoints, "endpoints", 16, "organizations, each with one endpoint; the events are spread over them")
	flag.IntVar(&o.slots, "slots", 16, "webhook deliveries in flight at once (outbox.Options.Webhooks), and the ceiling's concurrency")
	flag.IntVar(&o.latency, "latency-events", 500, "events committed one at a time for the commit-to-delivery figure")
	flag.DurationVar(&o.interval, "interval", 5*time.Millisecond, "pause between two of those commits")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/webhooks:", err)
		os.Exit(1)
	}
}

// receiver is the local webhook receiver: it notes when each event arrived.
type receiver struct {
	mu      sync.Mutex
	arrived map[string]time.Time // webhook-id → first arrival
	order   []time.Time          // first arrivals, in order
	count   atomic.Int64
	want    atomic.Int64
	done    chan struct{}
	lastSeq map[string]int64 // per organization: the last sequence number received
	late    atomic.Int64     // events received after a later one of their organization
}

func (r *receiver) expect(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.arrived = map[string]time.Time{}
	r.lastSeq = map[string]int64{}
	r.late.Store(0)
	r.order = nil
	r.count.Store(0)
	r.want.Store(int64(n))
	r.done = make(chan struct{})
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	var p roster.EventPayload
	_ = json.NewDecoder(req.Body).Decode(&p)
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	if _, seen := r.arrived[id]; !seen {
		if p.Sequence <= r.lastSeq[p.OrganizationID] {
			r.late.Add(1)
		}
		r.lastSeq[p.OrganizationID] = p.Sequence
		r.arrived[id] = now
		r.order = append(r.order, now)
		if int64(len(r.arrived)) == r.want.Load() {
			close(r.done)
		}
	}
	r.mu.Unlock()
	r.count.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

// nth returns the time of the n-th first arrival (from 0), if there was one.
func (r *receiver) nth(n int) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n < len(r.order) {
		return r.order[n], true
	}
	return time.Time{}, false
}

func (r *receiver) at(id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.arrived[id]
	return t, ok
}

func run(ctx context.Context, o options) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dbURL, cleanup, err := database(ctx, o)
	if err != nil {
		return err
	}
	defer cleanup()

	recv := &receiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	hookURL := "http://" + ln.Addr().String() + "/hooks"

	cfg := app.DefaultConfig()
	cfg.EncryptionKey = []byte("bench-webhooks-0123456789abcdef!")
	cfg.WebhookAllowedHosts = []string{"127.0.0.1"}
	cfg.PasswordParams = password.Params{Memory: 64, Time: 1, Threads: 1}
	cfg.LoginPerIP = 1 << 30
	// Node A commits (the use cases); node B runs the worker on a pool of its own: on
	// PostgreSQL it hears A's commits through LISTEN/NOTIFY, as a second process would.
	dbA, err := sqlstore.Open(ctx, dbURL, log)
	if err != nil {
		return err
	}
	defer dbA.Close()
	if err := dbA.Migrate(ctx); err != nil {
		return err
	}
	a := app.New(dbA, cfg, nil, log)
	dbB := dbA
	if o.engine == "postgres" {
		if dbB, err = sqlstore.Open(ctx, dbURL, log); err != nil {
			return err
		}
		defer dbB.Close()
	}
	b := app.New(dbB, cfg, nil, log)

	owner, orgs, err := seed(ctx, a, o.endpoints, hookURL)
	if err != nil {
		return err
	}
	fmt.Printf("engine %s, %d endpoints (one per organization), %d slots, Go %s\n", o.engine, o.endpoints, o.slots, strings.TrimPrefix(runtime.Version(), "go"))

	// Throughput: a backlog written while no worker runs, then drained.
	recv.expect(o.backlog)
	t0 := time.Now()
	if err := commitEvents(ctx, a, owner, orgs, o.backlog, 0); err != nil {
		return err
	}
	fmt.Printf("backlog of %d events written in %s\n", o.backlog, time.Since(t0).Round(time.Millisecond))
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	var workers sync.WaitGroup
	renderer, err := mail.NewRenderer("")
	if err != nil {
		return err
	}
	workers.Go(func() { b.Listen(wctx) })
	start := time.Now()
	workers.Go(func() {
		outbox.New(b, renderer, mail.NewMailbox(10, nil), log, outbox.Options{Webhooks: o.slots}).Run(wctx)
	})
	<-recv.done
	drain := time.Since(start)
	rosterRate := float64(o.backlog) / drain.Seconds()
	if n := recv.late.Load(); n > 0 {
		return fmt.Errorf("%d events arrived after a later event of their organization", n)
	}
	fmt.Printf("the backlog drained in %s, every event in its organization's order\n", drain.Round(time.Millisecond))
	ceilRate, err := ceilingRate(hookURL, recv, o.backlog, o.slots)
	if err != nil {
		return err
	}
	fmt.Printf("| deliveries/s | %.0f | %.0f | %.1f %% | %s |\n", rosterRate, ceilRate, 100*rosterRate/ceilRate, loadavg())

	// Commit to delivery: one event at a time, the worker idle between them. The commit's
	// instant is when node A's transaction committed (its wake-up, in the committing goroutine).
	var commitAt atomic.Int64
	dbA.OnWake(func(kind string) {
		if kind == sqlstore.WakeWebhook {
			commitAt.Store(time.Now().UnixNano())
		}
	})
	recv.expect(o.latency)
	var lat []time.Duration
	for i := range o.latency {
		if err := commitOne(ctx, a, owner, orgs[i%len(orgs)], o.backlog+i); err != nil {
			return err
		}
		committed := time.Unix(0, commitAt.Load())
		for {
			if at, ok := recv.nth(i); ok {
				lat = append(lat, max(0, at.Sub(committed)))
				break
			}
			time.Sleep(50 * time.Microsecond) // the measuring loop polls the receiver's record, nothing waits on it
		}
		time.Sleep(o.interval)
	}
	stopWorker()
	workers.Wait()
	ceilLat, err := ceilingLatency(hookURL, recv, o.latency)
	if err != nil {
		return err
	}
	p50, p99 := pct(lat, 50), pct(lat, 99)
	c50 := pct(ceilLat, 50)
	fmt.Printf("| commit→delivery p50 | %s (p99 %s) | %s | %.1f× | %s |\n", ms(p50), ms(p99), ms(c50), float64(p50)/float64(max(c50, time.Microsecond)), loadavg())
	return nil
}

// database makes the benchmark's database: a fresh SQLite file, or a PostgreSQL schema of
// its own.
func database(ctx context.Context, o options) (string, func(), error) {
	switch o.engine {
	case "sqlite":
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(o.sqlitePath + suffix)
		}
		return "sqlite:" + o.sqlitePath, func() {}, nil
	case "postgres":
		admin, err := sql.Open("pgx", o.pgURL)
		if err != nil {
			return "", nil, err
		}
		schema := fmt.Sprintf("bench_webhooks_%d", time.Now().UnixNano())
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			admin.Close()
			return "", nil, fmt.Errorf("create schema (is %s there?): %w", o.pgURL, err)
		}
		sep := "?"
		if strings.Contains(o.pgURL, "?") {
			sep = "&"
		}
		return o.pgURL + sep + "search_path=" + schema, func() {
			_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			admin.Close()
		}, nil
	}
	return "", nil, fmt.Errorf("unknown engine %q", o.engine)
}

// seed makes an owner and n organizations, each with an endpoint receiving organization.updated.
func seed(ctx context.Context, a *app.App, n int, hookURL string) (roster.Actor, []string, error) {
	anon := roster.Anonymous("192.0.2.1", "bench")
	email := "owner@bench.example"
	if err := a.Auth.Signup(ctx, anon, app.SignupInput{Email: email, Name: "Owner", Password: "correct horse battery staple"}); err != nil {
		return roster.Actor{}, nil, err
	}
	res, err := a.Auth.Login(ctx, anon, app.LoginInput{Email: email, Password: "correct horse battery staple"})
	if err != nil {
		return roster.Actor{}, nil, err
	}
	owner, err := a.Auth.Authenticate(ctx, res.Token, "192.0.2.1", "bench")
	if err != nil {
		return roster.Actor{}, nil, err
	}
	var orgs []string
	for i := range n {
		org, err := a.Organizations.Create(ctx, owner, app.OrganizationInput{Name: fmt.Sprintf("Org %d", i)})
		if err != nil {
			return owner, nil, err
		}
		if _, err := a.Webhooks.Create(ctx, owner, org.ID, app.WebhookInput{URL: hookURL, EventTypes: []string{"organization.updated"}, Enabled: true}); err != nil {
			return owner, nil, err
		}
		orgs = append(orgs, org.ID)
	}
	return owner, orgs, nil
}

// commitEvents renames the organizations in turn, n times in all, from 8 goroutines.
func commitEvents(ctx context.Context, a *app.App, owner roster.Actor, orgs []string, n, offset int) error {
	var next atomic.Int64
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := commitOne(ctx, a, owner, orgs[i%len(orgs)], offset+i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// commitOne renames an organization: one organization.updated event, one delivery.
func commitOne(ctx context.Context, a *app.App, owner roster.Actor, orgID string, i int) error {
	_, err := a.Organizations.Update(ctx, owner, orgID, app.OrganizationInput{Name: fmt.Sprintf("Org %s %d", orgID[len(orgID)-6:], i)})
	return err
}

// ceilingBody is a signed delivery like Roster's, for the ceiling to post.
func ceilingBody(i int) (http.Header, []byte) {
	body, _ := json.Marshal(roster.EventPayload{ID: fmt.Sprintf("evt_ceiling_%d", i), Type: "organization.updated", Version: 1,
		Timestamp: time.Now().UTC(), OrganizationID: "org_ceiling", Sequence: int64(i), Actor: roster.EventRef{Type: "user", ID: "usr_x"},
		Subject: roster.EventRef{Type: "organization", ID: "org_ceiling"}, Data: roster.EventChanges{After: map[string]any{"name": "Org"}}})
	h, _ := webhook.Sign(fmt.Sprintf("evt_ceiling_%d", i), time.Now(), body, webhook.NewSecret())
	return h, body
}

func post(c *http.Client, u string, h http.Header, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = h
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1024))
	return res.Body.Close()
}

// ceilingRate posts n signed bodies from `slots` goroutines to the receiver, as fast as it
// answers: the most this machine delivers without a database.
func ceilingRate(u string, recv *receiver, n, slots int) (float64, error) {
	recv.expect(n)
	c := &http.Client{Timeout: webhook.Timeout, Transport: &http.Transport{MaxIdleConnsPerHost: slots}}
	var next atomic.Int64
	var failed atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for range slots {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				h, b := ceilingBody(i)
				if err := post(c, u, h, b); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// ceilingLatency times n single posts, one after the other: the round trip of a delivery.
func ceilingLatency(u string, recv *receiver, n int) ([]time.Duration, error) {
	recv.expect(n)
	c := &http.Client{Timeout: webhook.Timeout}
	var out []time.Duration
	for i := range n {
		h, b := ceilingBody(i)
		t0 := time.Now()
		if err := post(c, u, h, b); err != nil {
			return nil, err
		}
		at, _ := recv.at(h.Get("webhook-id"))
		out = append(out, at.Sub(t0))
	}
	return out, nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return "load " + strings.Fields(string(b))[0]
}
