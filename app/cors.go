package app

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster"
)

// Pages on other origins may call a few endpoints with CORS (httpserver.CORS) when the
// operator registered their origin for a client: the OpenID endpoints a browser uses, for
// that client's origins, and the switcher's /v1 reads, for any client's.

// corsOriginsTTL is how long a node answers from the origins it read: a client registered or
// deleted on another node (or by the roster command) counts after at most this long; on this
// node at once.
const corsOriginsTTL = 2 * time.Second

// corsCache holds every client's origins, read at most once per corsOriginsTTL.
type corsCache struct {
	mu     sync.Mutex
	loaded time.Time
	set    corsSet
}

// corsOrigin validates an origin as a browser sends it: scheme://host[:port], nothing else;
// https, or http on a loopback address (development). The scheme and host are lower-cased
// and a default port dropped, as a browser serializes them.
func corsOrigin(field, s string) (string, error) {
	bad := roster.Invalidf(field, "%q is not an origin: give scheme://host[:port] only, such as https://shop.example", s)
	u, err := url.Parse(s)
	if err != nil || len(s) > 300 || !u.IsAbs() || u.Host == "" || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" ||
		u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return "", bad
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if ip := net.ParseIP(host); ip == nil && !dnsName(host) {
		return "", bad
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "https":
		if port == "443" {
			port = ""
		}
	case "http":
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", roster.Invalidf(field, "%q: plain http is allowed only on a loopback address; use https", s)
		}
		if port == "80" {
			port = ""
		}
	default:
		return "", roster.Invalidf(field, "%q: use https", s)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	out := strings.ToLower(u.Scheme) + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, nil
}

// dnsName reports whether host is an ASCII host name (a browser sends an
// internationalized one in its punycode form): letters, digits, hyphens, dots.
func dnsName(host string) bool {
	if host == "" || len(host) > 253 || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") || strings.Contains(host, "..") {
		return false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func corsOrigins(field string, in []string) ([]string, error) {
	return validList(field, in, roster.MaxCORSOrigins, "origins", corsOrigin)
}

// corsSet is the clients' origins as read at one time; its maps are never changed.
type corsSet struct {
	byClient map[string][]string
	all      map[string]bool
}

// CORSAllowed reports whether pages on origin may call the switcher's /v1 reads: whether
// some client has that origin. An outage answers no.
func (a *Clients) CORSAllowed(ctx context.Context, origin string) bool {
	return a.corsClients(ctx).all[origin]
}

// ClientCORSAllowed reports whether pages on origin may call the OpenID endpoints for the
// client clientID: whether it is one of that client's origins.
func (a *Clients) ClientCORSAllowed(ctx context.Context, clientID, origin string) bool {
	return slices.Contains(a.corsClients(ctx).byClient[clientID], origin)
}

// corsClients returns the origins, read again when older than corsOriginsTTL; none when
// they cannot be read.
func (a *Clients) corsClients(ctx context.Context) corsSet {
	now := a.clock.Now()
	c := &a.cors
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set.all != nil && now.Sub(c.loaded) >= 0 && now.Sub(c.loaded) < corsOriginsTTL {
		return c.set
	}
	byClient, err := a.read().OIDCClientOrigins(ctx)
	if err != nil {
		a.log.WarnContext(ctx, "cors: reading the clients' origins", "err", err)
		return corsSet{}
	}
	c.set, c.loaded = corsSet{byClient: byClient, all: map[string]bool{}}, now
	for _, list := range byClient {
		for _, o := range list {
			c.set.all[o] = true
		}
	}
	return c.set
}

// forgetCORSOrigins makes the next check read the origins again (a client was registered or
// deleted here).
func (a *Clients) forgetCORSOrigins() {
	a.cors.mu.Lock()
	a.cors.set = corsSet{}
	a.cors.mu.Unlock()
}
