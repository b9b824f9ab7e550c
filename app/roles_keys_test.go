package app_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestRoleDeletionRacesGrants: a role deleted while others grant it never leaves a store
// membership or key holding a role that no longer exists.
func TestRoleDeletionRacesGrants(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		shop := env.Store(t, owner, org.ID, "Shop")
		var users []roster.User
		for range 6 {
			_, u := env.User(t, "Member")
			env.Join(t, owner, org.ID, u, roster.OrgMember)
			users = append(users, u)
		}
		for round := range 4 {
			role, err := env.App.Roles.Create(ctx, owner, org.ID, app.RoleInput{Name: "Racer " + string(rune('A'+round)), Permissions: []roster.Permission{roster.PermStoreRead}})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for _, u := range users {
				wg.Go(func() {
					err := env.App.Members.SetStoreRole(ctx, owner, shop.ID, u.ID, role.ID)
					if err != nil && testenv.Code(err) != roster.EUnknownRole {
						t.Errorf("grant: %v", err)
					}
				})
			}
			wg.Go(func() {
				err := env.App.Roles.Delete(ctx, owner, org.ID, role.ID, "")
				if err != nil && testenv.Code(err) != roster.ERoleInUse {
					t.Errorf("delete: %v", err)
				}
			})
			wg.Wait()
			roles, err := env.App.Roles.List(ctx, owner, org.ID)
			if err != nil {
				t.Fatal(err)
			}
			exists := false
			for _, r := range roles {
				exists = exists || r.ID == role.ID
			}
			for _, u := range users {
				m, err := env.App.Members.Get(ctx, owner, org.ID, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, sm := range m.Stores {
					if sm.RoleID == role.ID && !exists {
						t.Fatalf("round %d: %s holds deleted role %s", round, u.ID, role.ID)
					}
				}
			}
			// Clear the store for the next round.
			if exists {
				if err := env.App.Roles.Delete(ctx, owner, org.ID, role.ID, roster.StoreRoleViewer); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// TestPrune: API key request logs go after their retention, audit events only when a
// retention is set.
func TestPrune(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e, func(c *app.Config) { c.AuditRetention = 90 * 24 * time.Hour })
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		key, err := env.App.APIKeys.Create(ctx, owner, org.ID, app.APIKeyInput{Name: "K", RoleID: roster.StoreRoleViewer, Proof: app.OwnerProof{Password: testenv.Password}})
		if err != nil {
			t.Fatal(err)
		}
		actor, err := env.App.Auth.Authenticate(ctx, key.Secret, "192.0.2.9", "test")
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := env.App.APIKeys.RecordRequest(ctx, actor, "GET", "/v1/organizations/"+org.ID, 200); err != nil {
				t.Fatal(err)
			}
		}
		env.Clock.Advance(29 * 24 * time.Hour)
		if err := env.App.APIKeys.RecordRequest(ctx, actor, "GET", "/v1/organizations/"+org.ID, 200); err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(2 * 24 * time.Hour)
		reqs, events, err := env.App.Prune(ctx)
		if err != nil || reqs != 3 || events != 0 {
			t.Fatalf("prune after 31 days: %v %d %d", err, reqs, events)
		}
		p, err := env.App.APIKeys.Requests(ctx, owner, org.ID, key.Key.ID, "", 50)
		if err != nil || len(p.Items) != 1 {
			t.Fatalf("log after pruning: %v %d", err, len(p.Items))
		}
		env.Clock.Advance(60 * 24 * time.Hour)
		reqs, events, err = env.App.Prune(ctx)
		if err != nil || reqs != 1 || events < 4 {
			t.Fatalf("prune after 91 days: %v %d %d", err, reqs, events)
		}
		page, err := env.App.Audit.List(ctx, owner, org.ID, app.AuditFilter{})
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("audit after retention: %v %d", err, len(page.Items))
		}
	})
}

