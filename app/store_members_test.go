package app_test

import (
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestStoreMemberManagersCannotDemoteTheirBetters: a custom role that may manage a store's
// members changes and removes only memberships whose role it holds entirely, as it grants
// only roles it holds entirely. A store admin stays out of its reach; a viewer does not.
func TestStoreMemberManagersCannotDemoteTheirBetters(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		t.Parallel()
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		st := env.Store(t, owner, org.ID, "Shop A")
		role, err := env.App.CreateRole(ctx, owner, org.ID, app.RoleInput{Name: "Team lead",
			Permissions: []roster.Permission{roster.PermStoreRead, roster.PermStoreMembersRead, roster.PermStoreMembersManage}})
		if err != nil {
			t.Fatal(err)
		}
		lead, leadU := env.User(t, "Ana")
		_, admin := env.User(t, "Marc")
		_, viewer := env.User(t, "Bob")
		env.Join(t, owner, org.ID, leadU, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: role.ID})
		env.Join(t, owner, org.ID, admin, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: roster.StoreRoleAdmin})
		env.Join(t, owner, org.ID, viewer, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: roster.StoreRoleViewer})

		if err := env.App.SetStoreRole(ctx, lead, st.ID, admin.ID, roster.StoreRoleViewer); testenv.Code(err) != roster.ERoleEscalation {
			t.Errorf("the lead demotes a store admin: %v", err)
		}
		if err := env.App.RemoveFromStore(ctx, lead, st.ID, admin.ID); testenv.Code(err) != roster.ERoleEscalation {
			t.Errorf("the lead removes a store admin: %v", err)
		}
		team, err := env.App.StoreTeam(ctx, owner, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range team {
			if m.User.ID == admin.ID && m.RoleID != roster.StoreRoleAdmin {
				t.Errorf("the store admin is now %s", m.RoleID)
			}
		}
		// What the lead holds entirely stays in reach.
		if err := env.App.SetStoreRole(ctx, lead, st.ID, viewer.ID, roster.StoreRoleMember); err != nil {
			t.Errorf("the lead makes a viewer a member: %v", err)
		}
		if err := env.App.RemoveFromStore(ctx, lead, st.ID, viewer.ID); err != nil {
			t.Errorf("the lead removes a member: %v", err)
		}
		// A store admin manages another store admin.
		_, other := env.User(t, "Lena")
		env.Join(t, owner, org.ID, other, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: roster.StoreRoleAdmin})
		adminActor, _ := env.Login(t, admin.Email)
		if err := env.App.SetStoreRole(ctx, adminActor, st.ID, other.ID, roster.StoreRoleViewer); err != nil {
			t.Errorf("a store admin demotes another: %v", err)
		}
	})
}
