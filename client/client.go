// Package client is a typed Go client of Roster's REST API (/v1), for host applications:
// the permission checks they make on every screen, the organizations, stores, members and
// invitations they show, and the verification of the webhooks Roster sends them.
//
// Errors are *Error, carrying the problem's stable code (see IsCode); listings are Go
// iterators that follow the cursors; a request answered 503 (or 429) is retried after the
// Retry-After the server gives, a few times, within the context's deadline.
//
//	c, err := client.New("https://roster.example.com", os.Getenv("ROSTER_SERVICE_TOKEN"))
//	res, err := c.Check(ctx, client.CheckRequest{UserID: u, Permission: "campaigns.create", StoreID: s})
//	if res.Allowed { … }
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one Roster instance with one credential: a service token, an API key, a
// session token or a Roster access token (all sent as Authorization: Bearer).
type Client struct {
	base      *url.URL
	token     string
	http      *http.Client
	retries   int
	maxWait   time.Duration
	userAgent string
}

// Option changes a Client.
type Option func(*Client)

// WithHTTPClient sends requests through h (timeouts, proxies, TLS).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetries sets how many times a request answered 503 or 429 is sent again (3 by
// default; 0 never retries).
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(0, n) } }

// WithMaxRetryWait bounds the wait before one retry, whatever Retry-After says (30 s by
// default).
func WithMaxRetryWait(d time.Duration) Option { return func(c *Client) { c.maxWait = d } }

// WithUserAgent names the host application in Roster's audit log.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the Roster at baseURL (such as https://roster.example.com).
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: %q is not an absolute http(s) URL", baseURL)
	}
	c := &Client{base: u, token: token, http: &http.Client{Timeout: 30 * time.Second}, retries: 3, maxWait: 30 * time.Second,
		userAgent: "roster-go-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Error is a refusal from Roster: an RFC 9457 problem with its stable code.
type Error struct {
	Status     int            // the HTTP status
	Code       string         `json:"code"` // stable: "forbidden", "not_found", "invalid", "already_member", …
	Title      string         `json:"title"`
	Detail     string         `json:"detail"`
	Field      string         `json:"field"`   // the input field at fault, when one is
	Details    map[string]any `json:"details"` // more about the refusal (the missing permission, …)
	RequestID  string         `json:"request_id"`
	RetryAfter time.Duration  // from Retry-After, when the server gave one
}

func (e *Error) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if e.Field != "" {
		return fmt.Sprintf("roster: %d %s (%s): %s", e.Status, e.Code, e.Field, msg)
	}
	return fmt.Sprintf("roster: %d %s: %s", e.Status, e.Code, msg)
}

// IsCode reports whether err is a Roster refusal with that code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// do sends one request and decodes a JSON answer into out (nil: none expected). Requests
// answered 503 or 429 are sent again after Retry-After, at most c.retries times.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("client: encoding the request: %w", err)
		}
	}
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
		if err != nil {
			return err
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json, application/problem+json")
		req.Header.Set("User-Agent", c.userAgent)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return err
		}
		err = decode(resp, out)
		var e *Error
		if !errors.As(err, &e) || (e.Status != http.StatusServiceUnavailable && e.Status != http.StatusTooManyRequests) || attempt >= c.retries {
			return err
		}
		wait := min(max(e.RetryAfter, 100*time.Millisecond), c.maxWait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err // the last refusal says more than "context canceled"
		case <-t.C:
		}
	}
}

func decode(resp *http.Response, out any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(b, e) != nil || e.Code == "" {
			e.Code, e.Title = "http_"+strconv.Itoa(resp.StatusCode), http.StatusText(resp.StatusCode)
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("client: decoding the answer: %w", err)
	}
	return nil
}

// pages yields the items of a listing page by page, following next_cursor.
func pages[T any](ctx context.Context, c *Client, path string, query url.Values, items func(page *page[T]) []T) func(yield func(T, error) bool) {
	return func(yield func(T, error) bool) {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		for {
			var p page[T]
			if err := c.do(ctx, http.MethodGet, path, q, nil, &p); err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items(&p) {
				if !yield(it, nil) {
					return
				}
			}
			if p.Next == "" {
				return
			}
			q.Set("cursor", p.Next)
		}
	}
}

// page is one page of any listing: the items under their own name, and the next cursor.
type page[T any] struct {
	Members     []T    `json:"members"`
	Invitations []T    `json:"invitations"`
	Events      []T    `json:"events"`
	Next        string `json:"next_cursor"`
}
