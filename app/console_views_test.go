package app_test

import (
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestSelection: the selector's choice is remembered per user, only for a store or an
// organization the user reaches.
func TestSelection(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		a := env.Store(t, owner, org.ID, "A")
		b := env.Store(t, owner, org.ID, "B")
		member, mu := env.User(t, "Marc")
		env.Join(t, owner, org.ID, mu, roster.OrgMember, app.StoreGrantInput{StoreID: a.ID, RoleID: roster.StoreRoleViewer})
		outsider, _ := env.User(t, "Otto")

		if sel, err := env.App.Accounts.Selected(ctx, member); err != nil || sel != (app.Selection{}) {
			t.Fatalf("nothing chosen yet: %+v %v", sel, err)
		}
		if err := env.App.Accounts.Select(ctx, member, app.Selection{StoreID: a.ID}); err != nil {
			t.Fatal(err)
		}
		if sel, err := env.App.Accounts.Selected(ctx, member); err != nil || sel != (app.Selection{OrgID: org.ID, StoreID: a.ID}) {
			t.Fatalf("after choosing store A: %+v %v", sel, err)
		}
		// A store the member is not in, or another organization, cannot be chosen.
		if err := env.App.Accounts.Select(ctx, member, app.Selection{StoreID: b.ID}); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("choosing a store the member is not in: %v", err)
		}
		if err := env.App.Accounts.Select(ctx, outsider, app.Selection{OrgID: org.ID}); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("an outsider chooses the organization: %v", err)
		}
		if err := env.App.Accounts.Select(ctx, roster.Anonymous("192.0.2.1", "test"), app.Selection{OrgID: org.ID}); testenv.Code(err) != roster.EUnauthenticated {
			t.Fatalf("anonymous selection: %v", err)
		}
		// Each user keeps their own choice.
		if err := env.App.Accounts.Select(ctx, owner, app.Selection{OrgID: org.ID}); err != nil {
			t.Fatal(err)
		}
		if sel, _ := env.App.Accounts.Selected(ctx, member); sel.StoreID != a.ID {
			t.Fatalf("the owner's choice changed the member's: %+v", sel)
		}
	})
}
