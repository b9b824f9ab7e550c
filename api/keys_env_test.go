package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// keysEnv is a Roster API served over HTTP on a fresh database, for the tests of roles,
// permissions and API keys.
type keysEnv struct {
	*testenv.Env
	t   *testing.T
	url string
}

func newKeysEnv(t *testing.T, e sqlstore.Engine) *keysEnv {
	t.Helper()
	return serveKeysEnv(t, testenv.NewEnv(t, e))
}

// serveKeysEnv serves the API of an environment over HTTP.
func serveKeysEnv(t *testing.T, env *testenv.Env) *keysEnv {
	t.Helper()
	mux := http.NewServeMux()
	log := testenv.Logger(t)
	api.Register(mux, env.App, api.Options{Log: log, Version: "test"})
	srv := httptest.NewServer(httpserver.Wrap(mux, httpserver.Options{Log: log, Ready: env.App.Ready, Registry: prometheus.NewRegistry()}))
	t.Cleanup(srv.Close)
	return &keysEnv{Env: env, t: t, url: srv.URL}
}

// person is a signed-up user with the bearer token of a session.
type person struct {
	token string
	user  roster.User
	actor roster.Actor
}

// person signs up a user and logs them in.
func (e *keysEnv) person(name string) person {
	e.t.Helper()
	_, u := e.User(e.t, name)
	return e.person2(u.Email)
}

// reply is an answer of the API.
type reply struct {
	status int
	body   map[string]any
	raw    []byte
	header http.Header
}

// code returns the problem code of an error answer.
func (r reply) code() string { s, _ := r.body["code"].(string); return s }

// str returns a top-level string field.
func (r reply) str(k string) string { s, _ := r.body[k].(string); return s }

// list returns a top-level array field.
func (r reply) list(k string) []any { l, _ := r.body[k].([]any); return l }

// call sends a request with a bearer token ("" for none) and a JSON body (nil for none).
func (e *keysEnv) call(token, method, path string, body any) reply {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := reply{status: res.StatusCode, raw: raw, header: res.Header}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); (mt == "application/json" || mt == "application/problem+json") && len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return r
}

// must sends a request and fails the test unless the answer has the wanted status.
func (e *keysEnv) must(want int, token, method, path string, body any) reply {
	e.t.Helper()
	r := e.call(token, method, path, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

// refused sends a request and fails the test unless it is refused with a status and code.
func (e *keysEnv) refused(status int, code, token, method, path string, body any) reply {
	e.t.Helper()
	r := e.call(token, method, path, body)
	if r.status != status || (code != "" && r.code() != code) {
		e.t.Fatalf("%s %s: got %d %q, want %d %q: %s", method, path, r.status, r.code(), status, code, r.raw)
	}
	return r
}

// serviceToken returns a new service token of the host application.
func (e *keysEnv) serviceToken() string {
	e.t.Helper()
	st, err := e.App.Operator.CreateServiceToken(testenv.Ctx, roster.System(), "host app")
	if err != nil {
		e.t.Fatal(err)
	}
	return st.Secret
}

// allowed asks the check API whether a user holds a permission in a store.
func (e *keysEnv) allowed(svc, userID, perm, storeID string) bool {
	e.t.Helper()
	r := e.must(http.StatusOK, svc, http.MethodPost, "/v1/check", map[string]any{"user_id": userID, "permission": perm, "store_id": storeID})
	return r.body["allowed"] == true
}

// createKey makes an API key through the API and returns its ID and secret.
func (e *keysEnv) createKey(token string, body map[string]any) (id, secret string) {
	e.t.Helper()
	path := "/v1/organizations/" + body["org"].(string) + "/api-keys"
	body = without(body, "org")
	if _, ok := body["password"]; !ok {
		body["password"] = testenv.Password // creating a key always asks for it
	}
	r := e.must(http.StatusCreated, token, http.MethodPost, path, body)
	return r.str("id"), r.str("secret")
}

func without(m map[string]any, k string) map[string]any {
	out := map[string]any{}
	for kk, v := range m {
		if kk != k {
			out[kk] = v
		}
	}
	return out
}
