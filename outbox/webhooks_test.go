package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/outbox"
	"github.com/rosterhq/roster/sqlstore"
)

// hookEnv is an env whose webhooks may reach hooks.internal, which resolves to 127.0.0.1.
func hookEnv(t *testing.T, e sqlstore.Engine) *testenv.Env {
	return testenv.NewEnv(t, e, hookConfig)
}

func hookConfig(c *app.Config) {
	c.EncryptionKey = []byte("0123456789abcdef0123456789abcdef")
	c.WebhookAllowedHosts = []string{"hooks.internal"}
	c.WebhookLookup = func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
}

// hit is one request a receiver got.
type hit struct {
	path string
	id   string // webhook-id
	seq  int64
	typ  string
}

// receiver is a local webhook receiver. A path under /hang/ blocks until release; others
// answer at once with the status the test sets for the path (200 by default).
type receiver struct {
	srv  *httptest.Server
	hits chan hit // every request, as it arrives

	mu       sync.Mutex
	status   map[string][]int // per path: the statuses to answer, in turn (then 200)
	inFlight map[string]int
	maxIn    map[string]int // per path: the most requests in flight at once
	release  chan struct{}
	released bool
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{hits: make(chan hit, 10000), status: map[string][]int{}, inFlight: map[string]int{}, maxIn: map[string]int{},
		release: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var p roster.EventPayload
		_ = json.Unmarshal(body, &p)
		path := req.URL.Path
		r.mu.Lock()
		r.inFlight[path]++
		r.maxIn[path] = max(r.maxIn[path], r.inFlight[path])
		r.inFlight["total"]++
		r.maxIn["total"] = max(r.maxIn["total"], r.inFlight["total"])
		status := 200
		if s := r.status[path]; len(s) > 0 {
			status, r.status[path] = s[0], s[1:]
		}
		r.mu.Unlock()
		r.hits <- hit{path: path, id: req.Header.Get("webhook-id"), seq: p.Sequence, typ: p.Type}
		if len(path) > 6 && path[:6] == "/hang/" {
			<-r.release
		}
		r.mu.Lock()
		r.inFlight[path]--
		r.inFlight["total"]--
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(func() { r.releaseAll(); r.srv.Close() })
	return r
}

func (r *receiver) url(path string) string {
	u, _ := url.Parse(r.srv.URL)
	return "http://hooks.internal:" + u.Port() + path
}

func (r *receiver) releaseAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.released {
		r.released = true
		close(r.release)
	}
}

func (r *receiver) answer(path string, statuses ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status[path] = statuses
}

func (r *receiver) most(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxIn[path]
}

// next waits for the receiver's next request. The deadline only turns a hang into a failure.
func (r *receiver) next(t *testing.T) hit {
	t.Helper()
	select {
	case h := <-r.hits:
		return h
	case <-time.After(20 * time.Second):
		t.Fatal("the receiver got nothing")
		return hit{}
	}
}

