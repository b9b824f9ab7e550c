package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// node is one Roster process of a cluster: its own pool, its own listener, its own index.
type node struct {
	app *app.App
	db  *sqlstore.DB
}

// tinyIndex is the memory bound of the last node of a cluster: a few entries per generation,
// so that its generations turn over all the time.
const tinyIndex = 16 << 10

// cluster opens n nodes over env's database (separate pools), each listening for changes,
// and an oracle that answers from SQL only. It waits until every listener is connected. The
// last node's index is tiny (tinyIndex).
func cluster(t *testing.T, env *testenv.Env, n int) ([]node, *app.App) {
	t.Helper()
	nodes := make([]node, n)
	for i := range nodes {
		var configure []func(*app.Config)
		if i == n-1 {
			configure = append(configure, func(c *app.Config) { c.IndexMemory = tinyIndex })
		}
		nodes[i] = startNode(t, env, env.URL, configure...)
	}
	return nodes, sqlOracle(t, env)
}

// sqlOracle is an app over env's database without an index: it answers from SQL, the truth
// a node's index is compared with.
func sqlOracle(t testing.TB, env *testenv.Env) *app.App {
	cfg := testenv.Config()
	cfg.IndexMemory = -1
	return app.New(env.DB, cfg, env.Clock, testenv.Logger(t))
}

