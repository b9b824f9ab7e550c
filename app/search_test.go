package app_test

import (
	"fmt"
	"slices"
	"strings"
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
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		for _, name := range []string{"Élise Dupré", "ÁNGEL NÚÑEZ", "Zoë 100%", "under_score", "Plain Person"} {
			addr := "m" + testenv.Unique() + "@example.com"
			if err := env.App.Auth.Signup(ctx, anon, app.SignupInput{Email: addr, Name: name, Password: testenv.Password}); err != nil {
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
			p, err := env.App.Members.List(ctx, owner, org.ID, app.MemberFilter{Query: q})
			if err != nil || len(p.Items) != want {
				t.Errorf("search %q: %d results, want %d (%v)", q, len(p.Items), want, err)
			}
		}
		// Operators search users and organizations the same way.
		if p, err := env.App.Operator.Users(ctx, roster.System(), "ÉLISE", "", "", 0); err != nil || len(p.Items) != 1 {
			t.Errorf("admin user search: %d %v", len(p.Items), err)
		}
		env.Org(t, owner, "Société Générale")
		if p, err := env.App.Operator.Organizations(ctx, roster.System(), "SOCIÉTÉ", "", 0); err != nil || len(p.Items) != 1 {
			t.Errorf("admin organization search: %d %v", len(p.Items), err)
		}
		// Pages follow each other without overlap.
		seen := map[string]bool{}
		cursor := ""
		for {
			p, err := env.App.Members.List(ctx, owner, org.ID, app.MemberFilter{Query: "@example.com", Limit: 2, Cursor: cursor})
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

// TestMemberSearchIndex: a search through the trigram index (a text of three characters or
// more, past the first memberships SQLite scans) returns exactly what a substring match over
// every member returns, page after page, with role and status filters, and follows renames.
// The reference is computed in Go from what was seeded.
func TestMemberSearchIndex(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		other := env.Org(t, owner, "Elsewhere")
		first := []string{"Élise", "ÁNGEL", "Zoë", "Renée", "Jürgen", "Łukasz", "Ørjan", "Çağla", "MARIE", "marie-claire", "O'Brien", "Plain"}
		domains := []string{"example.com", "acme.fr", "ventas.es"}
		person := func(i int) (string, string) {
			f := first[i%len(first)]
			return fmt.Sprintf("%s Núñez %d", f, i), fmt.Sprintf("%s.%d@%s", strings.ToLower(strings.ReplaceAll(f, "'", "")), i, domains[i%len(domains)])
		}
		const n = 2600 // past the scanned window, so later pages come from the index
		seedMembers(t, env, org.ID, n, person)
		// The same names elsewhere must not leak in.
		seedMembers(t, env, other.ID, 300, func(i int) (string, string) { return person(n + i) })

		// Rename one member: the index must find the new name and forget the old one.
		page, err := env.App.Members.List(ctx, owner, org.ID, app.MemberFilter{Query: "Plain Núñez 2507"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("before the rename: %d results, %v", len(page.Items), err)
		}
		renamed := page.Items[0].User
		if err := env.DB.Read().UpdateUserProfile(ctx, renamed.ID, "Gwenaëlle Quézac", renamed.Locale, env.Clock.Now()); err != nil {
			t.Fatal(err)
		}

		type want struct{ id, name, email, role, status string }
		var all []want
		members, err := allMembers(env, owner, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			all = append(all, want{m.UserID, m.User.Name, m.User.Email, string(m.Role), string(m.Status)})
		}
		for _, f := range []app.MemberFilter{
			{Query: "élise"}, {Query: "ÉLISE"}, {Query: "ángel"}, {Query: "zoë"}, {Query: "JÜRGEN"},
			{Query: "łukasz"}, {Query: "ØRJAN"}, {Query: "çağla"}, {Query: "marie"}, {Query: "-claire"},
			{Query: "o'brien"}, {Query: "núñez 25"}, {Query: "25"}, {Query: "@acme.fr"}, {Query: "ventas"},
			{Query: "z 2599"}, {Query: "gwenaëlle"}, {Query: "QUÉZAC"}, {Query: "plain núñez 2507"},
			{Query: `a"b`}, {Query: "100%"}, {Query: "nobody"}, {Query: "é"}, {Query: "ma"},
			{Query: "marie", Role: roster.OrgAdmin}, {Query: "acme", Status: roster.MembershipSuspended},
		} {
			var expect []string
			for _, m := range all {
				q := strings.ToLower(f.Query)
				if (strings.Contains(strings.ToLower(m.name), q) || strings.Contains(m.email, q)) &&
					(f.Role == "" || m.role == string(f.Role)) && (f.Status == "" || m.status == string(f.Status)) {
					expect = append(expect, m.id)
				}
			}
			for _, limit := range []int{7, 100} {
				f.Limit, f.Cursor = limit, ""
				var got []string
				for {
					p, err := env.App.Members.List(ctx, owner, org.ID, f)
					if err != nil {
						t.Fatalf("%+v: %v", f, err)
					}
					for _, m := range p.Items {
						got = append(got, m.UserID)
					}
					if f.Cursor = p.Next; f.Cursor == "" {
						break
					}
				}
				if !slices.Equal(got, expect) {
					t.Errorf("search %q role %q status %q, pages of %d: %d results, want %d", f.Query, f.Role, f.Status, limit, len(got), len(expect))
				}
			}
		}
		// The operator's search of users goes through the same index and agrees with a
		// substring match over every user of the instance.
		everyone := allUsers(t, env, "", 100)
		for _, q := range []string{"élise", "ØRJAN", "núñez 28", "@ventas.es", "gwenaëlle", "z 2599", "nobody"} {
			var expect []string
			for _, line := range everyone {
				id, rest, _ := strings.Cut(line, " ")
				if strings.Contains(strings.ToLower(rest), strings.ToLower(q)) {
					expect = append(expect, id)
				}
			}
			var got []string
			for _, line := range allUsers(t, env, q, 7) {
				id, _, _ := strings.Cut(line, " ")
				got = append(got, id)
			}
			if !slices.Equal(got, expect) {
				t.Errorf("operator search %q: %d users, want %d", q, len(got), len(expect))
			}
		}
	})
}

// allUsers lists every user of the instance as an operator does, page by page, keeping those
// a search text selects (all of them for "").
func allUsers(t *testing.T, env *testenv.Env, text string, limit int) []string {
	t.Helper()
	var out []string
	cursor := ""
	for {
		p, err := env.App.Operator.Users(ctx, roster.System(), text, "", cursor, limit)
		if err != nil {
			t.Fatalf("operator search %q: %v", text, err)
		}
		for _, u := range p.Items {
			out = append(out, u.ID+" "+u.Name+" "+u.Email)
		}
		if cursor = p.Next; cursor == "" {
			return out
		}
	}
}

// allMembers lists every member of an organization, page by page.
func allMembers(env *testenv.Env, actor roster.Actor, orgID string) ([]roster.Member, error) {
	var out []roster.Member
	f := app.MemberFilter{Limit: 100}
	for {
		p, err := env.App.Members.List(ctx, actor, orgID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if f.Cursor = p.Next; f.Cursor == "" {
			return out, nil
		}
	}
}
