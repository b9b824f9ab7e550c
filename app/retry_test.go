package app_test

import (
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// A use case whose transaction is aborted at commit (as PostgreSQL does on a serialization
// failure) runs again from the state it read before, and its answer is the retried attempt's.
func TestRetriedAcceptKeepsItsWork(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newInviteFixture(t, e)
		env := f.env

		// A signed-in, unverified user accepts: following the link verifies the address,
		// also when the first attempt rolled back after setting it.
		marc, mu := env.User(t, "Marc")
		if mu.Verified() {
			t.Fatal("fixture user is already verified")
		}
		f.invite(t, mu.Email, app.StoreGrantInput{StoreID: f.a.ID, RoleID: roster.StoreRoleMember})
		tok := f.link(t, mu.Email)
		env.DB.FailNextCommits(1)
		res, err := env.App.AcceptInvitation(ctx, marc, app.AcceptInput{Token: tok})
		if err != nil {
			t.Fatalf("accept through a retried transaction: %v", err)
		}
		if !res.User.Verified() {
			t.Error("the answer says the user is unverified")
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM users WHERE id = ? AND email_verified_at IS NOT NULL`, mu.ID); n != 1 {
			t.Error("the retried accept left the user unverified in the database")
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM store_members WHERE user_id = ?`, mu.ID); n != 1 {
			t.Errorf("%d store memberships, want 1", n)
		}
		if n := events(t, env, f.org.ID, "invitation.accepted"); n != 1 {
			t.Errorf("%d invitation.accepted events, want 1", n)
		}

		// A new account through an invitation: one account, and the session answered is the
		// one that was committed.
		f.invite(t, "nina@acme.com")
		tok = f.link(t, "nina@acme.com")
		env.DB.FailNextCommits(2)
		res, err = env.App.AcceptInvitation(ctx, anon, app.AcceptInput{Token: tok, Name: "Nina", Password: testenv.Password})
		if err != nil || res.Session == nil {
			t.Fatalf("sign-up accept through a retried transaction: %v %+v", err, res)
		}
		if _, err := env.App.Authenticate(ctx, res.Session.Token, "192.0.2.1", "test"); err != nil {
			t.Fatalf("the session answered after a retry does not exist: %v", err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM users WHERE email = ?`, "nina@acme.com"); n != 1 {
			t.Errorf("%d accounts for nina, want 1", n)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, res.User.ID); n != 1 {
			t.Errorf("%d sessions, want 1", n)
		}
	})
}

// Creating an organization through retried transactions answers the organization that was
// committed, once, with one owner and one organization.created event.
func TestRetriedCreateOrganizationAnswersWhatIsStored(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olga")
		env.DB.FailNextCommits(2)
		org, err := env.App.CreateOrganization(ctx, owner, app.OrganizationInput{Name: "Retried"})
		if err != nil {
			t.Fatalf("create through retried transactions: %v", err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM organizations WHERE id = ? AND name = ?`, org.ID, "Retried"); n != 1 {
			t.Errorf("the organization answered (%s) is not the one stored", org.ID)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM organizations WHERE name = ?`, "Retried"); n != 1 {
			t.Errorf("%d organizations named Retried, want 1", n)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM org_members WHERE org_id = ?`, org.ID); n != 1 {
			t.Errorf("%d memberships, want 1", n)
		}
		if n := events(t, env, org.ID, "organization.created"); n != 1 {
			t.Errorf("%d organization.created events, want 1", n)
		}
	})
}

// Registering permissions through a retried transaction counts each permission once: the
// counts answered are those of the attempt that committed.
func TestRetriedPutPermissionsCountsOnce(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		in := []app.PermissionInput{{Key: "campaigns.create", Member: true}, {Key: "campaigns.delete"}}
		env.DB.FailNextCommits(1)
		c, u, err := env.App.PutPermissions(ctx, roster.System(), in)
		if err != nil || c != 2 || u != 0 {
			t.Fatalf("apply through a retried transaction: %v created %d updated %d, want 2 0", err, c, u)
		}
		in[1].Viewer = true
		env.DB.FailNextCommits(2)
		if c, u, err = env.App.PutPermissions(ctx, roster.System(), in); err != nil || c != 0 || u != 1 {
			t.Fatalf("second apply through retried transactions: %v created %d updated %d, want 0 1", err, c, u)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE target_type = 'permission'`); n != 3 {
			t.Errorf("%d permission audit events, want 3 (two registered, one changed)", n)
		}
	})
}
