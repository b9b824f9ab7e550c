package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// TestClientsAPI: operators register applications through /v1/clients; the secret is shown
// once and stored hashed; bad input is a problem with a stable code; others are refused.
func TestClientsAPI(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		member := env.person("Member")
		op := env.person("Operator")
		if _, _, err := env.App.Operator.CreateOperator(testenv.Ctx, roster.System(), op.user.Email, ""); err != nil {
			t.Fatal(err)
		}
		op = env.person2(op.user.Email)
		body := map[string]any{"name": "Shop floor", "redirect_uris": []string{"https://shop.example/callback"}, "scopes": []string{"openid", "organization"}}

		env.refused(http.StatusUnauthorized, roster.EUnauthenticated, "", http.MethodPost, "/v1/clients", body)
		env.refused(http.StatusForbidden, roster.EForbidden, member.token, http.MethodPost, "/v1/clients", body)
		env.refused(http.StatusForbidden, roster.EForbidden, member.token, http.MethodGet, "/v1/clients", nil)

		r := env.must(http.StatusCreated, op.token, http.MethodPost, "/v1/clients", body)
		id, secret := r.str("id"), r.str("secret")
		if !strings.HasPrefix(id, "cli_") || !strings.HasPrefix(secret, "rcs_") || len(secret) < 4+43 || r.str("type") != "confidential" || r.body["access_token_ttl"] != float64(300) {
			t.Fatalf("created: %s", r.raw)
		}
		if n := env.Int(t, "SELECT COUNT(*) FROM oidc_clients WHERE id = ? AND secret_hash = ?", id, token.Hash(secret)); n != 1 {
			t.Fatal("the secret is not stored as its hash")
		}
		if n := env.Int(t, "SELECT COUNT(*) FROM oidc_clients WHERE secret_hash = ?", secret); n != 0 {
			t.Fatal("the secret is stored in clear")
		}
		if got := env.must(http.StatusOK, op.token, http.MethodGet, "/v1/clients/"+id, nil); got.str("secret") != "" || got.str("name") != "Shop floor" {
			t.Fatalf("shown: %s", got.raw)
		}
		if list := env.must(http.StatusOK, op.token, http.MethodGet, "/v1/clients", nil).list("clients"); len(list) != 1 {
			t.Fatalf("listed: %v", list)
		}
		pub := env.must(http.StatusCreated, op.token, http.MethodPost, "/v1/clients", map[string]any{"name": "SPA", "type": "public", "redirect_uris": []string{"http://localhost:5173/cb"}})
		if pub.str("secret") != "" || pub.str("type") != "public" {
			t.Fatalf("public client: %s", pub.raw)
		}

		// A machine client: bound to an organization, with permissions, the client-credentials grant only.
		org := env.Org(t, member.actor, "Acme")
		m := env.must(http.StatusCreated, op.token, http.MethodPost, "/v1/clients", map[string]any{"name": "Sync", "organization_id": org.ID,
			"permissions": []string{"store.read", "org.settings.read", "store.read"}})
		if m.str("organization_id") != org.ID || m.str("secret") == "" || fmt.Sprint(m.body["permissions"]) != "[org.settings.read store.read]" ||
			fmt.Sprint(m.body["grant_types"]) != "[client_credentials]" || fmt.Sprint(m.body["redirect_uris"]) != "[]" {
			t.Fatalf("machine client: %s", m.raw)
		}
		for name, bad := range map[string]map[string]any{
			"no redirect uri":         {"name": "X"},
			"machine, public":         {"name": "X", "type": "public", "organization_id": org.ID, "permissions": []string{"org.read"}},
			"machine, no permission":  {"name": "X", "organization_id": org.ID},
			"machine, owner's":        {"name": "X", "organization_id": org.ID, "permissions": []string{"org.delete"}},
			"machine, unknown":        {"name": "X", "organization_id": org.ID, "permissions": []string{"nope.none"}},
			"machine, bad org":        {"name": "X", "organization_id": "org_x", "permissions": []string{"org.read"}},
			"machine, redirect":       {"name": "X", "organization_id": org.ID, "permissions": []string{"org.read"}, "redirect_uris": []string{"https://a.example/cb"}},
			"permissions without org": {"name": "X", "permissions": []string{"org.read"}},
			"http redirect":           {"name": "X", "redirect_uris": []string{"http://shop.example/cb"}},
			"fragment":                {"name": "X", "redirect_uris": []string{"https://shop.example/cb#x"}},
			"relative":                {"name": "X", "redirect_uris": []string{"/cb"}},
			"custom scheme":           {"name": "X", "redirect_uris": []string{"javascript://x/%0aalert(1)"}},
			"unknown scope":           {"name": "X", "redirect_uris": []string{"https://a.example/cb"}, "scopes": []string{"openid", "admin"}},
			"no openid":               {"name": "X", "redirect_uris": []string{"https://a.example/cb"}, "scopes": []string{"organization"}},
			"short access TTL":        {"name": "X", "redirect_uris": []string{"https://a.example/cb"}, "access_token_ttl": 5},
			"no name":                 {"name": "", "redirect_uris": []string{"https://a.example/cb"}},
		} {
			if r := env.call(op.token, http.MethodPost, "/v1/clients", bad); r.status/100 != 4 || r.status == http.StatusForbidden || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s: %d %s", name, r.status, r.raw)
			}
		}
		env.refused(http.StatusNotFound, roster.ENotFound, op.token, http.MethodGet, "/v1/clients/nope", nil)
		env.must(http.StatusNoContent, op.token, http.MethodDelete, "/v1/clients/"+id, nil)
		env.refused(http.StatusNotFound, roster.ENotFound, op.token, http.MethodGet, "/v1/clients/"+id, nil)
	})
}
