package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// verified signs up a user and verifies their address through the emailed link.
func verified(t *testing.T, env *testenv.Env, box *testenv.Outbox, name string) (roster.Actor, roster.User) {
	t.Helper()
	actor, u := env.User(t, name)
	tok := testenv.Token(box.Last(t, u.Email, "verify_email"))
	u, err := env.App.Accounts.VerifyEmail(ctx, anon, tok)
	if err != nil || !u.Verified() {
		t.Fatalf("verify %s: %v", u.Email, err)
	}
	if _, err := env.App.Accounts.VerifyEmail(ctx, anon, tok); testenv.Code(err) != roster.ETokenInvalid {
		t.Fatalf("verification link used twice: %v", err)
	}
	return actor, u
}

func TestConnectorDirectCreationAndPolicy(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		box := env.Outbox(t)
		admin, au := verified(t, env, box, "Ada")
		org := env.Org(t, admin, "Connector")
		if _, err := env.App.Organizations.SetPolicy(ctx, admin, org.ID, roster.Policy{AllowedDomains: []string{"example.com"}, BlockFreeProviders: true,
			InvitationTTL: 48 * time.Hour}, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		for addr, code := range map[string]string{"bob@gmail.com": roster.EEmailDomainNotAllowed, "bob@other.com": roster.EEmailDomainNotAllowed} {
			if _, err := env.App.Accounts.Create(ctx, admin, org.ID, app.NewUserInput{Email: addr, Name: "Bob"}); testenv.Code(err) != code {
				t.Errorf("create %s: %v", addr, err)
			}
		}
		if _, err := env.App.Accounts.Create(ctx, admin, org.ID, app.NewUserInput{Email: au.Email, Name: "Ada"}); testenv.Code(err) != roster.EUserExists {
			t.Fatalf("existing address: %v", err)
		}
		u, err := env.App.Accounts.Create(ctx, admin, org.ID, app.NewUserInput{Email: "bob@example.com", Name: "Bob", Locale: "es"})
		if err != nil || u.HasPassword || u.Verified() {
			t.Fatalf("create: %v %+v", err, u)
		}
		msg := box.Last(t, "bob@example.com", "set_password")
		if msg.Locale != "es" || testenv.Token(msg) == "" || msg.Subject == "" {
			t.Fatalf("set-password email: %+v", msg)
		}
		if _, err := env.App.Auth.Login(ctx, anon, app.LoginInput{Email: "bob@example.com", Password: testenv.Password}); testenv.Code(err) != roster.EInvalidCredentials {
			t.Fatalf("login before choosing a password: %v", err)
		}
		if _, err := env.App.Accounts.SetPasswordWithLink(ctx, anon, testenv.Token(msg), testenv.Password); err != nil {
			t.Fatal(err)
		}
		bob, _ := env.Login(t, "bob@example.com")
		affs, _ := env.App.Accounts.Organizations(ctx, bob)
		if len(affs) != 1 || affs[0].Organization.ID != org.ID {
			t.Fatalf("bob's organizations: %+v", affs)
		}
		// The policy changes: bob's domain is no longer allowed; he stays, and is listed.
		if _, err := env.App.Organizations.SetPolicy(ctx, admin, org.ID, roster.Policy{AllowedDomains: []string{"connector.io"}}, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		p, err := env.App.Members.List(ctx, admin, org.ID, app.MemberFilter{BreaksPolicy: true})
		if err != nil || len(p.Items) != 2 || p.Items[0].PolicyViolation != roster.EEmailDomainNotAllowed {
			t.Fatalf("members breaking the policy: %v %+v", err, p.Items)
		}
		if _, err := env.App.Organizations.SetPolicy(ctx, bob, org.ID, roster.Policy{}, app.OwnerProof{Password: testenv.Password}); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("member sets the policy: %v", err)
		}
		if _, err := env.App.Organizations.SetPolicy(ctx, admin, org.ID, roster.Policy{InvitationTTL: 31 * 24 * time.Hour}, app.OwnerProof{Password: testenv.Password}); testenv.Code(err) != roster.EInvalid {
			t.Fatalf("TTL over 30 days: %v", err)
		}
		if _, err := env.App.Organizations.SetPolicy(ctx, admin, org.ID, roster.Policy{AllowedDomains: []string{"not a domain"}}, app.OwnerProof{Password: testenv.Password}); testenv.Code(err) != roster.EInvalid {
			t.Fatalf("bad domain: %v", err)
		}
		// The admin sends bob a password reset; nobody sends one to the owner but the owner.
		if err := env.App.Accounts.SendPasswordReset(ctx, admin, org.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		if m := box.Last(t, "bob@example.com", "password_reset"); testenv.Token(m) == "" {
			t.Fatal("no reset link")
		}
		carl, cu := env.User(t, "Carl")
		if _, err := env.App.Organizations.SetPolicy(ctx, admin, org.ID, roster.Policy{}, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		env.Join(t, admin, org.ID, cu, roster.OrgAdmin)
		if err := env.App.Accounts.SendPasswordReset(ctx, carl, org.ID, au.ID); testenv.Code(err) != roster.EOwnerProtected {
			t.Fatalf("admin resets the owner's password: %v", err)
		}
	})
}

func TestPasswordResetLink(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		box := env.Outbox(t)
		_, u := verified(t, env, box, "Marc")
		if err := env.App.Accounts.RequestPasswordReset(ctx, anon, "nobody@example.com"); err != nil {
			t.Fatalf("unknown address: %v", err)
		}
		if err := env.App.Accounts.RequestPasswordReset(ctx, anon, u.Email); err != nil {
			t.Fatal(err)
		}
		if n := box.Count(t, "nobody@example.com", "password_reset"); n != 0 {
			t.Fatal("a reset email went to an unknown address")
		}
		tok := testenv.Token(box.Last(t, u.Email, "password_reset"))
		env.Clock.Advance(60*time.Minute + time.Second)
		if _, err := env.App.Accounts.SetPasswordWithLink(ctx, anon, tok, "a brand new passphrase"); testenv.Code(err) != roster.ETokenInvalid {
			t.Fatalf("reset link after 60 minutes: %v", err)
		}
		if err := env.App.Accounts.RequestPasswordReset(ctx, anon, u.Email); err != nil {
			t.Fatal(err)
		}
		tok = testenv.Token(box.Last(t, u.Email, "password_reset"))
		env.Clock.Advance(59 * time.Minute)
		if _, err := env.App.Accounts.SetPasswordWithLink(ctx, anon, tok, "a brand new passphrase"); err != nil {
			t.Fatalf("reset within the hour: %v", err)
		}
		if _, err := env.App.Accounts.SetPasswordWithLink(ctx, anon, tok, "another new passphrase"); testenv.Code(err) != roster.ETokenInvalid {
			t.Fatalf("reset link used twice: %v", err)
		}
		if box.Count(t, u.Email, "password_changed") != 1 {
			t.Fatal("no password_changed notice")
		}
		// A flood of requests is cut, with the same answer for known and unknown addresses.
		var codes []string
		for range 6 {
			codes = append(codes, testenv.Code(env.App.Accounts.RequestPasswordReset(ctx, anon, "flood@example.com")))
		}
		if codes[5] != roster.ERateLimited {
			t.Fatalf("per-address limit: %v", codes)
		}
	})
}

