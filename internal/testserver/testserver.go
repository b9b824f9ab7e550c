// Package testserver runs Roster as serve wires it — the REST API, the console and the OpenID
// provider behind httpserver — on an httptest server whose URL is the base URL, over a fresh
// database: for the tests of the clients and applications that talk to it.
package testserver

import (
	"crypto/rand"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/oidc"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/switcher"
)

// Server is a running Roster and its test environment.
type Server struct {
	*testenv.Env
	URL string // the base URL: the issuer, and where links point
}

// Start starts Roster over a fresh database of engine e, with clock as the app's clock (the
// OpenID library stamps tokens with time.Now: give a clock that follows it), an encryption key,
// and configure applied to its configuration.
func Start(t testing.TB, e sqlstore.Engine, clock roster.Clock, configure ...func(*app.Config)) *Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + ts.Listener.Addr().String())
	cfg := testenv.Config()
	cfg.BaseURL = base
	cfg.EncryptionKey = make([]byte, app.EncryptionKeySize)
	_, _ = rand.Read(cfg.EncryptionKey)
	cfg.SSOAllowedHosts = []string{"127.0.0.1"} // the tests' identity providers run on this machine
	for _, f := range configure {
		f(&cfg)
	}
	u := testenv.MigratedURL(t, e)
	db := testenv.OpenDB(t, u)
	log := testenv.Logger(t)
	a := app.New(db, cfg, clock, log)
	mux := http.NewServeMux()
	api.Register(mux, a, api.Options{Log: log, Version: "test"})
	con := console.Mount(mux, a, console.Options{Log: log})
	if err := oidc.Register(mux, a, oidc.Options{Log: log, ErrorPage: con.OIDCErrorPage}); err != nil {
		t.Fatal(err)
	}
	scim.Register(mux, a, scim.Options{Log: log})
	switcher.Register(mux)
	ts.Config.Handler = httpserver.Wrap(mux, httpserver.Options{Log: log, Ready: a.Ready, Registry: prometheus.NewRegistry()})
	ts.Start()
	t.Cleanup(ts.Close)
	return &Server{Env: &testenv.Env{App: a, DB: db, Engine: e, URL: u}, URL: ts.URL}
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// Hidden returns the hidden fields of a console page's forms (the first value of each name):
// what a browser would send back with a form, its CSRF token included.
func Hidden(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		if v.Get(m[1]) == "" {
			v.Set(m[1], html.UnescapeString(m[2]))
		}
	}
	return v
}