// endpoint creates an enabled endpoint of the organization receiving organization.updated.
func endpoint(t *testing.T, env *testenv.Env, owner roster.Actor, orgID, u string) roster.WebhookEndpoint {
	t.Helper()
	c, err := env.App.Webhooks.Create(ctx, owner, orgID, app.WebhookInput{URL: u, EventTypes: []string{"organization.updated"}, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return c.Endpoint
}

func rename(t *testing.T, env *testenv.Env, owner roster.Actor, orgID string, i int) {
	t.Helper()
	if _, err := env.App.Organizations.Update(ctx, owner, orgID, app.OrganizationInput{Name: fmt.Sprintf("Acme %d", i)}); err != nil {
		t.Fatal(err)
	}
}

// chanSender hands every email to a channel.
type chanSender chan mail.Message

func (c chanSender) Send(_ context.Context, m mail.Message) error { c <- m; return nil }

// run starts a worker's loops until the test ends.
func run(t *testing.T, env *testenv.Env, send mail.Sender, o outbox.Options) {
	r, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	o.Poll = time.Hour // only wake-ups start the loops
	w := outbox.New(env.App, r, send, testenv.Logger(t), o)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestEmailsDoNotWaitForWebhooks: with every webhook slot taken by receivers that hang, an
// email written now is sent while they still hang; webhook deliveries stay within their
// slots and each endpoint gets one at a time.
func TestEmailsDoNotWaitForWebhooks(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := hookEnv(t, e)
		recv := newReceiver(t)
		owner, u := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		const slots, endpoints = 3, 8
		for i := range endpoints {
			endpoint(t, env, owner, org.ID, recv.url(fmt.Sprintf("/hang/%d", i)))
		}
		rename(t, env, owner, org.ID, 1)
		rename(t, env, owner, org.ID, 2) // a second delivery per endpoint, which must wait for the first
		sent := make(chanSender, 100)
		run(t, env, sent, outbox.Options{Webhooks: slots})
		for range slots {
			recv.next(t) // every slot now holds a receiver that hangs
		}
		// A password reset goes out while the receivers hang (they are released only below).
		if err := env.App.Accounts.RequestPasswordReset(ctx, roster.Anonymous("192.0.2.1", "t"), u.Email); err != nil {
			t.Fatal(err)
		}
		for {
			var m mail.Message
			select {
			case m = <-sent:
			case <-time.After(20 * time.Second):
				t.Fatal("no password reset email while webhooks hang")
			}
			if m.Template == "password_reset" {
				break
			}
		}
		recv.releaseAll()
		for range 2*endpoints - slots {
			recv.next(t)
		}
		if n := recv.most("total"); n != slots {
			t.Errorf("%d deliveries in flight at once, with %d slots", n, slots)
		}
		for i := range endpoints {
			if n := recv.most(fmt.Sprintf("/hang/%d", i)); n != 1 {
				t.Errorf("endpoint %d had %d deliveries in flight at once", i, n)
			}
		}
	})
}

// TestDeadEndpointHoldsOneSlot: an endpoint that hangs, with a backlog, holds one slot; a
// healthy endpoint receives its whole backlog meanwhile, in order.
func TestDeadEndpointHoldsOneSlot(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := hookEnv(t, e)
		recv := newReceiver(t)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		endpoint(t, env, owner, org.ID, recv.url("/hang/dead"))
		endpoint(t, env, owner, org.ID, recv.url("/ok"))
		const events = 20
		for i := range events {
			rename(t, env, owner, org.ID, i)
		}
		run(t, env, make(chanSender, 100), outbox.Options{Webhooks: 2})
		var last int64
		for got := 0; got < events; {
			h := recv.next(t)
			if h.path != "/ok" {
				if h.path != "/hang/dead" || recv.most("/hang/dead") != 1 {
					t.Fatalf("unexpected %+v", h)
				}
				continue
			}
			if h.seq <= last {
				t.Fatalf("event %d after %d", h.seq, last)
			}
			last = h.seq
			got++
		}
		recv.releaseAll()
		for range events - 1 {
			if h := recv.next(t); h.path != "/hang/dead" {
				t.Fatalf("unexpected %+v", h)
			}
		}
		if recv.most("/hang/dead") != 1 {
			t.Fatal("the dead endpoint had more than one delivery in flight")
		}
	})
}

