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

// revokedFor counts the api_key.revoked events of a key that give a reason.
func revokedFor(t *testing.T, env *testenv.Env, keyID, reason string) int {
	t.Helper()
	return env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = 'api_key.revoked' AND target_id = ? AND after_json LIKE ?`,
		keyID, `%"reason":"`+reason+`"%`)
}

// TestPasswordResetRevokesAPIKeys: whoever knew the old password may have minted keys, so a
// completed reset revokes every live key of the user in every organization, each audited with
// its reason in the reset's transaction. An admin who sends a reset link revokes nothing
// until the link is used. A deactivation revokes them too, and a reactivation brings none
// back.
func TestPasswordResetRevokesAPIKeys(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		box := env.Outbox(t)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		actor, u := env.User(t, "Marc")
		env.Join(t, owner, org.ID, u, roster.OrgAdmin)
		other := env.Org(t, owner, "Beta")
		env.Join(t, owner, other.ID, u, roster.OrgAdmin)
		mint := func(orgID, name string) app.CreatedAPIKey {
			t.Helper()
			k, err := env.App.APIKeys.Create(ctx, actor, orgID, app.APIKeyInput{Name: name, RoleID: roster.StoreRoleAdmin, OrgRole: roster.OrgAdmin, Proof: app.OwnerProof{Password: testenv.Password}})
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		works := func(k app.CreatedAPIKey) bool {
			_, err := env.App.Auth.Authenticate(ctx, k.Secret, "192.0.2.9", "t")
			return err == nil
		}
		k1, k2 := mint(org.ID, "Support tool"), mint(other.ID, "Own tool")
		gone := mint(org.ID, "Already revoked")
		if err := env.App.APIKeys.Revoke(ctx, actor, org.ID, gone.Key.ID); err != nil {
			t.Fatal(err)
		}

		// An admin sends a reset link: nothing changes until it is used.
		if err := env.App.Accounts.SendPasswordReset(ctx, owner, org.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		if !works(k1) || !works(k2) {
			t.Fatal("sending a reset link revoked keys")
		}
		tok := testenv.Token(box.Last(t, u.Email, "password_reset"))
		if _, err := env.App.Accounts.SetPasswordWithLink(ctx, visitor, tok, "marc's second long passphrase"); err != nil {
			t.Fatal(err)
		}
		if works(k1) || works(k2) {
			t.Fatal("a key outlived the password reset")
		}
		if revokedFor(t, env, k1.Key.ID, "password_reset") != 1 || revokedFor(t, env, k2.Key.ID, "password_reset") != 1 ||
			events(t, env, org.ID, "api_key.revoked") != 2 || events(t, env, other.ID, "api_key.revoked") != 1 {
			t.Fatalf("revocations audited: %d in Acme, %d in Beta", events(t, env, org.ID, "api_key.revoked"), events(t, env, other.ID, "api_key.revoked"))
		}

		// A deactivation revokes the keys made since; a reactivation does not revive them.
		res, err := env.App.Auth.Login(ctx, visitor, app.LoginInput{Email: u.Email, Password: "marc's second long passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		if actor, err = env.App.Auth.Authenticate(ctx, res.Token, "192.0.2.9", "t"); err != nil {
			t.Fatal(err)
		}
		k3 := func() app.CreatedAPIKey {
			k, err := env.App.APIKeys.Create(ctx, actor, org.ID, app.APIKeyInput{Name: "Later", RoleID: roster.StoreRoleViewer, Proof: app.OwnerProof{Password: "marc's second long passphrase"}})
			if err != nil {
				t.Fatal(err)
			}
			return k
		}()
		op := operator(t, env)
		if _, err := env.App.Operator.DeactivateUser(ctx, op, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Operator.ReactivateUser(ctx, op, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Auth.Authenticate(ctx, k3.Secret, "192.0.2.9", "t"); err == nil || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("a key after deactivation and reactivation: %v", err)
		}
		if revokedFor(t, env, k3.Key.ID, "user_deactivated") != 1 {
			t.Fatal("the deactivation's revocation is not audited")
		}
	})
}

// TestAPIKeysNeedAStepUp: creating or cloning a key asks for the password of an account
// without a second factor unless it was given in the session in the last 10 minutes, and its
// owner is told by email, also when someone else made it.
func TestAPIKeysNeedAStepUp(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		box := env.Outbox(t)
		owner, ownerU := verified(t, env, box, "Olivia")
		org := env.Org(t, owner, "Acme")
		st := env.Store(t, owner, org.ID, "Shop A")
		_, member := verified(t, env, box, "Marc")
		env.Join(t, owner, org.ID, member, roster.OrgMember, app.StoreGrantInput{StoreID: st.ID, RoleID: roster.StoreRoleViewer})

		env.Clock.Advance(app.StepUpWindow + time.Second) // the login no longer counts
		in := app.APIKeyInput{Name: "Zendesk", StoreID: st.ID, RoleID: roster.StoreRoleViewer}
		_, err := env.App.APIKeys.Create(ctx, owner, org.ID, in)
		want(t, err, roster.EReauthRequired, "a key without the password, 10 minutes after login")
		in.Proof.Password = "not the password at all"
		_, err = env.App.APIKeys.Create(ctx, owner, org.ID, in)
		want(t, err, roster.EInvalidCredentials, "a key with a wrong password")
		in.Proof.Password = testenv.Password
		k, err := env.App.APIKeys.Create(ctx, owner, org.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.APIKeys.Clone(ctx, owner, org.ID, k.Key.ID, app.CloneInput{UserID: member.ID}); err != nil {
			t.Fatalf("a clone right after the password was given: %v", err)
		}
		env.Clock.Advance(app.StepUpWindow)
		_, err = env.App.APIKeys.Clone(ctx, owner, org.ID, k.Key.ID, app.CloneInput{UserID: member.ID, Name: "Zendesk 2"})
		want(t, err, roster.EReauthRequired, "a clone 10 minutes after the password")

		mine := box.Last(t, ownerU.Email, "api_key_created")
		theirs := box.Last(t, member.Email, "api_key_created")
		if box.Count(t, ownerU.Email, "api_key_created") != 1 || box.Count(t, member.Email, "api_key_created") != 1 {
			t.Fatal("one email per key to its owner")
		}
		if !strings.Contains(mine.Text, "You created the API key “Zendesk” in Acme, limited to the store Shop A") {
			t.Errorf("the creator's email:\n%s", mine.Text)
		}
		if !strings.Contains(theirs.Text, "Olivia created the API key “Zendesk” in your name in Acme") {
			t.Errorf("the new owner's email:\n%s", theirs.Text)
		}
	})
}
