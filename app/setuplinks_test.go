package app_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/ssotest"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// setupLinkEnv is an env where a setup link's holder verifies domains against a local DNS
// server and configures single sign-on with an OpenID provider on this machine.
func setupLinkEnv(t *testing.T, e sqlstore.Engine) (*testenv.Env, *testenv.DNS) {
	dns := testenv.DNSServer(t)
	return webhookEnv(t, e, func(c *app.Config) { c.DNSResolver = dns.Addr; c.SSOAllowedHosts = []string{"127.0.0.1"} }), dns
}

// openSetupLink makes a setup link as the owner and returns its holder.
func openSetupLink(t *testing.T, env *testenv.Env, owner roster.Actor, orgID string) (roster.Actor, app.CreatedSetupLink) {
	t.Helper()
	made, err := env.App.SetupLinks.Create(ctx, owner, orgID, app.OwnerProof{Password: testenv.Password})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(made.URL)
	if err != nil || u.Path != "/it-setup" || !strings.HasPrefix(u.Query().Get("token"), "rsetup_") {
		t.Fatalf("the link's address %q: %v", made.URL, err)
	}
	it, err := env.App.SetupLinks.Authenticate(ctx, roster.Anonymous("192.0.2.7", "IT"), u.Query().Get("token"))
	if err != nil || it.Kind != roster.ActorSetupLink || it.SetupLinkOrgID != orgID || it.SetupLinkID != made.Link.ID {
		t.Fatalf("the link's holder: %+v %v", it, err)
	}
	return it, made
}

