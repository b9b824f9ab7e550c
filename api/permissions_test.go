package api_test

import (
	"net/http"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestHostPermissions: the host application registers its permissions; they appear in the
// catalog and the role editor, built-in and custom roles carry them, and the check API
// answers them.
func TestHostPermissions(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		svc := env.serviceToken()
		owner, mem, viewer, custom := env.person("Olivia"), env.person("Marc"), env.person("Vera"), env.person("Carl")
		org := env.Org(t, owner.actor, "Acme")
		shop := env.Store(t, owner.actor, org.ID, "Shop")
		env.Join(t, owner.actor, org.ID, mem.user, roster.OrgMember, app.StoreGrantInput{StoreID: shop.ID, RoleID: roster.StoreRoleMember})
		env.Join(t, owner.actor, org.ID, viewer.user, roster.OrgMember, app.StoreGrantInput{StoreID: shop.ID, RoleID: roster.StoreRoleViewer})

		// Who may register: service tokens and operators; not members, not keys, not anonymous.
		body := map[string]any{"description": "Create and launch campaigns", "member": true}
		env.refused(http.StatusForbidden, roster.EForbidden, owner.token, http.MethodPut, "/v1/permissions/campaigns.create", body)
		env.refused(http.StatusUnauthorized, roster.EUnauthenticated, "", http.MethodPut, "/v1/permissions/campaigns.create", body)
		env.refused(http.StatusUnauthorized, roster.EUnauthenticated, "", http.MethodGet, "/v1/permissions", nil)
		_, key := env.createKey(owner.token, map[string]any{"org": org.ID, "name": "K", "role_id": "admin", "organization_role": "admin"})
		env.refused(http.StatusForbidden, roster.EForbidden, key, http.MethodPut, "/v1/permissions/campaigns.create", body)

		r := env.must(http.StatusCreated, svc, http.MethodPut, "/v1/permissions/campaigns.create", body)
		if r.str("area") != "campaigns" || r.body["host_app"] != true || r.str("scope") != "store" {
			t.Fatalf("registered: %s", r.raw)
		}
		env.must(http.StatusOK, svc, http.MethodPut, "/v1/permissions/campaigns.create", body)
		env.must(http.StatusCreated, svc, http.MethodPut, "/v1/permissions/notifications.read_all", map[string]any{"area": "Notifications", "member": true, "viewer": true})
		env.refused(http.StatusUnprocessableEntity, roster.EInvalid, svc, http.MethodPut, "/v1/permissions/store.hack", body)
		env.refused(http.StatusConflict, roster.EConflict, svc, http.MethodPut, "/v1/permissions/store.read", body)
		env.refused(http.StatusUnprocessableEntity, roster.EInvalid, svc, http.MethodPut, "/v1/permissions/Campaigns.Create", body)
		env.refused(http.StatusUnprocessableEntity, "", svc, http.MethodPut, "/v1/permissions/campaigns.delete", map[string]any{"owner": true})
		op := env.person("Operator")
		if _, _, err := env.App.Operator.CreateOperator(testenv.Ctx, roster.System(), op.user.Email, ""); err != nil {
			t.Fatal(err)
		}
		op = env.person2(op.user.Email)
		env.must(http.StatusCreated, op.token, http.MethodPut, "/v1/permissions/reports.export", map[string]any{"description": "Export reports"})

		// In the catalog, after Roster's own.
		cat := env.must(http.StatusOK, mem.token, http.MethodGet, "/v1/permissions", nil).list("permissions")
		if last := cat[len(cat)-1].(map[string]any); last["key"] != "reports.export" || cat[0].(map[string]any)["key"] != "org.read" {
			t.Fatalf("catalog order: first %v, last %v", cat[0], last)
		}

		// Built-in roles follow the defaults; admins hold everything; custom roles what they list.
		if !env.allowed(svc, mem.user.ID, "campaigns.create", shop.ID) || env.allowed(svc, viewer.user.ID, "campaigns.create", shop.ID) ||
			!env.allowed(svc, viewer.user.ID, "notifications.read_all", shop.ID) || !env.allowed(svc, owner.user.ID, "reports.export", shop.ID) ||
			env.allowed(svc, mem.user.ID, "reports.export", shop.ID) {
			t.Fatal("built-in roles and host permissions")
		}
		admin := env.must(http.StatusOK, owner.token, http.MethodGet, "/v1/organizations/"+org.ID+"/roles/admin", nil)
		if len(admin.body["permissions"].([]any)) != 8+3 {
			t.Fatalf("admin role: %s", admin.raw)
		}
		campaigner := env.must(http.StatusCreated, owner.token, http.MethodPost, "/v1/organizations/"+org.ID+"/roles",
			map[string]any{"name": "Campaigner", "permissions": []string{"store.read", "campaigns.create", "reports.export"}}).str("id")
		env.Join(t, owner.actor, org.ID, custom.user, roster.OrgMember, app.StoreGrantInput{StoreID: shop.ID, RoleID: campaigner})
		if !env.allowed(svc, custom.user.ID, "campaigns.create", shop.ID) || env.allowed(svc, custom.user.ID, "notifications.read_all", shop.ID) {
			t.Fatal("custom role and host permissions")
		}
		r = env.must(http.StatusOK, svc, http.MethodPost, "/v1/check", map[string]any{"user_id": custom.user.ID, "permission": "reports.export", "store_id": shop.ID})
		if r.str("reason") != "store_role" || r.str("store_role") != campaigner {
			t.Fatalf("check explains: %s", r.raw)
		}
		// A changed default counts from the next check.
		env.must(http.StatusOK, svc, http.MethodPut, "/v1/permissions/campaigns.create", map[string]any{"member": false})
		if env.allowed(svc, mem.user.ID, "campaigns.create", shop.ID) {
			t.Fatal("member default not withdrawn")
		}

		// Removal: refused while a custom role holds it, unless forced.
		r = env.refused(http.StatusConflict, roster.EPermissionInUse, svc, http.MethodDelete, "/v1/permissions/campaigns.create", nil)
		if held := r.body["details"].(map[string]any)["roles"].([]any); len(held) != 1 || held[0].(map[string]any)["role_id"] != campaigner {
			t.Fatalf("roles holding it: %v", held)
		}
		if !env.allowed(svc, custom.user.ID, "campaigns.create", shop.ID) {
			t.Fatal("refused removal changed something")
		}
		r = env.must(http.StatusOK, svc, http.MethodDelete, "/v1/permissions/campaigns.create?force=true", nil)
		if len(r.list("roles_changed")) != 1 {
			t.Fatalf("forced removal: %s", r.raw)
		}
		role := env.must(http.StatusOK, owner.token, http.MethodGet, "/v1/organizations/"+org.ID+"/roles/"+campaigner, nil)
		if len(role.body["permissions"].([]any)) != 2 {
			t.Fatalf("role after forced removal: %s", role.raw)
		}
		env.refused(http.StatusUnprocessableEntity, roster.EUnknownPermission, svc, http.MethodPost, "/v1/check",
			map[string]any{"user_id": custom.user.ID, "permission": "campaigns.create", "store_id": shop.ID})
		env.must(http.StatusOK, svc, http.MethodDelete, "/v1/permissions/notifications.read_all", nil)
		env.refused(http.StatusNotFound, roster.ENotFound, svc, http.MethodDelete, "/v1/permissions/notifications.read_all", nil)
		env.refused(http.StatusConflict, roster.EConflict, svc, http.MethodDelete, "/v1/permissions/store.read", nil)
	})
}

// person2 logs in an existing user by address.
func (e *keysEnv) person2(addr string) person {
	e.t.Helper()
	res, err := e.App.Auth.Login(testenv.Ctx, roster.Anonymous("192.0.2.1", "test"), app.LoginInput{Email: addr, Password: testenv.Password})
	if err != nil {
		e.t.Fatal(err)
	}
	return person{token: res.Token, user: res.User, actor: e.actorOf(res.Token)}
}