func TestSignupVerificationAndTakenAddress(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		box := env.Outbox(t)
		_, u := verified(t, env, box, "Marc")
		// Signing up with a taken address answers the same, and tells the address's owner.
		if err := env.App.Auth.Signup(ctx, anon, app.SignupInput{Email: u.Email, Name: "Mallory", Password: testenv.Password}); err != nil {
			t.Fatalf("sign-up with a taken address: %v", err)
		}
		m := box.Last(t, u.Email, "signup_attempt")
		if m.Subject == "" || !contains(m.Text, "https://roster.example/login") {
			t.Fatalf("signup_attempt: %+v", m)
		}
		_ = env.App.Auth.Signup(ctx, anon, app.SignupInput{Email: u.Email, Name: "Mallory", Password: testenv.Password})
		if n := box.Count(t, u.Email, "signup_attempt"); n != 1 {
			t.Fatalf("%d sign-up notices, want at most 1 a day", n)
		}
	})
}

func TestEmailChange(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		box := env.Outbox(t)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		if _, err := env.App.Organizations.SetPolicy(ctx, owner, org.ID, roster.Policy{AllowedDomains: []string{"example.com", "acme.com"}}, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		marc, mu := verified(t, env, box, "Marc")
		env.Join(t, owner, org.ID, mu, roster.OrgMember)
		if err := env.App.Accounts.RequestEmailChange(ctx, marc, "marc@acme.com", "wrong password, surely"); testenv.Code(err) != roster.EInvalidCredentials {
			t.Fatalf("wrong password: %v", err)
		}
		if err := env.App.Accounts.RequestEmailChange(ctx, marc, "marc@gmail.com", testenv.Password); testenv.Code(err) != roster.EEmailDomainNotAllowed {
			t.Fatalf("address against the organization's policy: %v", err)
		}
		if err := env.App.Accounts.RequestEmailChange(ctx, marc, "marc@acme.com", testenv.Password); err != nil {
			t.Fatal(err)
		}
		if me, _ := env.App.Accounts.Me(ctx, marc); me.Email != mu.Email {
			t.Fatal("the address changed before confirmation")
		}
		tok := testenv.Token(box.Last(t, "marc@acme.com", "change_email"))
		u, err := env.App.Accounts.ConfirmEmailChange(ctx, anon, tok)
		if err != nil || u.Email != "marc@acme.com" || !u.Verified() {
			t.Fatalf("confirm: %v %+v", err, u)
		}
		notice := box.Last(t, mu.Email, "email_changed")
		if !contains(notice.Text, "m•••c@acme.com") {
			t.Fatalf("notice to the old address: %s", notice.Text)
		}
		if _, err := env.App.Accounts.ConfirmEmailChange(ctx, anon, tok); testenv.Code(err) != roster.ETokenInvalid {
			t.Fatalf("confirm twice: %v", err)
		}
		env.Login(t, "marc@acme.com")
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
