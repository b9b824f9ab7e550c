package app_test

import (
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/internal/webauthntest"
	"github.com/rosterhq/roster/sqlstore"
)

// authenticator answers for the relying party of testenv.Config's base URL.
var authenticator = &webauthntest.Authenticator{Origin: "https://roster.example", RPID: "roster.example"}

// addPasskey registers a passkey for actor, as a browser would, and returns its key.
func addPasskey(t *testing.T, env *testenv.Env, actor roster.Actor, name string) (*webauthntest.Credential, app.AddedPasskey) {
	t.Helper()
	opts, err := env.App.Passkeys.BeginRegistration(ctx, actor, "")
	if err != nil {
		t.Fatalf("begin registration: %v", err)
	}
	answer, cred, err := authenticator.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := env.App.Passkeys.FinishRegistration(ctx, actor, name, answer)
	if err != nil {
		t.Fatalf("finish registration: %v", err)
	}
	return cred, p
}

// passkeyStep answers the passkey request of a pending login with cred.
func passkeyStep(t *testing.T, env *testenv.Env, ch *app.MFAChallenge, cred *webauthntest.Credential) []byte {
	t.Helper()
	opts, err := env.App.Auth.BeginPasskeySecondFactor(ctx, roster.Anonymous("192.0.2.9", "t"), ch.Token)
	if err != nil {
		t.Fatalf("begin passkey step: %v", err)
	}
	answer, err := authenticator.Get(opts, cred)
	if err != nil {
		t.Fatal(err)
	}
	return answer
}

func completeWithPasskey(env *testenv.Env, ch *app.MFAChallenge, answer []byte) (app.LoginResult, error) {
	return env.App.Auth.CompleteLogin(ctx, roster.Anonymous("192.0.2.9", "t"), app.SecondFactorInput{Token: ch.Token, Passkey: answer})
}

// passwordless signs in with cred and no password.
func passwordless(t *testing.T, env *testenv.Env, cred *webauthntest.Credential) ([]byte, app.LoginResult, error) {
	t.Helper()
	opts, err := env.App.Auth.BeginPasskeyLogin(ctx, roster.Anonymous("192.0.2.9", "t"))
	if err != nil {
		t.Fatalf("begin passkey login: %v", err)
	}
	answer, err := authenticator.Get(opts, cred)
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.App.Auth.FinishPasskeyLogin(ctx, roster.Anonymous("192.0.2.9", "t"), answer)
	return answer, res, err
}

