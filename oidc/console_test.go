package oidc_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// TestOperatorClientsPage: an operator registers an application in the console and sees
// its secret once; others do not see the page; the application can be deleted.
func TestOperatorClientsPage(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		opUser, _ := operatorOnly(t, s, "/operator/clients")
		b := newBrowser(t, redirectURI)
		b.login(s, opUser.Email)
		p := b.get(s.URL + "/operator/clients")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "No application is registered yet") {
			t.Fatalf("clients page: %d %.300s", p.Status, p.Body)
		}
		csrf := hidden(p.Body).Get("csrf")
		bad := b.post(s.URL+"/operator/clients", url.Values{"csrf": {csrf}, "name": {"Bad"}, "redirect_uris": {"http://app.example/cb"}})
		if bad.Status != http.StatusUnprocessableEntity {
			t.Fatalf("http redirect URI off loopback: %d", bad.Status)
		}
		bad = b.post(s.URL+"/operator/clients", url.Values{"csrf": {csrf}, "name": {"Bad"}, "redirect_uris": {"https://app.example/cb"}, "cors_origins": {"https://app.example/path"}})
		if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, `id="err-cors_origins"`) {
			t.Fatalf("a CORS origin with a path: %d", bad.Status)
		}
		p = b.post(s.URL+"/operator/clients", url.Values{"csrf": {csrf}, "name": {"Shop floor"}, "type": {"confidential"},
			"redirect_uris": {"https://shop.example/cb\r\nhttps://shop.example/cb2"}, "cors_origins": {"https://shop.example\r\nhttps://admin.shop.example"}})
		secret := regexp.MustCompile(`rcs_[A-Za-z0-9_-]{43}`).FindString(p.Body)
		id := regexp.MustCompile(`cli_[0-9a-z]{26}`).FindString(p.Body)
		if !strings.Contains(p.Body, `data-copy="client-secret"`) || !strings.Contains(p.Body, `id="client-secret">`+secret+"<") ||
			!strings.Contains(p.Body, `data-copy="client-id"`) {
			t.Error("the client ID and the secret shown once have no copy button")
		}
		if p.Status != http.StatusOK || secret == "" || id == "" {
			t.Fatalf("created: %d %.500s", p.Status, p.Body)
		}
		if n := s.count(t, "SELECT COUNT(*) FROM oidc_clients WHERE id = ? AND secret_hash = ? AND cors_origins = ?", id, token.Hash(secret), `["https://shop.example","https://admin.shop.example"]`); n != 1 {
			t.Fatal("the console's client is not stored with the hash of the secret shown")
		}
		if p := b.get(s.URL + "/operator/clients"); strings.Contains(p.Body, secret) || !strings.Contains(p.Body, "https://shop.example/cb2") || !strings.Contains(p.Body, "<code>https://admin.shop.example</code>") {
			t.Fatalf("listed: %.300s", p.Body)
		}

		// A machine client with RS256: a refusal re-renders what was submitted, each error next
		// to its field; then it is registered.
		owner, _ := s.User(t, "Olga")
		org := s.Org(t, owner, "Acme")
		machine := url.Values{"csrf": {csrf}, "name": {"Nightly sync"}, "type": {"machine"}, "signing_alg": {"RS256"},
			"organization_id": {"org_01J00000000000000000000000"}, "permissions": {"org.settings.read", "store.read"}}
		bad = b.post(s.URL+"/operator/clients", machine)
		if bad.Status != http.StatusNotFound || !strings.Contains(bad.Body, `id="err-organization_id"`) ||
			!strings.Contains(bad.Body, `value="org_01J00000000000000000000000"`) || !strings.Contains(bad.Body, `<option value="RS256" selected>`) ||
			!regexp.MustCompile(`value="store.read" checked`).MatchString(bad.Body) || regexp.MustCompile(`value="org.read" checked`).MatchString(bad.Body) ||
			!strings.Contains(bad.Body, `value="machine" checked`) {
			t.Errorf("an unknown organization: %d %.3000s", bad.Status, bad.Body)
		}
		machine.Set("organization_id", org.ID)
		machine.Set("redirect_uris", "https://shop.example/cb")
		machine["permissions"] = nil
		bad = b.post(s.URL+"/operator/clients", machine)
		if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, `id="err-permissions"`) || !strings.Contains(bad.Body, `id="err-redirect_uris"`) {
			t.Errorf("no permission, a redirect URI: %d %.3000s", bad.Status, bad.Body)
		}
		machine.Del("redirect_uris")
		machine["permissions"] = []string{"org.settings.read", "store.read"}
		p = b.post(s.URL+"/operator/clients", machine)
		mid := regexp.MustCompile(`cli_[0-9a-z]{26}`).FindString(p.Body)
		cl, err := s.App.Clients.ByID(testenv.Ctx, mid)
		if p.Status != http.StatusOK || err != nil || cl.OrgID != org.ID || cl.SigningAlg != "RS256" || len(cl.Permissions) != 2 || !strings.Contains(p.Body, "rcs_") {
			t.Fatalf("machine client: %d %+v %v", p.Status, cl, err)
		}
		if p := b.post(s.URL+"/operator/clients/"+id+"/delete", url.Values{"csrf": {csrf}}); p.Status != http.StatusOK || p.URL.Path != "/operator/clients" || strings.Contains(p.Body, id) {
			t.Fatalf("deleted: %d %s", p.Status, p.URL)
		}
	})
}

