package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/rosterhq/roster"
)

// checkBody is the JSON of one question to the check API.
type checkBody struct {
	UserID     string `json:"user_id"`
	Permission string `json:"permission"`
	StoreID    string `json:"store_id,omitempty"`
}

type checkAnswer struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

func snippet(b []byte) string { return string(b[:min(len(b), 200)]) }

func expectOK(status int, body []byte, v any) error {
	if status != http.StatusOK {
		return fmt.Errorf("status %d: %s", status, snippet(body))
	}
	return json.Unmarshal(body, v)
}

// expectCount checks that an answer lists as many things under key as the dataset says. It
// counts them without decoding them: a selector's answer is half a megabyte, and the garbage
// of decoding it made the driver's collector take the cores Roster and the ceiling answer on.
func expectCount(key string, want int) func(int, []byte) error {
	return func(status int, b []byte) error {
		if status != http.StatusOK {
			return fmt.Errorf("status %d: %s", status, snippet(b))
		}
		n, err := countIn(b, key)
		if err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("%d %s, the dataset says %d", n, key, want)
		}
		return nil
	}
}

// countIn returns how many elements the array under key of the JSON object b holds.
func countIn(b []byte, key string) (int, error) {
	d := jsontext.NewDecoder(bytes.NewReader(b))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return 0, fmt.Errorf("not a JSON object: %s", snippet(b))
	}
	for d.PeekKind() == '"' {
		name, err := d.ReadToken()
		if err != nil {
			return 0, err
		}
		if name.String() != key {
			if err := d.SkipValue(); err != nil {
				return 0, err
			}
			continue
		}
		if tok, err := d.ReadToken(); err != nil || tok.Kind() != '[' {
			return 0, fmt.Errorf("%s is not an array", key)
		}
		n := 0
		for d.PeekKind() != ']' {
			if err := d.SkipValue(); err != nil {
				return 0, fmt.Errorf("%s: %w", key, err)
			}
			n++
		}
		return n, nil
	}
	return 0, fmt.Errorf("no %s in %s", key, snippet(b))
}

// checkScenario asks POST /v1/check about varied users, stores and permissions: about any of
// the dataset's users (all), or only about the first active ones, as a host application asks
// about the users signed in at the moment.
func checkScenario(m *model, active int32) scenario {
	if active <= 0 {
		active = int32(len(m.users))
	}
	return func(r *rand.Rand) request {
		u, p, s := m.questionAmong(r, active)
		body, _ := json.Marshal(checkBody{UserID: m.users[u], Permission: string(p), StoreID: m.stores[s].id})
		want := m.allowed(u, p, s)
		return request{method: http.MethodPost, path: "/v1/check", body: body, questions: 1, verify: func(status int, b []byte) error {
			var a checkAnswer
			if err := expectOK(status, b, &a); err != nil {
				return err
			}
			if a.Allowed != want {
				return fmt.Errorf("%s may %s in %s: answered %v, the dataset says %v", m.users[u], p, m.stores[s].id, a.Allowed, want)
			}
			return nil
		}}
	}
}

// batchScenario asks POST /v1/check/batch ten questions at a time.
func batchScenario(m *model, n int) scenario {
	return func(r *rand.Rand) request {
		var in struct {
			Checks []checkBody `json:"checks"`
		}
		want := make([]bool, n)
		for i := range n {
			u, p, s := m.question(r)
			in.Checks = append(in.Checks, checkBody{UserID: m.users[u], Permission: string(p), StoreID: m.stores[s].id})
			want[i] = m.allowed(u, p, s)
		}
		body, _ := json.Marshal(in)
		return request{method: http.MethodPost, path: "/v1/check/batch", body: body, questions: n, verify: func(status int, b []byte) error {
			var out struct {
				Results []checkAnswer `json:"results"`
			}
			if err := expectOK(status, b, &out); err != nil {
				return err
			}
			if len(out.Results) != n {
				return fmt.Errorf("%d results for %d checks", len(out.Results), n)
			}
			for i, a := range out.Results {
				if a.Allowed != want[i] {
					return fmt.Errorf("check %d (%+v): answered %v, the dataset says %v", i, in.Checks[i], a.Allowed, want[i])
				}
			}
			return nil
		}}
	}
}

// userStoresScenario asks GET /v1/users/{id}/stores?permission=store.read for varied users:
// any of the dataset's (active 0), or only the first active ones, as checkScenario does.
func userStoresScenario(m *model, active int32) scenario {
	n := int32(len(m.users) - 1) // not the selector user, who reaches 1,000 stores
	if active > 0 {
		n = min(n, active)
	}
	return func(r *rand.Rand) request {
		u := r.Int32N(n)
		want := m.storesWith(u, roster.PermStoreRead)
		return request{method: http.MethodGet, path: "/v1/users/" + m.users[u] + "/stores?permission=store.read", questions: 1,
			verify: expectCount("stores", want)}
	}
}

// selectorScenario asks GET /v1/me/organizations as the user who belongs to every organization.
func selectorScenario(m *model) scenario {
	want := len(m.userOrgs[m.selectorUser])
	return func(*rand.Rand) request {
		return request{method: http.MethodGet, path: "/v1/me/organizations", questions: 1, verify: expectCount("organizations", want)}
	}
}

// membersPage is the answer of GET /v1/organizations/{org}/members.
type membersPage struct {
	Members []struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"members"`
	NextCursor string `json:"next_cursor"`
}

// membersScenario reads one page of the big organization's members, after a cursor.
func membersScenario(m *model, cursor string) scenario {
	path := "/v1/organizations/" + m.orgs[m.bigOrg].id + "/members?limit=50"
	if cursor != "" {
		path += "&cursor=" + url.QueryEscape(cursor)
	}
	return func(*rand.Rand) request {
		return request{method: http.MethodGet, path: path, questions: 1, verify: func(status int, b []byte) error {
			var out membersPage
			if err := expectOK(status, b, &out); err != nil {
				return err
			}
			if len(out.Members) != 50 {
				return errors.New("a page without 50 members")
			}
			return nil
		}}
	}
}

// loginScenario signs varied users in with POST /v1/auth/login. With flood, the answers that
// refuse for load (429, 503 with Retry-After) count as right: what is measured is that every
// client hears back quickly.
func loginScenario(m *model, flood bool) scenario {
	return func(r *rand.Rand) request {
		u := r.Int32N(int32(len(m.users)))
		body, _ := json.Marshal(map[string]string{"email": userEmail(u), "password": benchPassword})
		return request{method: http.MethodPost, path: "/v1/auth/login", body: body, questions: 1, verify: func(status int, b []byte) error {
			if flood && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
				return nil
			}
			if status == http.StatusServiceUnavailable {
				return errRefused // the hasher's queue is full: counted, not a login
			}
			var out struct {
				Token string `json:"token"`
			}
			if err := expectOK(status, b, &out); err != nil {
				return err
			}
			if out.Token == "" {
				return errors.New("no session token")
			}
			return nil
		}}
	}
}
