package app_test

import (
	"slices"
	"testing"
	"time"

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
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		st := env.Store(t, owner, org.ID, "Shop A")
		role, err := env.App.Roles.Create(ctx, owner, org.ID, app.RoleInput{Name: "Team lead",
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

		if err := env.App.Members.SetStoreRole(ctx, lead, st.ID, admin.ID, roster.StoreRoleViewer); testenv.Code(err) != roster.ERoleEscalation {
			t.Errorf("the lead demotes a store admin: %v", err)
		}
		if err := env.App.Members.RemoveFromStore(ctx, lead, st.ID, admin.ID); testenv.Code(err) != roster.ERoleEscalation {
			t.Errorf("the lead removes a store admin: %v", err)
		}
		team, err := env.App.Members.StoreTeam(ctx, owner, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range team {
			if m.User.ID == admin.ID && m.RoleID != roster.StoreRoleAdmin {
				t.Errorf("the store admin is now %s", m.RoleID)
			}
		}
		// What the lead holds entirely stays in reach.
		if err := env.App.Members.SetStoreRole(ctx, lead, st.ID, viewer.ID, roster.StoreRoleMember); err != nil {
			t.Errorf("the lead makes a viewer a member: %v", err)
		}
		if err := env.App.Members.RemoveFromStore(ctx, lead, st.ID, viewer.ID); err != nil {
			t.Errorf("the lead removes a member: %v", err)
		}
		// A store admin manages another store admin.
		_, other := env.User(t, "Lena")
		env.Join(t, owner, org.ID, other, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: roster.StoreRoleAdmin})
		adminActor, _ := env.Login(t, admin.Email)
		if err := env.App.Members.SetStoreRole(ctx, adminActor, st.ID, other.ID, roster.StoreRoleViewer); err != nil {
			t.Errorf("a store admin demotes another: %v", err)
		}
	})
}

// TestStoreInvitations: a store's pending invitations are those that grant a role in it;
// who invites to the store or manages its team sees them, a plain member does not, and an
// outsider learns nothing of the store.
func TestStoreInvitations(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		shopA, shopB := env.Store(t, owner, org.ID, "Shop A"), env.Store(t, owner, org.ID, "Shop B")
		_, adminU := env.User(t, "Sam")
		_, memberU := env.User(t, "Mia")
		env.Join(t, owner, org.ID, adminU, roster.OrgMember, app.StoreGrantInput{StoreID: shopA.ID, RoleID: roster.StoreRoleAdmin})
		env.Join(t, owner, org.ID, memberU, roster.OrgMember, app.StoreGrantInput{StoreID: shopA.ID, RoleID: roster.StoreRoleMember})
		invite := func(email string, grants ...app.StoreGrantInput) roster.Invitation {
			inv, err := env.App.Invitations.Create(ctx, owner, org.ID, app.InvitationInput{Email: email, Stores: grants})
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
		if err := env.App.Invitations.Cancel(ctx, owner, cancelled.ID); err != nil {
			t.Fatal(err)
		}

		admin, _ := env.Login(t, adminU.Email)
		for _, who := range []roster.Actor{owner, admin} {
			// A page of one at a time, following the cursor.
			var ids []string
			for cursor := ""; ; {
				list, err := env.App.Invitations.ListForStore(ctx, who, shopA.ID, cursor, 1)
				if err != nil {
					t.Fatal(err)
				}
				for _, inv := range list.Items {
					ids = append(ids, inv.ID)
				}
				if cursor = list.Next; cursor == "" || len(ids) > 2 {
					break
				}
			}
			if len(ids) != 2 || ids[0] != both.ID || ids[1] != toA.ID {
				t.Errorf("shop A's pending invitations: %v, want %s then %s", ids, both.ID, toA.ID)
			}
		}
		member, _ := env.Login(t, memberU.Email)
		if _, err := env.App.Invitations.ListForStore(ctx, member, shopA.ID, "", 0); testenv.Code(err) != roster.EForbidden {
			t.Errorf("a store member lists its invitations: %v", err)
		}
		outsider, _ := env.User(t, "Otto")
		if _, err := env.App.Invitations.ListForStore(ctx, outsider, shopA.ID, "", 0); testenv.Code(err) != roster.ENotFound {
			t.Errorf("an outsider lists a store's invitations: %v", err)
		}
	})
}

// TestMembersTableColumns: a listing of members names the active stores where each holds a
// role of their own (none for the owner, who reaches every store), and when each was last
// active: at sign-in, then as their session is used, never for an account not yet used.
func TestMembersTableColumns(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, ownerU := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		shopB := env.Store(t, owner, org.ID, "shop B")
		shopA := env.Store(t, owner, org.ID, "Shop A")
		closed := env.Store(t, owner, org.ID, "Closed")
		_, marc := env.User(t, "Marc")
		env.Join(t, owner, org.ID, marc, roster.OrgMember,
			app.StoreGrantInput{StoreID: shopB.ID, RoleID: roster.StoreRoleViewer},
			app.StoreGrantInput{StoreID: closed.ID, RoleID: roster.StoreRoleAdmin},
			app.StoreGrantInput{StoreID: shopA.ID, RoleID: roster.StoreRoleMember})
		if _, err := env.App.Stores.Archive(ctx, owner, closed.ID); err != nil {
			t.Fatal(err)
		}
		created, err := env.App.Accounts.Create(ctx, owner, org.ID, app.NewUserInput{Email: "new." + testenv.Unique() + "@example.com", Name: "New", Role: roster.OrgMember})
		if err != nil {
			t.Fatal(err)
		}
		signedIn := env.Clock.Now()
		env.Clock.Advance(2 * time.Hour)
		res, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.1", "test"), app.LoginInput{Email: marc.Email, Password: testenv.Password}) // a sign-in
		if err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(time.Hour)
		marcActor, err := env.App.Auth.Authenticate(ctx, res.Token, "192.0.2.1", "test") // a use of the session
		if err != nil {
			t.Fatal(err)
		}

		page, err := env.App.Members.List(ctx, owner, org.ID, app.MemberFilter{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]roster.Member{}
		for _, m := range page.Items {
			got[m.UserID] = m
		}
		if names := got[marc.ID].StoreNames; !slices.Equal(names, []string{"Shop A", "shop B"}) {
			t.Errorf("Marc's stores: %q, want the active ones by name", names)
		}
		if names := got[ownerU.ID].StoreNames; len(names) != 0 {
			t.Errorf("the owner's own store roles: %q", names)
		}
		if at := got[marc.ID].User.LastActiveAt; at == nil || !at.Equal(env.Clock.Now()) {
			t.Errorf("Marc last active at %v, want %v (the session's last use)", at, env.Clock.Now())
		}
		if at := got[ownerU.ID].User.LastActiveAt; at == nil || !at.Equal(signedIn) {
			t.Errorf("the owner last active at %v, want %v (their sign-in)", at, signedIn)
		}
		if at := got[created.ID].User.LastActiveAt; at != nil {
			t.Errorf("an account never used was last active at %v", at)
		}
		// A member does not list the members (the listing is for owner and admins).
		if _, err := env.App.Members.List(ctx, marcActor, org.ID, app.MemberFilter{}); testenv.Code(err) != roster.EForbidden {
			t.Errorf("a member lists the members: %v", err)
		}
	})
}
