package app_test

// DESIGN §3 rule 7: a deactivated user or a suspended membership loses access at once — on
// the very next request, also while requests are in flight.

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

func TestRuleDeactivatedUserLosesAccess(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		tm := newTeam(t, env)
		svc, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
		if err != nil {
			t.Fatal(err)
		}
		host, err := env.App.Auth.Authenticate(ctx, svc.Secret, "", "")
		if err != nil {
			t.Fatal(err)
		}
		// Two sessions of the member.
		first, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "a"), app.LoginInput{Email: tm.storeMemU.Email, Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		second, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "b"), app.LoginInput{Email: tm.storeMemU.Email, Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		check := app.CheckInput{UserID: tm.storeMemU.ID, Permission: roster.PermStoreRead, StoreID: tm.store.ID}
		if r, err := env.App.Access.Check(ctx, host, check); err != nil || !r.Allowed {
			t.Fatalf("before: %+v %v", r, err)
		}

		if _, err := env.App.Operator.DeactivateUser(ctx, roster.System(), tm.storeMemU.Email); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{first.Token, second.Token} {
			_, err := env.App.Auth.Authenticate(ctx, tok, "192.0.2.9", "a")
			want(t, err, roster.EUnauthenticated, "a session of a deactivated user")
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, tm.storeMemU.ID); n != 0 {
			t.Fatalf("%d sessions left", n)
		}
		_, err = env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "a"), app.LoginInput{Email: tm.storeMemU.Email, Password: testenv.Password})
		want(t, err, roster.EUserDeactivated, "login of a deactivated user")
		r, err := env.App.Access.Check(ctx, host, check)
		if err != nil || r.Allowed || r.Reason != "user_deactivated" {
			t.Fatalf("check of a deactivated user: %+v %v", r, err)
		}
		if list, err := env.App.Access.UserStores(ctx, host, app.UserStoresInput{UserID: tm.storeMemU.ID}); err != nil || len(list) != 0 {
			t.Fatalf("stores of a deactivated user: %v %v", list, err)
		}
		// Their membership stays (an operator may bring them back), and so does the audit trail.
		if role(t, env, tm.org.ID, tm.storeMemU.ID).Role != roster.OrgMember {
			t.Fatal("deactivation removed the membership")
		}

		// Reactivation: old sessions stay dead, a new login works.
		if _, err := env.App.Operator.ReactivateUser(ctx, roster.System(), tm.storeMemU.ID); err != nil {
			t.Fatal(err)
		}
		_, err = env.App.Auth.Authenticate(ctx, first.Token, "192.0.2.9", "a")
		want(t, err, roster.EUnauthenticated, "an old session after reactivation")
		env.Login(t, tm.storeMemU.Email)
		if r, err := env.App.Access.Check(ctx, host, check); err != nil || !r.Allowed {
			t.Fatalf("after reactivation: %+v %v", r, err)
		}
	})
}