// TestPasskeys: a user registers two passkeys (named, listed, each emailed and audited);
// from then on the password alone opens no session and a passkey completes the login; a
// passkey also signs in without a password; an answer works once; removal needs a proof and
// ends what the passkey could do.
func TestPasskeys(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e) // passkeys need no encryption key: nothing of theirs is secret
		box := env.Outbox(t)
		actor, u := verified(t, env, box, "Pia")
		laptop, first := addPasskey(t, env, actor, "  Laptop ")
		env.Clock.Advance(time.Second)
		phone, p2 := addPasskey(t, env, actor, "")
		keys, err := env.App.Passkeys.List(ctx, actor)
		if err != nil || len(keys) != 2 || keys[0].Name != "Laptop" || keys[1].Name == "" || keys[0].LastUsedAt != nil {
			t.Fatalf("passkeys %+v %v", keys, err)
		}
		if box.Count(t, u.Email, "passkey_added") != 2 {
			t.Fatal("no email for each passkey added")
		}
		// The members table counts passkeys as a second factor, two of them as one.
		owner, ownerU := env.User(t, "Olga")
		org := env.Org(t, owner, "Acme")
		env.Join(t, owner, org.ID, u, roster.OrgMember)
		if list, err := env.App.Members.List(ctx, owner, org.ID, app.MemberFilter{}); err != nil || len(list.Items) != 2 {
			t.Fatalf("members %+v %v", list.Items, err)
		} else {
			for _, m := range list.Items {
				if m.TwoFactor != (m.UserID == u.ID) || (m.UserID != u.ID && m.UserID != ownerU.ID) {
					t.Fatalf("member table: %s two_factor=%v", m.User.Email, m.TwoFactor)
				}
			}
		}
		if _, err := env.App.Passkeys.Rename(ctx, actor, p2.ID, "Phone"); err != nil {
			t.Fatal(err)
		}

		// The password, then a passkey.
		ch := passwordStep(t, env, u.Email)
		if !slices.Contains(ch.Methods, app.MethodPasskey) || slices.Contains(ch.Methods, app.MethodTOTP) {
			t.Fatalf("methods %v", ch.Methods)
		}
		answer := passkeyStep(t, env, ch, phone)
		res, err := completeWithPasskey(env, ch, answer)
		if err != nil || res.Token == "" {
			t.Fatalf("second step with a passkey: %+v %v", res, err)
		}
		// The same answer again, with a new login challenge: its request was spent.
		ch = passwordStep(t, env, u.Email)
		if _, err := completeWithPasskey(env, ch, answer); testenv.Code(err) != roster.EPasskeyRefused {
			t.Fatalf("a replayed answer: %v", err)
		}
		// A request of this challenge answered twice: the second is refused.
		answer = passkeyStep(t, env, ch, laptop)
		if _, err := completeWithPasskey(env, ch, answer); err != nil {
			t.Fatal(err)
		}
		if _, err := completeWithPasskey(env, ch, answer); testenv.Code(err) != roster.EMFAExpired && testenv.Code(err) != roster.EPasskeyRefused {
			t.Fatalf("a used challenge: %v", err)
		}

		// No password at all.
		answer, res, err = passwordless(t, env, laptop)
		if err != nil || res.Token == "" || res.User.ID != u.ID {
			t.Fatalf("passwordless: %+v %v", res, err)
		}
		if _, err := env.App.Auth.FinishPasskeyLogin(ctx, roster.Anonymous("192.0.2.9", "t"), answer); testenv.Code(err) != roster.EPasskeyRefused {
			t.Fatalf("a passwordless answer replayed: %v", err)
		}
		keys, _ = env.App.Passkeys.List(ctx, actor)
		if keys[0].LastUsedAt == nil || keys[1].Name != "Phone" {
			t.Fatalf("after use: %+v", keys)
		}
		factors, left, err := env.App.MFA.Factors(ctx, actor)
		if err != nil || len(factors) != 2 || factors[0].Type != app.MethodPasskey || left != app.RecoveryCodeCount {
			t.Fatalf("factors %+v %d %v", factors, left, err)
		}

		// Removal: a proof (the login's is old by now), then the passkey no longer signs in.
		env.Clock.Advance(app.StepUpWindow + time.Second)
		if err := env.App.Passkeys.Remove(ctx, actor, keys[0].ID, app.OwnerProof{}); testenv.Code(err) != roster.EReauthRequired {
			t.Fatalf("removal without proof: %v", err)
		}
		if err := env.App.Passkeys.Remove(ctx, actor, keys[0].ID, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		box.Last(t, u.Email, "passkey_removed")
		if _, _, err := passwordless(t, env, laptop); testenv.Code(err) != roster.EPasskeyRefused {
			t.Fatalf("a removed passkey: %v", err)
		}
		// The last one turns two-factor authentication off: a second factor, not the password.
		if err := env.App.Passkeys.Remove(ctx, actor, keys[1].ID, app.OwnerProof{Password: testenv.Password}); testenv.Code(err) != roster.EStepUpRequired {
			t.Fatalf("the last passkey with the password alone: %v", err)
		}
		if err := env.App.Passkeys.Remove(ctx, actor, keys[1].ID, app.OwnerProof{Code: first.RecoveryCodes[0]}); err != nil {
			t.Fatal(err)
		}
		if res, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "t"), app.LoginInput{Email: u.Email, Password: testenv.Password}); err != nil || res.MFA != nil {
			t.Fatalf("login without passkeys left: %+v %v", res, err)
		}
		for action, want := range map[string]int{"user.passkey_added": 2, "user.passkey_removed": 2, "user.passkey_renamed": 1} {
			if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = ? AND target_id = ?`, action, u.ID); n != want {
				t.Fatalf("%d audit events %s, want %d", n, action, want)
			}
		}
	})
}

// TestPasskeyRequestsExpireAndAreBound: a passkey request dies after five minutes; a request
// begun for one login cannot finish another, even of the same person; a passkey of user A
// cannot answer user B's request; a registration begun by A cannot be finished by B.
func TestPasskeyRequestsExpireAndAreBound(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		a, ua := env.User(t, "Ana")
		b, ub := env.User(t, "Ben")
		keyA, _ := addPasskey(t, env, a, "A")
		keyB, _ := addPasskey(t, env, b, "B")

		// Expiry: the login challenge and its passkey request both die.
		ch := passwordStep(t, env, ua.Email)
		answer := passkeyStep(t, env, ch, keyA)
		env.Clock.Advance(app.LoginChallengeLifetime + time.Second)
		if _, err := completeWithPasskey(env, ch, answer); testenv.Code(err) != roster.EMFAExpired {
			t.Fatalf("expired: %v", err)
		}
		opts, err := env.App.Auth.BeginPasskeyLogin(ctx, anon)
		if err != nil {
			t.Fatal(err)
		}
		late, _ := authenticator.Get(opts, keyA)
		env.Clock.Advance(app.LoginChallengeLifetime + time.Second)
		if _, err := env.App.Auth.FinishPasskeyLogin(ctx, anon, late); testenv.Code(err) != roster.EPasskeyRefused {
			t.Fatalf("an expired passwordless request: %v", err)
		}

		// A's passkey at B's second step: refused, counted, and B's login still pending.
		chB := passwordStep(t, env, ub.Email)
		optsB, err := env.App.Auth.BeginPasskeySecondFactor(ctx, anon, chB.Token)
		if err != nil {
			t.Fatal(err)
		}
		forged, _ := authenticator.Get(optsB, keyA)
		if _, err := completeWithPasskey(env, chB, forged); testenv.Code(err) != roster.EPasskeyRefused {
			t.Fatalf("A's passkey finished B's login: %v", err)
		}
		// A's request, answered by A, sent with B's login challenge: bound to A's login.
		chA := passwordStep(t, env, ua.Email)
		answerA := passkeyStep(t, env, chA, keyA)
		if _, err := completeWithPasskey(env, chB, answerA); testenv.Code(err) != roster.EPasskeyRefused {
			t.Fatalf("A's request finished B's login: %v", err)
		}
		// Two requests of A's own login: an answer to one is not an answer to the other login.
		chA2 := passwordStep(t, env, ua.Email)
		answerA = passkeyStep(t, env, chA, keyA)
		if _, err := completeWithPasskey(env, chA2, answerA); testenv.Code(err) != roster.EPasskeyRefused {
			t.Fatalf("a request of one login finished another: %v", err)
		}
		// B's own passkey still works at B's challenge.
		if res, err := completeWithPasskey(env, chB, passkeyStep(t, env, chB, keyB)); err != nil || res.User.ID != ub.ID {
			t.Fatalf("B's own passkey: %+v %v", res, err)
		}

		// A registration begun by A, finished by B.
		opts, err = env.App.Passkeys.BeginRegistration(ctx, a, testenv.Password)
		if err != nil {
			t.Fatal(err)
		}
		reg, _, _ := authenticator.Create(opts)
		if _, err := env.App.Passkeys.FinishRegistration(ctx, b, "stolen", reg); testenv.Code(err) != roster.EConflict {
			t.Fatalf("B finished A's registration: %v", err)
		}
		if _, err := env.App.Passkeys.FinishRegistration(ctx, a, "late", reg); testenv.Code(err) != roster.EConflict {
			t.Fatalf("a registration request used twice: %v", err)
		}
		// Garbage is a clear refusal, not an internal error.
		if _, err := env.App.Passkeys.FinishRegistration(ctx, a, "x", []byte(`{"id":1}`)); testenv.Code(err) != roster.EInvalid {
			t.Fatalf("garbage registration: %v", err)
		}
		if _, err := env.App.Auth.FinishPasskeyLogin(ctx, anon, []byte(`not json`)); testenv.Code(err) != roster.EPasskeyRefused {
			t.Fatalf("garbage sign-in: %v", err)
		}
		if _, err := env.App.Passkeys.BeginRegistration(ctx, a, "wrong password"); testenv.Code(err) != roster.EInvalidCredentials {
			t.Fatalf("registration with a wrong password: %v", err)
		}
	})
}

// TestClonedPasskeyIsRefused: two copies of one key sign with their own counters; when the
// copy presents a counter not above the one last seen, the library flags it and Roster
// refuses the sign-in, audits it and emails the user.
func TestClonedPasskeyIsRefused(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		box := env.Outbox(t)
		actor, u := verified(t, env, box, "Carla")
		key, _ := addPasskey(t, env, actor, "Key")
		clone := *key
		for range 2 {
			if _, _, err := passwordless(t, env, key); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := passwordless(t, env, &clone); testenv.Code(err) != roster.EPasskeyRefused {
			t.Fatalf("a clone with an older counter: %v", err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'user.passkey_counter_regressed' AND target_id = ?`, u.ID); n != 1 {
			t.Fatalf("%d audit events of the regression", n)
		}
		box.Last(t, u.Email, "passkey_cloned")
		if _, _, err := passwordless(t, env, key); err != nil {
			t.Fatalf("the original after the clone was refused: %v", err)
		}
	})
}

