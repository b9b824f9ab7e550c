package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/ssotest"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestResetMemberFactors: an admin resets the second factors of a member who lost them — the
// authenticator app, the recovery codes and the passkeys go, the member signs in with the
// password alone, is emailed, and the reset is audited in the organization. The member table
// shows who has a factor. An account shared with another organization is not the
// organization's to reset (account_not_managed) unless its address is at a domain the
// organization verified; nobody resets the owner but the owner, nor themselves, nor a
// member of another organization. The instance's operator resets anyone's.
func TestResetMemberFactors(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		dns := testenv.DNSServer(t)
		env := testenv.NewEnv(t, e, func(c *app.Config) {
			c.EncryptionKey = []byte("0123456789abcdef0123456789abcdef")
			c.DNSResolver = dns.Addr
		})
		box := env.Outbox(t)
		owner, _ := env.User(t, "Olga")
		acme := env.Org(t, owner, "Acme")
		admin, adminUser := verified(t, env, box, "Ada")
		env.Join(t, owner, acme.ID, adminUser, roster.OrgAdmin)
		memberActor, member := verified(t, env, box, "Mia")
		env.Join(t, owner, acme.ID, member, roster.OrgMember)

		enrollTOTP(t, env, memberActor)
		box.Last(t, member.Email, "two_factor_enabled")
		if list, err := env.App.Members.List(ctx, admin, acme.ID, app.MemberFilter{}); err != nil {
			t.Fatal(err)
		} else {
			for _, m := range list.Items {
				if m.TwoFactor != (m.UserID == member.ID) {
					t.Fatalf("member table: %s two_factor=%v", m.User.Email, m.TwoFactor)
				}
			}
		}
		if m, err := env.App.Members.Get(ctx, admin, acme.ID, member.ID); err != nil || !m.TwoFactor {
			t.Fatalf("one member: %+v %v", m.TwoFactor, err)
		}
		if res, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "t"), app.LoginInput{Email: member.Email, Password: testenv.Password}); err != nil || res.MFA == nil {
			t.Fatalf("before the reset the login asks for a code: %+v %v", res, err)
		}

		// Refused: on oneself, on the owner by an admin, by a member, from another organization.
		if err := env.App.MFA.ResetMember(ctx, admin, acme.ID, adminUser.ID); testenv.Code(err) != roster.EConflict {
			t.Fatalf("on oneself: %v", err)
		}
		if err := env.App.MFA.ResetMember(ctx, admin, acme.ID, owner.UserID); testenv.Code(err) != roster.EOwnerProtected {
			t.Fatalf("on the owner by an admin: %v", err)
		}
		if err := env.App.MFA.ResetMember(ctx, memberActor, acme.ID, adminUser.ID); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("by a member: %v", err)
		}
		stranger, _ := env.User(t, "Sam")
		strangers := env.Org(t, stranger, "Elsewhere")
		if err := env.App.MFA.ResetMember(ctx, stranger, strangers.ID, member.ID); testenv.Code(err) != roster.ENotFound {
			t.Fatalf("from an organization the person is not in: %v", err)
		}
		if err := env.App.MFA.ResetMember(ctx, stranger, acme.ID, member.ID); testenv.Code(err) == "" {
			t.Fatal("an outsider reset a member of Acme")
		}

		// The member's account is Acme's alone: the admin resets it.
		if err := env.App.MFA.ResetMember(ctx, admin, acme.ID, member.ID); err != nil {
			t.Fatal(err)
		}
		if m := box.Last(t, member.Email, "two_factor_reset"); !strings.Contains(m.Text, "Ada, an administrator of Acme") {
			t.Fatalf("the email does not say who reset it:\n%s", m.Text)
		}
		if res, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "t"), app.LoginInput{Email: member.Email, Password: testenv.Password}); err != nil || res.MFA != nil {
			t.Fatalf("after the reset the password signs in alone: %+v %v", res, err)
		}
		for table, want := range map[string]int{"user_totp": 0, "recovery_codes": 0, "passkeys": 0} {
			if n := env.Int(t, `SELECT COUNT(*) FROM `+table+` WHERE user_id = ?`, member.ID); n != want {
				t.Fatalf("%s rows left: %d", table, n)
			}
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'member.two_factor_reset' AND org_id = ? AND target_id = ?`, acme.ID, member.ID); n != 1 {
			t.Fatalf("%d audit events", n)
		}
		// Nothing left to reset: done, with no second email.
		if err := env.App.MFA.ResetMember(ctx, admin, acme.ID, member.ID); err != nil {
			t.Fatal(err)
		}
		if n := box.Count(t, member.Email, "two_factor_reset"); n != 1 {
			t.Fatalf("%d reset emails", n)
		}

		// Once the member belongs to another organization too, their account is not Acme's
		// to reset…
		enrollTOTP(t, env, memberActor)
		env.Org(t, memberActor, "Mia's own")
		if err := env.App.MFA.ResetMember(ctx, admin, acme.ID, member.ID); testenv.Code(err) != roster.EAccountNotManaged || roster.HTTPStatus(roster.EAccountNotManaged) != 403 {
			t.Fatalf("a shared account: %v", err)
		}
		if on := env.Int(t, `SELECT COUNT(*) FROM user_totp WHERE user_id = ? AND confirmed_at IS NOT NULL`, member.ID); on != 1 {
			t.Fatal("a refused reset removed the authenticator")
		}
		// The instance's operator can: the member is told it was the operator.
		if _, err := env.App.Operator.ResetFactors(ctx, admin, member.Email); testenv.Code(err) != roster.EForbidden {
			t.Fatalf("an admin as operator: %v", err)
		}
		if u, err := env.App.Operator.ResetFactors(ctx, roster.System(), member.Email); err != nil || u.ID != member.ID {
			t.Fatalf("the operator: %v", err)
		}
		box.Last(t, member.Email, "two_factor_reset_by_operator")
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'user.two_factor_reset' AND target_id = ?`, member.ID); n != 1 {
			t.Fatalf("%d operator reset audit events", n)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM user_totp WHERE user_id = ?`, member.ID); n != 0 {
			t.Fatal("the operator's reset left the authenticator")
		}

		// …unless the address is at a domain Acme verified.
		domain := "d" + testenv.Unique() + ".example"
		addr := "dora@" + domain
		if err := env.App.Auth.Signup(ctx, roster.Anonymous("192.0.2.1", "t"), app.SignupInput{Email: addr, Name: "Dora", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Accounts.VerifyEmail(ctx, anon, testenv.Token(box.Last(t, addr, "verify_email"))); err != nil {
			t.Fatal(err)
		}
		doraActor, dora := env.Login(t, addr)
		env.Join(t, owner, acme.ID, dora, roster.OrgMember)
		env.Org(t, doraActor, "Dora's side project")
		enrollTOTP(t, env, doraActor)
		if err := env.App.MFA.ResetMember(ctx, admin, acme.ID, dora.ID); testenv.Code(err) != roster.EAccountNotManaged {
			t.Fatalf("before the domain is verified: %v", err)
		}
		d, err := env.App.Domains.Add(ctx, owner, acme.ID, domain)
		if err != nil {
			t.Fatal(err)
		}
		dns.SetTXT(d.RecordName(), d.RecordValue())
		if _, err := env.App.Domains.Verify(ctx, owner, acme.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		if err := env.App.MFA.ResetMember(ctx, admin, acme.ID, dora.ID); err != nil {
			t.Fatalf("at a domain Acme verified: %v", err)
		}
		box.Last(t, addr, "two_factor_reset")
	})
}

// TestOwnFactorChangesAreEmailed: turning the authenticator app on and off and making new
// recovery codes each email the user, so that a change they did not make does not go
// unnoticed; so does the third wrong code after a right password (whoever tries knows the
// password), once per burst.
func TestOwnFactorChangesAreEmailed(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := mfaEnv(t, e)
		box := env.Outbox(t)
		actor, u := verified(t, env, box, "Vera")
		secret, _ := enrollTOTP(t, env, actor)
		box.Last(t, u.Email, "two_factor_enabled")

		ch := passwordStep(t, env, u.Email)
		for i := 1; i <= 4; i++ {
			if _, err := secondStep(env, ch, "000000"); testenv.Code(err) != roster.EInvalidCode {
				t.Fatalf("wrong code %d: %v", i, err)
			}
			if n, want := box.Count(t, u.Email, "second_factor_failures"), map[bool]int{true: 1, false: 0}[i >= 3]; n != want {
				t.Fatalf("after %d wrong codes, %d notices, want %d", i, n, want)
			}
		}
		if m := box.Last(t, u.Email, "second_factor_failures"); !strings.Contains(m.Text, "3 times") {
			t.Fatalf("the notice does not say how many:\n%s", m.Text)
		}
		env.Clock.Advance(time.Hour) // past the lock the wrong codes earned
		if _, err := env.App.MFA.RegenerateRecoveryCodes(ctx, actor, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		box.Last(t, u.Email, "recovery_codes_regenerated")
		if err := env.App.MFA.Disable(ctx, actor, app.OwnerProof{Code: code(t, secret, env.Clock.Now())}); err != nil {
			t.Fatal(err)
		}
		box.Last(t, u.Email, "two_factor_disabled")
	})
}

// TestEncryptionKeyRotation: with the old key kept as a previous key, an authenticator set up
// under it still signs in after the key changes, and its secret is sealed again under the new
// key at that use, so that the old key can then go; without the old key, a code cannot be
// checked and the answer points to a recovery code.
func TestEncryptionKeyRotation(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		oldKey, newKey := []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210")
		env := testenv.NewEnv(t, e, func(c *app.Config) { c.EncryptionKey = oldKey })
		actor, u := env.User(t, "Rita")
		secret, _ := enrollTOTP(t, env, actor)
		sealedBefore := sealedTOTP(t, env, u.ID)

		signIn := func(env *testenv.Env) error {
			env.Clock.Advance(31 * time.Second) // a code of a new time step each time
			ch := passwordStep(t, env, u.Email)
			_, err := secondStep(env, ch, code(t, secret, env.Clock.Now()))
			return err
		}
		lost := testenv.NewEnvOn(t, env, func(c *app.Config) { c.EncryptionKey = newKey })
		if err := signIn(lost); testenv.Code(err) != roster.EMFAUnavailable {
			t.Fatalf("the new key alone: %v, want mfa_unavailable", err)
		}
		rotated := testenv.NewEnvOn(t, env, func(c *app.Config) {
			c.EncryptionKey, c.PreviousEncryptionKeys = newKey, [][]byte{[]byte("another key that is 32 bytes !!!"), oldKey}
		})
		if err := signIn(rotated); err != nil {
			t.Fatalf("with the old key kept as previous: %v", err)
		}
		if sealedTOTP(t, env, u.ID) == sealedBefore {
			t.Fatal("the secret was not sealed again under the new key")
		}
		if err := signIn(lost); err != nil {
			t.Fatalf("the new key alone, after the secret moved to it: %v", err)
		}
	})
}

func sealedTOTP(t *testing.T, env *testenv.Env, userID string) string {
	t.Helper()
	var s string
	if err := env.SQL(t).QueryRow(testenv.Rebind(env.Engine, "SELECT secret_sealed FROM user_totp WHERE user_id = ?"), userID).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestResealAfterAKeyChange: with a new encryption key and the old one kept as previous,
// SigningKeys.Reseal seals again under the new key every secret the old one sealed — the
// OpenID signing keys, a webhook's secret and the one its rotation still signs with, an
// identity provider's client secret, an authenticator app's secret — after which the new key alone opens them all: the previous
// key can go. Only operators reseal.
func TestResealAfterAKeyChange(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		oldKey, newKey := []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210")
		env := webhookEnv(t, e, func(c *app.Config) { c.SSOAllowedHosts = []string{"127.0.0.1"} }) // sealing under oldKey
		actor, u := env.User(t, "Rosa")
		secret, _ := enrollTOTP(t, env, actor)
		org := env.Org(t, actor, "Sealed Shop")
		op := ssotest.StartOP(t, "roster", "the provider's secret", "https://roster.example/sso/callback")
		if _, err := env.App.SSO.Configure(ctx, actor, org.ID, app.SSOInput{Protocol: roster.SSOOIDC, Issuer: op.Issuer, ClientID: "roster",
			ClientSecret: "the provider's secret", DefaultRole: roster.OrgMember}); err != nil {
			t.Fatal(err)
		}
		recv := newStatusReceiver(t, 200)
		hook, err := env.App.Webhooks.Create(ctx, actor, org.ID, app.WebhookInput{URL: recv.url(), EventTypes: []string{"organization.updated"}, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Webhooks.RotateSecret(ctx, actor, org.ID, hook.Endpoint.ID, time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.SigningKeys.Rotate(ctx, roster.System()); err != nil {
			t.Fatal(err)
		}
		want(t, func() error { _, err := env.App.SigningKeys.Reseal(ctx, actor); return err }(), roster.EForbidden, "a user reseals")

		rotated := testenv.NewEnvOn(t, env, func(c *app.Config) { c.EncryptionKey, c.PreviousEncryptionKeys = newKey, [][]byte{oldKey} })
		res, err := rotated.App.SigningKeys.Reseal(ctx, roster.System())
		// The TOTP secret, the webhook's two secrets, the provider's client secret, at least one signing key.
		if err != nil || res.Resealed < 5 || res.Current != 0 || res.Unreadable != 0 {
			t.Fatalf("reseal with the previous key: %+v %v", res, err)
		}
		lost := testenv.NewEnvOn(t, env, func(c *app.Config) { c.EncryptionKey = newKey })
		again, err := lost.App.SigningKeys.Reseal(ctx, roster.System())
		if err != nil || again.Resealed != 0 || again.Current != res.Resealed || again.Unreadable != 0 {
			t.Fatalf("the new key alone after the reseal: %+v %v", again, err)
		}
		lost.Clock.Advance(31 * time.Second)
		if _, err := secondStep(lost, passwordStep(t, lost, u.Email), code(t, secret, lost.Clock.Now())); err != nil {
			t.Fatalf("a code with the new key alone: %v", err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'instance.secrets_resealed'`); n != 2 {
			t.Fatalf("%d reseals audited, want 2", n)
		}
	})
}
