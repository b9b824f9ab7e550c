package app_test

import (
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
)

// team is an organization with one person in each organization role, a store, and a
// member who belongs to that store.
type team struct {
	env                                *testenv.Env
	org                                roster.Organization
	store                              roster.Store
	owner, admin, member, storeMember  roster.Actor
	ownerU, adminU, memberU, storeMemU roster.User
}

func newTeam(t *testing.T, env *testenv.Env) *team {
	t.Helper()
	tm := &team{env: env}
	tm.owner, tm.ownerU = env.User(t, "Olivia")
	tm.org = env.Org(t, tm.owner, "Acme")
	tm.store = env.Store(t, tm.owner, tm.org.ID, "Shop")
	tm.admin, tm.adminU = env.User(t, "Adam")
	env.Join(t, tm.owner, tm.org.ID, tm.adminU, roster.OrgAdmin)
	tm.member, tm.memberU = env.User(t, "Mia")
	env.Join(t, tm.owner, tm.org.ID, tm.memberU, roster.OrgMember)
	tm.storeMember, tm.storeMemU = env.User(t, "Sam")
	env.Join(t, tm.owner, tm.org.ID, tm.storeMemU, roster.OrgMember, app.StoreGrantInput{StoreID: tm.store.ID, RoleID: roster.StoreRoleMember})
	return tm
}

// want fails the test unless err has the given code ("" for success).
func want(t testing.TB, err error, code string, what string) {
	t.Helper()
	if got := testenv.Code(err); got != code {
		t.Fatalf("%s: got %v (code %q), want %q", what, err, got, code)
	}
}

// owners counts the owners of an organization in the database itself.
func owners(t testing.TB, env *testenv.Env, orgID string) int {
	t.Helper()
	return env.Int(t, `SELECT COUNT(*) FROM org_members WHERE org_id = ? AND role = 'owner'`, orgID)
}

// events counts an organization's audit events with an action.
func events(t testing.TB, env *testenv.Env, orgID, action string) int {
	t.Helper()
	return env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE org_id = ? AND action = ?`, orgID, action)
}

// allEvents counts every audit event.
func allEvents(t testing.TB, env *testenv.Env) int {
	t.Helper()
	return env.Int(t, `SELECT COUNT(*) FROM audit_events`)
}

// role returns a member's organization role and status as stored.
func role(t testing.TB, env *testenv.Env, orgID, userID string) roster.Membership {
	t.Helper()
	m, err := env.DB.Read().Membership(testenv.Ctx, orgID, userID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitFor polls cond until it holds, failing the test after ten seconds.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond) // polls; a spin would take a core from the parallel tests
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		<-tick.C
	}
}
