// Package httpserver is the HTTP plumbing shared by the REST API and the web console:
// request IDs, the client's address behind trusted proxies, security headers, an access log,
// recovery from panics, Prometheus metrics, health endpoints and graceful shutdown.
package httpserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rosterhq/roster"
)

// Options configure the shared plumbing.
type Options struct {
	Log            *slog.Logger
	TrustedProxies []netip.Prefix // X-Forwarded-For is believed only from these
	HTTPS          bool           // served over https: send HSTS
	Ready          func(context.Context) error
	Registry       *prometheus.Registry // one per server, so tests do not share counts
	MetricsToken   string               // when set, /metrics asks for it as a bearer token
	Pprof          bool                 // serve Go's profiles at /debug/pprof/, behind MetricsToken (required)
}

type ctxKey struct{}

// requestInfo is what the middleware learns of a request, in one context value: accessLog
// makes it, clientIP fills in the address (each new context is a copy of the request).
type requestInfo struct{ id, ip string }

func infoOf(ctx context.Context) *requestInfo {
	if i, _ := ctx.Value(ctxKey{}).(*requestInfo); i != nil {
		return i
	}
	return &requestInfo{}
}

// RequestID returns the ID of the request being served, for logs and error bodies.
func RequestID(ctx context.Context) string { return infoOf(ctx).id }

// ClientIP returns the address of the client, as seen through trusted proxies.
func ClientIP(ctx context.Context) string { return infoOf(ctx).ip }

// Wrap adds the health and metrics endpoints to mux — /healthz (the process is up), /readyz
// (the database answers), /metrics — and returns mux with the shared middleware around it.
// The API and the console register their routes on the same mux, so that metrics know every
// route's pattern.
func Wrap(mux *http.ServeMux, o Options) http.Handler {
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if o.Ready != nil {
			if err := o.Ready(ctx); err != nil {
				w.Header().Set("Retry-After", "5")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("database unavailable\n"))
				return
			}
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", metricsAuth(o.MetricsToken, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	if o.Pprof && o.MetricsToken != "" {
		// Profiles show the process's inner workings: never without a token.
		mux.Handle("GET /debug/pprof/", metricsAuth(o.MetricsToken, http.HandlerFunc(pprof.Index)))
		mux.Handle("GET /debug/pprof/cmdline", metricsAuth(o.MetricsToken, http.HandlerFunc(pprof.Cmdline)))
		mux.Handle("GET /debug/pprof/profile", metricsAuth(o.MetricsToken, http.HandlerFunc(pprof.Profile)))
		mux.Handle("GET /debug/pprof/symbol", metricsAuth(o.MetricsToken, http.HandlerFunc(pprof.Symbol)))
		mux.Handle("GET /debug/pprof/trace", metricsAuth(o.MetricsToken, http.HandlerFunc(pprof.Trace)))
	}
	return recoverer(o.Log, accessLog(o.Log, headers(o.HTTPS, clientIP(o.TrustedProxies, m.instrument(mux, unmatched(mux))))))
}

// metricsAuth lets only holders of the token read the metrics, when a token is configured.
// Prometheus sends it with authorization.credentials (or bearer_token) in its scrape config.
func metricsAuth(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte("Bearer " + token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = fmt.Fprintf(w, `{"title":"Unauthorized","status":401,"code":"unauthenticated","detail":"the metrics token is required","request_id":%q}`+"\n",
				RequestID(r.Context()))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// unmatched answers requests that match no route (404) or no method of their route (405,
// with Allow) as problem+json with a code, like every other error.
func unmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &headerRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r) // the mux's own answer tells 404 from 405 and fills Allow
		if rec.status != http.StatusNotFound && rec.status != http.StatusMethodNotAllowed {
			mux.ServeHTTP(w, r) // a redirect, say
			return
		}
		code := roster.CodeOfStatus(rec.status)
		if rec.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(rec.status)
		_, _ = fmt.Fprintf(w, `{"title":%q,"status":%d,"code":%q,"detail":%q,"request_id":%q}`+"\n",
			http.StatusText(rec.status), rec.status, code, "no such route or method", RequestID(r.Context()))
	})
}

// headerRecorder keeps the status and headers a handler writes, and drops its body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int)        { h.status = code }

// statusWriter remembers the status written, for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

