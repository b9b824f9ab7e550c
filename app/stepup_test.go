package app_test

import (
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// later moves the clock past the step-up window: what the session proved no longer counts.
func later(env *testenv.Env) { env.Clock.Advance(app.StepUpWindow + time.Second) }

func stepUpState(t *testing.T, env *testenv.Env, actor roster.Actor) app.StepUpState {
	t.Helper()
	st, err := env.App.Auth.StepUpState(ctx, actor)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestStepUpWithThePassword: for an account without a second factor, the dangerous actions
// ask for the password unless it was given in the session in the last 10 minutes (the login
// counts); a proof given ahead (Auth.StepUp) or with one action covers the next ones; the
// window is the session's, not the account's.
func TestStepUpWithThePassword(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, ownerU := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		pol := roster.Policy{BlockFreeProviders: true}

		if st := stepUpState(t, env, owner); !st.Fresh || !st.Password() {
			t.Fatalf("right after the login: %+v, want fresh and the password as proof", st)
		}
		if _, err := env.App.Organizations.SetPolicy(ctx, owner, org.ID, pol, app.OwnerProof{}); err != nil {
			t.Fatalf("a policy change right after the login: %v", err)
		}
		later(env)
		if st := stepUpState(t, env, owner); st.Fresh {
			t.Fatal("still fresh 10 minutes after the login")
		}
		_, err := env.App.Organizations.SetPolicy(ctx, owner, org.ID, pol, app.OwnerProof{})
		want(t, err, roster.EReauthRequired, "a policy change 10 minutes after the login")
		if e := roster.AsError(err); e == nil || e.Field != "password" {
			t.Fatalf("the refusal names %+v, want the field password", e)
		}
		want(t, env.App.Auth.StepUp(ctx, owner, app.OwnerProof{}), roster.EReauthRequired, "a step-up with nothing")
		want(t, env.App.Auth.StepUp(ctx, owner, app.OwnerProof{Password: "not the password at all"}), roster.EInvalidCredentials, "a wrong password")
		want(t, env.App.Auth.StepUp(ctx, owner, app.OwnerProof{Code: "123456"}), roster.EReauthRequired, "a code for an account without an app")
		want(t, env.App.Auth.StepUp(ctx, owner, app.OwnerProof{Password: testenv.Password}), "", "the password")
		if env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = ?`, "user.stepped_up") != 1 {
			t.Fatal("the step-up is not audited")
		}
		if _, err := env.App.Organizations.SetPolicy(ctx, owner, org.ID, pol, app.OwnerProof{}); err != nil {
			t.Fatalf("a policy change after the step-up: %v", err)
		}

		// Another session of the same person proved nothing.
		other, _ := env.Login(t, ownerU.Email)
		later(env)
		want(t, env.App.Organizations.Delete(ctx, other, org.ID, app.OwnerProof{}), roster.EReauthRequired, "a deletion from a session that proved nothing lately")
		if err := env.App.Organizations.Delete(ctx, other, org.ID, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatalf("a deletion with the password: %v", err)
		}
	})
}

// TestStepUpWithASecondFactor: for an account with an authenticator app, the password is not
// enough for a dangerous action: a code, a recovery code or a passkey is; wrong ones are
// refused and counted; removing the app itself needs one.
func TestStepUpWithASecondFactor(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := mfaEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		st := env.Store(t, owner, org.ID, "Shop A")
		secret, recovery := enrollTOTP(t, env, owner)
		key := app.APIKeyInput{Name: "Zendesk", StoreID: st.ID, RoleID: roster.StoreRoleViewer}

		later(env)
		if st := stepUpState(t, env, owner); st.Fresh || st.Password() || !st.Has(app.MethodTOTP) || !st.Has(app.MethodRecoveryCode) {
			t.Fatalf("state: %+v, want a code asked", st)
		}
		key.Proof = app.OwnerProof{Password: testenv.Password}
		_, err := env.App.APIKeys.Create(ctx, owner, org.ID, key)
		want(t, err, roster.EStepUpRequired, "a key with the password alone")
		if e := roster.AsError(err); e == nil || e.Field != "code" {
			t.Fatalf("the refusal names %+v, want the field code", e)
		}
		key.Proof = app.OwnerProof{Code: "000000"}
		_, err = env.App.APIKeys.Create(ctx, owner, org.ID, key)
		want(t, err, roster.EInvalidCode, "a key with a wrong code")
		key.Proof = app.OwnerProof{Code: code(t, secret, env.Clock.Now())}
		if _, err := env.App.APIKeys.Create(ctx, owner, org.ID, key); err != nil {
			t.Fatalf("a key with a code: %v", err)
		}
		key.Name, key.Proof = "Zendesk 2", app.OwnerProof{}
		if _, err := env.App.APIKeys.Create(ctx, owner, org.ID, key); err != nil {
			t.Fatalf("a second key within the window: %v", err)
		}

		later(env)
		want(t, env.App.MFA.Disable(ctx, owner, app.OwnerProof{Password: testenv.Password}), roster.EStepUpRequired, "turning the app off with the password")
		want(t, env.App.MFA.Disable(ctx, owner, app.OwnerProof{Code: recovery[0]}), "", "turning the app off with a recovery code")
		if st := stepUpState(t, env, owner); !st.Password() || !st.Fresh {
			t.Fatalf("after turning the app off: %+v, want the password as proof, fresh", st)
		}
	})
}

// TestStepUpWithAPasskey: a passkey confirms a dangerous action (its answer to the step-up
// options, bound to the session that asked for them, used once), and stands in for the
// password when removing a passkey.
func TestStepUpWithAPasskey(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, ownerU := env.User(t, "Olivia")
		other, _ := env.Login(t, ownerU.Email) // a second session of the same person
		org := env.Org(t, owner, "Acme")
		cred, first := addPasskey(t, env, owner, "Laptop")
		_, second := addPasskey(t, env, owner, "Phone")

		later(env)
		st := stepUpState(t, env, owner)
		if st.Fresh || st.Password() || !st.Has(app.MethodPasskey) || !st.Has(app.MethodRecoveryCode) || st.Has(app.MethodTOTP) {
			t.Fatalf("state: %+v, want a passkey or a recovery code asked", st)
		}
		_, err := env.App.Organizations.SetPolicy(ctx, owner, org.ID, roster.Policy{}, app.OwnerProof{Password: testenv.Password})
		want(t, err, roster.EStepUpRequired, "a policy change with the password alone")
		if e := roster.AsError(err); e == nil || e.Field != "code" {
			t.Fatalf("the refusal names %+v, want the field code (a recovery code, or the passkey beside it)", e)
		}

		opts, err := env.App.Auth.BeginStepUpPasskey(ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		answer, err := authenticator.Get(opts, cred)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.App.Auth.StepUp(ctx, owner, app.OwnerProof{Passkey: answer}); err != nil {
			t.Fatalf("a step-up with a passkey: %v", err)
		}
		want(t, env.App.Auth.StepUp(ctx, owner, app.OwnerProof{Passkey: answer}), roster.EPasskeyRefused, "the same answer twice")
		if err := env.App.Passkeys.Remove(ctx, owner, second.ID, app.OwnerProof{}); err != nil {
			t.Fatalf("removing a passkey within the window: %v", err)
		}

		// Options asked by one session do not confirm another, even of the same person.
		later(env)
		answerFor := func() []byte {
			opts, err := env.App.Auth.BeginStepUpPasskey(ctx, owner)
			if err != nil {
				t.Fatal(err)
			}
			answer, err := authenticator.Get(opts, cred)
			if err != nil {
				t.Fatal(err)
			}
			return answer
		}
		want(t, env.App.Auth.StepUp(ctx, other, app.OwnerProof{Passkey: answerFor()}), roster.EPasskeyRefused, "another session with the answer")
		stranger, _ := env.User(t, "Mallory")
		want(t, env.App.Auth.StepUp(ctx, stranger, app.OwnerProof{Passkey: answerFor()}), roster.EReauthRequired, "another account with the answer")
		if err := env.App.Passkeys.Remove(ctx, owner, first.ID, app.OwnerProof{Passkey: answerFor()}); err != nil {
			t.Fatalf("removing the last passkey with a passkey: %v", err)
		}
	})
}

// TestStepUpIsForPeople: an API key, even an admin's, never steps up and never does a
// dangerous action; a Roster access token acting for a person gives the proof with each action,
// since no session remembers it.
func TestStepUpIsForPeople(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		k, err := env.App.APIKeys.Create(ctx, owner, org.ID, app.APIKeyInput{Name: "admin key", RoleID: roster.StoreRoleAdmin, OrgRole: roster.OrgAdmin})
		if err != nil {
			t.Fatal(err)
		}
		keyActor, err := env.App.Auth.Authenticate(ctx, k.Secret, "192.0.2.9", "t")
		if err != nil {
			t.Fatal(err)
		}
		want(t, env.App.Organizations.Delete(ctx, keyActor, org.ID, app.OwnerProof{Password: testenv.Password}), roster.EForbidden, "an API key deletes the organization")
		_, err = env.App.Organizations.SetPolicy(ctx, keyActor, org.ID, roster.Policy{}, app.OwnerProof{Password: testenv.Password})
		want(t, err, roster.EForbidden, "an API key changes the policy")
		want(t, env.App.Auth.StepUp(ctx, keyActor, app.OwnerProof{Password: testenv.Password}), roster.EForbidden, "an API key steps up")

		token := owner
		token.SessionID, token.OIDCTokenID = "", "tok_1"
		want(t, env.App.Auth.StepUp(ctx, token, app.OwnerProof{Password: testenv.Password}), roster.EInvalid, "a step-up without a session")
		_, err = env.App.Organizations.SetPolicy(ctx, token, org.ID, roster.Policy{}, app.OwnerProof{})
		want(t, err, roster.EReauthRequired, "a policy change by token without a proof")
		if _, err := env.App.Organizations.SetPolicy(ctx, token, org.ID, roster.Policy{}, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatalf("a policy change by token with the password: %v", err)
		}
	})
}
