package httpserver_test

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/httpserver"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// echo serves the client IP the plumbing found, and panics on /panic.
func echo(t *testing.T, o httpserver.Options) http.Handler {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ip", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, httpserver.ClientIP(r.Context()))
	})
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("GET /late-error", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.WriteHeader(http.StatusInternalServerError) // as huma does when writing the body fails
	})
	if o.Log == nil {
		o.Log = quiet
	}
	return httpserver.Wrap(mux, o)
}

func TestClientIP(t *testing.T) {
	trusted, err := httpserver.ParseTrustedProxies("10.0.0.0/8, 192.0.2.7, 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"no proxy", nil, "203.0.113.5:1234", nil, "203.0.113.5"},
		{"forwarded-for from an untrusted peer is ignored", nil, "203.0.113.5:1234", []string{"198.51.100.1"}, "203.0.113.5"},
		{"untrusted peer with trusted list", trusted, "203.0.113.5:1234", []string{"198.51.100.1"}, "203.0.113.5"},
		{"one trusted proxy", trusted, "10.1.2.3:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a single trusted address", trusted, "192.0.2.7:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"the client cannot spoof the left of the chain", trusted, "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"a chain of trusted proxies", trusted, "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.1, 10.9.9.9, 192.0.2.7"}, "198.51.100.1"},
		{"several header lines", trusted, "10.1.2.3:80", []string{"1.1.1.1", "198.51.100.1, 10.0.0.9"}, "198.51.100.1"},
		{"garbage at the right stops the climb", trusted, "10.1.2.3:80", []string{"198.51.100.1, not-an-ip"}, "10.1.2.3"},
		{"empty header", trusted, "10.1.2.3:80", []string{""}, "10.1.2.3"},
		{"no header", trusted, "10.1.2.3:80", nil, "10.1.2.3"},
		{"IPv6 peer", nil, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"IPv6 trusted proxy", trusted, "[2001:db8::1]:443", []string{"2a00:1450::1"}, "2a00:1450::1"},
		{"IPv4-mapped peer counts as its IPv4 address", trusted, "[::ffff:10.1.2.3]:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped client is shown as IPv4", trusted, "10.1.2.3:80", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := echo(t, httpserver.Options{TrustedProxies: tc.trusted})
			r := httptest.NewRequest("GET", "/ip", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got := w.Body.String(); got != tc.want {
				t.Errorf("client IP %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := httpserver.ParseTrustedProxies(" 10.1.2.3/8 ,192.0.2.7,, ::1 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "::1/128"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("prefix %d = %s, want %s", i, got[i], want[i])
		}
	}
	if got, err := httpserver.ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Errorf("empty list: %v %v", got, err)
	}
	for _, bad := range []string{"proxy.local", "10.0.0.0/33", "10.0.0.1/x", "300.1.1.1"} {
		if _, err := httpserver.ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted", bad)
		}
	}
}

func TestHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		h := echo(t, httpserver.Options{HTTPS: https})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/ip", nil))
		for k, v := range map[string]string{
			"Content-Security-Policy":    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
			"X-Content-Type-Options":     "nosniff",
			"Referrer-Policy":            "strict-origin-when-cross-origin",
			"Cross-Origin-Opener-Policy": "same-origin",
			"Cache-Control":              "no-store",
		} {
			if got := w.Header().Get(k); !strings.HasPrefix(got, v) {
				t.Errorf("%s: %q, want %q", k, got, v)
			}
		}
		if hsts := w.Header().Get("Strict-Transport-Security"); (hsts != "") != https {
			t.Errorf("https %v: HSTS %q", https, hsts)
		}
		if w.Header().Get("X-Request-Id") == "" {
			t.Error("no request ID")
		}
		if s := w.Header().Get("Server"); s != "" {
			t.Errorf("Server header %q", s)
		}
	}
}

// TestLateStatus: a handler that sets a status after its answer has started (huma does when
// the client has gone) changes nothing the client sees, is not logged by net/http as a
// superfluous call, and is counted with the status actually sent.
func TestLateStatus(t *testing.T) {
	var logged strings.Builder
	srv := httptest.NewUnstartedServer(echo(t, httpserver.Options{}))
	srv.Config.ErrorLog = log.New(&logged, "", 0)
	srv.Start()
	defer srv.Close()
	res, err := http.Get(srv.URL + "/late-error")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "partial" {
		t.Errorf("the client got %d %q", res.StatusCode, body)
	}
	res, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	srv.Close() // the server's log is complete
	if strings.Contains(logged.String(), "superfluous") {
		t.Errorf("net/http logged: %s", logged.String())
	}
	if !strings.Contains(string(metrics), `route="GET /late-error",status="200"} 1`) {
		t.Errorf("metrics:\n%s", metrics)
	}
}

