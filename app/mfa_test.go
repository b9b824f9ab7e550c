package app_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// mfaEnv is an app with an encryption key, so that authenticators can be set up.
func mfaEnv(t *testing.T, e sqlstore.Engine) *testenv.Env {
	return testenv.NewEnv(t, e, func(c *app.Config) { c.EncryptionKey = []byte("0123456789abcdef0123456789abcdef") })
}

// enrollTOTP sets up an authenticator for a new user with codes made by pquerna/otp, as an
// authenticator app would; it returns the secret and the recovery codes.
func enrollTOTP(t *testing.T, env *testenv.Env, actor roster.Actor) (string, []string) {
	t.Helper()
	setup, err := env.App.MFA.BeginTOTP(ctx, actor, "")
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	if !strings.HasPrefix(setup.URL, "otpauth://totp/") || !strings.Contains(setup.URL, "secret="+setup.Secret) {
		t.Fatalf("otpauth URL %q does not carry the secret", setup.URL)
	}
	codes, err := env.App.MFA.ConfirmTOTP(ctx, actor, code(t, setup.Secret, env.Clock.Now()))
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if len(codes) != app.RecoveryCodeCount {
		t.Fatalf("%d recovery codes, want %d", len(codes), app.RecoveryCodeCount)
	}
	return setup.Secret, codes
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// passwordStep logs in with the password and expects the second step.
func passwordStep(t *testing.T, env *testenv.Env, addr string) *app.MFAChallenge {
	t.Helper()
	res, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "t"), app.LoginInput{Email: addr, Password: testenv.Password})
	if err != nil {
		t.Fatalf("password step: %v", err)
	}
	if res.MFA == nil || res.Token != "" || res.Session.ID != "" {
		t.Fatalf("a correct password of an account with TOTP gave %+v, want a pending step and no session", res)
	}
	return res.MFA
}

func secondStep(env *testenv.Env, ch *app.MFAChallenge, c string) (app.LoginResult, error) {
	return env.App.Auth.CompleteLogin(ctx, roster.Anonymous("192.0.2.9", "t"), app.SecondFactorInput{Token: ch.Token, Code: c})
}