// TestOperatorSigningKeysPage: an operator lists the signing keys with their state and
// rotates them from the console, after a confirmation, as roster keys rotate does; others see
// no page, and a post without the form token rotates nothing.
func TestOperatorSigningKeysPage(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		opUser, nobody := operatorOnly(t, s, "/operator/keys")
		csrf := hidden(nobody.get(s.URL + "/").Body).Get("csrf")
		if p := nobody.post(s.URL+"/operator/keys/rotate", url.Values{"csrf": {csrf}}); p.Status != http.StatusNotFound {
			t.Fatalf("a user rotated the keys: %d", p.Status)
		}
		b := newBrowser(t, redirectURI)
		b.login(s, opUser.Email)
		p := b.get(s.URL + "/operator/keys")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "No signing key yet") {
			t.Fatalf("keys page before any key: %d %.300s", p.Status, p.Body)
		}
		first, err := s.App.SigningKeys.Current(testenv.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		p = b.get(s.URL + "/operator/keys")
		if !strings.Contains(p.Body, `data-kid="`+first.ID+`" data-state="active"`) || !strings.Contains(p.Body, "ES256") {
			t.Fatalf("the signing key is not listed as active: %.2000s", p.Body)
		}
		p = b.get(s.URL + "/operator/keys?rotate=1")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `data-testid="confirm-rotate"`) || !strings.Contains(p.Body, "Rotate the signing keys now?") {
			t.Fatalf("no confirmation: %d %.2000s", p.Status, p.Body)
		}
		csrf = hidden(p.Body).Get("csrf")
		if p := b.post(s.URL+"/operator/keys/rotate", url.Values{}); p.Status != http.StatusForbidden {
			t.Fatalf("a rotation without the form token: %d", p.Status)
		}
		if k, err := s.App.SigningKeys.Current(testenv.Ctx); err != nil || k.ID != first.ID {
			t.Fatalf("asking or a refused post rotated the keys: %v %s", err, k.ID)
		}
		p = b.post(s.URL+"/operator/keys/rotate", url.Values{"csrf": {csrf}})
		next, err := s.App.SigningKeys.Current(testenv.Ctx)
		if err != nil || next.ID == first.ID {
			t.Fatalf("not rotated: %v", err)
		}
		if p.Status != http.StatusOK || p.URL.Path != "/operator/keys" || p.URL.Query().Get("ok") != "keys_rotated" ||
			!strings.Contains(p.Body, "A new signing key signs from now on") ||
			!strings.Contains(p.Body, `data-kid="`+next.ID+`" data-state="active"`) || !strings.Contains(p.Body, `data-kid="`+first.ID+`" data-state="retiring"`) {
			t.Fatalf("after the rotation: %d %s %.3000s", p.Status, p.URL, p.Body)
		}
		if n := s.count(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'oidc.keys_rotated' AND actor_id = ?", opUser.ID); n != 1 {
			t.Fatalf("%d rotations audited for the operator", n)
		}
	})
}

// operatorOnly makes an operator (returned) and a plain user, whose browser (returned,
// signed in) gets 404 for an operator page.
func operatorOnly(t *testing.T, s *server, page string) (roster.User, *browser) {
	t.Helper()
	_, plain := s.User(t, "Pat")
	_, opUser := s.User(t, "Ops")
	if _, _, err := s.App.Operator.CreateOperator(testenv.Ctx, roster.System(), opUser.Email, ""); err != nil {
		t.Fatal(err)
	}
	nobody := newBrowser(t, redirectURI)
	nobody.login(s, plain.Email)
	if p := nobody.get(s.URL + page); p.Status != http.StatusNotFound {
		t.Fatalf("a user sees %s: %d", page, p.Status)
	}
	return opUser, nobody
}

