package api_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// stream opens an export and returns its body, to read as it comes.
func (e *keysEnv) stream(token, path string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		e.t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return res
}

// TestAuditExportStreams exports 100,000 events and checks, while reading them, that the
// live heap stays far below what holding them would take.
func TestAuditExportStreams(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner := env.person("Olivia")
		org := env.Org(t, owner.actor, "Acme")
		const n = 100_000
		t0 := time.Now()
		pad := strings.Repeat("x", 200) // with the rest, about 700 bytes per event held: 70 MB for them all
		start := env.Clock.Now()
		batch := make([]roster.AuditEvent, 0, 5000)
		for i := 0; i < n; i++ {
			batch = append(batch, roster.AuditEvent{ID: fmt.Sprintf("evt_%010d", i), OrgID: org.ID, ActorKind: roster.ActorUser, ActorID: owner.user.ID,
				Action: "test.bulk", TargetType: "user", TargetID: owner.user.ID, After: map[string]any{"i": i, "pad": pad}, CreatedAt: start.Add(time.Duration(i) * time.Millisecond)})
			if len(batch) == cap(batch) || i == n-1 {
				if err := env.DB.InTx(testenv.Ctx, func(tx *sqlstore.Tx) error { return tx.InsertAuditEvents(testenv.Ctx, batch) }); err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		batch = nil
		t.Logf("inserted in %v", time.Since(t0))
		t0 = time.Now()

		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		res := env.stream(owner.token, "/v1/organizations/"+org.ID+"/audit-events/export?action=test.bulk")
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/jsonl") || !strings.Contains(res.Header.Get("Content-Disposition"), ".jsonl") {
			t.Fatalf("headers: %v", res.Header)
		}
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		count, peak := 0, uint64(0)
		for sc.Scan() {
			if count%10_000 == 0 {
				var ev struct {
					ID    string         `json:"id"`
					After map[string]any `json:"after"`
				}
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.After["i"].(float64) != float64(count) {
					t.Fatalf("line %d: %v %s", count, err, sc.Bytes()[:100])
				}
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			count++
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		t.Logf("streamed in %v", time.Since(t0))
		if count != n {
			t.Fatalf("exported %d events, want %d", count, n)
		}
		if grown := int64(peak) - int64(base); grown > 24<<20 {
			t.Fatalf("the live heap grew by %d MB while streaming: the export holds events in memory", grown>>20)
		}
	})
}

// TestAuditExportFormatsAndVisibility checks CSV and JSON lines, filters, and that members
// export only their own actions.
func TestAuditExportFormatsAndVisibility(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		t.Parallel()
		env := newKeysEnv(t, e)
		owner, member := env.person("Olivia"), env.person("Marc")
		org := env.Org(t, owner.actor, "Acme")
		shop := env.Store(t, owner.actor, org.ID, "=HYPERLINK(\"http://evil\")")
		env.Join(t, owner.actor, org.ID, member.user, roster.OrgMember, app.StoreGrantInput{StoreID: shop.ID, RoleID: roster.StoreRoleViewer})
		export := "/v1/organizations/" + org.ID + "/audit-events/export"

		// A user agent that a spreadsheet would run as a formula.
		req, _ := http.NewRequest(http.MethodPost, env.url+"/v1/organizations/"+org.ID+"/roles", strings.NewReader(`{"name":"R","permissions":[]}`))
		req.Header.Set("Authorization", "Bearer "+owner.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "=1+2")
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("create role: %v %v", err, res)
		}

		res := env.stream(owner.token, export+"?format=csv")
		rows, err := csv.NewReader(res.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if rows[0][0] != "id" || rows[0][6] != "action" || len(rows) < 4 {
			t.Fatalf("csv: %v", rows)
		}
		var created []string
		for _, r := range rows[1:] {
			if r[6] == "store.created" {
				created = r
			}
		}
		if created == nil || !strings.Contains(created[12], `"name":"=HYPERLINK`) || created[3] != shop.ID {
			t.Fatalf("store.created row: %v", created)
		}
		if r := rows[len(rows)-2]; r[6] != "role.created" || r[10] != "'=1+2" {
			t.Fatalf("formula not neutralized: %v", r) // the last row is the export itself
		}
		// Filters apply; the member exports their own actions only.
		res = env.stream(owner.token, export+"?format=jsonl&action=member.")
		if b, _ := io.ReadAll(res.Body); strings.Count(string(b), "\n") != 1 || !strings.Contains(string(b), "member.added") {
			t.Fatalf("filtered export: %s", b)
		}
		env.refused(http.StatusForbidden, roster.EForbidden, member.token, http.MethodGet, export+"?actor_id="+owner.user.ID, nil)
		env.refused(http.StatusUnprocessableEntity, "", owner.token, http.MethodGet, export+"?format=xml", nil)
		res = env.stream(member.token, export)
		b, _ := io.ReadAll(res.Body)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if !strings.Contains(line, `"actor_id":"`+member.user.ID+`"`) {
				t.Fatalf("member exports someone else's action: %s", line)
			}
		}
		stranger := env.person("Otto")
		env.refused(http.StatusNotFound, roster.ENotFound, stranger.token, http.MethodGet, export, nil)
		// Each export is recorded.
		events, err := env.App.AuditEvents(testenv.Ctx, owner.actor, org.ID, app.AuditFilter{Action: "audit.exported"})
		if err != nil || len(events.Items) != 3 {
			t.Fatalf("export events: %v %d", err, len(events.Items))
		}
	})
}
