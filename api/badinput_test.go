package api_test

// Bad input on every endpoint (SECURITY.md "Input and errors"): malformed JSON, wrong types,
// unknown fields, oversized bodies, wrong content types, invalid emails, IDs and query
// values, forged and expired tokens. Every answer is a 4xx problem+json with a code, never a
// 500, and nothing is written.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// spec is what the OpenAPI document says of one operation's input.
type spec struct {
	method, path string
	params       []struct {
		Name   string `json:"name"`
		In     string `json:"in"`
		Schema struct {
			Type   string `json:"type"`
			Format string `json:"format"`
			Enum   []any  `json:"enum"`
		} `json:"schema"`
	}
	body map[string]any // content type → schema, nil without a body
}

func (s *server) specs(t *testing.T) map[string]spec {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	s.do(t, "GET", "/openapi.json", "", nil).json(t, &doc)
	out := map[string]spec{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			var o struct {
				OperationID string          `json:"operationId"`
				Parameters  json.RawMessage `json:"parameters"`
				RequestBody *struct {
					Content map[string]any `json:"content"`
				} `json:"requestBody"`
			}
			if err := json.Unmarshal(raw, &o); err != nil || o.OperationID == "" {
				continue
			}
			sp := spec{method: strings.ToUpper(method), path: path}
			if len(o.Parameters) > 0 {
				if err := json.Unmarshal(o.Parameters, &sp.params); err != nil {
					t.Fatal(err)
				}
			}
			if o.RequestBody != nil {
				sp.body = o.RequestBody.Content
			}
			out[o.OperationID] = sp
		}
	}
	return out
}

// badRequest is one request that must be refused.
type badRequest struct {
	what        string
	path        string
	contentType string
	body        []byte
	token       string
	status      int // the exact status wanted, or 0 for any 4xx
}

// privileged returns the caller of an operation who succeeds with good input, so that
// refusals come from the input and not from the caller.
func privileged(row op) int {
	for _, c := range []int{owner, operator, service, anon, admin, storeAdmin, member} {
		if row.want[c] < 300 {
			return c
		}
	}
	return owner
}

