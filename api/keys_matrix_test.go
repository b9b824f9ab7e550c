package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestKeyPermissionsOnEveryEndpoint calls every operation of the API, as listed by its
// OpenAPI document, with a narrow key (viewer of one store) and with a key of another
// organization: the narrow key succeeds only where a viewer may, the foreign key never.
func TestKeyPermissionsOnEveryEndpoint(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner, member, stranger := env.person("Olivia"), env.person("Marc"), env.person("Otto")
		org := env.Org(t, owner.actor, "Acme")
		s1, s2 := env.Store(t, owner.actor, org.ID, "One"), env.Store(t, owner.actor, org.ID, "Two")
		env.Join(t, owner.actor, org.ID, member.user, roster.OrgMember, app.StoreGrantInput{StoreID: s1.ID, RoleID: roster.StoreRoleViewer})
		role := env.must(http.StatusCreated, owner.token, http.MethodPost, "/v1/organizations/"+org.ID+"/roles",
			map[string]any{"name": "Reader", "permissions": []string{"store.read"}}).str("id")
		otherKeyID, _ := env.createKey(owner.token, map[string]any{"org": org.ID, "name": "Other", "role_id": "admin", "organization_role": "admin"})
		viewerKeyID, viewerKey := env.createKey(owner.token, map[string]any{"org": org.ID, "name": "Viewer", "store_id": s1.ID, "role_id": "viewer"})
		foreignOrg := env.Org(t, stranger.actor, "Elsewhere")
		_, foreignKey := env.createKey(stranger.token, map[string]any{"org": foreignOrg.ID, "name": "Foreign", "role_id": "admin", "organization_role": "admin"})

		// What a viewer of store One may do, by operation (and where the store matters, in One only).
		viewerMay := map[string]bool{"get-organization": true, "get-usage": true, "list-stores": true, "get-store": true, "list-store-members": true,
			"list-permissions": true, "list-audit-events": true, "export-audit-events": true, "list-api-keys": true}
		storeBound := map[string]bool{"get-store": true, "list-store-members": true}

		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string              `json:"operationId"`
				Security    []map[string]any    `json:"security"`
				Parameters  []map[string]any    `json:"parameters"`
				RequestBody map[string]any      `json:"requestBody"`
				Responses   map[string]struct{} `json:"responses"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(env.must(http.StatusOK, "", http.MethodGet, "/openapi.json", nil).raw, &doc); err != nil {
			t.Fatal(err)
		}
		param := regexp.MustCompile(`\{[a-z_]+\}`)
		var paths []string
		for p := range doc.Paths {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		seen := map[string]bool{}
		for _, p := range paths {
			for method, op := range doc.Paths[p] {
				method = strings.ToUpper(method)
				if len(op.Security) == 0 {
					continue // public: sign-up, login, links
				}
				for _, store := range []string{s1.ID, s2.ID} {
					path := param.ReplaceAllStringFunc(p, func(name string) string {
						switch name {
						case "{org}":
							return org.ID
						case "{store}":
							return store
						case "{user}":
							return member.user.ID
						case "{role}":
							return role
						case "{key}":
							if strings.HasPrefix(p, "/v1/permissions") {
								return "campaigns.create"
							}
							return otherKeyID
						}
						return "x"
					})
					var body any
					if op.RequestBody != nil {
						body = map[string]any{}
					}
					seen[op.OperationID] = true
					for _, k := range []struct {
						name, secret string
						may          bool
					}{
						{"viewer key", viewerKey, viewerMay[op.OperationID] && (!storeBound[op.OperationID] || store == s1.ID)},
						{"foreign key", foreignKey, op.OperationID == "list-permissions"},
					} {
						r := env.call(k.secret, method, path, body)
						ok := r.status >= 200 && r.status < 300
						if r.status >= 500 || ok != k.may {
							t.Errorf("%s: %s %s (%s): status %d %s", k.name, method, path, op.OperationID, r.status, r.raw)
						}
					}
				}
			}
		}
		if len(seen) < 60 {
			t.Fatalf("only %d operations in the OpenAPI document", len(seen))
		}
		// The narrow key is still alive and nothing of the organization changed.
		env.must(http.StatusOK, viewerKey, http.MethodGet, "/v1/stores/"+s1.ID, nil)
		env.must(http.StatusOK, owner.token, http.MethodGet, "/v1/organizations/"+org.ID+"/api-keys/"+otherKeyID, nil)
		if k, err := env.App.APIKeys.Get(testenv.Ctx, owner.actor, org.ID, viewerKeyID); err != nil || k.Status(env.Clock.Now()) != roster.APIKeyActive {
			t.Fatalf("viewer key after the run: %v %+v", err, k)
		}
	})
}
