package api_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestRevisionTokens: a write answers with Roster-Revision, the access revision its changes
// reached; a check given it as at_least_revision answers from a state at least that new; a
// revision from the future is the client's mistake (400), and reads carry no header.
func TestRevisionTokens(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		ownerTok, _ := s.signup(t, "Owner")
		owner, err := s.env.App.Auth.Authenticate(ctx, ownerTok, "", "")
		if err != nil {
			t.Fatal(err)
		}
		org := s.env.Org(t, owner, "Acme")
		_, m := s.env.User(t, "Ann")
		s.env.Join(t, owner, org.ID, m, roster.OrgMember)
		svc, err := s.env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
		if err != nil {
			t.Fatal(err)
		}
		rev := func(r response) int64 {
			t.Helper()
			v, err := strconv.ParseInt(r.header.Get(api.RevisionHeader), 10, 64)
			if err != nil || v <= 0 {
				t.Fatalf("%s: %s header %q", r, api.RevisionHeader, r.header.Get(api.RevisionHeader))
			}
			return v
		}
		path := "/v1/organizations/" + org.ID + "/members/" + m.ID
		r := s.do(t, http.MethodPatch, path, ownerTok, map[string]string{"status": "suspended"})
		if r.status != http.StatusOK {
			t.Fatalf("suspend: %s", r)
		}
		r1 := rev(r)
		r = s.do(t, http.MethodPatch, path, ownerTok, map[string]string{"status": "active"})
		r2 := rev(r)
		if r2 <= r1 {
			t.Fatalf("revisions %d then %d: not increasing", r1, r2)
		}
		check := map[string]any{"user_id": m.ID, "permission": "org.read", "organization_id": org.ID, "at_least_revision": r2}
		r = s.do(t, http.MethodPost, "/v1/check", svc.Secret, check)
		var out struct {
			Allowed bool `json:"allowed"`
		}
		if r.status != http.StatusOK {
			t.Fatalf("check: %s", r)
		}
		if r.json(t, &out); !out.Allowed {
			t.Fatalf("check at revision %d: %s", r2, r.body)
		}
		batch := map[string]any{"checks": []any{check}, "at_least_revision": r2}
		if r = s.do(t, http.MethodPost, "/v1/check/batch", svc.Secret, batch); r.status != http.StatusOK {
			t.Fatalf("batch: %s", r)
		}
		if r = s.do(t, http.MethodGet, "/v1/users/"+m.ID+"/stores?at_least_revision="+strconv.FormatInt(r2, 10), svc.Secret, nil); r.status != http.StatusOK {
			t.Fatalf("user stores: %s", r)
		}
		check["at_least_revision"] = r2 + 1000
		if r = s.do(t, http.MethodPost, "/v1/check", svc.Secret, check); r.status != http.StatusUnprocessableEntity || r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("a revision from the future: %s", r)
		}
		check["at_least_revision"] = -1
		if r = s.do(t, http.MethodPost, "/v1/check", svc.Secret, check); r.status/100 != 4 {
			t.Fatalf("a negative revision: %s", r)
		}
		if r = s.do(t, http.MethodGet, "/v1/me", ownerTok, nil); r.header.Get(api.RevisionHeader) != "" {
			t.Errorf("a read answers with %s", api.RevisionHeader)
		}
		// A check is a read, although a POST.
		check["at_least_revision"] = r2
		for _, path := range []string{"/v1/check", "/v1/check/batch"} {
			body := any(check)
			if path == "/v1/check/batch" {
				body = batch
			}
			if r = s.do(t, http.MethodPost, path, svc.Secret, body); r.status != http.StatusOK || r.header.Get(api.RevisionHeader) != "" {
				t.Errorf("%s answers %d with %s %q", path, r.status, api.RevisionHeader, r.header.Get(api.RevisionHeader))
			}
		}
		// One read barrier per request: the service token's verification and the check share it.
		before := s.env.App.Access.IndexStats().Barriers
		if r = s.do(t, http.MethodPost, "/v1/check", svc.Secret, map[string]any{"user_id": m.ID, "permission": "org.read", "organization_id": org.ID}); r.status != http.StatusOK {
			t.Fatalf("check: %s", r)
		}
		reads := s.env.App.Access.IndexStats().Barriers - before
		if reads > 1 || e == sqlstore.SQLite && reads != 1 { // PostgreSQL without a listener reads SQL
			t.Errorf("one check request made %d barrier reads, want 1", reads)
		}
		// The OpenAPI document says so.
		var doc struct {
			Paths map[string]map[string]struct {
				Responses map[string]struct {
					Headers map[string]any `json:"headers"`
				} `json:"responses"`
			} `json:"paths"`
		}
		s.do(t, http.MethodGet, "/openapi.json", "", nil).json(t, &doc)
		if _, ok := doc.Paths["/v1/organizations/{org}/members/{user}"]["patch"].Responses["200"].Headers[api.RevisionHeader]; !ok {
			t.Errorf("the OpenAPI document does not declare %s on writes", api.RevisionHeader)
		}
		if _, ok := doc.Paths["/v1/check"]["post"].Responses["200"].Headers[api.RevisionHeader]; ok {
			t.Errorf("the OpenAPI document declares %s on checks", api.RevisionHeader)
		}
	})
}