// TestSetupLinkSetsUpSignIn: the owner alone makes a setup link (after a step-up); its holder,
// who has no account, verifies a domain, configures single sign-on (keeping the owner's role
// mappings, which they do not see) and creates a SCIM directory, each audited with the link
// as actor; nothing else of the organization, nor any other organization, is in reach.
func TestSetupLinkSetsUpSignIn(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env, dns := setupLinkEnv(t, e)
		tm := newTeam(t, env)
		op := ssotest.StartOP(t, "roster", "the provider's secret", "https://roster.example/sso/callback")
		mapping := roster.SSORoleMapping{Group: "shop-staff", Stores: map[string]string{tm.store.ID: roster.StoreRoleMember}}
		if _, err := env.App.SSO.Configure(ctx, tm.owner, tm.org.ID, app.SSOInput{Protocol: roster.SSOOIDC, Issuer: op.Issuer, ClientID: "roster",
			ClientSecret: "the provider's secret", DefaultRole: roster.OrgMember, RoleMappings: []roster.SSORoleMapping{mapping}}); err != nil {
			t.Fatal(err)
		}

		// Who makes links: the owner, as a person.
		_, err := env.App.SetupLinks.Create(ctx, tm.admin, tm.org.ID, app.OwnerProof{Password: testenv.Password})
		want(t, err, roster.EForbidden, "an admin makes a setup link")
		_, err = env.App.SetupLinks.Create(ctx, tm.member, tm.org.ID, app.OwnerProof{})
		want(t, err, roster.EForbidden, "a member makes a setup link")
		outsider, _ := env.User(t, "Otto")
		_, err = env.App.SetupLinks.Create(ctx, outsider, tm.org.ID, app.OwnerProof{})
		want(t, err, roster.ENotFound, "an outsider makes a setup link")
		later(env)
		_, err = env.App.SetupLinks.Create(ctx, tm.owner, tm.org.ID, app.OwnerProof{})
		want(t, err, roster.EReauthRequired, "a setup link without a step-up")
		it, made := openSetupLink(t, env, tm.owner, tm.org.ID)
		if !made.Link.ExpiresAt.Equal(env.Clock.Now().Add(7 * 24 * time.Hour)) {
			t.Fatalf("the link expires at %v", made.Link.ExpiresAt)
		}
		portal, err := env.App.SetupLinks.Portal(ctx, it)
		if err != nil || portal.OrgName != "Acme" || portal.OrgID != tm.org.ID || portal.Link.ID != made.Link.ID {
			t.Fatalf("the portal: %+v %v", portal, err)
		}

		// Domains.
		d, err := env.App.Domains.Add(ctx, it, tm.org.ID, "acme.example")
		want(t, err, "", "the IT administrator adds a domain")
		dns.SetTXT(d.RecordName(), d.RecordValue())
		_, err = env.App.Domains.Verify(ctx, it, tm.org.ID, d.ID)
		want(t, err, "", "the IT administrator verifies it")

		// Single sign-on: the owner's mapping stays, unseen.
		got, err := env.App.SSO.Get(ctx, it, tm.org.ID)
		if err != nil || got.Connection.Issuer != op.Issuer || len(got.Connection.RoleMappings) != 0 || got.MapsRoles {
			t.Fatalf("single sign-on as the IT administrator sees it: %+v %v", got.Connection, err)
		}
		_, err = env.App.SSO.Configure(ctx, it, tm.org.ID, app.SSOInput{Protocol: roster.SSOOIDC, Issuer: op.Issuer, ClientID: "roster",
			Enabled: true, JIT: true, DefaultRole: roster.OrgMember, Scopes: []string{"email", "profile", "groups"},
			RoleMappings: []roster.SSORoleMapping{{Group: "anyone", OrgRole: roster.OrgAdmin}}})
		want(t, err, "", "the IT administrator configures single sign-on")
		got, _ = env.App.SSO.Get(ctx, tm.owner, tm.org.ID)
		if !got.MapsRoles || !got.Connection.Enabled || !got.Connection.HasClientSecret || len(got.Connection.RoleMappings) != 1 || got.Connection.RoleMappings[0].Group != "shop-staff" {
			t.Fatalf("single sign-on after the IT administrator: %+v", got.Connection)
		}
		_, err = env.App.SSO.SetDomainRequired(ctx, it, tm.org.ID, d.ID, true)
		want(t, err, "", "the IT administrator requires single sign-on for the domain")

		// SCIM: a directory made by the link is the owner's.
		dir, err := env.App.Directories.Create(ctx, it, tm.org.ID, "Okta")
		if err != nil || dir.Directory.CreatedBy != tm.ownerU.ID || !strings.HasPrefix(dir.Token, "rscim_") {
			t.Fatalf("the IT administrator creates a directory: %+v %v", dir.Directory, err)
		}
		rotated, err := env.App.Directories.RotateToken(ctx, it, tm.org.ID, dir.Directory.ID)
		want(t, err, "", "the IT administrator rotates its token")

		// What names the organization's people, stores and roles stays out of sight: a group the
		// directory pushed and a request to join are the owner's to see and answer.
		okta, err := env.App.Directories.Authenticate(ctx, roster.Anonymous("192.0.2.8", "Okta"), rotated.Token)
		want(t, err, "", "the directory's new token")
		g, err := env.App.SCIM.CreateGroup(ctx, okta, app.SCIMGroupInput{DisplayName: "Shop staff"})
		want(t, err, "", "the directory pushes a group")
		if groups, err := env.App.Directories.Groups(ctx, it, tm.org.ID, dir.Directory.ID); err != nil || len(groups) != 0 {
			t.Fatalf("the IT administrator sees the groups %+v (%v)", groups, err)
		}
		if groups, err := env.App.Directories.Groups(ctx, tm.owner, tm.org.ID, dir.Directory.ID); err != nil || len(groups) != 1 {
			t.Fatalf("the owner sees the groups %+v (%v)", groups, err)
		}
		_, err = env.App.Directories.MapGroup(ctx, it, tm.org.ID, dir.Directory.ID, g.Group.ID, app.GroupMapping{OrgRole: roster.OrgAdmin})
		want(t, err, roster.ENotFound, "the IT administrator maps a group to a role")
		_, err = env.App.SSO.SetDomainRequired(ctx, it, tm.org.ID, d.ID, false) // Jo below signs in with a password
		want(t, err, "", "the IT administrator no longer requires single sign-on")
		_, err = env.App.Domains.SetJoin(ctx, it, tm.org.ID, d.ID, roster.JoinSuggest, roster.OrgMember)
		want(t, err, "", "the IT administrator lets people at the domain ask to join")
		box := env.Outbox(t)
		want(t, env.App.Auth.Signup(ctx, roster.Anonymous("192.0.2.9", "t"), app.SignupInput{Email: "jo@acme.example", Name: "Jo", Password: testenv.Password}), "", "sign up")
		jo, _ := env.Login(t, "jo@acme.example")
		_, err = env.App.Accounts.VerifyEmail(ctx, roster.Anonymous("192.0.2.9", "t"), testenv.Token(box.Last(t, "jo@acme.example", "verify_email")))
		want(t, err, "", "verify email")
		jr, err := env.App.Domains.RequestToJoin(ctx, jo, tm.org.ID)
		want(t, err, "", "ask to join")
		if reqs, err := env.App.Domains.JoinRequests(ctx, it, tm.org.ID); err != nil || len(reqs) != 0 {
			t.Fatalf("the IT administrator sees the requests to join %+v (%v)", reqs, err)
		}
		if reqs, err := env.App.Domains.JoinRequests(ctx, tm.owner, tm.org.ID); err != nil || len(reqs) != 1 {
			t.Fatalf("the owner sees the requests to join %+v (%v)", reqs, err)
		}
		want(t, env.App.Domains.AnswerJoinRequest(ctx, it, tm.org.ID, jr.ID, true), roster.ENotFound, "the IT administrator approves a request to join")

		// Each change is the link's in the audit log.
		for action, times := range map[string]int{"domain.added": 1, "domain.verified": 1, "sso.configured": 1, "domain.sso_required_changed": 2,
			"scim_directory.created": 1, "scim_directory.token_rotated": 1, "domain.join_policy_changed": 1} {
			if n := env.Int(t, `SELECT COUNT(*) FROM audit_events WHERE action = ? AND actor_kind = ? AND actor_id = ?`, action, "setup_link", made.Link.ID); n != times {
				t.Errorf("%d %s audited with the link as actor", n, action)
			}
		}

		// Nothing else of the organization, nor any other one.
		other := env.Org(t, outsider, "Rival")
		for what, err := range map[string]error{
			"the organization": func() error { _, err := env.App.Organizations.Get(ctx, it, tm.org.ID); return err }(),
			"its members":      func() error { _, err := env.App.Members.List(ctx, it, tm.org.ID, app.MemberFilter{}); return err }(),
			"its stores":       func() error { _, err := env.App.Stores.List(ctx, it, tm.org.ID, roster.StoreActive); return err }(),
			"a store":          func() error { _, err := env.App.Stores.Get(ctx, it, tm.store.ID); return err }(),
			"its roles":        func() error { _, err := env.App.Roles.List(ctx, it, tm.org.ID); return err }(),
			"its audit log":    func() error { _, err := env.App.Audit.List(ctx, it, tm.org.ID, app.AuditFilter{}); return err }(),
			"its webhooks":     func() error { _, err := env.App.Webhooks.List(ctx, it, tm.org.ID); return err }(),
			"its invitations": func() error {
				_, err := env.App.Invitations.List(ctx, it, tm.org.ID, app.InvitationFilter{})
				return err
			}(),
			"its setup links": func() error { _, err := env.App.SetupLinks.List(ctx, it, tm.org.ID); return err }(),
			"an invitation": func() error {
				_, err := env.App.Invitations.Create(ctx, it, tm.org.ID, app.InvitationInput{Email: "x@acme.example"})
				return err
			}(),
			"an API key": func() error {
				_, err := env.App.APIKeys.Create(ctx, it, tm.org.ID, app.APIKeyInput{Name: "k"})
				return err
			}(),
			"its details": func() error {
				_, err := env.App.Organizations.Update(ctx, it, tm.org.ID, app.OrganizationInput{Name: "Pwned"})
				return err
			}(),
			"a member's removal":  env.App.Members.Remove(ctx, it, tm.org.ID, tm.memberU.ID),
			"another's domains":   func() error { _, err := env.App.Domains.List(ctx, it, other.ID); return err }(),
			"another's SSO":       func() error { _, err := env.App.SSO.Get(ctx, it, other.ID); return err }(),
			"another's directory": func() error { _, err := env.App.Directories.Create(ctx, it, other.ID, "Okta"); return err }(),
		} {
			if c := testenv.Code(err); c != roster.ENotFound && c != roster.EForbidden && c != roster.EUnauthenticated {
				t.Errorf("the IT administrator reaches %s: %v", what, err)
			}
		}
		if m := role(t, env, tm.org.ID, tm.memberU.ID); m.Role != roster.OrgMember {
			t.Fatalf("the member after the link tried to remove them: %+v", m)
		}
	})
}