// TestLoginInSteps: once an authenticator is confirmed, the password alone opens no session;
// a code of the app does, once; a code is refused a second time, a challenge works once and
// dies after five minutes; a recovery code works once in place of a code.
func TestLoginInSteps(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := mfaEnv(t, e)
		actor, u := env.User(t, "Olivia")
		secret, recovery := enrollTOTP(t, env, actor)
		st, err := env.App.MFA.Status(ctx, actor)
		if err != nil || !st.Enabled || st.RecoveryCodesLeft != 10 {
			t.Fatalf("status %+v %v", st, err)
		}
		sessions := env.Int(t, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, u.ID)
		ch := passwordStep(t, env, u.Email)
		if got := env.Int(t, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, u.ID); got != sessions {
			t.Fatalf("the password step opened a session: %d sessions, had %d", got, sessions)
		}
		if !slices.Equal(ch.Methods, []string{app.MethodTOTP, app.MethodRecoveryCode}) {
			t.Fatalf("methods %v", ch.Methods)
		}
		// The code that confirmed the set-up is spent: refused, as is a wrong one.
		if _, err := secondStep(env, ch, code(t, secret, env.Clock.Now())); testenv.Code(err) != roster.EInvalidCode {
			t.Fatalf("the confirming code again: %v, want invalid_code", err)
		}
		if _, err := secondStep(env, ch, "000000"); testenv.Code(err) != roster.EInvalidCode {
			t.Fatalf("a wrong code: %v", err)
		}
		env.Clock.Advance(30 * time.Second)
		now := code(t, secret, env.Clock.Now())
		res, err := secondStep(env, ch, now)
		if err != nil || res.Token == "" || res.User.ID != u.ID {
			t.Fatalf("the next code: %+v %v", res, err)
		}
		if _, err := env.App.Auth.Authenticate(ctx, res.Token, "192.0.2.9", "t"); err != nil {
			t.Fatalf("the session of the second step: %v", err)
		}
		// The challenge worked once; the code worked once.
		if _, err := secondStep(env, ch, now); testenv.Code(err) != roster.EMFAExpired {
			t.Fatalf("the challenge again: %v, want mfa_expired", err)
		}
		if _, err := secondStep(env, passwordStep(t, env, u.Email), now); testenv.Code(err) != roster.EInvalidCode {
			t.Fatalf("the code again on a new challenge: %v, want invalid_code", err)
		}
		// A code of the step before is still accepted (a clock a little off), not one older.
		env.Clock.Advance(90 * time.Second)
		if _, err := secondStep(env, passwordStep(t, env, u.Email), code(t, secret, env.Clock.Now().Add(-30*time.Second))); err != nil {
			t.Fatalf("a code one step old: %v", err)
		}
		env.Clock.Advance(30 * time.Second)
		if _, err := secondStep(env, passwordStep(t, env, u.Email), code(t, secret, env.Clock.Now().Add(-60*time.Second))); testenv.Code(err) != roster.EInvalidCode {
			t.Fatalf("a code two steps old: %v", err)
		}
		// Five minutes and the challenge grants nothing, even with the right code.
		env.Clock.Advance(30 * time.Second)
		ch = passwordStep(t, env, u.Email)
		env.Clock.Advance(app.LoginChallengeLifetime)
		if _, err := secondStep(env, ch, code(t, secret, env.Clock.Now())); testenv.Code(err) != roster.EMFAExpired {
			t.Fatalf("after five minutes: %v, want mfa_expired", err)
		}
		if _, err := secondStep(env, &app.MFAChallenge{Token: "rmfa_nonsense"}, "123456"); testenv.Code(err) != roster.EMFAExpired {
			t.Fatalf("a forged challenge: %v", err)
		}
		// A recovery code, typed in capitals without dashes, works once.
		res, err = secondStep(env, passwordStep(t, env, u.Email), strings.ToUpper(strings.ReplaceAll(recovery[3], "-", "")))
		if err != nil || res.Token == "" {
			t.Fatalf("a recovery code: %v", err)
		}
		if _, err := secondStep(env, passwordStep(t, env, u.Email), recovery[3]); testenv.Code(err) != roster.EInvalidCode {
			t.Fatalf("a recovery code again: %v", err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'user.recovery_code_used' AND target_id = ?`, u.ID); n != 1 {
			t.Fatalf("%d audit events of a recovery code used", n)
		}
		// Made again, the old set stops working.
		env.Clock.Advance(app.StepUpWindow + time.Second) // so that the password is checked (and the failures cleared)
		fresh, err := env.App.MFA.RegenerateRecoveryCodes(ctx, actor, app.OwnerProof{Password: testenv.Password})
		if err != nil || len(fresh) != 10 {
			t.Fatalf("regenerate: %v", err)
		}
		if _, err := secondStep(env, passwordStep(t, env, u.Email), recovery[4]); testenv.Code(err) != roster.EInvalidCode {
			t.Fatalf("an old recovery code after regeneration: %v", err)
		}
		if _, err := secondStep(env, passwordStep(t, env, u.Email), fresh[0]); err != nil {
			t.Fatalf("a new recovery code: %v", err)
		}

		// Nothing secret is stored in clear: the secret, the codes, the challenge's token.
		ch = passwordStep(t, env, u.Email)
		dump := env.Dump(t)
		for _, s := range append([]string{secret, ch.Token, strings.ReplaceAll(fresh[1], "-", ""), fresh[1]}, recovery...) {
			if strings.Contains(dump, s) {
				t.Fatalf("the database holds %q in clear", s)
			}
		}

		// Removed with a current code: the password alone signs in again.
		env.Clock.Advance(30 * time.Second)
		if err := env.App.MFA.Disable(ctx, actor, app.OwnerProof{Code: "123"}); testenv.Code(err) != roster.EInvalidCode {
			t.Fatalf("remove with a wrong code: %v", err)
		}
		if err := env.App.MFA.Disable(ctx, actor, app.OwnerProof{}); testenv.Code(err) != roster.EStepUpRequired {
			t.Fatalf("remove without proof: %v", err)
		}
		if err := env.App.MFA.Disable(ctx, actor, app.OwnerProof{Password: testenv.Password}); testenv.Code(err) != roster.EStepUpRequired {
			t.Fatalf("remove with the password alone: %v", err)
		}
		if err := env.App.MFA.Disable(ctx, actor, app.OwnerProof{Code: code(t, secret, env.Clock.Now())}); err != nil {
			t.Fatalf("remove: %v", err)
		}
		if res, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "t"), app.LoginInput{Email: u.Email, Password: testenv.Password}); err != nil || res.MFA != nil || res.Token == "" {
			t.Fatalf("login after removal: %+v %v", res, err)
		}
		for _, action := range []string{"user.two_factor_enabled", "user.two_factor_disabled", "user.recovery_codes_regenerated"} {
			if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = ? AND target_id = ?`, action, u.ID); n != 1 {
				t.Fatalf("%d audit events %s", n, action)
			}
		}
	})
}

