package app_test

// Benchmarks of DESIGN §6, on each engine: the permission check, the selector listing, the
// member listing of a 100,000-member organization (first page, and a search), and login with
// the production argon2id parameters. Results and the machine are in BENCHMARKS.md.
//
//	ROSTER_TEST_POSTGRES_URL=… go test -run '^$' -bench . -benchtime 3s ./app/

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/password"
	"github.com/rosterhq/roster/sqlstore"
)

// engines runs a benchmark on SQLite and, when configured, PostgreSQL.
func engines(b *testing.B, fn func(b *testing.B, e sqlstore.Engine)) {
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		b.Run(string(e), func(b *testing.B) {
			testenv.RequireEngine(b, e)
			fn(b, e)
		})
	}
}

// BenchmarkCheck is the host application's question "may this user do this in this store?",
// answered for a member with a store role (the path that reads the most).
func BenchmarkCheck(b *testing.B) {
	engines(b, func(b *testing.B, e sqlstore.Engine) {
		env := testenv.NewEnv(b, e)
		owner, _ := env.User(b, "Owner")
		org := env.Org(b, owner, "Acme")
		st := env.Store(b, owner, org.ID, "Shop")
		env.Store(b, owner, org.ID, "Other")
		_, m := env.User(b, "Member")
		env.Join(b, owner, org.ID, m, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: roster.StoreRoleMember})
		svc, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
		if err != nil {
			b.Fatal(err)
		}
		host, err := env.App.Auth.Authenticate(ctx, svc.Secret, "", "")
		if err != nil {
			b.Fatal(err)
		}
		in := app.CheckInput{UserID: m.ID, Permission: roster.PermStoreRead, StoreID: st.ID}
		for b.Loop() {
			if r, err := env.App.Access.Check(ctx, host, in); err != nil || !r.Allowed {
				b.Fatal(r, err)
			}
		}
	})
}

// BenchmarkMyOrganizations is the selector: a user in 10 organizations of 5 stores each,
// owner of some, member with store roles in others.
func BenchmarkMyOrganizations(b *testing.B) {
	engines(b, func(b *testing.B, e sqlstore.Engine) {
		env := testenv.NewEnv(b, e, func(c *app.Config) { c.DefaultStoreCredits = 5 })
		user, u := env.User(b, "Busy")
		other, _ := env.User(b, "Other")
		for i := range 10 {
			by := other
			if i%3 == 0 {
				by = user
			}
			org := env.Org(b, by, fmt.Sprintf("Org %d", i))
			var stores []roster.Store
			for j := range 5 {
				stores = append(stores, env.Store(b, by, org.ID, fmt.Sprintf("Store %d", j)))
			}
			if by != user {
				env.Join(b, by, org.ID, u, roster.OrgMember,
					app.StoreGrantInput{StoreID: stores[0].ID, RoleID: roster.StoreRoleMember},
					app.StoreGrantInput{StoreID: stores[1].ID, RoleID: roster.StoreRoleViewer})
			}
		}
		for b.Loop() {
			affs, err := env.App.Accounts.Organizations(ctx, user)
			if err != nil || len(affs) != 10 {
				b.Fatal(len(affs), err)
			}
		}
	})
}

// BenchmarkMembers lists an organization of 100,000 members: the first page, the first
// page of admins, and searches by name and by address.
func BenchmarkMembers(b *testing.B) {
	engines(b, func(b *testing.B, e sqlstore.Engine) {
		env := testenv.NewEnv(b, e)
		owner, _ := env.User(b, "Owner")
		org := env.Org(b, owner, "Big")
		start := time.Now()
		seedMembers(b, env, org.ID, 100000, benchMember)
		b.Logf("seeded 100,000 members in %v", time.Since(start).Round(time.Millisecond))
		for _, bc := range []struct {
			name  string
			f     app.MemberFilter
			count int
		}{
			{"first_page", app.MemberFilter{}, 50},
			{"admins", app.MemberFilter{Role: roster.OrgAdmin}, 50},
			{"suspended", app.MemberFilter{Status: roster.MembershipSuspended}, 50},
			{"search_name", app.MemberFilter{Query: "member 77777"}, 1},
			{"search_accented", app.MemberFilter{Query: "Zoé Member 77777"}, 1},
			{"search_email", app.MemberFilter{Query: "member.77777@"}, 1},
			{"search_common", app.MemberFilter{Query: "member 1"}, 50},
			{"search_everyone", app.MemberFilter{Query: "@example.com"}, 50},
		} {
			b.Run(bc.name, func(b *testing.B) {
				for b.Loop() {
					p, err := env.App.Members.List(ctx, owner, org.ID, bc.f)
					if err != nil || len(p.Items) != bc.count {
						b.Fatal(len(p.Items), err)
					}
				}
			})
		}
	})
}

