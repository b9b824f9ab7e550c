package api_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestSCIMDirectoriesAPI: the token of a directory is in the answer that creates it or gives
// it a new one, and nowhere else (lists, reads, the audit log); a member may not manage
// directories; a SCIM token is no credential of /v1.
func TestSCIMDirectoriesAPI(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner := env.person("Olivia")
		org := env.Org(t, owner.actor, "Acme")
		member := env.person("Max")
		env.Join(t, owner.actor, org.ID, member.user, roster.OrgMember)
		path := "/v1/organizations/" + org.ID + "/scim"

		made := env.call(owner.token, "POST", path, map[string]string{"name": "Okta"})
		if made.status != 201 || !strings.HasPrefix(made.str("token"), "rscim_") || !strings.HasSuffix(made.str("base_url"), "/scim/v2") {
			t.Fatalf("create: %d %s", made.status, made.raw)
		}
		tok, id := made.str("token"), made.str("id")
		if r := env.call(member.token, "POST", path, map[string]string{"name": "Mine"}); r.status != 403 {
			t.Fatalf("a member creates a directory: %d", r.status)
		}
		if r := env.call(owner.token, "POST", path, map[string]string{"name": ""}); r.status != 422 {
			t.Fatalf("an empty name: %d %s", r.status, r.raw)
		}
		rot := env.call(owner.token, "POST", path+"/"+id+"/rotate", nil)
		if rot.status != 200 || rot.str("token") == tok || !strings.HasPrefix(rot.str("token"), "rscim_") {
			t.Fatalf("rotate: %d %s", rot.status, rot.raw)
		}
		for _, r := range []reply{env.call(owner.token, "GET", path, nil), env.call(owner.token, "GET", path+"/"+id, nil),
			env.call(owner.token, "GET", "/v1/organizations/"+org.ID+"/audit-events", nil)} {
			if r.status != 200 || strings.Contains(string(r.raw), "rscim_") {
				t.Fatalf("a token shown again: %d %s", r.status, r.raw)
			}
		}
		if r := env.call(rot.str("token"), "GET", "/v1/organizations/"+org.ID, nil); r.status != 401 {
			t.Fatalf("a SCIM token on /v1: %d", r.status)
		}
		if r := env.call(owner.token, "GET", path+"/"+id+"/groups", nil); r.status != 200 || len(r.list("groups")) != 0 {
			t.Fatalf("groups: %d %s", r.status, r.raw)
		}
		if r := env.call(owner.token, "PUT", path+"/"+id+"/groups/grp_01J00000000000000000000000", map[string]string{"org_role": "admin"}); r.status != 404 {
			t.Fatalf("map an unknown group: %d %s", r.status, r.raw)
		}
		if r := env.call(owner.token, "PUT", path+"/"+id+"/groups/grp_01J00000000000000000000000", map[string]string{"org_role": "owner"}); r.status != 422 {
			t.Fatalf("map to owner: %d %s", r.status, r.raw)
		}
		if r := env.call(owner.token, "DELETE", path+"/"+id, nil); r.status != 204 {
			t.Fatalf("delete: %d", r.status)
		}
		if r := env.call(owner.token, "GET", path+"/"+id, nil); r.status != 404 {
			t.Fatalf("deleted: %d", r.status)
		}
	})
}
