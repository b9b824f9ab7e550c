package console_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
)

// TestSCIMPage: an owner creates a SCIM directory and reads its base URL and token, shown
// once; the group the directory pushes is mapped to the admin role from the page, which makes
// its member an admin; a new token replaces the old one; deleting the directory asks first.
func TestSCIMPage(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		cat := catalogs[lang]
		owner := s.browser(t, "owner", lang)
		owner.signup("Sid Owner", addr("sid"))
		orgID := owner.createOrg("Scimco " + testenv.Unique())
		owner.open("/orgs/" + orgID + "/scim")
		owner.expect("main", cat["scim.empty"])
		base := strings.TrimSuffix(s.env.App.Config().BaseURL.String(), "/") + "/scim/v2"
		if got := owner.text("[data-testid=scim-base-url]"); got != base {
			t.Fatalf("base URL %q", got)
		}
		owner.fill("#scim-name", "Okta")
		owner.submit("[data-testid=create-directory]")
		owner.noError()
		token := owner.value("[data-testid=scim-token]")
		if !strings.HasPrefix(token, "rscim_") || owner.value("[data-testid=scim-url]") != base {
			t.Fatalf("token %q", token)
		}

		// The directory pushes a group with a member; the owner maps it to admin.
		a := s.env.App
		dir, err := a.Directories.Authenticate(testenv.Ctx, roster.Anonymous("192.0.2.1", "test"), token)
		if err != nil {
			t.Fatal(err)
		}
		u, err := a.SCIM.CreateUser(testenv.Ctx, dir, app.SCIMUserInput{UserName: "pat." + testenv.Unique() + "@example.com", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.SCIM.CreateGroup(testenv.Ctx, dir, app.SCIMGroupInput{DisplayName: "Admins", Members: []string{u.User.ID}}); err != nil {
			t.Fatal(err)
		}
		owner.open("/orgs/" + orgID + "/scim")
		if strings.Contains(owner.text("main"), token) {
			t.Fatal("the token is shown again")
		}
		owner.fill("[data-testid=group-mapping]", "org:admin")
		owner.submit("[data-testid=save-mapping]")
		owner.noError()
		owner.expect(".flash.success", cat["flash.scim_mapped"])
		if got := owner.value("[data-testid=group-mapping]"); got != "org:admin" {
			t.Fatalf("the mapping shows %q", got)
		}
		if n := s.env.Int(t, `SELECT COUNT(*) FROM org_members WHERE org_id = ? AND user_id = ? AND role = 'admin'`, orgID, u.User.ID); n != 1 {
			t.Fatal("mapping the group did not make its member an admin")
		}

		// A new token: the old one stops working.
		owner.submit("[data-testid=rotate-directory]")
		owner.noError()
		if fresh := owner.value("[data-testid=scim-token]"); fresh == token || !strings.HasPrefix(fresh, "rscim_") {
			t.Fatalf("new token %q", fresh)
		}
		if _, err := a.Directories.Authenticate(testenv.Ctx, roster.Anonymous("192.0.2.1", "test"), token); testenv.Code(err) != roster.EUnauthenticated {
			t.Fatalf("the old token still works: %v", err)
		}

		// Deleting asks first.
		owner.open("/orgs/" + orgID + "/scim")
		owner.popup("[data-testid=delete-directory]")
		owner.expect("#modal dialog[open]", strings.ReplaceAll(cat["scim.delete_title"], "{name}", "Okta"))
		owner.submit("[data-testid=confirm-delete-directory]")
		owner.noError()
		owner.expect(".flash.success", cat["flash.scim_deleted"])
		owner.expect("main", cat["scim.empty"])
	})
}
