package api_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

var ctx = testenv.Ctx

// server is the real REST API over a fresh database, on an httptest server: api.Register
// and httpserver.Wrap as serve wires them.
type server struct {
	env     *testenv.Env
	url     string
	handler http.Handler
}

func newServer(t testing.TB, e sqlstore.Engine, configure ...func(*app.Config)) *server {
	t.Helper()
	env := testenv.NewEnv(t, e, configure...)
	return serve(t, env, env.App, testenv.Logger(t))
}

// serve puts the API of an app on an httptest server, logging to log.
func serve(t testing.TB, env *testenv.Env, a *app.App, log *slog.Logger) *server {
	t.Helper()
	https := a.Config().BaseURL.Scheme == "https"
	mux := http.NewServeMux()
	api.Register(mux, a, api.Options{Log: log, Version: "test", HTTPS: https})
	h := httpserver.Wrap(mux, httpserver.Options{Log: log, HTTPS: https, Ready: a.Ready, Registry: prometheus.NewRegistry()})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &server{env: env, url: ts.URL, handler: h}
}

// raw is a request body sent as is, with its content type.
type raw struct {
	contentType string
	data        []byte
}

// response is an answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return http.StatusText(r.status) + " " + string(r.body) }

// json decodes the body into v.
func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problem is the problem+json of an error answer.
type problem struct {
	Status  int            `json:"status"`
	Code    string         `json:"code"`
	Detail  string         `json:"detail"`
	Field   string         `json:"field"`
	Details map[string]any `json:"details"`
}

// do sends a request: body may be nil, a raw body, a string (sent as JSON text) or any
// value (encoded as JSON). token, when set, goes in Authorization: Bearer.
func (s *server) do(t testing.TB, method, path, token string, body any) response {
	t.Helper()
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	return s.doAuth(t, method, path, auth, body)
}

// doAuth sends a request with a given Authorization header ("" for none).
func (s *server) doAuth(t testing.TB, method, path, auth string, body any) response {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case raw:
		rd, ct = bytes.NewReader(b.data), b.contentType
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// operations reads /openapi.json and returns every operation ID with its method and path.
func (s *server) operations(t testing.TB) map[string][2]string {
	t.Helper()
	r := s.do(t, "GET", "/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("openapi.json: %s", r)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	r.json(t, &doc)
	out := map[string][2]string{}
	for path, item := range doc.Paths {
		for method, o := range item {
			switch method {
			case "get", "put", "post", "patch", "delete":
				out[o.OperationID] = [2]string{strings.ToUpper(method), path}
			}
		}
	}
	return out
}

// sortedKeys returns the keys of a map in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pngImage is a small valid PNG.
func pngImage(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// signup and login create an account through the API and return its session token.
func (s *server) signup(t testing.TB, name string) (token, email string) {
	t.Helper()
	email = strings.ToLower(name) + "." + testenv.Unique() + "@example.com"
	if r := s.do(t, "POST", "/v1/auth/signup", "", map[string]string{"email": email, "name": name, "password": testenv.Password}); r.status != 202 {
		t.Fatalf("sign up: %s", r)
	}
	return s.login(t, email, testenv.Password), email
}

func (s *server) login(t testing.TB, email, pw string) string {
	t.Helper()
	r := s.do(t, "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": pw})
	if r.status != 200 {
		t.Fatalf("log in: %s", r)
	}
	var out struct {
		Token string `json:"token"`
	}
	r.json(t, &out)
	return out.Token
}

// queryString builds a query string.
func queryString(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

func jsonInto(data []byte, v any) error { return json.Unmarshal(data, v) }

func systemActor() roster.Actor { return roster.System() }