// TestOperatorEditsAClient: an operator opens an application from the list, finds its
// registration in the form, moves it to another redirect URI with a logout URI and shorter
// tokens, is told in the form when a URI is a wildcard (what was typed kept), and gives it a
// new secret, shown once, the old one refused from then on. Users do not see the page.
func TestOperatorEditsAClient(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		cl, cfg := s.client(t, false, redirectURI)
		opUser, nobody := operatorOnly(t, s, "/operator/clients/"+cl.ID)
		if p := nobody.post(s.URL+"/operator/clients/"+cl.ID+"/secret", url.Values{}); p.Status == http.StatusOK {
			t.Fatalf("a user rotated a secret: %d", p.Status)
		}
		b := newBrowser(t, redirectURI)
		b.login(s, opUser.Email)
		list := b.get(s.URL + "/operator/clients")
		if !strings.Contains(list.Body, `href="/operator/clients/`+cl.ID+`"`) {
			t.Fatal("the list has no link to edit the application")
		}
		p := b.get(s.URL + "/operator/clients/" + cl.ID)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `value="Shop floor"`) || !strings.Contains(p.Body, redirectURI+"</textarea>") ||
			!strings.Contains(p.Body, `name="first_party" value="1" checked`) || !strings.Contains(p.Body, `value="300"`) {
			t.Fatalf("edit page: %d %.2000s", p.Status, p.Body)
		}
		form := hidden(p.Body)
		form.Set("name", "Shop floor")
		form.Set("first_party", "1")
		form.Set("redirect_uris", "https://*.shop.example/cb")
		bad := b.post(s.URL+"/operator/clients/"+cl.ID, form)
		if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, `id="err-redirect_uris"`) || !strings.Contains(bad.Body, "https://*.shop.example/cb</textarea>") {
			t.Fatalf("a wildcard redirect URI: %d %.2000s", bad.Status, bad.Body)
		}
		form.Set("redirect_uris", "https://shop.example/cb\r\nhttps://shop.example/cb2")
		form.Set("post_logout_redirect_uris", "https://shop.example/bye")
		form.Set("backchannel_logout_uri", "https://shop.example/logout")
		form.Set("access_token_ttl", "120")
		form["scopes"] = []string{"openid", "email"}
		saved := b.post(s.URL+"/operator/clients/"+cl.ID, form)
		if saved.Status != http.StatusOK || saved.URL.Path != "/operator/clients" || !strings.Contains(saved.Body, "The application is saved.") {
			t.Fatalf("saved: %d %s %.500s", saved.Status, saved.URL, saved.Body)
		}
		got, err := s.App.Clients.ByID(testenv.Ctx, cl.ID)
		if err != nil || len(got.RedirectURIs) != 2 || got.BackChannelLogoutURI != "https://shop.example/logout" || got.AccessTokenTTL.Seconds() != 120 ||
			strings.Join(got.Scopes, " ") != "openid email" || len(got.PostLogoutRedirectURIs) != 1 || !got.FirstParty {
			t.Fatalf("stored: %+v %v", got, err)
		}
		// A new secret, shown once; the stored hash is the new one's.
		p = b.get(s.URL + "/operator/clients/" + cl.ID)
		rotated := b.post(s.URL+"/operator/clients/"+cl.ID+"/secret", url.Values{"csrf": {hidden(p.Body).Get("csrf")}})
		secret := regexp.MustCompile(`rcs_[A-Za-z0-9_-]{43}`).FindString(rotated.Body)
		if rotated.Status != http.StatusOK || secret == "" || secret == cfg.ClientSecret || !strings.Contains(rotated.Body, `data-copy="client-secret"`) {
			t.Fatalf("new secret: %d %.500s", rotated.Status, rotated.Body)
		}
		if n := s.count(t, "SELECT COUNT(*) FROM oidc_clients WHERE id = ? AND secret_hash = ?", cl.ID, token.Hash(secret)); n != 1 {
			t.Fatal("the new secret is not the one stored")
		}
		if p := b.get(s.URL + "/operator/clients/" + cl.ID); strings.Contains(p.Body, secret) {
			t.Fatal("the secret is shown again")
		}
	})
}
