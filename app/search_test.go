package app_test

import (
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestMemberSearch: search is case-insensitive beyond ASCII (Roster speaks French and
// Spanish), matches names and addresses anywhere, treats % and _ literally, and pages.
func TestMemberSearch(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		t.Parallel()
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		for _, name := range []string{"Élise Dupré", "ÁNGEL NÚÑEZ", "Zoë 100%", "under_score", "Plain Person"} {
			addr := "m" + testenv.Unique() + "@example.com"
			if err := env.App.Signup(ctx, anon, app.SignupInput{Email: addr, Name: name, Password: testenv.Password}); err != nil {
				t.Fatal(err)
			}
			u, _, err := env.DB.Read().UserByEmail(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			env.Join(t, owner, org.ID, u, roster.OrgMember)
		}
		for q, want := range map[string]int{
			"élise": 1, "ÉLISE": 1, "dupré": 1, "DUPRÉ": 1, "ángel núñez": 1, "Ñ": 1, "zoë": 1, "ZOË": 1,
			"100%": 1, "%": 1, "_": 1, "under_": 1, "person": 1, "PLAIN": 1, "@example.com": 5 + 1, "nobody": 0,
		} {
			p, err := env.App.Members(ctx, owner, org.ID, app.MemberFilter{Query: q})
			if err != nil || len(p.Items) != want {
				t.Errorf("search %q: %d results, want %d (%v)", q, len(p.Items), want, err)
			}
		}
		// Operators search users and organizations the same way.
		if p, err := env.App.AdminUsers(ctx, roster.System(), "ÉLISE", "", "", 0); err != nil || len(p.Items) != 1 {
			t.Errorf("admin user search: %d %v", len(p.Items), err)
		}
		env.Org(t, owner, "Société Générale")
		if p, err := env.App.AdminOrganizations(ctx, roster.System(), "SOCIÉTÉ", "", 0); err != nil || len(p.Items) != 1 {
			t.Errorf("admin organization search: %d %v", len(p.Items), err)
		}
		// Pages follow each other without overlap.
		seen := map[string]bool{}
		cursor := ""
		for {
			p, err := env.App.Members(ctx, owner, org.ID, app.MemberFilter{Query: "@example.com", Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Items {
				if seen[m.UserID] {
					t.Fatalf("%s on two pages", m.UserID)
				}
				seen[m.UserID] = true
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if len(seen) != 6 {
			t.Fatalf("%d members over the pages", len(seen))
		}
	})
}
