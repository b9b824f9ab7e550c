package app_test

import (
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

func login(env *testenv.Env, addr, pw string) (app.LoginResult, error) {
	return env.App.Auth.Login(ctx, anon, app.LoginInput{Email: addr, Password: pw})
}

func TestSessionLifetimes(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e, func(c *app.Config) { c.SessionIdle = time.Hour; c.SessionLifetime = 3 * time.Hour })
		_, u := env.User(t, "Ida")
		res, err := login(env, u.Email, testenv.Password)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Session.ExpiresAt.Equal(env.Clock.Now().Add(3 * time.Hour)) {
			t.Errorf("absolute expiry %v", res.Session.ExpiresAt)
		}
		use := func(what string, code string) {
			t.Helper()
			_, err := env.App.Auth.Authenticate(ctx, res.Token, "192.0.2.1", "test")
			want(t, err, code, what)
		}
		// Used every 59 minutes, the session lives on …
		for range 3 {
			env.Clock.Advance(59 * time.Minute)
			use("used within the idle limit", "")
		}
		// … until its absolute limit, however recently it was used.
		env.Clock.Advance(3*time.Hour - 3*59*time.Minute - time.Second) // 1 s before 3 h
		use("just before the absolute limit", "")
		env.Clock.Advance(time.Second)
		use("at the absolute limit", roster.EUnauthenticated)

		// Left idle for the idle limit, a session ends.
		res, err = login(env, u.Email, testenv.Password)
		if err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(time.Hour - time.Second)
		use("idle just under the limit", "")
		env.Clock.Advance(time.Hour)
		use("idle for the limit", roster.EUnauthenticated)
		// Expired sessions are neither listed nor kept.
		fresh, _ := env.Login(t, u.Email)
		list, err := env.App.Auth.Sessions(ctx, fresh)
		if err != nil || len(list) != 1 || !list[0].Current {
			t.Fatalf("sessions: %+v %v", list, err)
		}
		env.App.Cleanup(ctx)
		if n := env.Int(t, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, u.ID); n != 1 {
			t.Fatalf("%d sessions kept after cleanup", n)
		}
	})
}

func TestSessionsEnd(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		_, u := env.User(t, "Ivo")
		a, _ := env.Login(t, u.Email)
		resB, _ := login(env, u.Email, testenv.Password)
		resC, _ := login(env, u.Email, testenv.Password)
		if resB.Token == resC.Token || resB.Session.ID == resC.Session.ID {
			t.Fatal("two logins share a session: a session could be fixed in advance")
		}
		b, err := env.App.Auth.Authenticate(ctx, resB.Token, "", "")
		if err != nil {
			t.Fatal(err)
		}
		list, _ := env.App.Auth.Sessions(ctx, a)
		if len(list) != 4 { // User's, a, b, c
			t.Fatalf("%d sessions", len(list))
		}

		// Revoke one session by ID; another user's session ID is not found.
		_, other := env.User(t, "Other")
		otherRes, _ := login(env, other.Email, testenv.Password)
		want(t, env.App.Auth.RevokeSession(ctx, a, otherRes.Session.ID), roster.ENotFound, "revoke another user's session")
		if _, err := env.App.Auth.Authenticate(ctx, otherRes.Token, "", ""); err != nil {
			t.Fatal("another user's session was revoked")
		}
		want(t, env.App.Auth.RevokeSession(ctx, a, "ses_nope"), roster.ENotFound, "revoke a malformed ID")
		want(t, env.App.Auth.RevokeSession(ctx, a, resC.Session.ID), "", "revoke c")
		_, err = env.App.Auth.Authenticate(ctx, resC.Token, "", "")
		want(t, err, roster.EUnauthenticated, "revoked session")

		// Logout ends the current session only.
		want(t, env.App.Auth.Logout(ctx, b), "", "logout")
		_, err = env.App.Auth.Authenticate(ctx, resB.Token, "", "")
		want(t, err, roster.EUnauthenticated, "logged-out session")
		if _, err := env.App.Accounts.Me(ctx, a); err != nil {
			t.Fatal(err)
		}
		want(t, env.App.Auth.Logout(ctx, roster.Actor{Kind: roster.ActorService, ServiceTokenID: "svc_x"}), roster.EInvalid, "logout without a session")

		// Revoke every other session.
		resD, _ := login(env, u.Email, testenv.Password)
		if n, err := env.App.Auth.RevokeOtherSessions(ctx, a); err != nil || n != 2 { // User's and d
			t.Fatalf("revoke others: %d %v", n, err)
		}
		_, err = env.App.Auth.Authenticate(ctx, resD.Token, "", "")
		want(t, err, roster.EUnauthenticated, "another session after revoke-others")
		if _, err := env.App.Accounts.Me(ctx, a); err != nil {
			t.Fatal("revoke-others ended the current session")
		}
	})
}

