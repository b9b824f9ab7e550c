package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestEventFeedLongPoll: with wait, an empty page waits for the next event; the wait is
// bounded and checked.
func TestEventFeedLongPoll(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner := env.person("Olivia")
		org := env.Org(t, owner.actor, "Acme")
		base := "/v1/organizations/" + org.ID + "/events"
		first := env.must(200, owner.token, "GET", base, nil)
		cursor := int64(first.body["cursor"].(float64))

		// Nothing yet, and no wait: the empty page at once; a short wait: the empty page too.
		for _, q := range []string{"", "&wait=1ms"} {
			r := env.must(200, owner.token, "GET", base+"?after="+strconv.FormatInt(cursor, 10)+q, nil)
			if len(r.list("events")) != 0 || int64(r.body["cursor"].(float64)) != cursor {
				t.Fatalf("%q: %s", q, r.raw)
			}
		}
		for _, bad := range []string{"2h", "-1s", "soon"} {
			env.refused(422, "invalid", owner.token, "GET", base+"?wait="+bad, nil)
		}

		// A long poll answers with the event committed while it waits.
		got := make(chan reply, 1)
		go func() {
			got <- env.call(owner.token, "GET", base+"?wait=60s&after="+strconv.FormatInt(cursor, 10), nil)
		}()
		env.Store(t, owner.actor, org.ID, "Shop")
		var r reply
		select {
		case r = <-got:
		case <-time.After(50 * time.Second): // a failure guard below the wait, not a synchronization
			t.Fatal("the long poll did not answer")
		}
		events := r.list("events")
		if r.status != 200 || len(events) != 1 || events[0].(map[string]any)["type"] != "store.created" {
			t.Fatalf("long poll: %d %s", r.status, r.raw)
		}
	})
}

// sseMessage is one Server-Sent Events message.
type sseMessage struct{ id, event, data string }

// sseStream reads a text/event-stream answer message by message.
type sseStream struct {
	res      *http.Response
	messages chan sseMessage
	comments chan string
}

func openSSE(t *testing.T, env *keysEnv, token, path, lastEventID string) (*sseStream, reply) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", env.url+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	if res.StatusCode != 200 {
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		return nil, reply{status: res.StatusCode, body: body, header: res.Header}
	}
	s := &sseStream{res: res, messages: make(chan sseMessage, 100), comments: make(chan string, 100)}
	go func() {
		defer close(s.messages)
		sc := bufio.NewScanner(res.Body)
		var m sseMessage
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m != (sseMessage{}) {
					s.messages <- m
				}
				m = sseMessage{}
			case strings.HasPrefix(line, ":"):
				select {
				case s.comments <- line:
				default:
				}
			case strings.HasPrefix(line, "id: "):
				m.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				m.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				m.data = line[6:]
			}
		}
	}()
	return s, reply{status: 200, header: res.Header}
}

func (s *sseStream) next(t *testing.T) (sseMessage, bool) {
	t.Helper()
	select {
	case m, ok := <-s.messages:
		return m, ok
	case <-time.After(20 * time.Second):
		t.Fatal("no message on the stream")
		return sseMessage{}, false
	}
}

// TestEventFeedServerSentEvents reads the feed as a stream with a plain reader of the
// format: the backlog after the cursor, then each event as it commits, id: being the cursor;
// Last-Event-ID resumes; a caller who may not read gets a problem, and one who loses the
// right while streaming gets an error message that ends the stream.
func TestEventFeedServerSentEvents(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner := env.person("Olivia")
		org := env.Org(t, owner.actor, "Acme")
		admin := env.person("Adam")
		env.Join(t, owner.actor, org.ID, admin.user, roster.OrgAdmin)
		member := env.person("Mia")
		env.Join(t, owner.actor, org.ID, member.user, roster.OrgMember)
		base := "/v1/organizations/" + org.ID + "/events"

		if _, r := openSSE(t, env, member.token, base, ""); r.status != 403 || r.body["code"] != "forbidden" {
			t.Fatalf("member: %d %v", r.status, r.body)
		}
		s, r := openSSE(t, env, admin.token, base, "")
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("content type %q", ct)
		}
		var seen []sseMessage
		for range 3 { // organization.created, member.added twice
			m, _ := s.next(t)
			seen = append(seen, m)
		}
		if seen[0].id != "1" || seen[0].event != "organization.created" || seen[2].id != "3" || seen[2].event != "member.added" {
			t.Fatalf("backlog %+v", seen)
		}
		env.Store(t, owner.actor, org.ID, "Shop")
		m, _ := s.next(t)
		var ev roster.EventPayload
		if err := json.Unmarshal([]byte(m.data), &ev); err != nil || m.id != "4" || m.event != "store.created" || ev.Type != "store.created" || ev.Sequence != 4 {
			t.Fatalf("live %+v (%v)", m, err)
		}

		// Resuming from Last-Event-ID: what follows it only.
		again, _ := openSSE(t, env, admin.token, base, "3")
		if m, _ := again.next(t); m.id != "4" {
			t.Fatalf("resumed at %+v", m)
		}

		// Demoted, the admin may no longer read the feed: the event of the demotion wakes the
		// stream, which ends with an error message.
		if err := env.App.Members.ChangeRole(testenv.Ctx, owner.actor, org.ID, admin.user.ID, roster.OrgMember); err != nil {
			t.Fatal(err)
		}
		for {
			m, ok := s.next(t)
			if !ok {
				t.Fatal("the stream ended without an error message")
			}
			if m.event == "error" {
				if !strings.Contains(m.data, `"forbidden"`) {
					t.Fatalf("error message %+v", m)
				}
				break
			}
		}
		if _, ok := s.next(t); ok {
			t.Fatal("the stream goes on after the error")
		}
	})
}