func TestBadInputOnEveryEndpoint(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e)
		specs := f.s.specs(t)
		forged := "rs_" + strings.Repeat("A", 43)
		for _, id := range sortedKeys(specs) {
			sp := specs[id]
			row, ok := rows[id]
			if !ok {
				t.Errorf("operation %s has no row in the isolation matrix", id)
				continue
			}
			caller := privileged(row)
			c := f.cell(f.shared, caller)
			if row.setup != nil {
				row.setup(t, c)
			}
			good := pathVar.ReplaceAllStringFunc(row.path, func(v string) string { return c.vars[v[1:len(v)-1]] })
			goodPath, goodQuery, _ := strings.Cut(good, "?")
			if goodQuery != "" {
				goodQuery = "?" + goodQuery
			}
			var base map[string]any
			var rawBase []byte
			if row.body != nil {
				b := row.body(c)
				if r, ok := b.(raw); ok {
					rawBase = r.data
				} else {
					data, _ := json.Marshal(b)
					_ = json.Unmarshal(data, &base)
				}
			}
			var reqs []badRequest
			add := func(r badRequest) {
				if r.path == "" {
					r.path = good
				}
				if r.token == "" {
					r.token = c.token
				}
				reqs = append(reqs, r)
			}
			// Credentials: forged, malformed, of another scheme. Refused before anything else.
			for _, tok := range []string{forged, "rs_short", "rl_" + strings.Repeat("B", 43), "rsvc_" + strings.Repeat("C", 43), strings.Repeat("x", 5000)} {
				add(badRequest{what: "forged token " + tok[:min(len(tok), 8)], token: tok, status: 401})
			}
			reqs = append(reqs, badRequest{what: "basic auth", path: good, token: "\x00basic", status: 401})

			// Path parameters: malformed, too long, hostile.
			for _, p := range sp.params {
				if p.In != "path" {
					continue
				}
				if c.vars[p.Name] == "" {
					t.Errorf("%s: no value for the path parameter %s", id, p.Name)
					continue
				}
				for _, v := range []string{"nope", "org_00000000000000000000000000", strings.Repeat("x", 41), "usr_' OR '1'='1", "%00", "..%2f..%2fetc", "sto_ÿ", "sto_\xff", "\xff\xfe"} {
					bad := strings.Replace(goodPath, c.vars[p.Name], url.PathEscape(v), 1)
					if bad == goodPath {
						continue
					}
					add(badRequest{what: fmt.Sprintf("path %s=%q", p.Name, v), path: bad + goodQuery})
				}
			}
			// Query parameters: wrong types, out of range, unknown enum values.
			for _, p := range sp.params {
				if p.In != "query" {
					continue
				}
				var vals []string
				switch {
				case len(p.Schema.Enum) > 0:
					vals = []string{"bogus", "ACTIVE"}
				case p.Schema.Type == "integer":
					vals = []string{"abc", "-1", "0", "100000", "1e99"}
				case p.Schema.Format == "date-time":
					vals = []string{"yesterday", "2026-13-45T99:00:00Z"}
				case p.Name == "cursor":
					vals = []string{"nope", strings.Repeat("z", 41), "\xff"}
				case p.Schema.Type == "string":
					// Too long, not UTF-8 (PostgreSQL refuses such text), a control character.
					vals = []string{strings.Repeat("q", 101), "\xff", "member.\xc3", "a\x00b"}
				}
				for _, v := range vals {
					add(badRequest{what: fmt.Sprintf("query %s=%q", p.Name, v), path: goodPath + queryString(p.Name, v)})
				}
			}
			// Bodies.
			if sp.body != nil {
				_, isJSON := sp.body["application/json"]
				if isJSON {
					valid, _ := json.Marshal(base)
					add(badRequest{what: "malformed JSON", contentType: "application/json", body: valid[:len(valid)-1]})
					add(badRequest{what: "not JSON", contentType: "application/json", body: []byte("name=x&email=y")})
					add(badRequest{what: "an array", contentType: "application/json", body: []byte("[1,2,3]")})
					add(badRequest{what: "a string", contentType: "application/json", body: []byte(`"hello"`)})
					add(badRequest{what: "null", contentType: "application/json", body: []byte(`null`)})
					add(badRequest{what: "wrong content type", contentType: "text/plain", body: valid, status: 415})
					add(badRequest{what: "form content type", contentType: "application/x-www-form-urlencoded", body: []byte("name=x"), status: 415})
					big := append([]byte(`{"name":"`), bytes.Repeat([]byte("a"), 2<<20+10)...) // over every limit, uploads' too
					add(badRequest{what: "oversized body", contentType: "application/json", body: append(big, '"', '}'), status: 413})
					add(badRequest{what: "unknown field", contentType: "application/json", body: withField(base, "zz_unknown", true)})
					add(badRequest{what: "mass assignment", contentType: "application/json", body: withField(base, "operator", true)})
					for k, v := range base {
						add(badRequest{what: "wrong type for " + k, contentType: "application/json", body: withField(base, k, wrongType(v))})
						// A name given twice, even with the same value, or in capitals: parsers
						// that differ on them (the first wins, the last wins) must not see two
						// requests in one.
						add(badRequest{what: "twice " + k, contentType: "application/json", body: withTwice(valid, k, v)})
						add(badRequest{what: "capitals " + k, contentType: "application/json", body: withTwice([]byte("{}"), strings.ToUpper(k), v)})
						if _, ok := v.(string); ok {
							add(badRequest{what: "not UTF-8 in " + k, contentType: "application/json", body: bytes.Replace(withField(base, k, "x-?-"), []byte("-?-"), []byte{0xff}, 1)})
						}
						if strings.Contains(k, "email") {
							for _, bad := range []string{"not-an-address", "a@b.com\r\nBcc: c@d.com", "a@localhost", strings.Repeat("a", 400) + "@x.com"} {
								add(badRequest{what: "invalid email " + k, contentType: "application/json", body: withField(base, k, bad)})
							}
						}
						// The client ID an organization's identity provider issued is its text, not a Roster ID.
						if (strings.HasSuffix(k, "_id") || k == "user_id") && !(id == "put-sso" && k == "client_id") {
							for _, bad := range []string{"nope", "usr_00000000000000000000000000", strings.Repeat("x", 41)} {
								add(badRequest{what: "invalid ID " + k, contentType: "application/json", body: withField(base, k, bad)})
							}
						}
					}
				} else {
					add(badRequest{what: "not an image", contentType: "image/png", body: []byte("GIF89a not a png at all")})
					add(badRequest{what: "empty image", contentType: "image/png", body: []byte{}})
					add(badRequest{what: "truncated image", contentType: "image/png", body: rawBase[:len(rawBase)/2]})
					add(badRequest{what: "image as JSON", contentType: "application/json", body: rawBase, status: 415})
					add(badRequest{what: "image as text", contentType: "text/plain", body: rawBase, status: 415})
					add(badRequest{what: "oversized upload", contentType: "image/png", body: append(append([]byte{}, rawBase...), make([]byte, 2<<20)...), status: 413})
				}
			}

			before := f.s.env.RowCounts(t)
			for _, r := range reqs {
				var body any
				if r.body != nil || r.contentType != "" {
					body = raw{r.contentType, r.body}
				}
				tok := r.token
				var resp response
				if tok == "\x00basic" {
					resp = f.s.doAuth(t, sp.method, r.path, "Basic dXNlcjpwYXNz", body)
				} else {
					resp = f.s.do(t, sp.method, r.path, tok, body)
				}
				var p problem
				switch {
				case resp.status < 400 || resp.status >= 500:
					t.Errorf("%s %s (%s): %d: %.300s", sp.method, r.path, r.what, resp.status, resp.body)
				case r.status != 0 && resp.status != r.status:
					t.Errorf("%s %s (%s): %d, want %d: %.300s", sp.method, r.path, r.what, resp.status, r.status, resp.body)
				case resp.header.Get("Content-Type") != "application/problem+json" || jsonInto(resp.body, &p) != nil || p.Code == "":
					t.Errorf("%s %s (%s): not a problem with a code: %s %.300s", sp.method, r.path, r.what, resp.header.Get("Content-Type"), resp.body)
				case bytes.Contains(resp.body, []byte("sql")) || bytes.Contains(resp.body, []byte("SQL")) || bytes.Contains(resp.body, []byte("goroutine")):
					t.Errorf("%s (%s): the answer shows internals: %s", id, r.what, resp.body)
				}
			}
			if after := f.s.env.RowCounts(t); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("%s: bad input wrote rows:\nbefore %v\nafter  %v", id, before, after)
			}
		}
		// A method a path does not have: 405 problem+json with Allow.
		methods := map[string]map[string]bool{}
		for _, sp := range specs {
			if methods[sp.path] == nil {
				methods[sp.path] = map[string]bool{}
			}
			methods[sp.path][sp.method] = true
		}
		routes := map[string][]*regexp.Regexp{} // method → path patterns
		for _, sp := range specs {
			routes[sp.method] = append(routes[sp.method], regexp.MustCompile("^"+strings.ReplaceAll(regexp.QuoteMeta(pathVar.ReplaceAllString(sp.path, "PARAM")), "PARAM", "[^/]+")+"$"))
		}
		for path, has := range methods {
			concrete := pathVar.ReplaceAllString(path, "x")
		method:
			for _, m := range []string{"GET", "PUT", "POST", "PATCH", "DELETE"} {
				if has[m] {
					continue
				}
				for _, re := range routes[m] {
					if re.MatchString(concrete) {
						continue method // another route takes it: /v1/invitations/accept is also /v1/invitations/{id}
					}
				}
				r := f.s.do(t, m, concrete, f.tokens[owner], nil)
				var p problem
				if r.status != 405 || jsonInto(r.body, &p) != nil || p.Code != "method_not_allowed" || r.header.Get("Allow") == "" {
					t.Errorf("%s %s: %s", m, concrete, r)
				}
			}
		}
	})
}