// TestPasskeysComeWithRecoveryCodes: the first passkey of an account without recovery codes
// comes with ten, shown once (the second with none); one signs in in place of the passkey.
// Turning the authenticator app off keeps the codes while passkeys remain; removing the last
// passkey turns two-factor authentication off, a step-up (the password alone is refused), and
// the codes go with it.
func TestPasskeysComeWithRecoveryCodes(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := mfaEnv(t, e)
		actor, u := env.User(t, "Rosa")
		_, first := addPasskey(t, env, actor, "Laptop")
		if len(first.RecoveryCodes) != app.RecoveryCodeCount {
			t.Fatalf("the first passkey came with %d recovery codes", len(first.RecoveryCodes))
		}
		_, second := addPasskey(t, env, actor, "Phone")
		if len(second.RecoveryCodes) != 0 {
			t.Fatal("the second passkey made new recovery codes")
		}
		ch := passwordStep(t, env, u.Email)
		if !slices.Contains(ch.Methods, app.MethodRecoveryCode) {
			t.Fatalf("methods %v, want a recovery code among them", ch.Methods)
		}
		if res, err := secondStep(env, ch, first.RecoveryCodes[0]); err != nil || res.Token == "" {
			t.Fatalf("a recovery code in place of the passkey: %v", err)
		}

		secret, _ := enrollTOTP(t, env, actor) // the app, beside the passkeys: the same set of codes
		st, err := env.App.MFA.Status(ctx, actor)
		if err != nil || st.RecoveryCodesLeft != app.RecoveryCodeCount {
			t.Fatalf("with the app: %d codes left (%v)", st.RecoveryCodesLeft, err)
		}
		env.Clock.Advance(app.StepUpWindow + time.Second)
		if err := env.App.MFA.Disable(ctx, actor, app.OwnerProof{Code: code(t, secret, env.Clock.Now())}); err != nil {
			t.Fatal(err)
		}
		if st, _ := env.App.MFA.Status(ctx, actor); st.Enabled || st.RecoveryCodesLeft != app.RecoveryCodeCount {
			t.Fatalf("after turning the app off: %+v, want the codes kept for the passkeys", st)
		}

		if err := env.App.Passkeys.Remove(ctx, actor, second.ID, app.OwnerProof{}); err != nil {
			t.Fatalf("a passkey within the window: %v", err)
		}
		env.Clock.Advance(app.StepUpWindow + time.Second)
		want(t, env.App.Passkeys.Remove(ctx, actor, first.ID, app.OwnerProof{Password: testenv.Password}), roster.EStepUpRequired, "the last passkey with the password alone")
		codes, err := env.App.MFA.RegenerateRecoveryCodes(ctx, actor, app.OwnerProof{Password: testenv.Password})
		if err != nil {
			t.Fatalf("new codes for a passkey-only account: %v", err)
		}
		if err := env.App.Passkeys.Remove(ctx, actor, first.ID, app.OwnerProof{Code: codes[0]}); err != nil {
			t.Fatalf("the last passkey with a recovery code: %v", err)
		}
		if n := env.Int(t, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?`, u.ID); n != 0 {
			t.Fatalf("%d recovery codes left with no second factor", n)
		}
		if res, err := env.App.Auth.Login(ctx, roster.Anonymous("192.0.2.9", "t"), app.LoginInput{Email: u.Email, Password: testenv.Password}); err != nil || res.MFA != nil {
			t.Fatalf("login with no second factor left: %+v %v", res.MFA, err)
		}
	})
}
