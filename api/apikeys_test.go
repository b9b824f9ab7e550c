package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

func TestAPIKeyLifecycle(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner, admin, member := env.person("Olivia"), env.person("Adam"), env.person("Marc")
		org := env.Org(t, owner.actor, "Acme")
		s1, s2 := env.Store(t, owner.actor, org.ID, "One"), env.Store(t, owner.actor, org.ID, "Two")
		env.Join(t, owner.actor, org.ID, admin.user, roster.OrgAdmin)
		env.Join(t, owner.actor, org.ID, member.user, roster.OrgMember, app.StoreGrantInput{StoreID: s1.ID, RoleID: roster.StoreRoleViewer})
		keys := "/v1/organizations/" + org.ID + "/api-keys"

		// A key limited to one store, as a viewer.
		r := env.must(http.StatusCreated, owner.token, http.MethodPost, keys, map[string]any{"name": "Zendesk", "store_id": s1.ID, "role_id": "viewer", "password": testenv.Password})
		keyID, secret := r.str("id"), r.str("secret")
		if !strings.HasPrefix(secret, "rk_"+strings.TrimPrefix(keyID, "key_")+"_") || len(secret) < 3+26+1+43 {
			t.Fatalf("key format: %q for %s", secret, keyID)
		}
		if r.str("organization_role") != "member" || r.str("status") != "active" || r.str("owner_id") != owner.user.ID {
			t.Fatalf("key: %s", r.raw)
		}
		// Listed and read without the secret.
		list := env.must(http.StatusOK, owner.token, http.MethodGet, keys, nil)
		if strings.Contains(string(list.raw), secret[20:]) || len(list.list("api_keys")) != 1 {
			t.Fatalf("listing: %s", list.raw)
		}

		// The key works in its store only, read-only, never outside its organization.
		env.must(http.StatusOK, secret, http.MethodGet, "/v1/stores/"+s1.ID+"?token=should-not-be-logged", nil)
		env.refused(http.StatusNotFound, roster.ENotFound, secret, http.MethodGet, "/v1/stores/"+s2.ID, nil)
		env.refused(http.StatusForbidden, roster.EForbidden, secret, http.MethodPatch, "/v1/stores/"+s1.ID, map[string]any{"name": "X"})
		env.refused(http.StatusForbidden, roster.EForbidden, secret, http.MethodGet, "/v1/organizations/"+org.ID+"/members", nil)
		env.refused(http.StatusForbidden, roster.EForbidden, secret, http.MethodGet, "/v1/me", nil)
		env.must(http.StatusOK, secret, http.MethodGet, "/v1/organizations/"+org.ID+"/usage", nil)
		other := env.person("Otto")
		otherOrg := env.Org(t, other.actor, "Other")
		env.refused(http.StatusNotFound, roster.ENotFound, secret, http.MethodGet, "/v1/organizations/"+otherOrg.ID, nil)
		// Step-up operations refuse keys.
		env.refused(http.StatusForbidden, roster.EForbidden, secret, http.MethodPost, keys, map[string]any{"name": "K", "store_id": s1.ID, "role_id": "viewer", "password": testenv.Password})

		// The request log: path without query string, status; last use recorded.
		r = env.must(http.StatusOK, owner.token, http.MethodGet, keys+"/"+keyID+"/requests?limit=2", nil)
		reqs := r.list("requests")
		if len(reqs) != 2 || r.str("next_cursor") == "" {
			t.Fatalf("request log page: %s", r.raw)
		}
		last := reqs[0].(map[string]any)
		if last["method"] != "POST" || last["status"].(float64) != 403 {
			t.Fatalf("newest request: %v", last)
		}
		all := env.must(http.StatusOK, owner.token, http.MethodGet, keys+"/"+keyID+"/requests?limit=200", nil).list("requests")
		if len(all) != 8 {
			t.Fatalf("logged %d requests, want 8", len(all))
		}
		first := all[len(all)-1].(map[string]any)
		if first["path"] != "/v1/stores/"+s1.ID || first["status"].(float64) != 200 || first["ip"] == "" {
			t.Fatalf("oldest request: %v", first)
		}
		r = env.must(http.StatusOK, owner.token, http.MethodGet, keys+"/"+keyID+"/requests?limit=2&cursor="+r.str("next_cursor"), nil)
		if len(r.list("requests")) != 2 || r.list("requests")[0].(map[string]any)["id"] == reqs[0].(map[string]any)["id"] {
			t.Fatalf("second page: %s", r.raw)
		}
		if env.must(http.StatusOK, owner.token, http.MethodGet, keys+"/"+keyID, nil).str("last_used_at") == "" {
			t.Fatal("last use not recorded")
		}
		// A plain member sees no key but their own and cannot read the log.
		if n := len(env.must(http.StatusOK, member.token, http.MethodGet, keys, nil).list("api_keys")); n != 0 {
			t.Fatalf("member sees %d keys", n)
		}
		env.refused(http.StatusNotFound, roster.ENotFound, member.token, http.MethodGet, keys+"/"+keyID+"/requests", nil)
		env.refused(http.StatusForbidden, roster.EForbidden, member.token, http.MethodPost, keys, map[string]any{"name": "K", "store_id": s1.ID, "role_id": "viewer"})

		// Revocation stops the key at once.
		env.must(http.StatusNoContent, owner.token, http.MethodDelete, keys+"/"+keyID, nil)
		env.refused(http.StatusUnauthorized, roster.EUnauthenticated, secret, http.MethodGet, "/v1/stores/"+s1.ID, nil)
		env.refused(http.StatusConflict, roster.EConflict, owner.token, http.MethodDelete, keys+"/"+keyID, nil)
		if env.must(http.StatusOK, owner.token, http.MethodGet, keys+"/"+keyID, nil).str("status") != "revoked" {
			t.Fatal("revoked key not listed as revoked")
		}

		// Expiry stops the key when its time comes.
		_, expiring := env.createKey(owner.token, map[string]any{"org": org.ID, "name": "Temp", "role_id": "viewer", "expires_at": env.Clock.Now().Add(time.Hour)})
		env.must(http.StatusOK, expiring, http.MethodGet, "/v1/stores/"+s2.ID, nil)
		env.Clock.Advance(2 * time.Hour)
		env.refused(http.StatusUnauthorized, roster.EUnauthenticated, expiring, http.MethodGet, "/v1/stores/"+s2.ID, nil)
		env.refused(http.StatusUnprocessableEntity, roster.EInvalid, owner.token, http.MethodPost, keys,
			map[string]any{"name": "Past", "role_id": "viewer", "expires_at": env.Clock.Now().Add(-time.Minute), "password": testenv.Password})

		// Step-up: hours after the login a key needs the password, and a wrong one counts as a failed login.
		env.refused(http.StatusUnauthorized, roster.EReauthRequired, admin.token, http.MethodPost, keys, map[string]any{"name": "K", "role_id": "admin"})
		env.refused(http.StatusUnauthorized, roster.EInvalidCredentials, admin.token, http.MethodPost, keys, map[string]any{"name": "K", "role_id": "admin", "password": "wrong password entirely"})
		adminKeyID, adminKey := env.createKey(admin.token, map[string]any{"org": org.ID, "name": "Admin tool", "role_id": "admin", "organization_role": "admin", "password": testenv.Password})
		env.must(http.StatusOK, adminKey, http.MethodGet, "/v1/organizations/"+org.ID+"/members", nil)
		env.must(http.StatusOK, adminKey, http.MethodPatch, "/v1/stores/"+s2.ID, map[string]any{"name": "Two bis"})
		// An admin key never does what only the owner does, even when the owner made it.
		_, ownerAdminKey := env.createKey(owner.token, map[string]any{"org": org.ID, "name": "Owner's", "role_id": "admin", "organization_role": "admin", "password": testenv.Password})
		env.refused(http.StatusForbidden, roster.EForbidden, ownerAdminKey, http.MethodPatch, "/v1/organizations/"+org.ID, map[string]any{"name": "Hijack"})
		env.refused(http.StatusForbidden, roster.EForbidden, ownerAdminKey, http.MethodPost, "/v1/organizations/"+org.ID+"/stores", map[string]any{"name": "Three"})
		env.refused(http.StatusForbidden, "", ownerAdminKey, http.MethodPost, "/v1/organizations/"+org.ID+"/transfer-ownership", map[string]any{"user_id": admin.user.ID, "password": testenv.Password})

		// Clone for a member: same scope, new secret, owned by them; refused when they lack a permission.
		env.refused(http.StatusForbidden, roster.ERoleEscalation, admin.token, http.MethodPost, keys+"/"+adminKeyID+"/clone",
			map[string]any{"user_id": member.user.ID, "password": testenv.Password})
		viewerKeyID, _ := env.createKey(admin.token, map[string]any{"org": org.ID, "name": "Reader", "store_id": s1.ID, "role_id": "viewer", "password": testenv.Password})
		r = env.must(http.StatusCreated, admin.token, http.MethodPost, keys+"/"+viewerKeyID+"/clone", map[string]any{"user_id": member.user.ID, "password": testenv.Password})
		cloneID, clone := r.str("id"), r.str("secret")
		if r.str("owner_id") != member.user.ID || r.str("store_id") != s1.ID || r.str("role_id") != "viewer" || r.str("name") != "Reader" || cloneID == viewerKeyID {
			t.Fatalf("clone: %s", r.raw)
		}
		env.must(http.StatusOK, clone, http.MethodGet, "/v1/stores/"+s1.ID, nil)
		// The member sees their own key now, and may revoke it; not others'.
		if n := len(env.must(http.StatusOK, member.token, http.MethodGet, keys, nil).list("api_keys")); n != 1 {
			t.Fatalf("member sees %d keys, want their own", n)
		}

		// A suspended owner's keys stop, and work again on reactivation; a removed owner's keys are gone.
		env.must(http.StatusOK, owner.token, http.MethodPatch, "/v1/organizations/"+org.ID+"/members/"+member.user.ID, map[string]any{"status": "suspended"})
		env.refused(http.StatusUnauthorized, roster.EUnauthenticated, clone, http.MethodGet, "/v1/stores/"+s1.ID, nil)
		env.must(http.StatusOK, owner.token, http.MethodPatch, "/v1/organizations/"+org.ID+"/members/"+member.user.ID, map[string]any{"status": "active"})
		env.must(http.StatusOK, clone, http.MethodGet, "/v1/stores/"+s1.ID, nil)
		env.must(http.StatusNoContent, owner.token, http.MethodDelete, "/v1/organizations/"+org.ID+"/members/"+member.user.ID, nil)
		env.refused(http.StatusUnauthorized, roster.EUnauthenticated, clone, http.MethodGet, "/v1/stores/"+s1.ID, nil)
		env.refused(http.StatusNotFound, roster.ENotFound, owner.token, http.MethodGet, keys+"/"+cloneID, nil)
		env.must(http.StatusOK, adminKey, http.MethodGet, "/v1/stores/"+s1.ID, nil) // the original still works

		// A deactivated owner's keys are revoked (two: "Admin tool" and "Reader").
		if _, err := env.App.Operator.DeactivateUser(testenv.Ctx, roster.System(), admin.user.ID); err != nil {
			t.Fatal(err)
		}
		env.refused(http.StatusUnauthorized, roster.EUnauthenticated, adminKey, http.MethodGet, "/v1/stores/"+s1.ID, nil)

		// Forged and malformed keys.
		forged := secret[:len(secret)-4] + "AAAA"
		env.refused(http.StatusUnauthorized, roster.EUnauthenticated, forged, http.MethodGet, "/v1/stores/"+s1.ID, nil)
		env.refused(http.StatusUnauthorized, roster.EUnauthenticated, "rk_nonsense", http.MethodGet, "/v1/stores/"+s1.ID, nil)

		// Every change is in the audit log, with the key as actor for what it did.
		events, err := env.App.Audit.List(testenv.Ctx, owner.actor, org.ID, app.AuditFilter{Action: "api_key."})
		if err != nil || len(events.Items) != 9 {
			t.Fatalf("api key events: %v %d", err, len(events.Items))
		}
		events, err = env.App.Audit.List(testenv.Ctx, owner.actor, org.ID, app.AuditFilter{Action: "store.updated"})
		if err != nil || len(events.Items) != 1 || events.Items[0].ActorKind != roster.ActorAPIKey || events.Items[0].ActorID != adminKeyID {
			t.Fatalf("store update by key: %v %+v", err, events.Items)
		}
	})
}