// TestPutPermissions: a batch (the permissions file) is applied all or nothing, and applying
// it again changes nothing.
func TestPutPermissions(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		in := []app.PermissionInput{{Key: "campaigns.create", Member: true}, {Key: "campaigns.delete", Description: "Delete campaigns"}}
		c, u, err := env.App.Roles.PutPermissions(ctx, roster.System(), in)
		if err != nil || c != 2 || u != 0 {
			t.Fatalf("first apply: %v %d %d", err, c, u)
		}
		in[1].Viewer = true
		if c, u, err = env.App.Roles.PutPermissions(ctx, roster.System(), in); err != nil || c != 0 || u != 1 {
			t.Fatalf("second apply: %v %d %d", err, c, u)
		}
		bad := append(in, app.PermissionInput{Key: "store.oops"})
		if _, _, err := env.App.Roles.PutPermissions(ctx, roster.System(), bad); testenv.Code(err) != roster.EInvalid {
			t.Fatalf("bad key: %v", err)
		}
		dup := append(in, app.PermissionInput{Key: "campaigns.create"})
		if _, _, err := env.App.Roles.PutPermissions(ctx, roster.System(), dup); testenv.Code(err) != roster.EInvalid {
			t.Fatalf("duplicate key: %v", err)
		}
		user, _ := env.User(t, "Olivia")
		if _, _, err := env.App.Roles.PutPermissions(ctx, user, in); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("member applies permissions: %v", err)
		}
		cat, err := env.App.Roles.Permissions(ctx, user)
		if err != nil || cat[len(cat)-1].Key != "campaigns.delete" || !cat[len(cat)-1].Viewer || cat[len(cat)-1].Area != "campaigns" {
			t.Fatalf("catalog: %v %+v", err, cat[len(cat)-1])
		}
	})
}

// TestRoleNamesTravel: a store's team and API keys carry their role's name, so that someone
// who may see them but not list the organization's roles still reads "Chatter", not an ID.
func TestRoleNamesTravel(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		st := env.Store(t, owner, org.ID, "Shop")
		chatter, err := env.App.Roles.Create(ctx, owner, org.ID, app.RoleInput{Name: "Chatter",
			Permissions: []roster.Permission{roster.PermStoreRead, roster.PermStoreMembersRead}})
		if err != nil {
			t.Fatal(err)
		}
		bob, bobU := env.User(t, "Bob")
		env.Join(t, owner, org.ID, bobU, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: chatter.ID})
		if _, err := env.App.Roles.List(ctx, bob, org.ID); err == nil {
			t.Fatal("a plain member lists the roles; the test needs one who cannot")
		}
		team, err := env.App.Members.StoreTeam(ctx, bob, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]string{}
		for _, m := range team {
			names[m.User.ID] = m.RoleName
		}
		if names[bobU.ID] != "Chatter" || names[owner.UserID] != "Admin" {
			t.Fatalf("team role names: %v", names)
		}
		key, err := env.App.APIKeys.Create(ctx, owner, org.ID, app.APIKeyInput{Name: "chat bot", StoreID: st.ID, RoleID: chatter.ID, Proof: app.OwnerProof{Password: testenv.Password}})
		if err != nil || key.Key.RoleName != "Chatter" {
			t.Fatalf("created key: %q %v", key.Key.RoleName, err)
		}
		keys, err := env.App.APIKeys.List(ctx, owner, org.ID, "", 0)
		if err != nil || len(keys.Items) != 1 || keys.Items[0].RoleName != "Chatter" {
			t.Fatalf("listed keys: %+v %v", keys.Items, err)
		}
		if k, err := env.App.APIKeys.Get(ctx, owner, org.ID, key.Key.ID); err != nil || k.RoleName != "Chatter" {
			t.Fatalf("one key: %q %v", k.RoleName, err)
		}
	})
}

// TestListsInReadingOrder: an organization's stores and custom roles are listed as people
// read their names, on both engines (roster.SortByName): "apple", "Éclair", "zeta", where
// ORDER BY lower(name) put "Éclair" last on PostgreSQL and SQLite alike.
func TestListsInReadingOrder(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		names := []string{"zeta", "Éclair", "apple"}
		for _, name := range names {
			env.Store(t, owner, org.ID, name)
			if _, err := env.App.Roles.Create(ctx, owner, org.ID, app.RoleInput{Name: name, Permissions: []roster.Permission{roster.PermStoreRead}}); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"apple", "Éclair", "zeta"}
		stores, err := env.App.Stores.List(ctx, owner, org.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range stores {
			got = append(got, s.Store.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("stores %q, want %q", got, want)
		}
		roles, err := env.App.Roles.List(ctx, owner, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		for _, r := range roles {
			if !r.Builtin {
				got = append(got, r.Name)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("custom roles %q, want %q", got, want)
		}
	})
}