// TestSecondFactorGuessesAreThrottled: wrong codes count with the account's failed logins,
// and a correct password does not clear the count while the second step is missing, so
// knowing the password gives no more guesses at the code.
func TestSecondFactorGuessesAreThrottled(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := mfaEnv(t, e)
		actor, u := env.User(t, "Marc")
		secret, _ := enrollTOTP(t, env, actor)
		env.Clock.Advance(30 * time.Second)
		// The password step counts (1), then three wrong codes (4), the password again (5,
		// which starts the lock).
		ch := passwordStep(t, env, u.Email)
		for range 3 {
			if _, err := secondStep(env, ch, "999999"); testenv.Code(err) != roster.EInvalidCode {
				t.Fatalf("wrong code: %v", err)
			}
		}
		ch = passwordStep(t, env, u.Email)
		_, err := secondStep(env, ch, code(t, secret, env.Clock.Now()))
		if testenv.Code(err) != roster.ERateLimited {
			t.Fatalf("a code after five attempts: %v, want rate_limited", err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'user.second_factor_failed' AND target_id = ?`, u.ID); n != 3 {
			t.Fatalf("%d failures audited, want 3", n)
		}
		// Once the lock has passed, the right code signs in and clears the count.
		env.Clock.Advance(2 * time.Second)
		if _, err := secondStep(env, ch, code(t, secret, env.Clock.Now())); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM login_throttle`); n != 0 {
			t.Fatalf("the failure count was not cleared: %d rows", n)
		}
	})
}

// TestTOTPSetupRules: no encryption key (or one made for the process alone), no set-up; a
// wrong first code turns nothing on; a confirmed authenticator is not replaced.
func TestTOTPSetupRules(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		for name, cfg := range map[string]func(*app.Config){
			"no key":        func(c *app.Config) {},
			"ephemeral key": func(c *app.Config) { c.EncryptionKey, c.EncryptionKeyEphemeral = make([]byte, 32), true },
		} {
			env := testenv.NewEnv(t, e, cfg)
			actor, _ := env.User(t, "Ana")
			if _, err := env.App.MFA.BeginTOTP(ctx, actor, ""); testenv.Code(err) != roster.EMFAUnavailable {
				t.Fatalf("%s: %v, want mfa_unavailable", name, err)
			}
		}
		env := mfaEnv(t, e)
		actor, u := env.User(t, "Lu")
		setup, err := env.App.MFA.BeginTOTP(ctx, actor, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.MFA.ConfirmTOTP(ctx, actor, "12345x"); testenv.Code(err) != roster.EInvalidCode {
			t.Fatalf("a malformed code: %v", err)
		}
		if _, err := env.App.MFA.ConfirmTOTP(ctx, actor, code(t, setup.Secret, env.Clock.Now().Add(-2*time.Minute))); testenv.Code(err) != roster.EInvalidCode {
			t.Fatalf("an old code: %v", err)
		}
		if res, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "t"), app.LoginInput{Email: u.Email, Password: testenv.Password}); err != nil || res.MFA != nil {
			t.Fatalf("an unconfirmed set-up asked for a second factor: %+v %v", res, err)
		}
		again, err := env.App.MFA.PendingTOTP(ctx, actor)
		if err != nil || again != setup {
			t.Fatalf("the pending set-up: %+v %v", again, err)
		}
		if _, err := env.App.MFA.ConfirmTOTP(ctx, actor, code(t, setup.Secret, env.Clock.Now())); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.MFA.BeginTOTP(ctx, actor, ""); testenv.Code(err) != roster.EConflict {
			t.Fatalf("set-up over a confirmed one: %v", err)
		}
		// A session older than the step-up window sets up nothing without the password.
		other, _ := env.User(t, "Kim")
		env.Clock.Advance(11 * time.Minute)
		if _, err := env.App.MFA.BeginTOTP(ctx, other, ""); testenv.Code(err) != roster.EReauthRequired {
			t.Fatalf("set-up in an old session: %v", err)
		}
		if _, err := env.App.MFA.BeginTOTP(ctx, other, testenv.Password); err != nil {
			t.Fatalf("set-up with the password: %v", err)
		}
	})
}