// TestSetupLinkCloses: a setup link opens nothing once revoked, once expired, or once its
// maker left the organization; at most ten are open at once; a wrong secret is refused.
func TestSetupLinkCloses(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env, _ := setupLinkEnv(t, e)
		tm := newTeam(t, env)
		anon := roster.Anonymous("192.0.2.7", "IT")

		for _, bad := range []string{"", "rsetup_short", "rs_" + strings.Repeat("A", 43), "rsetup_" + strings.Repeat("A", 43)} {
			_, err := env.App.SetupLinks.Authenticate(ctx, anon, bad)
			want(t, err, roster.ETokenInvalid, "the secret "+bad)
		}

		// Revoked: the holder's page and the secret stop at once; the owner lists it no more.
		it, made := openSetupLink(t, env, tm.owner, tm.org.ID)
		want(t, env.App.SetupLinks.Revoke(ctx, tm.admin, tm.org.ID, made.Link.ID), roster.EForbidden, "an admin revokes the link")
		want(t, env.App.SetupLinks.Revoke(ctx, tm.owner, tm.org.ID, made.Link.ID), "", "the owner revokes the link")
		want(t, env.App.SetupLinks.Revoke(ctx, tm.owner, tm.org.ID, made.Link.ID), roster.ENotFound, "the owner revokes it again")
		_, err := env.App.Domains.List(ctx, it, tm.org.ID)
		want(t, err, roster.ENotFound, "a revoked link's holder lists the domains")
		_, err = env.App.SetupLinks.Authenticate(ctx, anon, tokenOf(t, made))
		want(t, err, roster.ETokenExpired, "a revoked link opened again")
		if list, err := env.App.SetupLinks.List(ctx, tm.owner, tm.org.ID); err != nil || len(list) != 0 {
			t.Fatalf("open links after the revocation: %+v %v", list, err)
		}
		if n := events(t, env, tm.org.ID, "setup_link.revoked"); n != 1 {
			t.Fatalf("%d setup_link.revoked audit entries", n)
		}

		// Expired after seven days.
		it, made = openSetupLink(t, env, tm.owner, tm.org.ID)
		env.Clock.Advance(7*24*time.Hour + time.Second)
		_, err = env.App.Domains.List(ctx, it, tm.org.ID)
		want(t, err, roster.ENotFound, "an expired link's holder lists the domains")
		_, err = env.App.SetupLinks.Authenticate(ctx, anon, tokenOf(t, made))
		want(t, err, roster.ETokenExpired, "an expired link opened again")

		// The maker's rights: kept while they hold them, gone when they leave.
		it, _ = openSetupLink(t, env, tm.owner, tm.org.ID)
		if err := env.App.Organizations.TransferOwnership(ctx, tm.owner, tm.org.ID, tm.adminU.ID, app.OwnerProof{Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		_, err = env.App.Domains.List(ctx, it, tm.org.ID)
		want(t, err, "", "the link of an owner who became an admin")
		want(t, env.App.Members.Remove(ctx, tm.admin, tm.org.ID, tm.ownerU.ID), "", "the new owner removes the former one")
		_, err = env.App.Domains.List(ctx, it, tm.org.ID)
		want(t, err, roster.ENotFound, "the link of someone who left")
		_, err = env.App.SetupLinks.Portal(ctx, it)
		want(t, err, roster.ENotFound, "the portal of a link whose maker left")

		// At most ten open at once.
		open, err := env.App.SetupLinks.List(ctx, tm.admin, tm.org.ID) // the former owner's is still open
		if err != nil || len(open) != 1 {
			t.Fatalf("open links: %+v %v", open, err)
		}
		for range roster.MaxSetupLinks - len(open) {
			openSetupLink(t, env, tm.admin, tm.org.ID)
		}
		_, err = env.App.SetupLinks.Create(ctx, tm.admin, tm.org.ID, app.OwnerProof{Password: testenv.Password})
		want(t, err, roster.EConflict, "an eleventh open link")
	})
}

func tokenOf(t *testing.T, made app.CreatedSetupLink) string {
	t.Helper()
	u, err := url.Parse(made.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}