// BenchmarkLogin is a login with the production argon2id parameters (m=19456, t=2, p=1).
func BenchmarkLogin(b *testing.B) {
	engines(b, func(b *testing.B, e sqlstore.Engine) {
		env := testenv.NewEnv(b, e, func(c *app.Config) { c.PasswordParams = password.Default })
		_, u := env.User(b, "Lou")
		in := app.LoginInput{Email: u.Email, Password: testenv.Password}
		for b.Loop() {
			if _, err := env.App.Auth.Login(ctx, anon, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchMember names the i-th member of the benchmark's organization; one has an accent.
func benchMember(i int) (name, email string) {
	name = fmt.Sprintf("Member %d", i)
	if i == 77777 {
		name = "Zoé Member 77777"
	}
	return name, fmt.Sprintf("member.%d@example.com", i)
}

// seedMembers adds n users named by person to an organization with batched multi-row
// inserts in one transaction, straight into the tables: the app's one-by-one path would take
// minutes. Every 20th member is an admin, every 50th suspended.
func seedMembers(b testing.TB, env *testenv.Env, orgID string, n int, person func(i int) (name, email string)) {
	b.Helper()
	db := env.SQL(b)
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	now := env.Clock.Now().UnixMicro()
	const batch = 500
	for from := 0; from < n; from += batch {
		var users, members []string
		var uArgs, mArgs []any
		for i := from; i < min(from+batch, n); i++ {
			id := roster.NewID(roster.PrefixUser)
			name, email := person(i)
			role, status := "member", "active"
			if i%20 == 0 {
				role = "admin"
			}
			if i%50 == 0 {
				status = "suspended"
			}
			users = append(users, "(?, ?, ?, 'en', 'active', ?, ?)")
			uArgs = append(uArgs, id, email, name, now, now)
			members = append(members, "(?, ?, ?, ?, ?, ?)")
			mArgs = append(mArgs, orgID, id, role, status, now, now)
		}
		exec(b, tx, env.Engine, `INSERT INTO users (id, email, name, locale, status, created_at, updated_at) VALUES `+strings.Join(users, ", "), uArgs...)
		exec(b, tx, env.Engine, `INSERT INTO org_members (org_id, user_id, role, status, created_at, updated_at) VALUES `+strings.Join(members, ", "), mArgs...)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	exec(b, db, env.Engine, `ANALYZE`) // statistics, as a live database would have

}

func exec(b testing.TB, q interface {
	Exec(string, ...any) (sql.Result, error)
}, e sqlstore.Engine, query string, args ...any) {
	b.Helper()
	if _, err := q.Exec(testenv.Rebind(e, query), args...); err != nil {
		b.Fatalf("%.100s: %v", query, err)
	}
}

// BenchmarkCheckIndex compares a check answered from the access index (after its read
// barrier) with the same check answered from SQL, on a node that listens for changes.
func BenchmarkCheckIndex(b *testing.B) {
	engines(b, func(b *testing.B, e sqlstore.Engine) {
		env := testenv.NewEnv(b, e)
		owner, _ := env.User(b, "Owner")
		org := env.Org(b, owner, "Acme")
		st := env.Store(b, owner, org.ID, "Shop")
		_, m := env.User(b, "Member")
		env.Join(b, owner, org.ID, m, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: roster.StoreRoleMember})
		svc, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
		if err != nil {
			b.Fatal(err)
		}
		in := app.CheckInput{UserID: m.ID, Permission: roster.PermStoreRead, StoreID: st.ID}
		for _, mode := range []struct {
			name    string
			memory  int64
			atLeast bool // with at_least_revision covered by the index: no read barrier
		}{{"index", 0, false}, {"index-at-least", 0, true}, {"sql", -1, false}} {
			b.Run(mode.name, func(b *testing.B) {
				nd := startNode(b, env, env.URL, func(c *app.Config) { c.IndexMemory = mode.memory })
				host, err := nd.app.Auth.Authenticate(ctx, svc.Secret, "", "")
				if err != nil {
					b.Fatal(err)
				}
				in := in
				if mode.atLeast {
					if _, err := nd.app.Access.Check(ctx, host, in); err != nil { // applies the current revision
						b.Fatal(err)
					}
					in.AtLeastRevision = nd.app.Access.Revision()
				}
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if r, err := nd.app.Access.Check(ctx, host, in); err != nil || !r.Allowed {
							b.Fatal(r, err)
						}
					}
				})
			})
		}
	})
}
