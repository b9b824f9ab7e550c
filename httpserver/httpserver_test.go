package httpserver

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// serve answers one request through the shared middleware and returns the answer and the
// client address the handlers saw.
func serve(t *testing.T, o Options, remote string, header http.Header) (*http.Response, string) {
	t.Helper()
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	o.Registry = prometheus.NewRegistry()
	var seen string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /probe", func(w http.ResponseWriter, r *http.Request) { seen = ClientIP(r.Context()) })
	req := httptest.NewRequest("GET", "/probe", nil)
	req.RemoteAddr = remote
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	Wrap(mux, o).ServeHTTP(rec, req)
	return rec.Result(), seen
}

// TestClientIPOnlyThroughTrustedProxies: X-Forwarded-For is believed only from a configured
// proxy, and then only up to the first address that is not itself a trusted proxy.
func TestClientIPOnlyThroughTrustedProxies(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.10")
	if err != nil {
		t.Fatal(err)
	}
	xff := func(v ...string) http.Header { return http.Header{"X-Forwarded-For": v} }
	for _, c := range []struct {
		name, remote string
		header       http.Header
		want         string
	}{
		{"no proxy configured", "198.51.100.1:1234", xff("203.0.113.9"), "198.51.100.1"},
		{"untrusted peer", "198.51.100.1:1234", xff("203.0.113.9"), "198.51.100.1"},
		{"trusted proxy", "10.1.2.3:1234", xff("203.0.113.9"), "203.0.113.9"},
		{"spoofed hop before the real client", "10.1.2.3:1234", xff("1.2.3.4, 203.0.113.9"), "203.0.113.9"},
		{"two trusted proxies", "192.0.2.10:1234", xff("203.0.113.9, 10.9.9.9"), "203.0.113.9"},
		{"header split over lines", "10.1.2.3:1234", xff("1.2.3.4", "203.0.113.9"), "203.0.113.9"},
		{"garbage in the header", "10.1.2.3:1234", xff("not-an-ip"), "10.1.2.3"},
		{"IPv4 in IPv6", "[::ffff:10.1.2.3]:1234", xff("203.0.113.9"), "203.0.113.9"},
	} {
		o := Options{TrustedProxies: trusted}
		if c.name == "no proxy configured" {
			o.TrustedProxies = nil
		}
		if _, got := serve(t, o, c.remote, c.header); got != c.want {
			t.Errorf("%s: client %q, want %q", c.name, got, c.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad prefix is accepted")
	}
}

// TestSecurityHeaders: every answer carries the headers of SECURITY.md; HSTS only when
// served over https; no Server header; no-store unless a handler says otherwise.
func TestSecurityHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		res, _ := serve(t, Options{HTTPS: https}, "198.51.100.1:1", nil)
		h := res.Header
		for k, v := range map[string]string{
			"Content-Security-Policy":    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
			"X-Content-Type-Options":     "nosniff",
			"Cross-Origin-Opener-Policy": "same-origin",
			"Referrer-Policy":            "strict-origin-when-cross-origin",
			"Cache-Control":              "no-store",
		} {
			if !strings.HasPrefix(h.Get(k), v) {
				t.Errorf("https=%v: %s is %q", https, k, h.Get(k))
			}
		}
		if got := h.Get("Strict-Transport-Security"); (got != "") != https {
			t.Errorf("https=%v: Strict-Transport-Security %q", https, got)
		}
		if h.Get("Server") != "" || h.Get("X-Powered-By") != "" {
			t.Errorf("a version header: %v", h)
		}
		if h.Get("X-Request-Id") == "" {
			t.Error("no request ID")
		}
	}
}

// TestSessionCookieAttributes: HttpOnly, SameSite=Lax, Path=/, no Domain, Secure on https.
func TestSessionCookieAttributes(t *testing.T) {
	for _, https := range []bool{false, true} {
		rec := httptest.NewRecorder()
		SetSessionCookie(rec, "rs_secret", timeIn(), https)
		c := rec.Result().Cookies()[0]
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure != https {
			t.Errorf("https=%v: %+v", https, c)
		}
	}
}

func timeIn() time.Time { return time.Now().Add(time.Hour) }
