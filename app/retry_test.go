package app_test

import (
	"strings"
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
		res, err := env.App.Invitations.Accept(ctx, marc, app.AcceptInput{Token: tok})
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
		res, err = env.App.Invitations.Accept(ctx, anon, app.AcceptInput{Token: tok, Name: "Nina", Password: testenv.Password})
		if err != nil || res.Session == nil {
			t.Fatalf("sign-up accept through a retried transaction: %v %+v", err, res)
		}
		if _, err := env.App.Auth.Authenticate(ctx, res.Session.Token, "192.0.2.1", "test"); err != nil {
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
		org, err := env.App.Organizations.Create(ctx, owner, app.OrganizationInput{Name: "Retried"})
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
		c, u, err := env.App.Roles.PutPermissions(ctx, roster.System(), in)
		if err != nil || c != 2 || u != 0 {
			t.Fatalf("apply through a retried transaction: %v created %d updated %d, want 2 0", err, c, u)
		}
		in[1].Viewer = true
		env.DB.FailNextCommits(2)
		if c, u, err = env.App.Roles.PutPermissions(ctx, roster.System(), in); err != nil || c != 0 || u != 1 {
			t.Fatalf("second apply through retried transactions: %v created %d updated %d, want 0 1", err, c, u)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE target_type = 'permission'`); n != 3 {
			t.Errorf("%d permission audit events, want 3 (two registered, one changed)", n)
		}
	})
}

// TestRetriedLinksKeepTheirWork: the use cases behind one-time links — setting a password,
// verifying an address, creating the first operator — run again when their transaction is
// aborted at commit, and the retried attempt does the whole work once: the link is used once,
// the answer is what was stored, and nothing is doubled.
func TestRetriedLinksKeepTheirWork(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		box := env.Outbox(t)

		// Verifying an address.
		_, u := env.User(t, "Vic")
		tok := testenv.Token(box.Last(t, u.Email, "verify_email"))
		env.DB.FailNextCommits(1)
		got, err := env.App.Accounts.VerifyEmail(ctx, anon, tok)
		if err != nil || !got.Verified() {
			t.Fatalf("verify through a retried transaction: %v verified=%v", err, got.Verified())
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM users WHERE id = ? AND email_verified_at IS NOT NULL`, u.ID); n != 1 {
			t.Error("the retried verification left the address unverified")
		}
		if _, err := env.App.Accounts.VerifyEmail(ctx, anon, tok); testenv.Code(err) != roster.ETokenInvalid {
			t.Errorf("the link works again after a retried use: %v", err)
		}

		// Setting a password through a reset link: the new password works, the old does not,
		// the link is spent.
		if err := env.App.Accounts.RequestPasswordReset(ctx, anon, u.Email); err != nil {
			t.Fatal(err)
		}
		tok = testenv.Token(box.Last(t, u.Email, "password_reset"))
		env.DB.FailNextCommits(2)
		if _, err := env.App.Accounts.SetPasswordWithLink(ctx, anon, tok, "a brand new passphrase"); err != nil {
			t.Fatalf("set a password through a retried transaction: %v", err)
		}
		if _, err := env.App.Auth.Login(ctx, anon, app.LoginInput{Email: u.Email, Password: "a brand new passphrase"}); err != nil {
			t.Errorf("the password set by a retried transaction does not work: %v", err)
		}
		if _, err := env.App.Accounts.SetPasswordWithLink(ctx, anon, tok, "another new passphrase"); testenv.Code(err) != roster.ETokenInvalid {
			t.Errorf("the reset link works again after a retried use: %v", err)
		}

		// Creating the first operator: one account, an operator, and the setup link spent.
		link, err := env.App.Operator.SetupLink(ctx)
		if err != nil {
			t.Fatal(err)
		}
		setup := link[strings.Index(link, "token=")+len("token="):]
		env.DB.FailNextCommits(1)
		op, err := env.App.Operator.CompleteSetup(ctx, anon, setup, app.SignupInput{Email: "op@example.com", Name: "Op", Password: testenv.Password})
		if err != nil || !op.Operator {
			t.Fatalf("setup through a retried transaction: %v %+v", err, op)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM users WHERE email = ? AND is_operator`, "op@example.com"); n != 1 {
			t.Errorf("%d operator accounts, want 1", n)
		}
		if _, err := env.App.Operator.CompleteSetup(ctx, anon, setup, app.SignupInput{Email: "op2@example.com", Name: "Op", Password: testenv.Password}); err == nil {
			t.Error("the setup link works again after a retried use")
		}
	})
}