func TestRecoverAndHealth(t *testing.T) {
	var down error
	h := echo(t, httpserver.Options{Ready: func(context.Context) error { return down }})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	if w := get("/panic"); w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(w.Body.String(), `"code":"internal"`) ||
		strings.Contains(w.Body.String(), "boom") {
		t.Errorf("panic: %d %s %s", w.Code, w.Header(), w.Body)
	}
	if w := get("/healthz"); w.Code != 200 {
		t.Errorf("healthz %d", w.Code)
	}
	if w := get("/readyz"); w.Code != 200 {
		t.Errorf("readyz %d", w.Code)
	}
	down = errors.New("database down")
	if w := get("/readyz"); w.Code != 503 || w.Header().Get("Retry-After") == "" || strings.Contains(w.Body.String(), "database down") {
		t.Errorf("readyz while down: %d %v %q", w.Code, w.Header(), w.Body)
	}
	if w := get("/healthz"); w.Code != 200 {
		t.Errorf("healthz while the database is down: %d", w.Code)
	}
	w := get("/metrics")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `roster_http_requests_total{method="GET",route="GET /panic",status="500"} 1`) {
		t.Errorf("metrics: %d\n%s", w.Code, w.Body)
	}
}

// TestMetricsToken: with a token configured, /metrics answers only requests that bear it.
func TestMetricsToken(t *testing.T) {
	const token = "scrape-0123456789abcdef"
	h := echo(t, httpserver.Options{MetricsToken: token})
	for auth, want := range map[string]int{
		"": 401, "Bearer wrong": 401, "Bearer " + token + "x": 401, "Basic " + token: 401, token: 401, "Bearer " + token: 200,
	} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Authorization %q: %d, want %d", auth, w.Code, want)
		}
		if want == 401 && (w.Header().Get("Content-Type") != "application/problem+json" || strings.Contains(w.Body.String(), "go_goroutines") ||
			w.Header().Get("WWW-Authenticate") == "") {
			t.Errorf("Authorization %q: %v %s", auth, w.Header(), w.Body)
		}
		if want == 200 && !strings.Contains(w.Body.String(), "go_goroutines") {
			t.Errorf("metrics with the token: %s", w.Body)
		}
	}
}

// TestPprof: Go's profiles are served only when asked for, and only behind the metrics token.
func TestPprof(t *testing.T) {
	const token = "scrape-0123456789abcdef"
	get := func(h http.Handler, auth string) int {
		r := httptest.NewRequest("GET", "/debug/pprof/cmdline", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	off := echo(t, httpserver.Options{MetricsToken: token})
	if c := get(off, "Bearer "+token); c != 404 {
		t.Errorf("profiles when off: %d, want 404", c)
	}
	if c := get(echo(t, httpserver.Options{Pprof: true}), ""); c != 404 {
		t.Errorf("profiles without a token: %d, want 404", c)
	}
	on := echo(t, httpserver.Options{MetricsToken: token, Pprof: true})
	if c := get(on, ""); c != 401 {
		t.Errorf("profiles without the token: %d, want 401", c)
	}
	if c := get(on, "Bearer "+token); c != 200 {
		t.Errorf("profiles with the token: %d, want 200", c)
	}
}

// TestUnmatchedRoutes: unknown paths and methods answer problem+json with a code too.
func TestUnmatchedRoutes(t *testing.T) {
	h := echo(t, httpserver.Options{})
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/nowhere", 404, "not_found", ""},
		{"DELETE", "/ip", 405, "method_not_allowed", "GET, HEAD"},
		{"POST", "/healthz", 405, "method_not_allowed", "GET, HEAD"},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || w.Header().Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(w.Body.String(), `"code":"`+tc.code+`"`) || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d %v %s", tc.method, tc.path, w.Code, w.Header(), w.Body)
		}
	}
	// Matched routes are untouched.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	if w.Code != 200 || w.Body.String() != "ok\n" {
		t.Errorf("healthz: %d %q", w.Code, w.Body)
	}
}

func TestSessionCookie(t *testing.T) {
	for _, https := range []bool{false, true} {
		w := httptest.NewRecorder()
		httpserver.SetSessionCookie(w, "rs_secret", testTime, https)
		httpserver.ClearSessionCookie(w, https)
		cs := (&http.Response{Header: w.Header()}).Cookies()
		if len(cs) != 2 {
			t.Fatalf("cookies: %v", cs)
		}
		for _, c := range cs {
			if c.Name != httpserver.SessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure != https {
				t.Errorf("https %v: cookie %+v", https, c)
			}
		}
		if cs[1].MaxAge >= 0 || cs[1].Value != "" {
			t.Errorf("cleared cookie %+v", cs[1])
		}
	}
}

var testTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
