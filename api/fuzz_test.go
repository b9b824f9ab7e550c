package api_test

import (
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sqlstore"
)

// fuzzTargets are the operations whose JSON bodies the fuzzer feeds, with who calls them.
var fuzzTargets = []struct {
	method, path string
	caller       int
}{
	{"POST", "/v1/auth/signup", anon},
	{"POST", "/v1/auth/login", anon},
	{"POST", "/v1/auth/password-reset/confirm", anon},
	{"PATCH", "/v1/me", member},
	{"POST", "/v1/organizations", member},
	{"PATCH", "/v1/organizations/{org}", owner},
	{"POST", "/v1/organizations/{org}/stores", owner},
	{"PATCH", "/v1/organizations/{org}/members/{user}", admin},
	{"PUT", "/v1/stores/{store}/members/{user}", admin},
	{"POST", "/v1/organizations/{org}/transfer-ownership", owner},
	{"POST", "/v1/check", service},
	{"POST", "/v1/check/batch", service},
	{"PATCH", "/v1/admin/organizations/{org}", operator},
}

// FuzzAPIBodies sends arbitrary bodies to the API's JSON operations, on every engine
// available: whatever the bytes, the answer is never a 5xx, and every refusal is a
// problem+json with a code.
func FuzzAPIBodies(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@b.com","name":"A","password":"correct horse battery staple"}`,
		`{"name":"Acme","details":{"website":"acme.com","country":"fr"}}`,
		`{"role":"admin","status":"suspended"}`, `{"role_id":"viewer"}`,
		`{"user_id":"usr_01jd8x5x9q0000000000000000","permission":"store.read","store_id":"sto_01jd8x5x9q0000000000000000"}`,
		`{"checks":[{"user_id":"x","permission":"org.read","organization_id":"y"}]}`,
		`{"store_credits":-1}`, `{"store_credits":1e400}`, `{"name":"\u0000\r\n"}`, `{"name":"a","name":"b"}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, `{"a":` + strings.Repeat(`{"a":`, 200),
		``, `null`, `"x"`, `0`, `{"email":"a@b.com\r\nBcc: c@d.com","password":"x"}`, "\xff\xfe{}",
	} {
		for i := range fuzzTargets {
			f.Add(uint8(i), []byte(seed))
		}
	}
	engines := []sqlstore.Engine{sqlstore.SQLite}
	if os.Getenv("ROSTER_TEST_POSTGRES_URL") != "" {
		engines = append(engines, sqlstore.Postgres)
	}
	var fixtures []*fixture
	for _, e := range engines {
		fixtures = append(fixtures, newFixture(f, e))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		ft := fuzzTargets[int(which)%len(fuzzTargets)]
		for _, fx := range fixtures {
			path := strings.NewReplacer("{org}", fx.shared.org.ID, "{store}", fx.shared.store.ID, "{user}", fx.shared.target.ID).Replace(ft.path)
			req := httptest.NewRequest(ft.method, path, strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			if tok := fx.tokens[ft.caller]; tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			w := httptest.NewRecorder()
			fx.s.handler.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("%s %s with %q: %d %s", ft.method, path, body, w.Code, w.Body)
			}
			if w.Code >= 400 {
				var p problem
				if w.Header().Get("Content-Type") != "application/problem+json" || jsonInto(w.Body.Bytes(), &p) != nil || p.Code == "" {
					t.Fatalf("%s %s with %q: not a problem: %d %s", ft.method, path, body, w.Code, w.Body)
				}
			}
		}
	})
}
