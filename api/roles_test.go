package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

func roleIDs(r reply) []string {
	var ids []string
	for _, x := range r.list("roles") {
		ids = append(ids, x.(map[string]any)["id"].(string))
	}
	return ids
}

func TestCustomRoles(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner, member := env.person("Olivia"), env.person("Marc")
		org := env.Org(t, owner.actor, "Acme")
		shop := env.Store(t, owner.actor, org.ID, "Shop")
		env.Join(t, owner.actor, org.ID, member.user, roster.OrgMember, app.StoreGrantInput{StoreID: shop.ID, RoleID: roster.StoreRoleViewer})
		roles := "/v1/organizations/" + org.ID + "/roles"

		// Built-in roles come first, with their permissions.
		r := env.must(http.StatusOK, owner.token, http.MethodGet, roles, nil)
		if ids := roleIDs(r); !slices.Equal(ids, []string{"admin", "member", "viewer"}) {
			t.Fatalf("roles: %v", ids)
		}
		env.refused(http.StatusForbidden, roster.EForbidden, member.token, http.MethodGet, roles, nil)

		// Bad input: unknown or organization permissions, built-in names, unknown fields, duplicates.
		env.refused(http.StatusUnprocessableEntity, roster.EUnknownPermission, owner.token, http.MethodPost, roles,
			map[string]any{"name": "X", "permissions": []string{"nope.nothing"}})
		env.refused(http.StatusUnprocessableEntity, roster.EInvalid, owner.token, http.MethodPost, roles,
			map[string]any{"name": "X", "permissions": []string{"org.delete"}})
		env.refused(http.StatusConflict, roster.EConflict, owner.token, http.MethodPost, roles, map[string]any{"name": "Viewer", "permissions": []string{}})
		env.refused(http.StatusUnprocessableEntity, "", owner.token, http.MethodPost, roles, map[string]any{"name": "X", "permissions": []string{}, "builtin": true})
		env.refused(http.StatusForbidden, roster.EForbidden, member.token, http.MethodPost, roles, map[string]any{"name": "X", "permissions": []string{}})

		r = env.must(http.StatusCreated, owner.token, http.MethodPost, roles, map[string]any{"name": "Support", "description": "Answers customers",
			"permissions": []string{"store.read", "store.data.read_all", "store.read"}})
		support := r.str("id")
		if got := r.body["permissions"].([]any); len(got) != 2 {
			t.Fatalf("permissions not deduplicated: %v", got)
		}
		env.refused(http.StatusConflict, roster.EConflict, owner.token, http.MethodPost, roles, map[string]any{"name": "support", "permissions": []string{}})

		// The role is usable in a store; editing it changes access on the next request.
		env.must(http.StatusNoContent, owner.token, http.MethodPut, "/v1/stores/"+shop.ID+"/members/"+member.user.ID, map[string]any{"role_id": support})
		svc := env.serviceToken()
		if !env.allowed(svc, member.user.ID, "store.data.read_all", shop.ID) || env.allowed(svc, member.user.ID, "store.members.read", shop.ID) {
			t.Fatal("custom role grants the wrong permissions")
		}
		env.must(http.StatusOK, owner.token, http.MethodPatch, roles+"/"+support, map[string]any{"permissions": []string{"store.read", "store.members.read"}})
		if env.allowed(svc, member.user.ID, "store.data.read_all", shop.ID) || !env.allowed(svc, member.user.ID, "store.members.read", shop.ID) {
			t.Fatal("edited role does not apply on the next request")
		}
		r = env.must(http.StatusOK, owner.token, http.MethodGet, roles+"/"+support, nil)
		if r.body["holders"].(float64) != 1 || r.str("name") != "Support" {
			t.Fatalf("role: %s", r.raw)
		}
		env.refused(http.StatusConflict, roster.EConflict, owner.token, http.MethodPatch, roles+"/viewer", map[string]any{"name": "Reader"})
		env.refused(http.StatusNotFound, roster.ENotFound, owner.token, http.MethodPatch, roles+"/rol_01jd8x5x9q0000000000000000", map[string]any{"name": "Reader"})

		// Deleting a role still held: refused with its holders, or moved to a replacement.
		keyID, key := env.createKey(owner.token, map[string]any{"org": org.ID, "name": "Support tool", "store_id": shop.ID, "role_id": support})
		r = env.refused(http.StatusConflict, roster.ERoleInUse, owner.token, http.MethodDelete, roles+"/"+support, nil)
		holders := r.body["details"].(map[string]any)["holders"].([]any)
		if len(holders) != 2 || holders[0].(map[string]any)["user_id"] != member.user.ID || holders[0].(map[string]any)["kind"] != "store_member" ||
			holders[1].(map[string]any)["api_key_id"] != keyID {
			t.Fatalf("holders: %v", holders)
		}
		r = env.must(http.StatusOK, owner.token, http.MethodGet, roles+"/"+support+"/holders", nil)
		if len(r.list("holders")) != 2 {
			t.Fatalf("holders listing: %s", r.raw)
		}
		env.refused(http.StatusUnprocessableEntity, roster.EUnknownRole, owner.token, http.MethodDelete, roles+"/"+support+"?replacement_role_id=rol_01jd8x5x9q0000000000000000", nil)
		env.must(http.StatusNoContent, owner.token, http.MethodDelete, roles+"/"+support+"?replacement_role_id=member", nil)
		m, err := env.App.Members.Get(testenv.Ctx, owner.actor, org.ID, member.user.ID)
		if err != nil || len(m.Stores) != 1 || m.Stores[0].RoleID != roster.StoreRoleMember {
			t.Fatalf("replacement not applied: %v %+v", err, m.Stores)
		}
		if k := env.must(http.StatusOK, owner.token, http.MethodGet, "/v1/organizations/"+org.ID+"/api-keys/"+keyID, nil); k.str("role_id") != "member" {
			t.Fatalf("key after replacement: %s", k.raw)
		}
		env.must(http.StatusOK, key, http.MethodGet, "/v1/stores/"+shop.ID+"/members", nil) // member reads the team
		if ids := roleIDs(env.must(http.StatusOK, owner.token, http.MethodGet, roles, nil)); len(ids) != 3 {
			t.Fatalf("role not deleted: %v", ids)
		}

		// A role nobody holds is deleted outright; a role of another organization does not exist here.
		r = env.must(http.StatusCreated, owner.token, http.MethodPost, roles, map[string]any{"name": "Spare", "permissions": []string{"store.read"}})
		other := env.person("Otto")
		otherOrg := env.Org(t, other.actor, "Other")
		env.refused(http.StatusNotFound, roster.ENotFound, other.token, http.MethodDelete, "/v1/organizations/"+otherOrg.ID+"/roles/"+r.str("id"), nil)
		env.refused(http.StatusNotFound, roster.ENotFound, other.token, http.MethodGet, roles, nil)
		env.must(http.StatusNoContent, owner.token, http.MethodDelete, roles+"/"+r.str("id"), nil)

		events, err := env.App.Audit.List(testenv.Ctx, owner.actor, org.ID, app.AuditFilter{Action: "role."})
		if err != nil || len(events.Items) != 5 {
			t.Fatalf("role audit events: %v %d", err, len(events.Items))
		}
	})
}
