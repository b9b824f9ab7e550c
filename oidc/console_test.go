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
		_, plain := s.User(t, "Pat")
		_, opUser := s.User(t, "Ops")
		if _, _, err := s.App.CreateOperator(testenv.Ctx, roster.System(), opUser.Email, ""); err != nil {
			t.Fatal(err)
		}
		nobody := newBrowser(t, redirectURI)
		nobody.login(s, plain.Email)
		if p := nobody.get(s.URL + "/operator/clients"); p.Status != http.StatusNotFound {
			t.Fatalf("a user sees the clients page: %d", p.Status)
		}
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
		if p := b.get(s.URL + "/operator/clients"); strings.Contains(p.Body, secret) || !strings.Contains(p.Body, "https://shop.example/cb2") {
			t.Fatalf("listed: %.300s", p.Body)
		}
		if p := b.post(s.URL+"/operator/clients/"+id+"/delete", url.Values{"csrf": {csrf}}); p.Status != http.StatusOK || p.URL.Path != "/operator/clients" || strings.Contains(p.Body, id) {
			t.Fatalf("deleted: %d %s", p.Status, p.URL)
		}
	})
}