// eventSourceScript reads the feed with the npm eventsource package (a WHATWG EventSource):
// argv: the URL, the bearer token, the event types to listen to (JSON). It prints one JSON
// line per message (its lastEventId, type and data), and one per error.
const eventSourceScript = `
const { EventSource } = require("eventsource");
const [url, token, types] = process.argv.slice(1);
const es = new EventSource(url, {
  fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, Authorization: "Bearer " + token } }),
});
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
for (const t of JSON.parse(types)) {
  es.addEventListener(t, (e) => out({ id: e.lastEventId, type: e.type, data: e.data }));
}
es.addEventListener("error", (e) => out({ error: String(e.message || e.type), code: e.code || 0 }));
`

// TestEventFeedWithEventSource reads the stream with a third-party EventSource, through a
// proxy the test cuts: the client reconnects by itself with Last-Event-ID and resumes after
// the last event it saw, none lost or repeated.
func TestEventFeedWithEventSource(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner := env.person("Olivia")
		org := env.Org(t, owner.actor, "Acme")
		target, _ := url.Parse(env.url)
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.FlushInterval = -1
		var mu sync.Mutex
		var lastEventIDs []string
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			lastEventIDs = append(lastEventIDs, r.Header.Get("Last-Event-ID"))
			mu.Unlock()
			rp.ServeHTTP(w, r)
		}))
		t.Cleanup(proxy.Close)

		node := testenv.Node(t, "testdata/eventsource")
		types, _ := json.Marshal([]string{"organization.created", "store.created"})
		cmd := exec.Command(node, "-e", eventSourceScript, proxy.URL+"/v1/organizations/"+org.ID+"/events", owner.token, string(types))
		cmd.Dir = "testdata/eventsource"
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		lines := make(chan map[string]any, 100)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var m map[string]any
				if json.Unmarshal(sc.Bytes(), &m) == nil {
					lines <- m
				}
			}
		}()
		next := func() map[string]any {
			t.Helper()
			select {
			case m, ok := <-lines:
				if !ok {
					t.Fatal("the EventSource client exited")
				}
				return m
			case <-time.After(20 * time.Second):
				t.Fatal("the EventSource client reported nothing")
				return nil
			}
		}
		// The only event so far, then one committed while it listens.
		if m := next(); m["id"] != "1" || m["type"] != "organization.created" {
			t.Fatalf("first %v", m)
		}
		env.Store(t, owner.actor, org.ID, "Shop 1")
		if m := next(); m["id"] != "2" || m["type"] != "store.created" {
			t.Fatalf("second %v", m)
		}
		// The connection is cut; events committed meanwhile arrive after the client
		// reconnects on its own, from where it was.
		proxy.CloseClientConnections()
		env.Store(t, owner.actor, org.ID, "Shop 2")
		env.Store(t, owner.actor, org.ID, "Shop 3")
		var ids []string
		for len(ids) < 2 {
			m := next()
			if m["error"] != nil {
				continue // the lost connection, as the client reports it
			}
			ids = append(ids, m["id"].(string))
			var ev roster.EventPayload
			if err := json.Unmarshal([]byte(m["data"].(string)), &ev); err != nil || ev.Type != "store.created" {
				t.Fatalf("after the cut %v (%v)", m, err)
			}
		}
		if ids[0] != "3" || ids[1] != "4" {
			t.Fatalf("after the cut: %v", ids)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(lastEventIDs) < 2 || lastEventIDs[0] != "" || lastEventIDs[len(lastEventIDs)-1] != "2" {
			t.Fatalf("Last-Event-ID sent: %q", lastEventIDs)
		}
	})
}
