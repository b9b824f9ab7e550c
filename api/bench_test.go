package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// BenchmarkCheckRequest is what one POST /v1/check costs Roster's HTTP layers — middleware,
// huma, authentication of the service token — around a check answered from the access
// index, without a network: the allocations per request it reports are the garbage the
// collector must sweep at every check (BENCHMARKS.md, "the load benchmark", for the figures
// over HTTP).
func BenchmarkCheckRequest(b *testing.B) {
	env := testenv.NewEnv(b, sqlstore.SQLite)
	owner, _ := env.User(b, "Owner")
	_, ann := env.User(b, "Ann")
	org := env.Org(b, owner, "Acme")
	st := env.Store(b, owner, org.ID, "One")
	env.Join(b, owner, org.ID, ann, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: roster.StoreRoleMember})
	svc, err := env.App.Operator.CreateServiceToken(testenv.Ctx, roster.System(), "host")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go env.App.Listen(ctx)

	// Wired here rather than by serve (which answers as over https): as the load benchmark
	// runs Roster, over http and logging warnings only, so that the figures compare.
	mux := http.NewServeMux()
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})) // as the load benchmark runs it
	api.Register(mux, env.App, api.Options{Log: log, Version: "bench"})
	h := httpserver.Wrap(mux, httpserver.Options{Log: log, Ready: env.App.Ready, Registry: prometheus.NewRegistry()})
	body := []byte(`{"user_id":"` + ann.ID + `","permission":"store.read","store_id":"` + st.ID + `"}`)
	check := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/v1/check", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+svc.Secret)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	// Checks until the node holds its lease: from then on a check reads no SQL.
	for deadline := time.Now().Add(10 * time.Second); !env.App.Access.IndexStats().Leased; time.Sleep(10 * time.Millisecond) {
		if w := check(); w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"allowed":true`)) {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		if time.Now().After(deadline) {
			b.Fatal("the node never took its lease")
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		check()
	}
}
