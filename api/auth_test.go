package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

func cookies(r response) []*http.Cookie { return (&http.Response{Header: r.header}).Cookies() }

// TestSessionCookie: the login cookie is HttpOnly, SameSite=Lax, Path=/, without Domain, and
// Secure exactly when ROSTER_BASE_URL is https; logout clears it.
func TestSessionCookie(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		for _, base := range []string{"https://roster.example", "http://127.0.0.1:8080"} {
			s := newServer(t, e, func(c *app.Config) { c.BaseURL, _ = url.Parse(base) })
			_, email := s.signup(t, "Cleo")
			r := s.do(t, "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": testenv.Password})
			cs := cookies(r)
			if r.status != 200 || len(cs) != 1 {
				t.Fatalf("%s: login %s, cookies %v", base, r, cs)
			}
			c := cs[0]
			var body struct {
				Token     string    `json:"token"`
				ExpiresAt time.Time `json:"expires_at"`
			}
			r.json(t, &body)
			secure := base[:5] == "https"
			if c.Name != "roster_session" || c.Value != body.Token || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
				c.Domain != "" || c.Secure != secure || !c.Expires.Equal(body.ExpiresAt.Truncate(time.Second)) {
				t.Errorf("%s: cookie %+v", base, c)
			}
			out := s.do(t, "POST", "/v1/auth/logout", body.Token, nil)
			cs = cookies(out)
			if out.status != 204 || len(cs) != 1 || cs[0].Value != "" || cs[0].MaxAge >= 0 || cs[0].Secure != secure || !cs[0].HttpOnly {
				t.Errorf("%s: logout %s %+v", base, out, cs)
			}
			if r := s.do(t, "GET", "/v1/me", body.Token, nil); r.status != 401 {
				t.Errorf("%s: the session works after logout: %s", base, r)
			}
			// The API ignores cookies: a browser's cookie alone authenticates nothing here.
			req, _ := http.NewRequest("GET", s.url+"/v1/me", nil)
			req.AddCookie(&http.Cookie{Name: "roster_session", Value: s.login(t, email, testenv.Password)})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("%s: a cookie authenticated an API call: %d", base, resp.StatusCode)
			}
		}
	})
}

// TestLoginAnswers: wrong passwords and unknown accounts get the same body; repeated failures
// get 429 with Retry-After; the per-IP limit too.
func TestLoginAnswers(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e, func(c *app.Config) { c.LoginPerIP = 12 })
		_, email := s.signup(t, "Lena")
		strip := func(r response) string {
			var m map[string]any
			_ = json.Unmarshal(r.body, &m)
			delete(m, "request_id")
			b, _ := json.Marshal(m)
			return strconv.Itoa(r.status) + string(b)
		}
		known := s.do(t, "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": "wrong password, try again"})
		unknown := s.do(t, "POST", "/v1/auth/login", "", map[string]string{"email": "nobody@example.com", "password": "wrong password, try again"})
		if known.status != 401 || strip(known) != strip(unknown) {
			t.Errorf("answers differ:\n%s\n%s", known, unknown)
		}
		// Sign-up with a taken address answers as for a new one.
		taken := s.do(t, "POST", "/v1/auth/signup", "", map[string]string{"email": email, "name": "X", "password": "another fine passphrase"})
		fresh := s.do(t, "POST", "/v1/auth/signup", "", map[string]string{"email": "fresh." + testenv.Unique() + "@example.com", "name": "X", "password": "another fine passphrase"})
		if taken.status != 202 || strip(taken) != strip(fresh) {
			t.Errorf("sign-up answers differ:\n%s\n%s", taken, fresh)
		}
		// Four more failures (five in all) lock the account for a second: 429 and Retry-After.
		for range 4 {
			s.do(t, "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": "wrong password, try again"})
		}
		r := s.do(t, "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": testenv.Password})
		var p problem
		if r.status != 429 || r.header.Get("Retry-After") != "1" || jsonInto(r.body, &p) != nil || p.Code != "rate_limited" {
			t.Errorf("locked account: %s %v", r, r.header)
		}
		// The per-IP limit (12 a minute here) answers 429 with Retry-After as well.
		var last response
		for range 12 {
			last = s.do(t, "POST", "/v1/auth/login", "", map[string]string{"email": "x" + testenv.Unique() + "@example.com", "password": "whatever it is"})
		}
		if last.status != 429 || last.header.Get("Retry-After") != "5" {
			t.Errorf("per-IP limit: %s %v", last, last.header)
		}
	})
}
