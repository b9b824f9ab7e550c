package oidc_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// rp runs the openid-client relying party (testdata/openid-client/rp.mjs) in one mode.
func rp(t *testing.T, node string, args []string, stdin any) map[string]any {
	t.Helper()
	cmd := exec.Command(node, append([]string{"rp.mjs"}, args...)...)
	cmd.Dir = "testdata/openid-client"
	if stdin != nil {
		b, _ := json.Marshal(stdin)
		cmd.Stdin = bytes.NewReader(b)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openid-client %s: %v\n%s", args[0], err, stderr.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("openid-client %s printed %q: %v", args[0], out, err)
	}
	return res
}

// TestCodeFlowWithOpenIDClient: the npm openid-client (v6, by panva, certified) signs a user
// in through Roster: discovery, the code flow with PKCE, state, nonce and the iss parameter
// checked by the library, userinfo, a rotating refresh, introspection and revocation — and the
// refused refreshes after revocation and on reuse.
func TestCodeFlowWithOpenIDClient(t *testing.T) {
	node := testenv.Node(t, "testdata/openid-client")
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		cast := s.acme(t, "Bea", true)
		bea, org, shop := cast.member, cast.org, cast.north

		const redirect = "http://127.0.0.1:9/callback"
		_, cfg := s.client(t, false, redirect)
		args := []string{s.URL, cfg.ClientID, cfg.ClientSecret, redirect}
		start := rp(t, node, append([]string{"authorize"}, args...), nil)
		authURL, _ := start["url"].(string)
		if !strings.HasPrefix(authURL, s.URL+"/oidc/authorize?") || !strings.Contains(authURL, "code_challenge_method=S256") {
			t.Fatalf("the authorization URL openid-client built from discovery: %q", authURL)
		}
		// One organization with one store: the chooser is skipped.
		back := newBrowser(t, redirect).signIn(s, authURL, bea.Email, nil)
		start["callback"] = back.String()
		res := rp(t, node, append([]string{"finish"}, args...), start)

		c, _ := res["claims"].(map[string]any)
		aud, _ := c["aud"].([]any)
		if c["sub"] != bea.ID || c["iss"] != s.URL || len(aud) == 0 || aud[0] != cfg.ClientID || c["azp"] != cfg.ClientID ||
			c["org_id"] != org.ID || c["store_id"] != shop.ID {
			t.Errorf("ID token claims as openid-client verified them: %v", c)
		}
		if ui, _ := res["userinfo"].(map[string]any); ui["sub"] != bea.ID || ui["email"] != bea.Email {
			t.Errorf("userinfo: %v", ui)
		}
		if rc, _ := res["refreshed_claims"].(map[string]any); rc["sub"] != bea.ID || rc["org_id"] != org.ID {
			t.Errorf("claims after a refresh: %v", rc)
		}
		if res["refresh_rotated"] != true {
			t.Error("the refresh token was not rotated")
		}
		if in, _ := res["introspection"].(map[string]any); in["active"] != true || in["sub"] != bea.ID {
			t.Errorf("introspection of a fresh access token: %v", in)
		}
		if res["revoked"] != true || res["refresh_after_revocation"] != "invalid_grant" {
			t.Errorf("refresh after revocation: %v", res["refresh_after_revocation"])
		}
		if res["reused_refresh"] != "invalid_grant" {
			t.Errorf("a rotated-away refresh token used again: %v", res["reused_refresh"])
		}
	})
}

// TestClientCredentialsWithOpenIDClient: openid-client's clientCredentialsGrant takes a token
// for a machine client from Roster's discovery document, and introspects it as active with
// its organization; a client not registered for the grant is refused with unauthorized_client.
func TestClientCredentialsWithOpenIDClient(t *testing.T) {
	node := testenv.Node(t, "testdata/openid-client")
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		owner, _ := s.User(t, "Olga")
		org := s.Org(t, owner, "Acme")
		cl, cc := s.machine(t, org.ID, roster.PermOrgSettingsRead, roster.PermStoreRead)

		res := rp(t, node, []string{"client_credentials", s.URL, cc.ClientID, cc.ClientSecret, "store.read"}, nil)
		tok, _ := res["access_token"].(string)
		if res["error"] != nil || tok == "" || !strings.EqualFold(res["token_type"].(string), "bearer") || res["scope"] != "store.read" {
			t.Fatalf("openid-client's client-credentials grant: %v", res)
		}
		if c := claims(t, tok); c["sub"] != cl.ID || c["org_id"] != org.ID {
			t.Errorf("claims: %v", c)
		}
		if in, _ := res["introspection"].(map[string]any); in["active"] != true || in["org_id"] != org.ID || in["sub"] != cl.ID {
			t.Errorf("introspection: %v", in)
		}

		_, web := s.client(t, false, "http://127.0.0.1:9/callback")
		if res := rp(t, node, []string{"client_credentials", s.URL, web.ClientID, web.ClientSecret}, nil); res["error"] != "unauthorized_client" {
			t.Errorf("a client not registered for the grant: %v", res)
		}
	})
}