// withField returns the JSON of m with one field set.
func withField(m map[string]any, k string, v any) []byte {
	c := map[string]any{}
	for k, v := range m {
		c[k] = v
	}
	c[k] = v
	data, _ := json.Marshal(c)
	return data
}

// withTwice returns the JSON object body with the name k first given the value v: body's own
// k makes it twice.
func withTwice(body []byte, k string, v any) []byte {
	first, _ := json.Marshal(map[string]any{k: v})
	if len(body) <= 2 {
		return first
	}
	return append(append(first[:len(first)-1:len(first)-1], ','), body[1:]...)
}

// wrongType returns a value of another JSON type than v.
func wrongType(v any) any {
	switch v.(type) {
	case string:
		return 12345
	case float64:
		return "12345"
	case bool:
		return "yes"
	case []any:
		return map[string]any{"a": 1}
	case map[string]any:
		return []any{1, 2}
	}
	return "x"
}

// TestExpiredAndRevokedTokens: a session token that expired, was revoked or logged out is
// refused on every kind of operation with 401 and a code.
func TestExpiredAndRevokedTokens(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		tok, _ := s.signup(t, "Eve")
		loggedOut, _ := s.signup(t, "Lou")
		if r := s.do(t, "POST", "/v1/auth/logout", loggedOut, nil); r.status != 204 {
			t.Fatalf("logout: %s", r)
		}
		svc, err := s.env.App.Operator.CreateServiceToken(ctx, systemActor(), "host")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.env.App.Operator.RevokeServiceToken(ctx, systemActor(), svc.ID); err != nil {
			t.Fatal(err)
		}
		s.env.Clock.Advance(31 * 24 * time.Hour)
		for _, tc := range []struct{ name, token string }{{"expired", tok}, {"logged out", loggedOut}, {"revoked service token", svc.Secret}} {
			for _, req := range [][2]string{{"GET", "/v1/me"}, {"POST", "/v1/auth/login"}, {"POST", "/v1/check"}, {"GET", "/v1/admin/users"}} {
				r := s.do(t, req[0], req[1], tc.token, nil)
				var p problem
				if r.status != 401 || jsonInto(r.body, &p) != nil || p.Code != "unauthenticated" || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s token on %s %s: %s", tc.name, req[0], req[1], r)
				}
			}
		}
	})
}
