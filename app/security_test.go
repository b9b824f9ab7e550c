package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/password"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

var visitor = roster.Anonymous("203.0.113.7", "test")

// TestLoginChecklist proves SECURITY.md's login lines: unknown accounts and wrong passwords
// get the same answer and count alike; a growing delay after five failures; a hard stop
// well before 100 failures; a success clears the count; a per-IP limit; 429s say when to
// come back.
func TestLoginChecklist(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		_, u := env.User(t, "Olivia")
		login := func(addr, pw string) error {
			_, err := env.App.Auth.Login(ctx, visitor, app.LoginInput{Email: addr, Password: pw})
			return err
		}
		wrong, unknown := login(u.Email, "not the password at all"), login("nobody"+testenv.Unique()+"@example.com", "not the password at all")
		if testenv.Code(wrong) != roster.EInvalidCredentials || wrong.Error() != unknown.Error() || testenv.Code(unknown) != testenv.Code(wrong) {
			t.Fatalf("wrong password %v, unknown account %v", wrong, unknown)
		}
		for range 3 {
			_ = login(u.Email, "not the password at all")
		}
		// Failure 5 locks the account for a second, doubling from there.
		if err := login(u.Email, "not the password at all"); testenv.Code(err) != roster.EInvalidCredentials {
			t.Fatalf("fifth failure: %v", err)
		}
		err := login(u.Email, testenv.Password)
		if e := roster.AsError(err); e == nil || e.Code != roster.ERateLimited || e.RetryAfter < time.Second {
			t.Fatalf("the right password while locked: %v", err)
		}
		// Hard stop: keep failing, waiting out each delay; by failure 50 the lock is a day.
		failures := 5
		for failures < 50 {
			env.Clock.Advance(16 * time.Minute)
			if err := login(u.Email, "not the password at all"); testenv.Code(err) != roster.EInvalidCredentials {
				t.Fatalf("failure %d: %v", failures+1, err)
			}
			failures++
		}
		env.Clock.Advance(16 * time.Minute)
		if e := roster.AsError(login(u.Email, testenv.Password)); e == nil || e.Code != roster.ERateLimited || e.RetryAfter < 23*time.Hour {
			t.Fatalf("after 50 failures and 16 minutes: %v", e)
		}
		env.Clock.Advance(24 * time.Hour)
		if err := login(u.Email, testenv.Password); err != nil {
			t.Fatalf("after the day: %v", err)
		}
		// The success cleared the count: four new failures cause no delay.
		for range 4 {
			_ = login(u.Email, "not the password at all")
		}
		if err := login(u.Email, testenv.Password); err != nil {
			t.Fatalf("after four new failures: %v", err)
		}

		// Per IP: a process that allows three attempts a minute refuses the fourth from
		// that address, not from another.
		node := testenv.NewEnvOn(t, env, func(c *app.Config) { c.LoginPerIP = 3 })
		for range 3 {
			_, _ = node.App.Auth.Login(ctx, visitor, app.LoginInput{Email: u.Email, Password: "not the password at all"})
		}
		if _, err := node.App.Auth.Login(ctx, visitor, app.LoginInput{Email: u.Email, Password: testenv.Password}); testenv.Code(err) != roster.ERateLimited {
			t.Fatalf("fourth attempt from one address: %v", err)
		}
		if _, err := node.App.Auth.Login(ctx, roster.Anonymous("203.0.113.8", "t"), app.LoginInput{Email: u.Email, Password: testenv.Password}); err != nil {
			t.Fatalf("from another address: %v", err)
		}
	})
}