func TestChangePassword(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		_, u := env.User(t, "Priscilla")
		a, _ := env.Login(t, u.Email)
		other, _ := login(env, u.Email, testenv.Password)
		const next = "an entirely new passphrase"

		err := env.App.Accounts.ChangePassword(ctx, a, "not my password at all", next)
		want(t, err, roster.EInvalidCredentials, "wrong current password")
		if f := roster.AsError(err).Field; f != "current_password" {
			t.Errorf("field %q", f)
		}
		want(t, env.App.Accounts.ChangePassword(ctx, a, "", next), roster.EInvalidCredentials, "no current password")
		want(t, env.App.Accounts.ChangePassword(ctx, a, testenv.Password, "short"), roster.EPasswordTooShort, "too short")
		want(t, env.App.Accounts.ChangePassword(ctx, a, testenv.Password, "passwordpassword"), roster.EPasswordCommon, "common")
		want(t, env.App.Accounts.ChangePassword(ctx, a, testenv.Password, "Priscilla Priscilla!"), roster.EPasswordCommon, "made of the name")
		if _, err := env.App.Auth.Authenticate(ctx, other.Token, "", ""); err != nil {
			t.Fatal("a refused change ended a session")
		}

		want(t, env.App.Accounts.ChangePassword(ctx, a, testenv.Password, next), "", "change")
		_, err = env.App.Auth.Authenticate(ctx, other.Token, "", "")
		want(t, err, roster.EUnauthenticated, "another session after a password change")
		if _, err := env.App.Accounts.Me(ctx, a); err != nil {
			t.Fatal("the password change ended the current session")
		}
		_, err = login(env, u.Email, testenv.Password)
		want(t, err, roster.EInvalidCredentials, "the old password")
		if _, err := login(env, u.Email, next); err != nil {
			t.Fatalf("the new password: %v", err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'user.password_changed' AND target_id = ?`, u.ID); n != 1 {
			t.Fatalf("%d audit events", n)
		}
	})
}

// TestLoginThrottle: per account, a growing delay after the fourth failure, a hard stop well
// before 100, and a success clears the count. Unknown addresses are throttled alike.
func TestLoginThrottle(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		_, u := env.User(t, "Tom")
		for _, addr := range []string{u.Email, "nobody." + testenv.Unique() + "@example.com"} {
			for i := 1; i <= 4; i++ {
				_, err := login(env, addr, "wrong password, try again")
				want(t, err, roster.EInvalidCredentials, "failure")
			}
			_, err := login(env, addr, "wrong password, try again") // the fifth locks for 1 s
			want(t, err, roster.EInvalidCredentials, "fifth failure")
			wait := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
			for _, d := range wait {
				_, err := login(env, addr, testenv.Password)
				want(t, err, roster.ERateLimited, "locked, even with the right password")
				if got := roster.AsError(err).RetryAfter; got != d {
					t.Fatalf("%s: Retry-After %v, want %v", addr, got, d)
				}
				env.Clock.Advance(d)
				_, err = login(env, addr, "wrong password, try again")
				want(t, err, roster.EInvalidCredentials, "after the delay")
			}
		}
		// The right password after the delay clears the count.
		env.Clock.Advance(16 * time.Second)
		if _, err := login(env, u.Email, testenv.Password); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			_, err := login(env, u.Email, "wrong password, try again")
			want(t, err, roster.EInvalidCredentials, "after a success, the count starts again")
		}

		// The hard stop: at 50 consecutive failures, a day.
		_, v := env.User(t, "Val")
		for i := 1; i <= 50; i++ {
			_, err := login(env, v.Email, "wrong password, try again")
			want(t, err, roster.EInvalidCredentials, "failure")
			env.Clock.Advance(16 * time.Minute) // past any lock below the hard stop
		}
		env.Clock.Advance(-16 * time.Minute)
		_, err := login(env, v.Email, testenv.Password)
		want(t, err, roster.ERateLimited, "after 50 failures")
		if got := roster.AsError(err).RetryAfter; got != 24*time.Hour {
			t.Fatalf("hard stop %v", got)
		}
	})
}

func TestLoginPerIP(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e, func(c *app.Config) { c.LoginPerIP = 3 })
		_, u := env.User(t, "Uma")
		from := func(ip string) error {
			_, err := env.App.Auth.Login(ctx, roster.Anonymous(ip, "x"), app.LoginInput{Email: "x" + testenv.Unique() + "@example.com", Password: "whatever it is"})
			return err
		}
		for range 2 { // env.User logged in once from 192.0.2.1
			want(t, from("192.0.2.1"), roster.EInvalidCredentials, "within the limit")
		}
		err := from("192.0.2.1")
		want(t, err, roster.ERateLimited, "over the limit")
		if d := roster.AsError(err).RetryAfter; d != 20*time.Second {
			t.Errorf("Retry-After %v, want 20s (3 a minute)", d)
		}
		// Even the right password: the IP is limited, not the account.
		_, err = env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.1", "x"), app.LoginInput{Email: u.Email, Password: testenv.Password})
		want(t, err, roster.ERateLimited, "right password over the IP limit")
		want(t, from("198.51.100.7"), roster.EInvalidCredentials, "another IP")
		env.Clock.Advance(20 * time.Second)
		want(t, from("192.0.2.1"), roster.EInvalidCredentials, "after Retry-After")
	})
}

// TestNoEnumeration: unknown accounts, wrong passwords and taken addresses get the same answers.
func TestNoEnumeration(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		_, u := env.User(t, "Kim")
		_, errKnown := login(env, u.Email, "wrong password, try again")
		_, errUnknown := login(env, "nobody@example.com", "wrong password, try again")
		_, errMalformed := login(env, "not an address", "wrong password, try again")
		_, errLong := login(env, u.Email, string(make([]byte, 5000)))
		for _, err := range []error{errUnknown, errMalformed, errLong} {
			if err == nil || err.Error() != errKnown.Error() {
				t.Errorf("answers differ: %v vs %v", err, errKnown)
			}
		}
		// A user created directly (no password yet) answers like anyone else.
		if _, _, err := env.App.Operator.CreateOperator(ctx, roster.System(), "pending@example.com", "Pending"); err != nil {
			t.Fatal(err)
		}
		if _, err := login(env, "pending@example.com", "wrong password, try again"); err == nil || err.Error() != errKnown.Error() {
			t.Errorf("a user without a password: %v", err)
		}

		// Sign-up with a taken address succeeds in appearance and changes nothing.
		users := env.Int(t, `SELECT COUNT(*) FROM users`)
		err := env.App.Auth.Signup(ctx, anon, app.SignupInput{Email: " " + u.Email + " ", Name: "Impostor", Password: "another good passphrase"})
		if err != nil {
			t.Fatalf("sign-up with a taken address: %v", err)
		}
		if env.Int(t, `SELECT COUNT(*) FROM users`) != users {
			t.Fatal("a second account for one address")
		}
		if _, err := login(env, u.Email, "another good passphrase"); err == nil {
			t.Fatal("the impostor's password works")
		}
		// Sub-addresses are other addresses.
		plus := "kim+shop1@example.com"
		if err := env.App.Auth.Signup(ctx, anon, app.SignupInput{Email: plus, Name: "Kim 2", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		if env.Int(t, `SELECT COUNT(*) FROM users WHERE email = ?`, plus) != 1 {
			t.Fatal("kim+shop1@ was folded into another address")
		}

		// Invite-only instances refuse sign-up, to everyone alike.
		closed := testenv.NewEnv(t, e, func(c *app.Config) { c.Signup = app.SignupInviteOnly })
		err = closed.App.Auth.Signup(ctx, anon, app.SignupInput{Email: "new@example.com", Name: "New", Password: testenv.Password})
		want(t, err, roster.ESignupClosed, "invite-only")
	})
}
