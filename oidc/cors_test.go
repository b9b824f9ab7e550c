package oidc_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestCORSOrigins: pages on an origin registered for a client may call the switcher's /v1
// reads and the OpenID endpoints a browser uses, preflight included, with a bearer token and
// no credentials mode; a page on any other origin gets no CORS header at all (its browser
// keeps the answer from it); a client's OpenID endpoints answer only its own origins; an
// origin counts as soon as its client is registered, and no more once it is deleted.
func TestCORSOrigins(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newServer(t, e)
		gus := s.acme(t, "Gus", false).member
		const redirect = "http://127.0.0.1:9/callback"
		const shop, evil, other = "https://shop.example", "https://evil.example", "http://127.0.0.1:7000"

		// Validation: exact origins only, normalized as browsers send them.
		for _, bad := range []string{"https://shop.example/", "https://shop.example/app", "shop.example", "https://*.example", "null",
			"http://shop.example", "ftp://shop.example", "https://user@shop.example", "https://shop.example?x", "https://shöp.example"} {
			_, _, err := s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Bad", RedirectURIs: []string{redirect}, CORSOrigins: []string{bad}})
			if roster.ErrorCode(err) != roster.EInvalid {
				t.Errorf("origin %q: %v, want invalid", bad, err)
			}
		}
		cl, secret, err := s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Shop", Public: false, FirstParty: true,
			RedirectURIs: []string{redirect}, CORSOrigins: []string{"HTTPS://Shop.Example:443", shop}})
		if err != nil {
			t.Fatal(err)
		}
		if len(cl.CORSOrigins) != 1 || cl.CORSOrigins[0] != shop {
			t.Fatalf("origins stored as %q", cl.CORSOrigins)
		}
		// Another client, whose origin the shop's OpenID endpoints do not answer.
		otherCl, _, err := s.App.Clients.Create(testenv.Ctx, roster.System(), app.ClientInput{Name: "Other", Public: true,
			RedirectURIs: []string{redirect}, CORSOrigins: []string{other}})
		if err != nil {
			t.Fatal(err)
		}
		_, cfg := s.client(t, false, redirect)
		cfg.ClientID, cfg.ClientSecret = cl.ID, secret
		tok := codeFlow(t, s, cfg, redirect, gus.Email)

		type answer struct {
			status int
			h      http.Header
			body   string
		}
		send := func(method, path, origin string, h map[string]string, body string) answer {
			t.Helper()
			req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
			req.Header.Set("Origin", origin)
			for k, v := range h {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return answer{res.StatusCode, res.Header, string(b)}
		}
		preflight := func(path, origin, method, headers string) answer {
			return send(http.MethodOptions, path, origin, map[string]string{"Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}, "")
		}
		allowed := func(what string, a answer, origin string) {
			t.Helper()
			if a.h.Get("Access-Control-Allow-Origin") != origin || a.h.Get("Access-Control-Allow-Credentials") != "" || !strings.Contains(strings.Join(a.h.Values("Vary"), ","), "Origin") {
				t.Errorf("%s from %s: %d, headers %v", what, origin, a.status, a.h)
			}
		}
		refused := func(what string, a answer) {
			t.Helper()
			for k := range a.h {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s from a page on another origin: %s: %q (status %d)", what, k, a.h.Get(k), a.status)
				}
			}
		}
		bearer := map[string]string{"Authorization": "Bearer " + tok.AccessToken}

		// /v1: the switcher's read, from any client's origin.
		for _, origin := range []string{shop, other} {
			p := preflight("/v1/me/organizations", origin, "GET", "authorization")
			allowed("preflight of /v1/me/organizations", p, origin)
			if p.status != http.StatusNoContent || !strings.Contains(strings.ToLower(p.h.Get("Access-Control-Allow-Headers")), "authorization") || !strings.Contains(p.h.Get("Access-Control-Allow-Methods"), "GET") {
				t.Errorf("preflight: %d %v", p.status, p.h)
			}
			a := send(http.MethodGet, "/v1/me/organizations", origin, bearer, "")
			allowed("GET /v1/me/organizations", a, origin)
			if a.status != http.StatusOK || !strings.Contains(a.body, "Acme") {
				t.Errorf("GET /v1/me/organizations: %d %s", a.status, a.body)
			}
		}
		// A refused token's answer is readable too: the page says why.
		a := send(http.MethodGet, "/v1/me/organizations", shop, map[string]string{"Authorization": "Bearer nonsense"}, "")
		allowed("401 of /v1/me/organizations", a, shop)
		if a.status != http.StatusUnauthorized || !strings.Contains(a.h.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
			t.Errorf("bad token: %d %v", a.status, a.h)
		}
		refused("preflight of /v1/me/organizations", preflight("/v1/me/organizations", evil, "GET", "authorization"))
		a = send(http.MethodGet, "/v1/me/organizations", evil, bearer, "")
		refused("GET /v1/me/organizations", a)
		// Other /v1 operations are not for pages on other origins, and a preflight asking
		// for a header the API does not read fails.
		refused("GET /v1/organizations", send(http.MethodGet, "/v1/organizations", shop, bearer, ""))
		refused("preflight with an unknown header", preflight("/v1/me/organizations", shop, "GET", "authorization, x-secret"))
		refused("preflight of DELETE", preflight("/v1/me/organizations", shop, "DELETE", ""))
		if a := send(http.MethodOptions, "/v1/me/organizations", "", nil, ""); a.status != http.StatusMethodNotAllowed || !strings.Contains(a.body, "method_not_allowed") {
			t.Errorf("a plain OPTIONS: %d %s", a.status, a.body)
		}

		// The OpenID endpoints: the client's own origins.
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		allowed("preflight of the token endpoint", preflight("/oidc/token", shop, "POST", "content-type"), shop)
		refused("preflight of the token endpoint", preflight("/oidc/token", evil, "POST", "content-type"))
		refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {cl.ID}, "client_secret": {secret}}.Encode()
		// (The server answers either way: CORS decides whether the page may read the answer.)
		bogus := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nonsense"}, "client_id": {cl.ID}, "client_secret": {secret}}.Encode()
		refused("a token request naming the shop", send(http.MethodPost, "/oidc/token", other, form, bogus))
		a = send(http.MethodPost, "/oidc/token", shop, form, refresh)
		allowed("a token request", a, shop)
		if a.status != http.StatusOK || !strings.Contains(a.body, "access_token") {
			t.Fatalf("refresh from the page: %d %s", a.status, a.body)
		}
		// Basic authentication names the client too.
		basic := func(o string) answer {
			req := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic " + basicAuth(url.QueryEscape(cl.ID), url.QueryEscape(secret))}
			return send(http.MethodPost, "/oidc/introspect", o, req, url.Values{"token": {tok.AccessToken}}.Encode())
		}
		allowed("introspection", basic(shop), shop)
		refused("introspection", basic(other))
		allowed("preflight of userinfo", preflight("/oidc/userinfo", shop, "GET", "authorization"), shop)
		allowed("userinfo", send(http.MethodGet, "/oidc/userinfo", shop, bearer, ""), shop)
		refused("userinfo", send(http.MethodGet, "/oidc/userinfo", evil, bearer, ""))
		allowed("discovery", send(http.MethodGet, "/.well-known/openid-configuration", shop, nil, ""), shop)
		refused("discovery", send(http.MethodGet, "/.well-known/openid-configuration", evil, nil, ""))
		// The library's own policy, which let every origin in with credentials, is off.
		refused("the authorization endpoint", send(http.MethodGet, "/oidc/authorize?client_id="+cl.ID, shop, nil, ""))
		refused("the revocation endpoint's preflight", preflight("/oidc/revoke", evil, "POST", "content-type"))

		// Deleting a client takes its origins away at once.
		if err := s.App.Clients.Delete(testenv.Ctx, roster.System(), otherCl.ID); err != nil {
			t.Fatal(err)
		}
		refused("after the client's deletion", preflight("/v1/me/organizations", other, "GET", "authorization"))
	})
}

func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