// WriteHeader sends the status once. A second call comes from a handler that reports an
// error after its answer has started — huma does when writing the body fails because the
// client has gone — and the client cannot be told any more: it is dropped, not logged by
// net/http as superfluous.
func (w *statusWriter) WriteHeader(code int) {
	if code < 200 { // informational: the final status is still to come
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.status != 0 {
		return
	}
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// recoverer turns a panic into a 500 and a log line, never a dropped connection.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic serving request", "panic", p, "path", r.URL.Path, "request_id", RequestID(r.Context()))
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"title":"Internal Server Error","status":500,"code":"internal","detail":"internal error"}`))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// accessLog gives each request an ID and logs it once answered. Query strings are never
// logged: they may carry one-time tokens.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, &requestInfo{id: id}))
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if sw.status >= 500 && sw.status != http.StatusServiceUnavailable {
			// A 503 is an answer (try again later), not a fault: its cause, such as a
			// database outage, is logged once where it is known.
			level = slog.LevelError
		}
		if log.Enabled(r.Context(), level) { // spares building the line's values when it is not logged
			log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "bytes", sw.bytes,
				"duration", time.Since(start), "ip", ClientIP(r.Context()), "request_id", id)
		}
	})
}

// securityHeaders are the headers every answer carries. Pages may tighten them further (a
// handler replaces a value, never changes it in place: the slices are shared by every answer,
// made once rather than for each request). Answers are personal unless a handler says
// otherwise (the docs page, logos): no shared cache, and no copy left in the browser's, may
// keep a signed-in answer.
var securityHeaders = map[string][]string{
	"Content-Security-Policy":    value("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
	"X-Content-Type-Options":     value("nosniff"),
	"Referrer-Policy":            value("strict-origin-when-cross-origin"),
	"Cross-Origin-Opener-Policy": value("same-origin"),
	"X-Frame-Options":            value("DENY"),
	"Cache-Control":              value("no-store"),
}

var hsts = value("max-age=63072000; includeSubDomains")

// value is a header's one value, with no room to append in place.
func value(v string) []string { s := []string{v}; return s[:1:1] }

// headers sets the security headers every answer carries.
func headers(https bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range securityHeaders {
			h[k] = v
		}
		if https {
			h["Strict-Transport-Security"] = hsts
		}
		next.ServeHTTP(w, r)
	})
}

// clientIP finds the client's address: the connection's peer, or, when that peer is a
// trusted proxy, the last address in X-Forwarded-For that is not itself a trusted proxy.
func clientIP(trusted []netip.Prefix, next http.Handler) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ip := host
		if peer, err := netip.ParseAddr(host); err == nil && isTrusted(peer.Unmap()) {
			hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
				if err != nil {
					break
				}
				ip = a.Unmap().String()
				if !isTrusted(a.Unmap()) {
					break
				}
			}
		}
		// The User-Agent reaches the audit log and the sessions: made valid UTF-8 and cut
		// between characters here, once for every handler (PostgreSQL refuses invalid UTF-8).
		if ua := r.Header.Get("User-Agent"); len(ua) > roster.MaxUserAgentLength || !utf8.ValidString(ua) {
			r.Header.Set("User-Agent", roster.CleanText(ua, roster.MaxUserAgentLength))
		}
		if info, ok := r.Context().Value(ctxKey{}).(*requestInfo); ok {
			info.ip = ip // before any handler runs
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, &requestInfo{ip: ip})))
	})
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_http_requests_total", Help: "HTTP requests answered, by route and status."},
			[]string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "roster_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route.",
			Buckets: prometheus.DefBuckets}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// instrument counts requests by the route pattern that served them (never the raw path,
// which would give one series per ID).
func (m *metrics) instrument(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			// Counted on the way out even when the handler panics: recoverer answers 500.
			p := recover()
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			switch {
			case p != nil:
				sw.status = http.StatusInternalServerError
			case sw.status == 0:
				sw.status = http.StatusOK
			}
			m.requests.WithLabelValues(r.Method, route, strconv.Itoa(sw.status)).Inc()
			m.duration.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// ParseTrustedProxies parses a comma-separated list of addresses and CIDR prefixes.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// SessionCookie is the name of the cookie that carries a session token in browsers.
const SessionCookie = "roster_session"

// NewSessionCookie is the one shape of the session cookie, for the console and the API's
// login alike: HttpOnly, SameSite=Lax, Path=/, no Domain, Secure on https, expiring with the
// session. An empty token makes the cookie that removes it.
func NewSessionCookie(token string, expires time.Time, https bool) http.Cookie {
	// #nosec G124 -- Secure whenever served over https; a plain-http install could not use a Secure cookie.
	c := http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires, HttpOnly: true, Secure: https, SameSite: http.SameSiteLaxMode}
	if token == "" {
		c.Expires, c.MaxAge = time.Time{}, -1
	}
	return c
}

// SetSessionCookie hands a browser its session token (NewSessionCookie).
func SetSessionCookie(w http.ResponseWriter, token string, expires time.Time, https bool) {
	c := NewSessionCookie(token, expires, https)
	http.SetCookie(w, &c)
}

// ClearSessionCookie removes the session cookie from a browser.
func ClearSessionCookie(w http.ResponseWriter, https bool) {
	c := NewSessionCookie("", time.Time{}, https)
	http.SetCookie(w, &c)
}
