package app_test

import (
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

var ctx = testenv.Ctx

func TestConnectifCoreFlow(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		var stores []roster.Store
		for _, n := range []string{"Shop A", "Shop B", "Shop C"} {
			stores = append(stores, env.Store(t, owner, org.ID, n))
		}
		if _, err := env.App.Stores.Create(ctx, owner, org.ID, app.StoreInput{Name: "Shop D"}); testenv.Code(err) != roster.ENoStoreCredits {
			t.Fatalf("fourth store: got %v, want %s", err, roster.ENoStoreCredits)
		}
		member, mu := env.User(t, "Marc")
		env.Join(t, owner, org.ID, mu, roster.OrgMember, app.StoreGrantInput{StoreID: stores[0].ID, RoleID: roster.StoreRoleMember})

		affs, err := env.App.Accounts.Organizations(ctx, member)
		if err != nil {
			t.Fatal(err)
		}
		if len(affs) != 1 || affs[0].Membership.Role != roster.OrgMember || len(affs[0].Stores) != 1 || affs[0].Stores[0].Store.ID != stores[0].ID {
			t.Fatalf("selector of member: %+v", affs)
		}
		if g := affs[0].Stores[0].Grant; g.RoleID != roster.StoreRoleMember || g.Via != roster.ViaStoreRole {
			t.Fatalf("member grant: %+v", g)
		}
		affs, err = env.App.Accounts.Organizations(ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		if len(affs[0].Stores) != 3 || affs[0].Stores[0].Grant.Via != roster.ViaOrganizationRole {
			t.Fatalf("selector of owner: %+v", affs[0].Stores)
		}
		// The member cannot see settings; the store they are not in does not exist for them.
		if _, err := env.App.Members.List(ctx, member, org.ID, app.MemberFilter{}); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("member lists members: %v", err)
		}
		if _, err := env.App.Stores.Get(ctx, member, stores[1].ID); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("member reads a store they are not in: %v", err)
		}
		page, err := env.App.Members.List(ctx, owner, org.ID, app.MemberFilter{})
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("members: %v %+v", err, page)
		}
		events, err := env.App.Audit.List(ctx, owner, org.ID, app.AuditFilter{})
		if err != nil || len(events.Items) < 5 {
			t.Fatalf("audit: %v %d", err, len(events.Items))
		}
		var denied bool
		for _, ev := range events.Items {
			denied = denied || ev.Action == "access.denied"
		}
		if !denied {
			t.Fatal("the member's refused listing is not in the audit log")
		}
	})
}
