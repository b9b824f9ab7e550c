package api_test

import (
	"net/http"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestInflowwChatter: organization A defines a custom role "Chatter" without
// store.members.invite and invites, with it in two of its stores, a person who already belongs
// to organization B. They see both organizations; in A they cannot invite anyone until the role
// gains the permission, and then they can, on their next request.
func TestInflowwChatter(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		ownerA, ownerB, chatter := env.person("Alice"), env.person("Bob"), env.person("Chloe")
		orgA, orgB := env.Org(t, ownerA.actor, "Agency A"), env.Org(t, ownerB.actor, "Agency B")
		c1, c2 := env.Store(t, ownerA.actor, orgA.ID, "Creator One"), env.Store(t, ownerA.actor, orgA.ID, "Creator Two")
		c3 := env.Store(t, ownerA.actor, orgA.ID, "Creator Three")
		env.Join(t, ownerB.actor, orgB.ID, chatter.user, roster.OrgMember)

		role := env.must(http.StatusCreated, ownerA.token, http.MethodPost, "/v1/organizations/"+orgA.ID+"/roles", map[string]any{
			"name": "Chatter", "description": "Answers fans; cannot add employees",
			"permissions": []string{"store.read", "store.members.read", "store.data.read_all"}}).str("id")

		// A invites the person from B into two of its stores with the custom role; they accept
		// with the session they already have.
		env.must(http.StatusCreated, ownerA.token, http.MethodPost, "/v1/organizations/"+orgA.ID+"/invitations", map[string]any{
			"email": chatter.user.Email, "role": "member",
			"stores": []map[string]any{{"store_id": c1.ID, "role_id": role}, {"store_id": c2.ID, "role_id": role}}})
		box := env.Outbox(t)
		tok := testenv.Token(box.Last(t, chatter.user.Email, "invitation"))
		env.must(http.StatusOK, chatter.token, http.MethodPost, "/v1/invitations/accept", map[string]any{"token": tok})
		invitations := "/v1/organizations/" + orgA.ID + "/invitations"
		invite := func(token string, store string) reply {
			return env.call(token, http.MethodPost, invitations, map[string]any{"email": "fan." + testenv.Unique() + "@example.com",
				"stores": []map[string]any{{"store_id": store, "role_id": "viewer"}}})
		}

		// The selector lists both organizations; in A, the two stores with the custom role.
		orgs := env.must(http.StatusOK, chatter.token, http.MethodGet, "/v1/me/organizations", nil).list("organizations")
		if len(orgs) != 2 {
			t.Fatalf("selector: %v", orgs)
		}
		for _, o := range orgs {
			o := o.(map[string]any)
			stores, _ := o["stores"].([]any)
			if o["organization"].(map[string]any)["id"] == orgA.ID {
				if len(stores) != 2 || stores[0].(map[string]any)["my_role"].(map[string]any)["role_id"] != role {
					t.Fatalf("stores in A: %v", stores)
				}
			}
		}
		env.must(http.StatusOK, chatter.token, http.MethodGet, "/v1/stores/"+c1.ID, nil)
		env.refused(http.StatusNotFound, roster.ENotFound, chatter.token, http.MethodGet, "/v1/stores/"+c3.ID, nil)

		// In A they cannot invite anyone: refused, and the check API agrees.
		svc := env.serviceToken()
		if r := invite(chatter.token, c1.ID); r.status != http.StatusForbidden {
			t.Fatalf("the chatter invites: %d %s", r.status, r.raw)
		}
		if env.allowed(svc, chatter.user.ID, "store.members.invite", c1.ID) {
			t.Fatal("the chatter may invite")
		}
		// The role gains the permission: on their next request they invite, into their stores only.
		env.must(http.StatusOK, ownerA.token, http.MethodPatch, "/v1/organizations/"+orgA.ID+"/roles/"+role,
			map[string]any{"permissions": []string{"store.read", "store.members.read", "store.data.read_all", "store.members.invite"}})
		if r := invite(chatter.token, c1.ID); r.status != http.StatusCreated {
			t.Fatalf("the chatter cannot invite after the change: %d %s", r.status, r.raw)
		}
		if r := invite(chatter.token, c3.ID); r.status == http.StatusCreated {
			t.Fatalf("the chatter invites into a store that is not theirs: %s", r.raw)
		}
		if !env.allowed(svc, chatter.user.ID, "store.members.invite", c2.ID) || env.allowed(svc, chatter.user.ID, "store.members.invite", c3.ID) {
			t.Fatal("the check API disagrees")
		}
		// Nobody grants more than they hold: an invitation carrying the admin store role is refused.
		r := env.call(chatter.token, http.MethodPost, invitations, map[string]any{"email": "boss@example.com",
			"stores": []map[string]any{{"store_id": c1.ID, "role_id": "admin"}}})
		if r.status != http.StatusForbidden || r.code() != roster.ERoleEscalation {
			t.Fatalf("escalation through an invitation: %d %s", r.status, r.raw)
		}
		// A pending invitation holds the role too: deleting it needs a replacement.
		inv := env.must(http.StatusCreated, ownerA.token, http.MethodPost, invitations, map[string]any{"email": "next@example.com",
			"stores": []map[string]any{{"store_id": c3.ID, "role_id": role}}}).str("id")
		r = env.refused(http.StatusConflict, roster.ERoleInUse, ownerA.token, http.MethodDelete, "/v1/organizations/"+orgA.ID+"/roles/"+role, nil)
		kinds := map[string]int{}
		for _, h := range r.body["details"].(map[string]any)["holders"].([]any) {
			kinds[h.(map[string]any)["kind"].(string)]++
		}
		if kinds["store_member"] != 2 || kinds["invitation"] != 1 {
			t.Fatalf("holders: %v", kinds)
		}
		env.must(http.StatusNoContent, ownerA.token, http.MethodDelete, "/v1/organizations/"+orgA.ID+"/roles/"+role+"?replacement_role_id=viewer", nil)
		stores := env.must(http.StatusOK, ownerA.token, http.MethodGet, "/v1/invitations/"+inv, nil).list("stores")
		if len(stores) != 1 || stores[0].(map[string]any)["role_id"] != "viewer" {
			t.Fatalf("the invitation keeps the deleted role: %v", stores)
		}
		if env.allowed(svc, chatter.user.ID, "store.members.invite", c1.ID) || !env.allowed(svc, chatter.user.ID, "store.read", c1.ID) {
			t.Fatal("the chatter did not get the replacement role")
		}
		// Their place in B is untouched.
		r = env.must(http.StatusOK, svc, http.MethodPost, "/v1/check", map[string]any{"user_id": chatter.user.ID, "permission": "org.read", "organization_id": orgB.ID})
		if r.body["allowed"] != true || r.str("organization_role") != "member" {
			t.Fatalf("in B: %s", r.raw)
		}
	})
}
