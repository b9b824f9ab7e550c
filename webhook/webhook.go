// Package webhook signs and sends webhook deliveries: Standard Webhooks signatures
// (https://www.standardwebhooks.com) and an HTTP client that cannot be turned against the
// network Roster runs in (no loopback, private, link-local or metadata address, checked on the
// address actually dialled, at every attempt; no redirects; bounded time and response). What
// to deliver, when and how often is app's.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rosterhq/roster"
)

// SecretPrefix starts every endpoint secret.
const SecretPrefix = "whsec_"

// Timeout bounds one delivery, connection and response included.
const Timeout = 10 * time.Second

// ResponseCap is how much of a receiver's response is read and kept in the delivery log.
const ResponseCap = 1024

// NewSecret returns a new endpoint secret: whsec_ and 32 random bytes in base64, the key
// the signatures are made with.
func NewSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Sign returns the headers of a delivery: webhook-id (the event's ID, the same on every
// attempt), webhook-timestamp and webhook-signature with one v1 signature per secret (two
// during a rotation's overlap, so receivers that know either secret verify).
func Sign(id string, at time.Time, body []byte, secrets ...string) (http.Header, error) {
	ts := strconv.FormatInt(at.Unix(), 10)
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
		if err != nil || !strings.HasPrefix(s, SecretPrefix) || len(key) == 0 {
			return nil, errors.New("webhook: not a whsec_ secret")
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	if len(sigs) == 0 {
		return nil, errors.New("webhook: no secret to sign with")
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", strings.Join(sigs, " "))
	h.Set("Content-Type", "application/json")
	return h, nil
}

// LookupFunc resolves a host name to addresses (net.DefaultResolver.LookupNetIP, or a test's).
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// Options configure a Client.
type Options struct {
	// AllowedHosts are host names (or literal addresses) that may resolve to private
	// addresses, for self-hosted receivers on the operator's network
	// (ROSTER_WEBHOOK_ALLOWED_HOSTS); they may also use plain http.
	AllowedHosts []string
	Lookup       LookupFunc // nil: the system resolver
	UserAgent    string
}

// Client sends deliveries.
type Client struct {
	allowed map[string]bool
	lookup  LookupFunc
	http    *http.Client
	agent   string
}

// New returns a client.
func New(o Options) *Client {
	c := &Client{allowed: map[string]bool{}, lookup: o.Lookup, agent: o.UserAgent}
	for _, h := range o.AllowedHosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			c.allowed[h] = true
		}
	}
	if c.lookup == nil {
		c.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if c.agent == "" {
		c.agent = "Roster-Webhooks"
	}
	c.http = &http.Client{
		Timeout: Timeout,
		Transport: &http.Transport{
			Proxy:                 nil, // never through an environment proxy: the address checked is the one dialled
			DialContext:           c.dial,
			TLSHandshakeTimeout:   Timeout,
			ResponseHeaderTimeout: Timeout,
			MaxIdleConnsPerHost:   16, // a worker's webhook slots (outbox.Options.Webhooks) to one receiver's host keep their connections
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// HTTPClient returns an http.Client for other requests Roster makes to addresses an
// administrator gave (an organization's identity provider): every connection, redirects
// included, passes the same checks as a delivery's, and each request ends after timeout.
func (c *Client) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: c.http.Transport, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}

// CheckURL checks an endpoint URL as given by an administrator: absolute https (http only for
// an allowed host), no credentials or fragment, and a host that resolves to addresses a
// delivery may reach. Errors name the field "url".
func (c *Client) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return roster.Invalidf("url", "the URL is malformed")
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case u.Scheme == "http" && c.allowed[host]:
	case u.Scheme != "https":
		return roster.Invalidf("url", "the URL must use https")
	}
	if u.User != nil || u.Fragment != "" {
		return roster.Invalidf("url", "the URL must not carry credentials or a fragment")
	}
	if _, err := c.resolve(ctx, host); err != nil {
		return roster.Invalidf("url", "%v", err)
	}
	return nil
}

// ErrRefusedAddress is returned when a host resolves to an address deliveries may not reach.
var ErrRefusedAddress = errors.New("the host resolves to a loopback, private, link-local or metadata address")

// resolve returns the addresses of host that a delivery may dial: all of them for an allowed
// host, else an error when any is refused (a name that resolves to both kinds is refused).
func (c *Client) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = c.lookup(ctx, host)
		if err != nil || len(addrs) == 0 {
			return nil, fmt.Errorf("the host %s does not resolve", host)
		}
	}
	if c.allowed[host] {
		return addrs, nil
	}
	for _, a := range addrs {
		if Refused(a) {
			return nil, ErrRefusedAddress
		}
	}
	return addrs, nil
}

// dial connects to the checked addresses of the host, at every connection: a host whose DNS
// changes between the check and a delivery (DNS rebinding) is refused then. The dialer's
// Control checks the address once more as it connects.
func (c *Client) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	host = strings.ToLower(host)
	addrs, err := c.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: Timeout}
	if !c.allowed[host] {
		d.Control = func(_, addr string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil || Refused(ap.Addr()) {
				return ErrRefusedAddress
			}
			return nil
		}
	}
	var last error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		last = err
	}
	return nil, last
}

// special are the ranges no delivery reaches besides those netip classifies: shared address
// space (CGNAT), "this network", IETF protocol assignments, benchmarking, reserved, NAT64.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Refused reports whether a delivery may not reach an address: loopback, private, link-local
// (169.254.169.254, the cloud metadata service, among them), unspecified, multicast or a
// special range; an IPv4-mapped IPv6 address is judged as its IPv4 address.
func Refused(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range special {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Result is the outcome of one attempt, as the delivery log keeps it.
type Result struct {
	Status   int           // the receiver's HTTP status; 0 when there was no answer
	Latency  time.Duration // from sending to the end of the response (or the failure)
	Response string        // the first ResponseCap bytes of the response body
	Err      error         // no answer: refused address, timeout, connection closed…
}

// OK reports whether the receiver accepted the delivery (a 2xx answer).
func (r Result) OK() bool { return r.Err == nil && r.Status >= 200 && r.Status < 300 }

// Post sends one delivery. A redirect is not followed: it is an answer like any other non-2xx.
func (c *Client) Post(ctx context.Context, rawURL string, h http.Header, body []byte) Result {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(string(body)))
	if err != nil {
		return Result{Err: err}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.agent)
	res, err := c.http.Do(req)
	if err != nil {
		return Result{Latency: time.Since(start), Err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, ResponseCap))
	out := Result{Status: res.StatusCode, Latency: time.Since(start), Response: roster.CleanText(string(b), ResponseCap)}
	if err != nil && !out.OK() {
		out.Err = err
	}
	return out
}
