package app_test

import (
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestOrganizationRequiresTwoFactor: an organization whose policy requires a second factor is
// closed to a member's session until they set one up (two_factor_required), while their other
// organizations stay open and their API key keeps working; whoever turns it on must have a
// factor; the instance-wide switch closes every organization alike.
func TestOrganizationRequiresTwoFactor(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := mfaEnv(t, e)
		owner, _ := env.User(t, "Olga")
		acme := env.Org(t, owner, "Acme")
		memberActor, member := env.User(t, "Mia")
		env.Join(t, owner, acme.ID, member, roster.OrgAdmin)
		other := env.Org(t, memberActor, "Mia's own")
		key, err := env.App.APIKeys.Create(ctx, memberActor, acme.ID, app.APIKeyInput{Name: "sync", RoleID: roster.StoreRoleMember, Proof: app.OwnerProof{Password: testenv.Password}})
		if err != nil {
			t.Fatal(err)
		}

		// The owner has no second factor: turning it on would lock them out.
		pol := roster.DefaultPolicy()
		pol.RequireTwoFactor = true
		if _, err := env.App.Organizations.SetPolicy(ctx, owner, acme.ID, pol, app.OwnerProof{Password: testenv.Password}); testenv.Code(err) != roster.ETwoFactorFirst {
			t.Fatalf("turned on without a factor of one's own: %v", err)
		}
		enrollTOTP(t, env, owner)
		if _, err := env.App.Organizations.SetPolicy(ctx, owner, acme.ID, pol, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Members.List(ctx, owner, acme.ID, app.MemberFilter{}); err != nil {
			t.Fatalf("the owner, with a factor: %v", err)
		}

		// The member without a factor: Acme is closed, by name, with the organization in the
		// details; their own organization and their API key are not.
		_, err = env.App.Members.List(ctx, memberActor, acme.ID, app.MemberFilter{})
		if testenv.Code(err) != roster.ETwoFactorRequired || roster.HTTPStatus(roster.ErrorCode(err)) != 403 {
			t.Fatalf("a member without a factor: %v", err)
		}
		if e := roster.AsError(err); e.Details["organization_id"] != acme.ID {
			t.Fatalf("details: %v", e.Details)
		}
		if _, err := env.App.Members.List(ctx, memberActor, other.ID, app.MemberFilter{}); err != nil {
			t.Fatalf("their own organization: %v", err)
		}
		keyActor, err := env.App.Auth.Authenticate(ctx, key.Secret, "192.0.2.9", "sync")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Stores.List(ctx, keyActor, acme.ID, ""); err != nil {
			t.Fatalf("their API key: %v", err)
		}

		// Set up, it opens.
		enrollTOTP(t, env, memberActor)
		if _, err := env.App.Members.List(ctx, memberActor, acme.ID, app.MemberFilter{}); err != nil {
			t.Fatalf("after setting up a factor: %v", err)
		}
	})
}

// TestInstanceRequiresTwoFactor: the operator's switch (ROSTER_REQUIRE_TWO_FACTOR) closes
// every organization to sessions without a second factor.
func TestInstanceRequiresTwoFactor(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e, func(c *app.Config) {
			c.EncryptionKey = []byte("0123456789abcdef0123456789abcdef")
			c.RequireTwoFactor = true
		})
		owner, _ := env.User(t, "Olga")
		org := env.Org(t, owner, "Acme")
		if _, err := env.App.Stores.List(ctx, owner, org.ID, ""); testenv.Code(err) != roster.ETwoFactorRequired {
			t.Fatalf("instance-wide, no factor: %v", err)
		}
		enrollTOTP(t, env, owner)
		if _, err := env.App.Stores.List(ctx, owner, org.ID, ""); err != nil {
			t.Fatalf("instance-wide, with a factor: %v", err)
		}
	})
}
