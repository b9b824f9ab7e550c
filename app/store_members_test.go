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

// TestStoreInvitations: a store's pending invitations are those that grant a role in it;
// who invites to the store or manages its team sees them, a plain member does not, and an
// outsider learns nothing of the store.
func TestStoreInvitations(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		t.Parallel()
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		shopA, shopB := env.Store(t, owner, org.ID, "Shop A"), env.Store(t, owner, org.ID, "Shop B")
		_, adminU := env.User(t, "Sam")
		_, memberU := env.User(t, "Mia")
		env.Join(t, owner, org.ID, adminU, roster.OrgMember, app.StoreGrantInput{StoreID: shopA.ID, RoleID: roster.StoreRoleAdmin})
		env.Join(t, owner, org.ID, memberU, roster.OrgMember, app.StoreGrantInput{StoreID: shopA.ID, RoleID: roster.StoreRoleMember})
		invite := func(email string, grants ...app.StoreGrantInput) roster.Invitation {
			inv, err := env.App.CreateInvitation(ctx, owner, org.ID, app.InvitationInput{Email: email, Stores: grants})
			if err != nil {
				t.Fatal(err)
			}
			return inv
		}
		toA := invite("a."+testenv.Unique()+"@example.com", app.StoreGrantInput{StoreID: shopA.ID, RoleID: roster.StoreRoleViewer})
		both := invite("ab."+testenv.Unique()+"@example.com", app.StoreGrantInput{StoreID: shopA.ID, RoleID: roster.StoreRoleMember},
			app.StoreGrantInput{StoreID: shopB.ID, RoleID: roster.StoreRoleViewer})
		invite("b."+testenv.Unique()+"@example.com", app.StoreGrantInput{StoreID: shopB.ID, RoleID: roster.StoreRoleViewer})
		cancelled := invite("gone."+testenv.Unique()+"@example.com", app.StoreGrantInput{StoreID: shopA.ID, RoleID: roster.StoreRoleViewer})
		if err := env.App.CancelInvitation(ctx, owner, cancelled.ID); err != nil {
			t.Fatal(err)
		}

		admin, _ := env.Login(t, adminU.Email)
		for _, who := range []roster.Actor{owner, admin} {
			list, err := env.App.StoreInvitations(ctx, who, shopA.ID)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, inv := range list {
				ids = append(ids, inv.ID)
			}
			if len(ids) != 2 || ids[0] != both.ID || ids[1] != toA.ID {
				t.Errorf("shop A's pending invitations: %v, want %s then %s", ids, both.ID, toA.ID)
			}
		}
		member, _ := env.Login(t, memberU.Email)
		if _, err := env.App.StoreInvitations(ctx, member, shopA.ID); testenv.Code(err) != roster.EForbidden {
			t.Errorf("a store member lists its invitations: %v", err)
		}
		outsider, _ := env.User(t, "Otto")
		if _, err := env.App.StoreInvitations(ctx, outsider, shopA.ID); testenv.Code(err) != roster.ENotFound {
			t.Errorf("an outsider lists a store's invitations: %v", err)
		}
	})
}