// TestSessionChecklist proves the session lines: 256-bit tokens stored as SHA-256, a new
// token at every login, idle and absolute limits, and access ending on the next request
// after logout, a password reset, deactivation, suspension and removal.
func TestSessionChecklist(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e, func(c *app.Config) { c.SessionIdle = time.Hour; c.SessionLifetime = 3 * time.Hour })
		box := env.Outbox(t)
		_, u := env.User(t, "Olivia")
		first, _ := env.App.Auth.Login(ctx, visitor, app.LoginInput{Email: u.Email, Password: testenv.Password})
		second, _ := env.App.Auth.Login(ctx, visitor, app.LoginInput{Email: u.Email, Password: testenv.Password})
		if first.Token == second.Token || !token.WellFormed(token.PrefixSession, first.Token) || len(first.Token) < len(token.PrefixSession)+43 {
			t.Fatalf("session tokens %q %q", first.Token, second.Token)
		}
		if dump := env.Dump(t); strings.Contains(dump, first.Token) || !strings.Contains(dump, token.Hash(first.Token)) {
			t.Fatal("the session token is stored in clear, or not as its SHA-256")
		}
		auth := func(tok string) error { _, err := env.App.Auth.Authenticate(ctx, tok, "203.0.113.7", "t"); return err }
		// Idle: used every 50 minutes it lives on, until the absolute limit of 3 hours.
		for range 3 {
			env.Clock.Advance(50 * time.Minute)
			if err := auth(first.Token); err != nil {
				t.Fatalf("active session: %v", err)
			}
		}
		env.Clock.Advance(31 * time.Minute) // 3 h 1 min after login
		if err := auth(first.Token); testenv.Code(err) != roster.EUnauthenticated {
			t.Fatalf("past the absolute limit: %v", err)
		}
		if err := auth(second.Token); testenv.Code(err) != roster.EUnauthenticated {
			t.Fatalf("idle for 3 hours: %v", err)
		}

		// Logout ends that session at once, and only that one.
		out, _ := env.App.Auth.Login(ctx, visitor, app.LoginInput{Email: u.Email, Password: testenv.Password})
		res, _ := env.App.Auth.Login(ctx, visitor, app.LoginInput{Email: u.Email, Password: testenv.Password})
		a, err := env.App.Auth.Authenticate(ctx, out.Token, "203.0.113.7", "t")
		if err != nil {
			t.Fatal(err)
		}
		if err := env.App.Auth.Logout(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := auth(out.Token); testenv.Code(err) != roster.EUnauthenticated {
			t.Fatalf("after logout: %v", err)
		}
		if err := auth(res.Token); err != nil {
			t.Fatalf("another session after logout: %v", err)
		}
		// A password reset ends every session.
		if err := env.App.Accounts.RequestPasswordReset(ctx, visitor, u.Email); err != nil {
			t.Fatal(err)
		}
		link := box.Last(t, u.Email, "password_reset")
		tok := link.Text[strings.Index(link.Text, "token=")+len("token="):][:len(token.PrefixLink)+43]
		if _, err := env.App.Accounts.SetPasswordWithLink(ctx, visitor, tok, "a fresh long passphrase here"); err != nil {
			t.Fatal(err)
		}
		if err := auth(res.Token); testenv.Code(err) != roster.EUnauthenticated {
			t.Fatalf("a session after the password reset: %v", err)
		}
		if _, err := env.App.Accounts.SetPasswordWithLink(ctx, visitor, tok, "and another long passphrase"); testenv.Code(err) != roster.ETokenInvalid {
			t.Fatalf("the reset link twice: %v", err)
		}

		// Suspension, removal and deactivation end access on the next request.
		owner, _ := env.User(t, "Owner")
		org := env.Org(t, owner, "Acme")
		member, mu := env.User(t, "Marc")
		env.Join(t, owner, org.ID, mu, roster.OrgAdmin)
		if _, err := env.App.Organizations.Get(ctx, member, org.ID); err != nil {
			t.Fatal(err)
		}
		if err := env.App.Members.Suspend(ctx, owner, org.ID, mu.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Organizations.Get(ctx, member, org.ID); testenv.Code(err) != roster.EMembershipSuspended {
			t.Fatalf("suspended: %v", err)
		}
		if err := env.App.Members.Remove(ctx, owner, org.ID, mu.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Organizations.Get(ctx, member, org.ID); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("removed: %v", err)
		}
		live, err := env.App.Auth.Login(ctx, visitor, app.LoginInput{Email: mu.Email, Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Operator.DeactivateUser(ctx, operator(t, env), mu.Email); err != nil {
			t.Fatal(err)
		}
		if err := auth(live.Token); testenv.Code(err) != roster.EUnauthenticated {
			t.Fatalf("deactivated: %v", err)
		}
	})
}

// operator returns an operator's actor.
func operator(t *testing.T, env *testenv.Env) roster.Actor {
	t.Helper()
	link, err := env.App.Operator.SetupLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := link[strings.Index(link, "token=")+len("token="):]
	addr := "op" + testenv.Unique() + "@example.com"
	if _, err := env.App.Operator.CompleteSetup(ctx, visitor, tok, app.SignupInput{Email: addr, Name: "Op", Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	a, _ := env.Login(t, addr)
	return a
}

// TestRehashAtLogin: a password hashed with weaker parameters than the instance's is
// upgraded at the next successful login.
func TestRehashAtLogin(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		weak := testenv.NewEnv(t, e)
		_, u := weak.User(t, "Olivia")
		before, err := weak.DB.Read().PasswordHash(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		strong := testenv.NewEnvOn(t, weak, func(c *app.Config) { c.PasswordParams = password.Params{Memory: 128, Time: 2, Threads: 1} })
		if _, err := strong.App.Auth.Login(ctx, visitor, app.LoginInput{Email: u.Email, Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		after, err := weak.DB.Read().PasswordHash(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(before, "m=64,t=1,p=1") || !strings.Contains(after, "$argon2id$v=19$m=128,t=2,p=1$") {
			t.Fatalf("hash before %q, after %q", before, after)
		}
		if _, err := strong.App.Auth.Login(ctx, visitor, app.LoginInput{Email: u.Email, Password: testenv.Password}); err != nil {
			t.Fatalf("login with the upgraded hash: %v", err)
		}
	})
}

// TestRefusalsAreAudited: a refused authorization writes an access.denied event with the
// actor, organization, permission and address, and no event holds a secret.
func TestRefusalsAreAudited(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		member, mu := env.User(t, "Marc")
		env.Join(t, owner, org.ID, mu, roster.OrgMember)
		member.IP = "198.51.100.23"
		if _, err := env.App.Stores.Create(ctx, member, org.ID, app.StoreInput{Name: "Nope"}); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("member creates a store: %v", err)
		}
		page, err := env.App.Audit.List(ctx, owner, org.ID, app.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, ev := range page.Items {
			if ev.Action == "access.denied" && ev.ActorID == mu.ID && ev.IP == "198.51.100.23" && ev.OrgID == org.ID &&
				ev.After["permission"] == string(roster.PermOrgStoresCreate) && !ev.CreatedAt.IsZero() {
				found = true
			}
		}
		if !found {
			t.Fatalf("no access.denied event for the member: %+v", page.Items)
		}
	})
}

// TestPasswordNotTheOrganizationsName: a password made of the inviting organization's name
// is refused when an account is created through the invitation.
func TestPasswordNotTheOrganizationsName(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		box := env.Outbox(t)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Zebracorp Industries")
		if _, err := env.App.Invitations.Create(ctx, owner, org.ID, app.InvitationInput{Email: "new@example.com"}); err != nil {
			t.Fatal(err)
		}
		m := box.Last(t, "new@example.com", "invitation")
		tok := m.Text[strings.Index(m.Text, "token=")+len("token="):][:len(token.PrefixLink)+43]
		_, err := env.App.Invitations.Accept(ctx, visitor, app.AcceptInput{Token: tok, Name: "New", Password: "Zebracorp Industries 2026"})
		if testenv.Code(err) != roster.EPasswordCommon {
			t.Fatalf("the organization's name as password: %v", err)
		}
		if _, err := env.App.Invitations.Accept(ctx, visitor, app.AcceptInput{Token: tok, Name: "New", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOwnershipCannotBeTakenOrLost covers the known failures of comparable products: an
// admin making themselves owner through the transfer endpoint, admins changing or removing
// the owner, and concurrent transfers leaving zero or two owners.
func TestOwnershipCannotBeTakenOrLost(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, ou := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		admin, au := env.User(t, "Ada")
		_, bu := env.User(t, "Bea")
		env.Join(t, owner, org.ID, au, roster.OrgAdmin)
		env.Join(t, owner, org.ID, bu, roster.OrgAdmin)
		owners := func() []string {
			t.Helper()
			page, err := env.App.Members.List(ctx, owner, org.ID, app.MemberFilter{})
			if err != nil {
				page, err = env.App.Members.List(ctx, admin, org.ID, app.MemberFilter{})
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, m := range page.Items {
				if m.Role == roster.OrgOwner {
					ids = append(ids, m.User.ID)
				}
			}
			return ids
		}
		env.Clock.Advance(app.StepUpWindow + time.Second) // the logins no longer stand in for a password
		for name, err := range map[string]error{
			"transfer without password": env.App.Organizations.TransferOwnership(ctx, owner, org.ID, au.ID, app.OwnerProof{Password: "wrong password for sure"}),
			"admin transfers to self":   env.App.Organizations.TransferOwnership(ctx, admin, org.ID, au.ID, app.OwnerProof{Password: testenv.Password}),
			"admin transfers to other":  env.App.Organizations.TransferOwnership(ctx, admin, org.ID, bu.ID, app.OwnerProof{Password: testenv.Password}),
			"admin demotes the owner":   env.App.Members.ChangeRole(ctx, admin, org.ID, ou.ID, roster.OrgMember),
			"admin suspends the owner":  env.App.Members.Suspend(ctx, admin, org.ID, ou.ID),
			"admin removes the owner":   env.App.Members.Remove(ctx, admin, org.ID, ou.ID),
			"owner demotes self":        env.App.Members.ChangeRole(ctx, owner, org.ID, ou.ID, roster.OrgAdmin),
			"owner leaves":              env.App.Members.Leave(ctx, owner, org.ID),
			"admin promotes to owner":   env.App.Members.ChangeRole(ctx, admin, org.ID, bu.ID, roster.OrgOwner),
			"transfer to a non-member":  env.App.Organizations.TransferOwnership(ctx, owner, org.ID, "usr_01m00000000000000000000000", app.OwnerProof{Password: testenv.Password}),
		} {
			if err == nil {
				t.Errorf("%s: allowed", name)
			}
		}
		if got := owners(); len(got) != 1 || got[0] != ou.ID {
			t.Fatalf("owners after the attempts: %v", got)
		}
		// Twenty concurrent transfers, to two admins: exactly one wins, one owner remains.
		errs := make(chan error, 20)
		for i := range 20 {
			to := au.ID
			if i%2 == 1 {
				to = bu.ID
			}
			go func() {
				errs <- env.App.Organizations.TransferOwnership(ctx, owner, org.ID, to, app.OwnerProof{Password: testenv.Password})
			}()
		}
		won := 0
		for range 20 {
			if err := <-errs; err == nil {
				won++
			}
		}
		if got := owners(); won != 1 || len(got) != 1 || got[0] == ou.ID {
			t.Fatalf("%d transfers won; owners %v", won, got)
		}
	})
}

// TestSetupIsNoPasswordOracle: without a live setup link, /v1/setup answers the same for a
// right password, a wrong one and an unknown address: it neither checks passwords nor tells
// which addresses have an account.
func TestSetupIsNoPasswordOracle(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		_, u := env.User(t, "Olivia")
		forged := token.PrefixLink + strings.Repeat("A", 43)
		try := func(secret, addr, pw string) error {
			_, err := env.App.Operator.CompleteSetup(ctx, visitor, secret, app.SignupInput{Email: addr, Name: "X", Password: pw})
			return err
		}
		check := func(when, secret string) {
			t.Helper()
			for name, err := range map[string]error{
				"right password":  try(secret, u.Email, testenv.Password),
				"wrong password":  try(secret, u.Email, "not the password at all"),
				"unknown address": try(secret, "nobody"+testenv.Unique()+"@example.com", testenv.Password),
			} {
				if testenv.Code(err) != roster.ETokenInvalid {
					t.Errorf("%s, %s: %v", when, name, err)
				}
			}
		}
		check("no link", forged)
		link, err := env.App.Operator.SetupLink(ctx)
		if err != nil {
			t.Fatal(err)
		}
		live := link[strings.Index(link, "token=")+len("token="):]
		env.Clock.Advance(25 * time.Hour)
		check("an expired link", live)
		operator(t, env)
		check("after setup", forged)
		if got, err := env.DB.Read().User(ctx, u.ID); err != nil || got.Operator {
			t.Fatalf("the user became operator: %v %+v", err, got)
		}
	})
}

// TestEmailChangeIsNoAddressOracle: "this address has an account" (to an email change or a
// direct creation) is answered a few times an hour at most, so a signed-in user cannot
// enumerate which addresses have accounts.
func TestEmailChangeIsNoAddressOracle(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		prober, _ := env.User(t, "Mallory")
		var taken []string
		for range 6 {
			_, u := env.User(t, "Target")
			taken = append(taken, u.Email)
		}
		for i, addr := range taken[:5] {
			if err := env.App.Accounts.RequestEmailChange(ctx, prober, addr, testenv.Password); testenv.Code(err) != roster.EUserExists {
				t.Fatalf("probe %d: %v", i+1, err)
			}
		}
		for _, addr := range []string{taken[5], "free" + testenv.Unique() + "@example.com"} {
			if err := env.App.Accounts.RequestEmailChange(ctx, prober, addr, testenv.Password); testenv.Code(err) != roster.ERateLimited {
				t.Fatalf("a sixth probe within the hour: %v", err)
			}
		}
		// Direct creation shares the budget: the owner of an organization of their own cannot
		// ask it instead.
		org := env.Org(t, prober, "Probe Inc")
		if _, err := env.App.Accounts.Create(ctx, prober, org.ID, app.NewUserInput{Email: taken[5], Name: "T"}); testenv.Code(err) != roster.ERateLimited {
			t.Fatalf("direct creation while waiting: %v", err)
		}
		env.Clock.Advance(time.Hour + time.Second)
		if _, err := env.App.Accounts.Create(ctx, prober, org.ID, app.NewUserInput{Email: taken[5], Name: "T"}); testenv.Code(err) != roster.EUserExists {
			t.Fatalf("an hour later, direct creation: %v", err)
		}
		if err := env.App.Accounts.RequestEmailChange(ctx, prober, "free"+testenv.Unique()+"@example.com", testenv.Password); testenv.Code(err) != roster.ERateLimited {
			t.Fatalf("right after another taken answer: %v", err)
		}
		env.Clock.Advance(time.Hour + time.Second)
		if err := env.App.Accounts.RequestEmailChange(ctx, prober, "free"+testenv.Unique()+"@example.com", testenv.Password); err != nil {
			t.Fatalf("an hour later, a free address: %v", err)
		}
	})
}
