package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// delivery is what the receiver of TestKillDuringWebhookBacklog got.
type delivery struct {
	id   string // webhook-id
	seq  int64
	body string
}

// TestKillDuringWebhookBacklog runs roster serve as a process with a backlog of webhook
// deliveries to a local receiver, kills it with SIGKILL while a delivery is in flight,
// starts it again and checks that every event arrives, in order, none lost, and that the
// only one delivered twice is the one the kill interrupted, with the same webhook-id and body.
func TestKillDuringWebhookBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a process")
	}
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		const backlog, killAt = 300, 100
		key := []byte("0123456789abcdef0123456789abcdef")
		env := testenv.NewEnv(t, e, func(c *app.Config) {
			c.EncryptionKey = key
			c.WebhookAllowedHosts = []string{"127.0.0.1"}
		})

		var mu sync.Mutex
		var got []delivery
		ids := map[string]bool{}
		all := make(chan struct{})      // every event of the backlog arrived at least once
		inFlight := make(chan struct{}) // the killAt-th delivery arrived (and hangs)
		killed := make(chan struct{})   // the process is dead: let the hanging handler go
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			var p roster.EventPayload
			_ = json.Unmarshal(b, &p)
			mu.Lock()
			got = append(got, delivery{id: r.Header.Get("webhook-id"), seq: p.Sequence, body: string(b)})
			n := len(got)
			if !ids[p.ID] {
				ids[p.ID] = true
				if len(ids) == backlog {
					close(all)
				}
			}
			mu.Unlock()
			if n == killAt {
				close(inFlight)
				<-killed
			}
		}))
		t.Cleanup(recv.Close)

		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		c, err := env.App.Webhooks.Create(testenv.Ctx, owner, org.ID, app.WebhookInput{URL: recv.URL + "/hooks",
			EventTypes: []string{"organization.updated"}, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		for i := range backlog {
			if _, err := env.App.Organizations.Update(testenv.Ctx, owner, org.ID, app.OrganizationInput{Name: fmt.Sprintf("Acme %d", i)}); err != nil {
				t.Fatal(err)
			}
		}

		vars := []string{"ROSTER_HELPER_SERVE=1", "ROSTER_DATABASE_URL=" + env.URL, "ROSTER_LISTEN=127.0.0.1:0", "ROSTER_LOG_LEVEL=error",
			"ROSTER_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(key), "ROSTER_WEBHOOK_ALLOWED_HOSTS=127.0.0.1"}
		start := func() *exec.Cmd {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
			cmd.Env = append(os.Environ(), vars...)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(stdout)) }()
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			return cmd
		}

		first := start()
		select {
		case <-inFlight:
		case <-time.After(2 * time.Minute):
			t.Fatal("the backlog did not reach the kill point")
		}
		if err := first.Process.Kill(); err != nil { // SIGKILL while a delivery is in flight
			t.Fatal(err)
		}
		_ = first.Wait()
		close(killed)
		mu.Lock()
		interrupted := got[killAt-1]
		mu.Unlock()
		// The interrupted delivery stays leased to the dead process for app.OutboxLease (30 s)
		// of real time; what follows would only wait for it. Run it out instead: the one row
		// leased is that delivery, the head of the endpoint's order.
		res, err := env.SQL(t).Exec(testenv.Rebind(e, `UPDATE outbox SET lease_until = 0 WHERE endpoint_id = ? AND status = 'pending' AND lease_until > 0`), c.Endpoint.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("%d deliveries under lease after the kill (%v), want the interrupted one", n, err)
		}

		start()
		select {
		case <-all:
		case <-time.After(3 * time.Minute):
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("%d of %d events delivered after the restart", len(ids), backlog)
		}

		mu.Lock()
		defer mu.Unlock()
		want := map[string]bool{}
		rows, err := env.SQL(t).Query(testenv.Rebind(e, `SELECT id FROM events WHERE org_id = ? AND type = 'organization.updated'`), org.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			want[id] = true
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		bodies := map[string]string{}
		var last int64
		dups := 0
		for _, d := range got {
			if !want[d.id] {
				t.Fatalf("delivered %s, not an event of the backlog", d.id)
			}
			if b, seen := bodies[d.id]; seen {
				dups++
				if b != d.body || d.id != interrupted.id {
					t.Fatalf("%s delivered again: %q then %q (interrupted: %s)", d.id, b, d.body, interrupted.id)
				}
				continue
			}
			bodies[d.id] = d.body
			if d.seq <= last {
				t.Fatalf("event %d after %d", d.seq, last)
			}
			last = d.seq
		}
		if len(bodies) != backlog || len(want) != backlog || dups != 1 {
			t.Fatalf("%d events delivered of %d, %d twice (want the interrupted one only)", len(bodies), len(want), dups)
		}
		// The receiver has answered the last delivery; Roster records it as sent right after.
		for deadline := time.Now().Add(30 * time.Second); ; {
			pending := env.Int(t, `SELECT COUNT(*) FROM outbox WHERE endpoint_id = ? AND status <> 'sent'`, c.Endpoint.ID)
			if pending == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d deliveries not recorded as sent", pending)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%d events delivered across a SIGKILL; %s delivered twice with the same webhook-id", backlog, interrupted.id)
	})
}
