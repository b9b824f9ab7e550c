package api_test

import (
	"net/http"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestInflowwChatter: organization A defines a custom role "Chatter" without
// store.members.invite and gives it, in two of its stores, to a person who already belongs to
// organization B. They see both organizations; in A they cannot invite anyone until the role
// gains the permission, and then they can, on their next request.
func TestInflowwChatter(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		t.Parallel()
		env := newKeysEnv(t, e)
		ownerA, ownerB, chatter := env.person("Alice"), env.person("Bob"), env.person("Chloe")
		orgA, orgB := env.Org(t, ownerA.actor, "Agency A"), env.Org(t, ownerB.actor, "Agency B")
		c1, c2 := env.Store(t, ownerA.actor, orgA.ID, "Creator One"), env.Store(t, ownerA.actor, orgA.ID, "Creator Two")
		c3 := env.Store(t, ownerA.actor, orgA.ID, "Creator Three")
		env.Join(t, ownerB.actor, orgB.ID, chatter.user, roster.OrgMember)

		role := env.must(http.StatusCreated, ownerA.token, http.MethodPost, "/v1/organizations/"+orgA.ID+"/roles", map[string]any{
			"name": "Chatter", "description": "Answers fans; cannot add employees",
			"permissions": []string{"store.read", "store.members.read", "store.data.read_all"}}).str("id")
		env.Join(t, ownerA.actor, orgA.ID, chatter.user, roster.OrgMember,
			app.StoreGrantInput{StoreID: c1.ID, RoleID: role}, app.StoreGrantInput{StoreID: c2.ID, RoleID: role})

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

		// In A they cannot invite anyone.
		svc := env.serviceToken()
		if env.allowed(svc, chatter.user.ID, "store.members.invite", c1.ID) {
			t.Fatal("the chatter may invite")
		}
		// The role gains the permission: on the next request they can.
		env.must(http.StatusOK, ownerA.token, http.MethodPatch, "/v1/organizations/"+orgA.ID+"/roles/"+role,
			map[string]any{"permissions": []string{"store.read", "store.members.read", "store.data.read_all", "store.members.invite"}})
		if !env.allowed(svc, chatter.user.ID, "store.members.invite", c1.ID) || env.allowed(svc, chatter.user.ID, "store.members.invite", c3.ID) {
			t.Fatal("the edited role does not let the chatter invite in their stores only")
		}
		// Their place in B is untouched.
		r := env.must(http.StatusOK, svc, http.MethodPost, "/v1/check", map[string]any{"user_id": chatter.user.ID, "permission": "org.read", "organization_id": orgB.ID})
		if r.body["allowed"] != true || r.str("organization_role") != "member" {
			t.Fatalf("in B: %s", r.raw)
		}
	})
}