// TestOrderUnderRetries: while an endpoint's delivery waits for its retry, its later events
// wait too; once it succeeds they follow, in sequence order, each with its own webhook-id
// (the event's). Another endpoint is not held up.
func TestOrderUnderRetries(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := hookEnv(t, e)
		recv := newReceiver(t)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		endpoint(t, env, owner, org.ID, recv.url("/flaky"))
		endpoint(t, env, owner, org.ID, recv.url("/ok"))
		recv.answer("/flaky", 503, 500)
		f := &fixture{env: env, w: outbox.New(env.App, mustRenderer(t), make(chanSender, 100), testenv.Logger(t), outbox.Options{Poll: time.Hour})}
		for i := range 3 {
			rename(t, env, owner, org.ID, i)
		}
		f.deliver(t)
		seen := map[string][]hit{}
		for range 4 { // the first attempt to /flaky (503), and the three to /ok
			h := recv.next(t)
			seen[h.path] = append(seen[h.path], h)
		}
		if len(seen["/flaky"]) != 1 || len(seen["/ok"]) != 3 {
			t.Fatalf("before the retry: %+v", seen)
		}
		first := seen["/flaky"][0]
		rename(t, env, owner, org.ID, 3) // a fourth event, queued behind the retry
		f.deliver(t)
		if h := recv.next(t); h.path != "/ok" || len(recv.hits) != 0 {
			t.Fatalf("while /flaky waits for its retry: %+v, %d more", h, len(recv.hits))
		}
		env.Clock.Advance(6 * time.Second) // the first retry: 5 s ± 10 %
		f.deliver(t)
		if h := recv.next(t); h.id != first.id || len(recv.hits) != 0 {
			t.Fatalf("the retry %+v (first %+v), %d more", h, first, len(recv.hits))
		}
		env.Clock.Advance(6 * time.Minute) // the second retry (500 before): 5 min ± 10 %
		f.deliver(t)
		var order []int64
		for range 4 {
			h := recv.next(t)
			order = append(order, h.seq)
			if h.path != "/flaky" {
				t.Fatalf("unexpected %+v", h)
			}
		}
		if order[0] != first.seq || order[1] <= order[0] || order[2] <= order[1] || order[3] <= order[2] {
			t.Fatalf("after the retry: %v", order)
		}
	})
}

func mustRenderer(t *testing.T) *mail.Renderer {
	r, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestWakeAcrossNodes: on PostgreSQL, a commit on one node that writes a webhook delivery or
// an email wakes the worker of another node at once (LISTEN/NOTIFY), not at its next poll
// (an hour here).
func TestWakeAcrossNodes(t *testing.T) {
	testenv.RequireEngine(t, sqlstore.Postgres)
	env := hookEnv(t, sqlstore.Postgres)
	recv := newReceiver(t)
	owner, u := env.User(t, "Olivia")
	org := env.Org(t, owner, "Acme")
	endpoint(t, env, owner, org.ID, recv.url("/ok"))

	// Node B: another process on the same database, with no worker.
	cfg := testenv.Config()
	hookConfig(&cfg)
	b := app.New(testenv.OpenDB(t, env.URL), cfg, env.Clock, testenv.Logger(t))

	// Node A listens and runs its worker. What wakes it after its listener connects can
	// only come from another node: B is the only one that writes.
	wakes := make(chan string, 100)
	env.DB.OnWake(func(kind string) {
		select {
		case wakes <- kind:
		default: // never hold up a commit
		}
	})
	lctx, cancel := context.WithCancel(ctx)
	listening := make(chan struct{})
	go func() { defer close(listening); env.App.Listen(lctx) }()
	t.Cleanup(func() { cancel(); <-listening })
	sent := make(chanSender, 100)
	run(t, env, sent, outbox.Options{})
	waitWake := func(kind string) {
		t.Helper()
		for {
			select {
			case k := <-wakes:
				if k == kind {
					return
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("no %s wake-up", kind)
			}
		}
	}
	waitWake(sqlstore.WakeWebhook) // the listener connected (it wakes every kind then)
	for len(wakes) > 0 {
		<-wakes
	}

	if _, err := b.Organizations.Update(ctx, owner, org.ID, app.OrganizationInput{Name: "Renamed on B"}); err != nil {
		t.Fatal(err)
	}
	waitWake(sqlstore.WakeWebhook)
	if h := recv.next(t); h.typ != "organization.updated" {
		t.Fatalf("delivered %+v", h)
	}
	if err := b.Accounts.RequestPasswordReset(ctx, roster.Anonymous("192.0.2.1", "t"), u.Email); err != nil {
		t.Fatal(err)
	}
	waitWake(sqlstore.WakeEmail)
	for {
		select {
		case m := <-sent:
			if m.Template == "password_reset" {
				return
			}
		case <-time.After(20 * time.Second):
			t.Fatal("node A did not send the email node B wrote")
		}
	}
}