// hostOn makes a service token and returns, for each app, the host application it
// authenticates there.
func hostOn(t testing.TB, env *testenv.Env, apps ...*app.App) []roster.Actor {
	t.Helper()
	svc, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
	if err != nil {
		t.Fatal(err)
	}
	hosts := make([]roster.Actor, len(apps))
	for i, a := range apps {
		if hosts[i], err = a.Auth.Authenticate(ctx, svc.Secret, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	return hosts
}

// startNode opens a node over a database URL, listening for changes until the test ends, and
// waits until its listener is connected.
func startNode(t testing.TB, env *testenv.Env, url string, configure ...func(*app.Config)) node {
	t.Helper()
	db := testenv.OpenDB(t, url)
	cfg := testenv.Config()
	for _, f := range configure {
		f(&cfg)
	}
	a := app.New(db, cfg, env.Clock, testenv.Logger(t))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Listen(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() }) // before the pool closes
	if cfg.IndexMemory >= 0 {
		waitFor(t, func() bool { return a.Access.IndexStats().Trusted })
	}
	return node{app: a, db: db}
}

// fleet is the state the rounds change: an organization with two members in a store, one
// through a custom role, and an API key of the owner.
type fleet struct {
	org          roster.Organization
	s1, s2       roster.Store
	owner        roster.Actor
	m1, m2       roster.User
	role         roster.Role
	rolePerms    []roster.Permission
	key, keyID   string
	keyRevoked   bool
	m1Role       roster.OrgRole
	suspended    map[string]bool
	inStore      map[string]bool
	deactivated  map[string]bool
	storeRoleFor map[string]string
	m2Removed    bool
	client       roster.OIDCClient
	secrets      []string             // the application's secret and the one before it
	tokens       []sqlstore.OIDCToken // OpenID access tokens of the members, some revoked
}

func newFleet(t *testing.T, env *testenv.Env, owner roster.Actor, m1, m2 roster.User) *fleet {
	t.Helper()
	f := &fleet{owner: owner, m1: m1, m2: m2, m1Role: roster.OrgMember,
		suspended: map[string]bool{}, inStore: map[string]bool{m1.ID: true, m2.ID: true}, deactivated: map[string]bool{}}
	f.org = env.Org(t, owner, "Acme "+testenv.Unique())
	f.s1 = env.Store(t, owner, f.org.ID, "One")
	f.s2 = env.Store(t, owner, f.org.ID, "Two")
	var err error
	f.rolePerms = []roster.Permission{roster.PermStoreRead}
	if f.role, err = env.App.Roles.Create(ctx, owner, f.org.ID, app.RoleInput{Name: "Clerk", Permissions: f.rolePerms}); err != nil {
		t.Fatal(err)
	}
	f.storeRoleFor = map[string]string{m1.ID: f.role.ID, m2.ID: roster.StoreRoleMember}
	env.Join(t, owner, f.org.ID, m1, roster.OrgMember, app.StoreGrantInput{StoreID: f.s1.ID, RoleID: f.role.ID})
	env.Join(t, owner, f.org.ID, m2, roster.OrgMember, app.StoreGrantInput{StoreID: f.s1.ID, RoleID: roster.StoreRoleMember})
	f.newKey(t, env)
	f.newClient(t, env)
	for range 2 {
		f.newTokens(t, env.DB, env.Clock)
	}
	return f
}

func (f *fleet) newClient(t *testing.T, env *testenv.Env) {
	t.Helper()
	cl, secret, err := env.App.Clients.Create(ctx, roster.System(), app.ClientInput{Name: "Shop " + testenv.Unique(), FirstParty: true,
		RedirectURIs: []string{"http://127.0.0.1:9/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	f.client, f.secrets = cl, []string{secret}
}

// newTokens gives each member an OpenID access token of a family of its own.
func (f *fleet) newTokens(t *testing.T, db *sqlstore.DB, clock roster.Clock) {
	t.Helper()
	now := clock.Now()
	if err := db.InTx(ctx, func(tx *sqlstore.Tx) error {
		for _, u := range []roster.User{f.m1, f.m2} {
			tok := sqlstore.OIDCToken{ID: roster.NewID(roster.PrefixToken), Kind: "access", FamilyID: roster.NewID(roster.PrefixToken), ClientID: f.client.ID,
				UserID: u.ID, OrgID: f.org.ID, SessionID: "ses_" + testenv.Unique(), AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := tx.CreateOIDCToken(ctx, tok, ""); err != nil {
				return err
			}
			f.tokens = append(f.tokens, tok)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(f.tokens) > 8 {
		f.tokens = f.tokens[len(f.tokens)-8:]
	}
}

// revokeToken revokes OpenID tokens one of the four ways Roster does, and says which.
func (f *fleet) revokeToken(t *testing.T, r *rand.Rand, db *sqlstore.DB, clock roster.Clock) string {
	t.Helper()
	tok := f.tokens[r.IntN(len(f.tokens))]
	at := clock.Now()
	var what string
	err := db.InTx(ctx, func(tx *sqlstore.Tx) error {
		var err error
		switch r.IntN(4) {
		case 0:
			what = "OpenID token revocation"
			err = tx.RevokeOIDCToken(ctx, tok.ID, at)
		case 1:
			what = "OpenID family revocation"
			_, err = tx.RevokeOIDCFamily(ctx, tok.FamilyID, at)
		case 2:
			what = "OpenID sign-out of a user at a client"
			_, err = tx.RevokeOIDCUserClient(ctx, tok.UserID, tok.ClientID, at)
		default:
			what = "OpenID session end"
			_, err = tx.RevokeOIDCSessions(ctx, tok.UserID, tok.SessionID, "", at)
		}
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return what
}

func (f *fleet) newKey(t *testing.T, env *testenv.Env) {
	t.Helper()
	k, err := env.App.APIKeys.Create(ctx, f.owner, f.org.ID, app.APIKeyInput{Name: "k", RoleID: roster.StoreRoleMember, Proof: app.OwnerProof{Password: testenv.Password}})
	if err != nil {
		t.Fatal(err)
	}
	f.key, f.keyID, f.keyRevoked = k.Secret, k.Key.ID, false
}

// change makes one random change of access on db, as node A, and says what it did.
func (f *fleet) change(t *testing.T, r *rand.Rand, db *sqlstore.DB, clock roster.Clock) string {
	t.Helper()
	users := []roster.User{f.m1, f.m2}
	if f.m2Removed {
		users = users[:1]
	}
	u := users[r.IntN(len(users))]
	at := clock.Now()
	var what string
	err := db.InTx(ctx, func(tx *sqlstore.Tx) error {
		switch r.IntN(9) {
		case 0:
			what = "role change"
			f.m1Role = map[roster.OrgRole]roster.OrgRole{roster.OrgMember: roster.OrgAdmin, roster.OrgAdmin: roster.OrgMember}[f.m1Role]
			return tx.SetMemberRole(ctx, f.org.ID, f.m1.ID, f.m1Role, at)
		case 1:
			what = "suspension"
			f.suspended[u.ID] = !f.suspended[u.ID]
			st := roster.MembershipActive
			if f.suspended[u.ID] {
				st = roster.MembershipSuspended
			}
			return tx.SetMemberStatus(ctx, f.org.ID, u.ID, st, at)
		case 2:
			what = "store removal"
			f.inStore[u.ID] = !f.inStore[u.ID]
			if !f.inStore[u.ID] {
				return tx.RemoveStoreMember(ctx, f.s1.ID, u.ID)
			}
			return tx.PutStoreMember(ctx, roster.StoreMembership{StoreID: f.s1.ID, OrgID: f.org.ID, UserID: u.ID, RoleID: f.storeRoleFor[u.ID], CreatedAt: at, UpdatedAt: at})
		case 3:
			what = "custom role edit"
			if len(f.rolePerms) == 1 {
				f.rolePerms = []roster.Permission{roster.PermStoreRead, roster.PermStoreUpdate}
			} else {
				f.rolePerms = f.rolePerms[:1]
				if r.IntN(2) == 0 {
					f.rolePerms = []roster.Permission{roster.PermStoreUpdate}
				}
			}
			return tx.SetRolePermissions(ctx, f.org.ID, f.role.ID, f.rolePerms, at)
		case 4:
			what = "key revocation"
			if f.keyRevoked {
				return nil
			}
			f.keyRevoked = true
			return tx.RevokeAPIKey(ctx, f.org.ID, f.keyID, at)
		case 5:
			what = "user deactivation"
			f.deactivated[u.ID] = !f.deactivated[u.ID]
			st := roster.UserActive
			if f.deactivated[u.ID] {
				st = roster.UserDeactivated
			}
			return tx.SetUserStatus(ctx, u.ID, st, at)
		case 6:
			// Membership removal and return: a user's list of organizations changes.
			f.m2Removed = !f.m2Removed
			if f.m2Removed {
				what = "membership removal"
				return tx.RemoveMember(ctx, f.org.ID, f.m2.ID)
			}
			what = "membership return"
			f.suspended[f.m2.ID], f.inStore[f.m2.ID] = false, true
			if err := tx.AddMember(ctx, roster.Membership{OrgID: f.org.ID, UserID: f.m2.ID, Role: roster.OrgMember, Status: roster.MembershipActive, CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			return tx.PutStoreMember(ctx, roster.StoreMembership{StoreID: f.s1.ID, OrgID: f.org.ID, UserID: f.m2.ID, RoleID: f.storeRoleFor[f.m2.ID], CreatedAt: at, UpdatedAt: at})
		case 7:
			// The organization's row: pages read it from the index (orgAndAccess).
			what = "organization rename"
			f.org.Name = fmt.Sprintf("Acme %d", r.IntN(1000))
			return tx.UpdateOrganization(ctx, f.org, at)
		default:
			what = "store archival"
			st := roster.StoreArchived
			if f.s2.Status == roster.StoreArchived {
				st = roster.StoreActive
			}
			f.s2.Status = st
			return tx.SetStoreStatus(ctx, f.s2.ID, st, at)
		}
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return what
}

// answers is everything a node says about the fleet, as text to compare.
func (f *fleet) answers(t *testing.T, a *app.App, host roster.Actor) string {
	t.Helper()
	var qs []app.CheckInput
	for _, u := range []roster.User{f.m1, f.m2} {
		for _, st := range []roster.Store{f.s1, f.s2} {
			for _, p := range []roster.Permission{roster.PermStoreRead, roster.PermStoreUpdate} {
				qs = append(qs, app.CheckInput{UserID: u.ID, StoreID: st.ID, Permission: p})
			}
		}
		qs = append(qs, app.CheckInput{UserID: u.ID, OrgID: f.org.ID, Permission: roster.PermOrgMembersManage})
	}
	res, err := a.Access.CheckBatch(ctx, host, qs)
	out := fmt.Sprint(err)
	for _, r := range res {
		out += fmt.Sprintf("|%v %s", r.Allowed, r.Reason)
	}
	for _, u := range []roster.User{f.m1, f.m2} {
		stores, err := a.Access.UserStores(ctx, host, app.UserStoresInput{UserID: u.ID, Permission: roster.PermStoreRead})
		out += fmt.Sprintf("|stores %v", err)
		for _, s := range stores {
			out += " " + s.Store.ID + ":" + s.Grant.RoleID
		}
		// Pages of the organization as the member (orgScope: the organization and their
		// access from the index).
		org, err := a.Organizations.Get(ctx, roster.Actor{Kind: roster.ActorUser, UserID: u.ID}, f.org.ID)
		out += fmt.Sprintf("|their organization %s %q", testenv.Code(err), org.Name)
		views, err := a.Stores.List(ctx, roster.Actor{Kind: roster.ActorUser, UserID: u.ID}, f.org.ID, "")
		out += fmt.Sprintf("|their stores %s", testenv.Code(err))
		for _, v := range views {
			out += " " + v.ID + ":" + v.Grant.RoleID
		}
		affs, err := a.Accounts.Organizations(ctx, roster.Actor{Kind: roster.ActorUser, UserID: u.ID})
		out += fmt.Sprintf("|selector %v", err)
		for _, af := range affs {
			out += " " + af.Organization.ID + ":" + af.Organization.Name + ":" + string(af.Membership.Role) + ":" + string(af.Membership.Status)
			for _, s := range af.Stores {
				out += fmt.Sprintf(" %s/%s/%v", s.Store.ID, s.Grant.RoleID, s.Grant.Perms.Sorted())
			}
		}
	}
	for _, tok := range f.tokens {
		_, err := a.OIDC.LiveToken(ctx, tok.ID)
		out += fmt.Sprintf("|token %v", err)
	}
	for _, secret := range f.secrets {
		out += "|application secret " + testenv.Code(a.Clients.Authenticate(ctx, f.client.ID, secret))
	}
	_, err = a.Auth.Authenticate(ctx, f.key, "192.0.2.1", "test")
	return out + "|key " + testenv.Code(err)
}

// TestIndexNeverStale is issue 13's promise: once a write has returned, no node answers from
// the state before it. Three nodes over one database; each round changes access at random on
// one node and asks the two others at once; a fourth app that answers from SQL only says what
// the answer must be. On PostgreSQL the listeners' connections are also cut now and then. The
// third node's index is so small that entries keep moving between its generations and out.
func TestIndexNeverStale(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Owner")
		_, m1 := env.User(t, "Ann")
		_, m2 := env.User(t, "Bob")
		nodes, oracle := cluster(t, env, 3)
		hosts := hostOn(t, env, nodes[0].app, nodes[1].app, nodes[2].app, oracle)
		hosts, oracleHost := hosts[:3], hosts[3]
		var admin *sql.DB
		if e == sqlstore.Postgres {
			var err error
			if admin, err = sql.Open("pgx", env.URL); err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
		}
		f := newFleet(t, env, owner, m1, m2)
		// The rounds start once every node holds its lease, which on SQLite its poller takes
		// when it sees reads (within AccessLease/4): the barrier reads counted below are the
		// rounds', not those of that start, whose number depends on the machine's speed.
		var startBarriers, startIndex int64
		for i, nd := range nodes {
			waitFor(t, func() bool { f.answers(t, nd.app, hosts[i]); return nd.app.Access.IndexStats().Leased })
		}
		for _, nd := range nodes {
			st := nd.app.Access.IndexStats()
			startBarriers, startIndex = startBarriers+st.Barriers, startIndex+st.FromIndex
		}
		r := rand.New(rand.NewPCG(13, 13))
		rounds := 1000
		if testenv.Race {
			rounds = 300 // three organization deletions and six listener cuts still happen
		}
		stale, cuts := 0, 0
		for round := range rounds {
			w := r.IntN(len(nodes))
			var what string
			switch {
			case round%97 == 96:
				// Organization deletion: every answer about it must go at once.
				what = "organization deletion"
				if err := nodes[w].db.InTx(ctx, func(tx *sqlstore.Tx) error { return tx.DeleteOrganization(ctx, f.org.ID) }); err != nil {
					t.Fatal(err)
				}
			case f.keyRevoked && r.IntN(4) == 0:
				what = "key creation"
				f.newKey(t, env)
			case r.IntN(6) == 0:
				what = f.revokeToken(t, r, nodes[w].db, env.Clock)
			case r.IntN(12) == 0:
				what = "OpenID tokens issued"
				f.newTokens(t, nodes[w].db, env.Clock)
			case r.IntN(20) == 0:
				what = "OpenID application secret rotation"
				secret, err := nodes[w].app.Clients.RotateSecret(ctx, roster.System(), f.client.ID)
				if err != nil {
					t.Fatal(err)
				}
				f.secrets = []string{secret, f.secrets[0]}
			case round%211 == 105:
				// The application goes, and its tokens with it (ON DELETE CASCADE).
				what = "OpenID application deletion"
				if err := nodes[w].db.InTx(ctx, func(tx *sqlstore.Tx) error { return tx.DeleteOIDCClient(ctx, f.client.ID) }); err != nil {
					t.Fatal(err)
				}
				f.newClient(t, env) // the gone tokens stay in the list: they must be refused
			default:
				what = f.change(t, r, nodes[w].db, env.Clock)
			}
			if admin != nil && round%50 == 25 {
				// Cut a listener's connection right after the write: the node must not
				// answer from memory until it has resynchronized.
				victim := nodes[(w+1+r.IntN(len(nodes)-1))%len(nodes)]
				if pid := victim.db.ListenerPID(); pid != 0 {
					if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, int64(pid)); err != nil {
						t.Fatal(err)
					}
					cuts++
				}
			}
			want := f.answers(t, oracle, oracleHost)
			for i, nd := range nodes {
				if i == w {
					continue
				}
				if got := f.answers(t, nd.app, hosts[i]); got != want {
					stale++
					t.Errorf("round %d, after %s on node %d, node %d answered\n%s\nwant\n%s", round, what, w, i, got, want)
				}
			}
			if what == "organization deletion" {
				// The fleet starts again in a new organization.
				for _, u := range []roster.User{f.m1, f.m2} {
					if f.deactivated[u.ID] {
						if err := env.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
							return tx.SetUserStatus(ctx, u.ID, roster.UserActive, env.Clock.Now())
						}); err != nil {
							t.Fatal(err)
						}
					}
				}
				f = newFleet(t, env, owner, m1, m2)
			}
			if stale > 3 {
				t.FailNow()
			}
		}
		var fromIndex, fromSQL, barriers int64
		for _, nd := range nodes {
			waitFor(t, func() bool { return nd.app.Access.IndexStats().Trusted })
			st := nd.app.Access.IndexStats()
			fromIndex, fromSQL, barriers = fromIndex+st.FromIndex, fromSQL+st.FromSQL, barriers+st.Barriers
		}
		t.Logf("%d rounds, %d listener cuts, reads from the index: %d, from SQL: %d, barrier reads: %d (%d before the rounds)", rounds, cuts, fromIndex, fromSQL, barriers, startBarriers)
		if b, i := barriers-startBarriers, fromIndex-startIndex; b > i/10 {
			// With their leases, the nodes answer without asking the database first, except
			// for a moment after each cut (PostgreSQL).
			t.Errorf("%d barrier reads for %d reads from the index during the rounds: the nodes' leases were not used", b, i)
		}
		if fromIndex < 4*fromSQL {
			t.Errorf("the index answered %d reads and SQL %d: the test does not exercise the index", fromIndex, fromSQL)
		}
		if tiny := nodes[len(nodes)-1].app.Access.IndexStats(); tiny.Turnovers == 0 || tiny.Bytes > tiny.Limit {
			t.Errorf("the tiny index holds %d bytes of %d after %d turnovers: its bound was not exercised", tiny.Bytes, tiny.Limit, tiny.Turnovers)
		}
		if e == sqlstore.Postgres && cuts == 0 {
			t.Error("no listener connection was cut")
		}
	})
}

// TestUserStoresFromTheIndex: the stores a user may open, put together from what the index
// holds of each of their organizations (source.userStores), are the SQL's answer in the same
// order — across organizations named in mixed case and beyond ASCII (where SQLite's lower()
// and Go's differ), an organization role that reaches every store, a suspended membership, an
// archived store, a custom role that grants a permission in one store only — before and after
// a store is renamed and an organization is renamed.
func TestUserStoresFromTheIndex(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Owner")
		_, ann := env.User(t, "Ann")
		nd := startNode(t, env, env.URL)
		oracle := sqlOracle(t, env)
		hosts := hostOn(t, env, nd.app, oracle)
		host, oracleHost := hosts[0], hosts[1]

		// In the order people read them (roster.CompareByName): "éclair", "Égal", then "Zulu";
		// lower-cased bytes put both after "Zulu", and SQLite's lower() "Égal" first.
		orgs := map[string]roster.Organization{}
		stores := map[string]roster.Store{}
		for _, name := range []string{"Égal", "éclair", "beta", "Alpha", "Zulu"} {
			orgs[name] = env.Org(t, owner, name)
			for _, s := range []string{"b", "A", "c"} {
				stores[name+"/"+s] = env.Store(t, owner, orgs[name].ID, s)
			}
		}
		clerk, err := env.App.Roles.Create(ctx, owner, orgs["beta"].ID, app.RoleInput{Name: "Clerk", Permissions: []roster.Permission{roster.PermStoreUpdate}})
		if err != nil {
			t.Fatal(err)
		}
		env.Join(t, owner, orgs["Égal"].ID, ann, roster.OrgAdmin)
		env.Join(t, owner, orgs["éclair"].ID, ann, roster.OrgMember, app.StoreGrantInput{StoreID: stores["éclair/c"].ID, RoleID: roster.StoreRoleViewer},
			app.StoreGrantInput{StoreID: stores["éclair/A"].ID, RoleID: roster.StoreRoleMember})
		env.Join(t, owner, orgs["beta"].ID, ann, roster.OrgMember, app.StoreGrantInput{StoreID: stores["beta/b"].ID, RoleID: clerk.ID},
			app.StoreGrantInput{StoreID: stores["beta/A"].ID, RoleID: roster.StoreRoleMember}, app.StoreGrantInput{StoreID: stores["beta/c"].ID, RoleID: roster.StoreRoleMember})
		env.Join(t, owner, orgs["Alpha"].ID, ann, roster.OrgMember, app.StoreGrantInput{StoreID: stores["Alpha/A"].ID, RoleID: roster.StoreRoleMember})
		env.Join(t, owner, orgs["Zulu"].ID, ann, roster.OrgAdmin)
		now := env.Clock.Now()
		if err := env.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
			if err := tx.SetMemberStatus(ctx, orgs["Alpha"].ID, ann.ID, roster.MembershipSuspended, now); err != nil {
				return err
			}
			return tx.SetStoreStatus(ctx, stores["beta/c"].ID, roster.StoreArchived, now)
		}); err != nil {
			t.Fatal(err)
		}

		names := map[string]string{} // store ID → "org/store"
		for name, st := range stores {
			names[st.ID] = name
		}
		ask := func(a *app.App, host roster.Actor, p roster.Permission) []roster.StoreAccess {
			t.Helper()
			list, err := a.Access.UserStores(ctx, host, app.UserStoresInput{UserID: ann.ID, Permission: p})
			if err != nil {
				t.Fatal(err)
			}
			return list
		}
		answer := func(a *app.App, host roster.Actor, p roster.Permission) string {
			t.Helper()
			var out []string
			for _, s := range ask(a, host, p) {
				out = append(out, fmt.Sprintf("%s:%s:%s:%v", names[s.Store.ID], s.Grant.RoleID, s.Grant.Via, s.Grant.Perms.Sorted()))
			}
			return strings.Join(out, " ")
		}
		order := func(p roster.Permission) []string { // the node's answer, by name
			t.Helper()
			var out []string
			for _, s := range ask(nd.app, host, p) {
				out = append(out, names[s.Store.ID])
			}
			return out
		}
		compare := func(when string) {
			t.Helper()
			for _, p := range []roster.Permission{"", roster.PermStoreRead, roster.PermStoreUpdate} {
				want := answer(oracle, oracleHost, p)
				for range 2 { // filled, then from memory
					if got := answer(nd.app, host, p); got != want {
						t.Errorf("%s, permission %q: the index answered\n%s\nSQL\n%s", when, p, got, want)
					}
				}
			}
		}
		compare("at first")
		if got, want := order(""), []string{"beta/A", "beta/b", "éclair/A", "éclair/c", "Égal/A", "Égal/b", "Égal/c", "Zulu/A", "Zulu/b", "Zulu/c"}; !slices.Equal(got, want) {
			t.Errorf("stores in the order\n%v\nwant\n%v", got, want)
		}
		if got, want := order(roster.PermStoreUpdate), []string{"beta/b", "Égal/A", "Égal/b", "Égal/c", "Zulu/A", "Zulu/b", "Zulu/c"}; !slices.Equal(got, want) {
			t.Errorf("stores where Ann may update, in the order\n%v\nwant\n%v", got, want)
		}

		// A store renamed moves in the list; an organization renamed moves its stores.
		st := stores["Zulu/A"]
		st.Name = "d"
		o := orgs["Égal"]
		o.Name = "Aardvark"
		if err := env.DB.InTx(ctx, func(tx *sqlstore.Tx) error {
			if err := tx.UpdateStore(ctx, st, env.Clock.Now()); err != nil {
				return err
			}
			return tx.UpdateOrganization(ctx, o, env.Clock.Now())
		}); err != nil {
			t.Fatal(err)
		}
		compare("after the renames")
		if got, want := order(""), []string{"Égal/A", "Égal/b", "Égal/c", "beta/A", "beta/b", "éclair/A", "éclair/c", "Zulu/b", "Zulu/c", "Zulu/A"}; !slices.Equal(got, want) {
			t.Errorf("after the renames, stores in the order\n%v\nwant\n%v", got, want)
		}
		if st := nd.app.Access.IndexStats(); st.FromIndex == 0 || st.FromSQL != 0 {
			t.Errorf("the node answered %d reads from its index and %d from SQL", st.FromIndex, st.FromSQL)
		}
	})
}

// TestSelectorRenderedUntilItChanges: the index keeps a caller's rendering of a user's
// selector with its entry, answers with it until a change reaches that user, and renders again
// then; a node without an index renders every time. Both say the same.
func TestSelectorRenderedUntilItChanges(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Owner")
		ann, annUser := env.User(t, "Ann")
		acme, other := env.Org(t, owner, "Acme"), env.Org(t, owner, "Other")
		paris, lyon := env.Store(t, owner, acme.ID, "Paris"), env.Store(t, owner, acme.ID, "Lyon")
		env.Join(t, owner, acme.ID, annUser, roster.OrgMember, app.StoreGrantInput{StoreID: paris.ID, RoleID: roster.StoreRoleMember},
			app.StoreGrantInput{StoreID: lyon.ID, RoleID: roster.StoreRoleViewer})
		nd := startNode(t, env, env.URL)
		oracle := sqlOracle(t, env)

		renders := 0
		render := func(affs []roster.Affiliation) ([]byte, error) {
			renders++
			var b strings.Builder
			for _, a := range affs {
				fmt.Fprintf(&b, "%s %s %s:", a.Organization.Name, a.Membership.Role, a.Membership.Status)
				for _, s := range a.Stores {
					fmt.Fprintf(&b, " %s/%s", s.Store.Name, s.Grant.RoleID)
				}
				b.WriteString("\n")
			}
			return []byte(b.String()), nil
		}
		ask := func(a *app.App) string {
			t.Helper()
			b, err := a.Accounts.RenderOrganizations(ctx, ann, render)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		// compare asks the node twice and SQL once: the node renders again only when told to.
		compare := func(when string, renderAgain bool) {
			t.Helper()
			before := renders
			want := ask(oracle)
			if renders != before+1 {
				t.Fatalf("%s: without an index, %d renderings for one answer", when, renders-before)
			}
			for i := range 2 {
				if got := ask(nd.app); got != want {
					t.Errorf("%s, answer %d: the index answered\n%s\nSQL\n%s", when, i+1, got, want)
				}
			}
			wantRenders := before + 1
			if renderAgain {
				wantRenders++
			}
			if renders != wantRenders {
				t.Errorf("%s: the node rendered %d times for two answers, want %d", when, renders-before-1, wantRenders-before-1)
			}
		}
		write := func(f func(tx *sqlstore.Tx) error) { // through the node: on SQLite, other processes' writes drop everything
			t.Helper()
			if err := nd.db.InTx(ctx, f); err != nil {
				t.Fatal(err)
			}
		}

		compare("at first", true)
		compare("asked again", false)
		other.Name = "Elsewhere"
		write(func(tx *sqlstore.Tx) error { return tx.UpdateOrganization(ctx, other, env.Clock.Now()) })
		compare("after a change to an organization Ann is not in", false)
		acme.Name = "Acme Corp"
		write(func(tx *sqlstore.Tx) error { return tx.UpdateOrganization(ctx, acme, env.Clock.Now()) })
		compare("after her organization was renamed", true)
		write(func(tx *sqlstore.Tx) error {
			return tx.SetStoreStatus(ctx, lyon.ID, roster.StoreArchived, env.Clock.Now())
		})
		compare("after a store was archived", true)
		write(func(tx *sqlstore.Tx) error {
			return tx.SetMemberStatus(ctx, acme.ID, annUser.ID, roster.MembershipSuspended, env.Clock.Now())
		})
		compare("after her suspension", true)
		if st := nd.app.Access.IndexStats(); st.FromIndex == 0 {
			t.Errorf("the node answered %d reads from its index", st.FromIndex)
		}
	})
}

// TestEveryUsersOrganizationsInOneRead: when the graph fits, the first user whose
// organizations the index reads starts one read of everyone's, after which a question about
// another member of an organization held whole reads nothing; a later membership still shows.
func TestEveryUsersOrganizationsInOneRead(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Owner")
		_, ann := env.User(t, "Ann")
		_, dan := env.User(t, "Dan")
		acme, beta := env.Org(t, owner, "Acme"), env.Org(t, owner, "Beta")
		paris := env.Store(t, owner, acme.ID, "Paris")
		env.Store(t, owner, beta.ID, "Berlin")
		for _, u := range []roster.User{ann, dan} {
			env.Join(t, owner, acme.ID, u, roster.OrgMember, app.StoreGrantInput{StoreID: paris.ID, RoleID: roster.StoreRoleMember})
		}
		nd := startNode(t, env, env.URL)
		oracle := sqlOracle(t, env)
		hosts := hostOn(t, env, nd.app, oracle)
		host, oracleHost := hosts[0], hosts[1]
		// ask returns the stores a user may open as the node and as SQL list them, and the
		// statements the node's answer read.
		ask := func(u roster.User) (got, want string, reads int64) {
			t.Helper()
			list := func(a *app.App, ctx context.Context, host roster.Actor) string {
				stores, err := a.Access.UserStores(ctx, host, app.UserStoresInput{UserID: u.ID})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, s := range stores {
					out = append(out, s.Store.Name+"/"+s.Grant.RoleID)
				}
				return strings.Join(out, " ")
			}
			cctx, n := sqlstore.CountQueries(ctx)
			got = list(nd.app, cctx, host)
			return got, list(oracle, ctx, oracleHost), n.Reads()
		}

		if got, want, _ := ask(ann); got != want || got == "" {
			t.Fatalf("Ann's stores: the node said %q, SQL %q", got, want)
		}
		waitFor(t, func() bool { return nd.app.Access.IndexStats().OrgsOfAll > 0 })
		if got, want, reads := ask(dan); got != want || reads != 0 {
			t.Errorf("Dan's stores after everyone's organizations were read: the node said %q in %d reads (want none), SQL %q", got, reads, want)
		}
		if err := nd.db.InTx(ctx, func(tx *sqlstore.Tx) error {
			return tx.AddMember(ctx, roster.Membership{OrgID: beta.ID, UserID: dan.ID, Role: roster.OrgAdmin, Status: roster.MembershipActive,
				CreatedAt: env.Clock.Now(), UpdatedAt: env.Clock.Now()})
		}); err != nil {
			t.Fatal(err)
		}
		if got, want, _ := ask(dan); got != want || !strings.Contains(got, "Berlin") {
			t.Errorf("Dan's stores after he joined Beta: the node said %q, SQL %q", got, want)
		}
	})
}
