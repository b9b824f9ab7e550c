package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestInvalidUTF8FromOutside: a User-Agent that is not valid UTF-8, or whose 512-byte cut
// falls inside a character, never makes an answer fail (PostgreSQL refuses such text), and
// the answers for an existing and an unknown account stay the same: a header cannot tell
// which accounts exist. Text filters of the audit log are checked like every text input.
func TestInvalidUTF8FromOutside(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		token, known := s.signup(t, "Una")
		unknown := "nobody." + testenv.Unique() + "@example.com"

		send := func(path, ua string, body any) (int, string) {
			t.Helper()
			data, _ := json.Marshal(body)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+path, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", ua)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var p map[string]any
			_ = json.Unmarshal(b, &p)
			delete(p, "request_id")
			norm, _ := json.Marshal(p)
			return resp.StatusCode, string(norm)
		}
		for _, ua := range []string{"X\xff", strings.Repeat("a", 511) + "é", "\xc3"} {
			// Login: a wrong password for an existing account and any password for an unknown
			// one get the same answer (the first writes an audit event with the header).
			st1, b1 := send("/v1/auth/login", ua, map[string]string{"email": known, "password": "not the password at all"})
			st2, b2 := send("/v1/auth/login", ua, map[string]string{"email": unknown, "password": "not the password at all"})
			if st1 != http.StatusUnauthorized || st1 != st2 || b1 != b2 {
				t.Errorf("login with User-Agent %q: %d %s for a known account, %d %s for an unknown one", ua, st1, b1, st2, b2)
			}
			// Sign-up: a taken address and a new one get the same answer.
			st1, b1 = send("/v1/auth/signup", ua, map[string]string{"email": known, "name": "Una", "password": testenv.Password})
			st2, b2 = send("/v1/auth/signup", ua, map[string]string{"email": "new." + testenv.Unique() + "@example.com", "name": "New", "password": testenv.Password})
			if st1 != http.StatusAccepted || st1 != st2 || b1 != b2 {
				t.Errorf("sign-up with User-Agent %q: %d %s for a taken address, %d %s for a new one", ua, st1, b1, st2, b2)
			}
			// Password reset: always the same answer.
			st1, _ = send("/v1/auth/password-reset", ua, map[string]string{"email": known})
			st2, _ = send("/v1/auth/password-reset", ua, map[string]string{"email": unknown})
			if st1 != http.StatusAccepted || st2 != st1 {
				t.Errorf("password reset with User-Agent %q: %d and %d", ua, st1, st2)
			}
		}
		// A successful login with such a header keeps a session, with the header cleaned.
		if st, _ := send("/v1/auth/login", "X\xff", map[string]string{"email": known, "password": testenv.Password}); st != http.StatusOK {
			t.Fatalf("login with an invalid User-Agent: %d", st)
		}
		if n := s.env.Int(t, `SELECT COUNT(*) FROM sessions WHERE user_agent = ?`, "X\uFFFD"); n != 1 {
			t.Errorf("%d sessions keep the cleaned User-Agent, want 1", n)
		}

		// Audit filters: invalid UTF-8 is a 422 problem, in the listing and the export.
		var org struct {
			ID string `json:"id"`
		}
		s.do(t, "POST", "/v1/organizations", token, map[string]string{"name": "Filters"}).json(t, &org)
		for _, path := range []string{
			"/v1/organizations/" + org.ID + "/audit-events?action=%FF",
			"/v1/organizations/" + org.ID + "/audit-events?target_id=%C3",
			"/v1/organizations/" + org.ID + "/audit-events/export?format=csv&action=%FF",
			"/v1/organizations/" + org.ID + "/audit-events/export?format=jsonl&actor_id=a%00b",
		} {
			r := s.do(t, "GET", path, token, nil)
			var p problem
			_ = json.Unmarshal(r.body, &p)
			if r.status != http.StatusUnprocessableEntity || p.Code != "invalid" {
				t.Errorf("GET %s: %s", path, r)
			}
		}
	})
}