func TestRuleSuspendedMemberLosesAccess(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		tm := newTeam(t, env)
		svc, _ := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
		host, _ := env.App.Auth.Authenticate(ctx, svc.Secret, "", "")
		check := app.CheckInput{UserID: tm.adminU.ID, Permission: roster.PermStoreUpdate, StoreID: tm.store.ID}

		want(t, env.App.Members.Suspend(ctx, tm.owner, tm.org.ID, tm.adminU.ID), "", "suspend the admin")
		// Every organization use case refuses them on their next request.
		_, err := env.App.Organizations.Get(ctx, tm.admin, tm.org.ID)
		want(t, err, roster.EMembershipSuspended, "organization")
		_, err = env.App.Members.List(ctx, tm.admin, tm.org.ID, app.MemberFilter{})
		want(t, err, roster.EMembershipSuspended, "members")
		_, err = env.App.Stores.Get(ctx, tm.admin, tm.store.ID)
		want(t, err, roster.EMembershipSuspended, "store")
		_, err = env.App.Stores.List(ctx, tm.admin, tm.org.ID, "")
		want(t, err, roster.EMembershipSuspended, "stores")
		_, err = env.App.Stores.Update(ctx, tm.admin, tm.store.ID, app.StoreInput{Name: "Mine"})
		want(t, err, roster.EMembershipSuspended, "update store")
		want(t, env.App.Members.Remove(ctx, tm.admin, tm.org.ID, tm.memberU.ID), roster.EMembershipSuspended, "remove a member")
		_, err = env.App.Audit.List(ctx, tm.admin, tm.org.ID, app.AuditFilter{})
		want(t, err, roster.EMembershipSuspended, "audit")
		r, err := env.App.Access.Check(ctx, host, check)
		if err != nil || r.Allowed || r.Reason != "suspended" {
			t.Fatalf("check of a suspended admin: %+v %v", r, err)
		}
		affs, err := env.App.Accounts.Organizations(ctx, tm.admin)
		if err != nil || len(affs) != 1 || affs[0].Membership.Status != roster.MembershipSuspended || len(affs[0].Stores) != 0 {
			t.Fatalf("selector of a suspended admin: %+v %v", affs, err)
		}
		if list, _ := env.App.Access.UserStores(ctx, host, app.UserStoresInput{UserID: tm.adminU.ID}); len(list) != 0 {
			t.Fatalf("stores of a suspended admin: %v", list)
		}
		// Their own session still works elsewhere: suspension is per organization.
		if _, err := env.App.Accounts.Me(ctx, tm.admin); err != nil {
			t.Fatal(err)
		}
		// Reactivated, they are back at once.
		want(t, env.App.Members.Reactivate(ctx, tm.owner, tm.org.ID, tm.adminU.ID), "", "reactivate")
		if r, err := env.App.Access.Check(ctx, host, check); err != nil || !r.Allowed {
			t.Fatalf("after reactivation: %+v %v", r, err)
		}
		if _, err := env.App.Members.List(ctx, tm.admin, tm.org.ID, app.MemberFilter{}); err != nil {
			t.Fatal(err)
		}

		// Role changes and removals apply on the next request too.
		want(t, env.App.Members.ChangeRole(ctx, tm.owner, tm.org.ID, tm.adminU.ID, roster.OrgMember), "", "demote")
		_, err = env.App.Members.List(ctx, tm.admin, tm.org.ID, app.MemberFilter{})
		want(t, err, roster.EForbidden, "members after demotion")
		want(t, env.App.Members.Remove(ctx, tm.owner, tm.org.ID, tm.adminU.ID), "", "remove")
		_, err = env.App.Organizations.Get(ctx, tm.admin, tm.org.ID)
		want(t, err, roster.ENotFound, "organization after removal")
	})
}

// TestRuleAccessEndsUnderLoad has 20 goroutines keep using a user's session and their
// membership while the user is suspended and then deactivated: every request that starts
// after the change returns is refused.
func TestRuleAccessEndsUnderLoad(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		tm := newTeam(t, env)
		res, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "x"), app.LoginInput{Email: tm.adminU.Email, Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		var suspended, deactivated atomic.Bool
		var late atomic.Int32 // requests that started after a change and still got through
		var ok atomic.Int32
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					wasSuspended, wasDeactivated := suspended.Load(), deactivated.Load()
					actor, err := env.App.Auth.Authenticate(ctx, res.Token, "192.0.2.9", "x")
					if err == nil {
						_, err = env.App.Organizations.Get(ctx, actor, tm.org.ID)
					}
					switch {
					case err == nil && (wasSuspended || wasDeactivated):
						late.Add(1)
					case err == nil:
						ok.Add(1)
					case wasDeactivated && testenv.Code(err) != roster.EUnauthenticated,
						testenv.Code(err) != roster.EMembershipSuspended && testenv.Code(err) != roster.EUnauthenticated:
						t.Errorf("unexpected error: %v", err)
					}
				}
			})
		}
		// Let some requests through first.
		waitFor(t, func() bool { return ok.Load() >= 20 })
		if err := env.App.Members.Suspend(ctx, tm.owner, tm.org.ID, tm.adminU.ID); err != nil {
			t.Fatal(err)
		}
		suspended.Store(true)
		if _, err := env.App.Operator.DeactivateUser(ctx, roster.System(), tm.adminU.ID); err != nil {
			t.Fatal(err)
		}
		deactivated.Store(true)
		// Let every goroutine make requests after the change.
		for range 40 {
			_, err := env.App.Auth.Authenticate(ctx, res.Token, "192.0.2.9", "x")
			want(t, err, roster.EUnauthenticated, "after deactivation")
		}
		close(stop)
		wg.Wait()
		if n := late.Load(); n > 0 {
			t.Fatalf("%d requests got through after the change", n)
		}
	})
}
