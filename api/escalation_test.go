package api_test

import (
	"net/http"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestNoEscalation: nobody creates or grants a role, nor mints an API key, carrying a
// permission they do not hold.
func TestNoEscalation(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner, lead, target := env.person("Olivia"), env.person("Lea"), env.person("Tom")
		org := env.Org(t, owner.actor, "Acme")
		s1, s2 := env.Store(t, owner.actor, org.ID, "One"), env.Store(t, owner.actor, org.ID, "Two")
		roles := "/v1/organizations/" + org.ID + "/roles"
		keys := "/v1/organizations/" + org.ID + "/api-keys"

		// A store lead manages the team and the keys of store One, without seeing all data.
		teamLead := env.must(http.StatusCreated, owner.token, http.MethodPost, roles, map[string]any{"name": "Team lead", "permissions": []string{
			"store.read", "store.members.read", "store.members.invite", "store.members.manage", "store.api_keys.manage"}}).str("id")
		support := env.must(http.StatusCreated, owner.token, http.MethodPost, roles, map[string]any{"name": "Support", "permissions": []string{
			"store.read", "store.data.read_all"}}).str("id")
		env.Join(t, owner.actor, org.ID, lead.user, roster.OrgMember, app.StoreGrantInput{StoreID: s1.ID, RoleID: teamLead})
		env.Join(t, owner.actor, org.ID, target.user, roster.OrgMember, app.StoreGrantInput{StoreID: s1.ID, RoleID: roster.StoreRoleViewer})
		member := "/v1/stores/" + s1.ID + "/members/" + target.user.ID

		// Granting: only roles within the lead's own permissions, only in their store.
		r := env.refused(http.StatusForbidden, roster.ERoleEscalation, lead.token, http.MethodPut, member, map[string]any{"role_id": "admin"})
		if missing := r.body["details"].(map[string]any)["missing"].([]any); len(missing) != 3 {
			t.Fatalf("missing permissions: %v", missing) // store.audit.read, store.data.read_all and store.update
		}
		env.refused(http.StatusForbidden, roster.ERoleEscalation, lead.token, http.MethodPut, member, map[string]any{"role_id": support})
		env.must(http.StatusNoContent, lead.token, http.MethodPut, member, map[string]any{"role_id": "member"})
		env.refused(http.StatusNotFound, roster.ENotFound, lead.token, http.MethodPut, "/v1/stores/"+s2.ID+"/members/"+target.user.ID, map[string]any{"role_id": "viewer"})
		// Roles: the lead defines none.
		env.refused(http.StatusForbidden, roster.EForbidden, lead.token, http.MethodPost, roles, map[string]any{"name": "Mine", "permissions": []string{"store.read"}})

		// Keys: in their store, with a role they hold; never organization-wide or above themselves.
		env.refused(http.StatusForbidden, roster.ERoleEscalation, lead.token, http.MethodPost, keys, map[string]any{"name": "K", "store_id": s1.ID, "role_id": "admin", "password": testenv.Password})
		env.refused(http.StatusForbidden, roster.ERoleEscalation, lead.token, http.MethodPost, keys, map[string]any{"name": "K", "store_id": s1.ID, "role_id": "viewer", "organization_role": "admin", "password": testenv.Password})
		env.refused(http.StatusForbidden, roster.EForbidden, lead.token, http.MethodPost, keys, map[string]any{"name": "K", "role_id": "viewer"})
		env.refused(http.StatusForbidden, roster.EForbidden, lead.token, http.MethodPost, keys, map[string]any{"name": "K", "store_id": s2.ID, "role_id": "viewer"})
		leadKeyID, leadKey := env.createKey(lead.token, map[string]any{"org": org.ID, "name": "K", "store_id": s1.ID, "role_id": teamLead})
		// The lead's key sees and revokes the keys of store One only; the lead sees theirs.
		if n := len(env.must(http.StatusOK, lead.token, http.MethodGet, keys, nil).list("api_keys")); n != 1 {
			t.Fatalf("lead sees %d keys", n)
		}
		env.must(http.StatusOK, leadKey, http.MethodGet, keys+"/"+leadKeyID, nil)

		// An admin's key limited to viewer: an admin who lacks the permissions, in effect.
		_, viewerAdmin := env.createKey(owner.token, map[string]any{"org": org.ID, "name": "Narrow admin", "role_id": "viewer", "organization_role": "admin"})
		env.refused(http.StatusForbidden, roster.ERoleEscalation, viewerAdmin, http.MethodPost, roles, map[string]any{"name": "Inviter", "permissions": []string{"store.read", "store.members.invite"}})
		narrow := env.must(http.StatusCreated, viewerAdmin, http.MethodPost, roles, map[string]any{"name": "Reader", "permissions": []string{"store.read"}}).str("id")
		env.refused(http.StatusForbidden, roster.ERoleEscalation, viewerAdmin, http.MethodPatch, roles+"/"+narrow, map[string]any{"permissions": []string{"store.read", "store.members.invite"}})
		env.refused(http.StatusForbidden, roster.ERoleEscalation, viewerAdmin, http.MethodPatch, roles+"/"+support, map[string]any{"name": "Renamed"})
		env.refused(http.StatusForbidden, roster.ERoleEscalation, viewerAdmin, http.MethodDelete, roles+"/"+teamLead+"?replacement_role_id=admin", nil)
		env.refused(http.StatusForbidden, roster.EForbidden, viewerAdmin, http.MethodPut, member, map[string]any{"role_id": "viewer"})
		// It manages organization members as an admin, but grants no store role above viewer.
		env.must(http.StatusOK, viewerAdmin, http.MethodGet, "/v1/organizations/"+org.ID+"/members", nil)
		if err := env.App.Members.Add(testenv.Ctx, env.actorOf(viewerAdmin), org.ID, env.person("Zoe").user.ID, roster.OrgMember,
			[]app.StoreGrantInput{{StoreID: s2.ID, RoleID: "member"}}); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("key without store.members.invite adds to a store: %v", err)
		}
	})
}

// actorOf authenticates a bearer secret as the app sees it.
func (e *keysEnv) actorOf(secret string) roster.Actor {
	e.t.Helper()
	a, err := e.App.Auth.Authenticate(testenv.Ctx, secret, "192.0.2.1", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}
