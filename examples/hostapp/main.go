// Command hostapp is a small host application that signs its users in with Roster: it shows
// the active organization and store and the permissions the tokens carry, switches
// organization or store without a new sign-in (with Roster's <roster-switcher> component,
// which needs the client's CORS origin set to this application's), asks Roster whether the user may do
// something (/v1/check, with the Go client of this repository) and signs out.
//
//	go run ./examples/hostapp -issuer http://127.0.0.1:8080 -client-id cli_… -client-secret rcs_…
//
// The README's "Add Roster sign-in to your application" walks through it. Plain net/http,
// sessions in memory: a sketch of the integration, not a production web framework.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster/client"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.Issuer, "issuer", env("ROSTER_ISSUER", "http://127.0.0.1:8080"), "Roster's base URL (ROSTER_ISSUER)")
	flag.StringVar(&cfg.ClientID, "client-id", os.Getenv("CLIENT_ID"), "the application's client_id (CLIENT_ID)")
	flag.StringVar(&cfg.ClientSecret, "client-secret", os.Getenv("CLIENT_SECRET"), "its client_secret (CLIENT_SECRET)")
	flag.StringVar(&cfg.Listen, "listen", env("LISTEN", "127.0.0.1:3000"), "address to serve on (LISTEN)")
	flag.Parse()
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		log.Fatal("give -client-id and -client-secret: roster clients create --name 'Host app' --redirect-uri http://127.0.0.1:3000/callback --post-logout-redirect-uri http://127.0.0.1:3000/ --cors-origin http://127.0.0.1:3000")
	}
	cfg.BaseURL = "http://" + cfg.Listen
	h, err := newApp(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("host application on %s, signing in with %s", cfg.BaseURL, cfg.Issuer)
	srv := &http.Server{Addr: cfg.Listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

type config struct {
	Issuer, ClientID, ClientSecret, Listen string
	BaseURL                                string // where this application is served: the redirect URIs hang off it
}

// session is one signed-in browser: its tokens and what the ID token says.
type session struct {
	Tokens  *oauth2.Token
	IDToken string
	Claims  claims
}

// claims are the ID token's claims the pages show.
type claims struct {
	Sub         string   `json:"sub"`
	Name        string   `json:"name"`
	Email       string   `json:"email"`
	OrgID       string   `json:"org_id"`
	OrgRole     string   `json:"org_role"`
	StoreID     string   `json:"store_id"`
	StoreRoles  []string `json:"store_roles"`
	Permissions []string `json:"permissions"`
}

// pending is a sign-in under way: what the callback checks.
type pending struct{ verifier, nonce string }

type hostApp struct {
	cfg      config
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	endSess  string

	mu       sync.Mutex
	sessions map[string]*session // by the cookie's random value
	pending  map[string]pending  // by state
}

func newApp(ctx context.Context, cfg config) (http.Handler, error) {
	provider, err := gooidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery at %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, err
	}
	a := &hostApp{cfg: cfg, endSess: meta.EndSession, sessions: map[string]*session{}, pending: map[string]pending{},
		verifier: provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID}),
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: provider.Endpoint(),
			RedirectURL: cfg.BaseURL + "/callback", Scopes: []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess, "organization"}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("POST /switch", a.switchTo)
	mux.HandleFunc("GET /token", a.token)
	mux.HandleFunc("GET /app.js", static("text/javascript; charset=utf-8", appJS))
	mux.HandleFunc("GET /app.css", static("text/css; charset=utf-8", appCSS))
	mux.HandleFunc("POST /check", a.check)
	mux.HandleFunc("POST /logout", a.logout)
	return mux, nil
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *hostApp) session(r *http.Request) *session {
	c, err := r.Cookie("hostapp")
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[c.Value]
}

func (a *hostApp) login(w http.ResponseWriter, r *http.Request) {
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	a.mu.Lock()
	a.pending[state] = pending{verifier: verifier, nonce: nonce}
	a.mu.Unlock()
	http.Redirect(w, r, a.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)), http.StatusFound)
}

func (a *hostApp) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	p, ok := a.pending[q.Get("state")]
	delete(a.pending, q.Get("state"))
	a.mu.Unlock()
	if !ok || q.Get("iss") != a.cfg.Issuer {
		http.Error(w, "this sign-in was not started here (state or issuer mismatch); start again", http.StatusBadRequest)
		return
	}
	if e := q.Get("error"); e != "" {
		http.Error(w, "Roster answered "+e+": "+q.Get("error_description"), http.StatusForbidden)
		return
	}
	tok, err := a.oauth.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		http.Error(w, "the code exchange failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	s, err := a.verify(r.Context(), tok, p.nonce)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	id := random()
	a.mu.Lock()
	a.sessions[id] = s
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "hostapp", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusFound)
}

// verify checks the ID token of a token response (and its nonce, at sign-in) and keeps it.
func (a *hostApp) verify(ctx context.Context, tok *oauth2.Token, nonce string) (*session, error) {
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("the ID token does not verify: %w", err)
	}
	if nonce != "" && idt.Nonce != nonce {
		return nil, errors.New("the ID token's nonce is not this sign-in's")
	}
	s := &session{Tokens: tok, IDToken: raw}
	return s, idt.Claims(&s.Claims)
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host application</title>
<link rel="stylesheet" href="/app.css">
{{if .S}}<script type="module" src="{{.Issuer}}/switcher/v1/roster-switcher.js"></script>
<script type="module" src="/app.js"></script>{{end}}</head>
<body><h1>Host application</h1>
{{if not .S}}<p>Signed out.</p><p><a id="signin" href="/login">Sign in with Roster</a></p>
{{else}}{{$c := .S.Claims}}
<p id="who">Signed in as <strong>{{$c.Name}}</strong> ({{$c.Email}})</p>
<roster-switcher roster="{{.Issuer}}" organization="{{$c.OrgID}}" store="{{$c.StoreID}}"></roster-switcher>
<form id="switch" method="post" action="/switch" hidden><input type="hidden" name="organization"><input type="hidden" name="store"></form>
<dl><dt>Organization</dt><dd id="org"><code>{{$c.OrgID}}</code> as {{$c.OrgRole}}</dd>
<dt>Store</dt><dd id="store">{{if $c.StoreID}}<code>{{$c.StoreID}}</code> as {{range $c.StoreRoles}}{{.}} {{end}}{{else}}none chosen{{end}}</dd>
<dt>Permissions</dt><dd id="perms">{{range $c.Permissions}}<code>{{.}}</code> {{end}}</dd></dl>
<noscript><h2>Switch</h2>
{{range .Orgs}}<form method="post" action="/switch"><input type="hidden" name="organization" value="{{.Organization.ID}}">
<button name="store" value="">{{.Organization.Name}}</button>
{{range .Stores}}<button name="store" value="{{.ID}}">{{.Name}}</button>{{end}}</form>{{end}}</noscript>
<h2>May I?</h2>
<form method="post" action="/check"><label>Permission <input name="permission" value="store.update"></label> <button id="ask">Ask Roster</button></form>
{{if .Answer}}<p id="answer">{{.Answer}}</p>{{end}}
<form method="post" action="/logout"><button id="signout">Sign out</button></form>{{end}}
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
</body></html>`))

// appJS is the page's own script: it hands the switcher a token getter and switches through
// the form of /switch when the user chooses (the switcher only says what was chosen).
const appJS = `const switcher = document.querySelector("roster-switcher");
if (switcher) {
  // The access token stays on the server; the page asks for it when the switcher needs it.
  switcher.getToken = async () => {
    const res = await fetch("/token", { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error("no token: " + res.status);
    return (await res.json()).access_token;
  };
  switcher.addEventListener("roster-switch", (e) => {
    const form = document.getElementById("switch");
    form.elements.organization.value = e.detail.organization;
    form.elements.store.value = e.detail.store || "";
    form.requestSubmit();
  });
}
`

const appCSS = "body{font:16px system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code{background:#eee;padding:0 .2rem}#error{color:#b00}" +
	"roster-switcher{--roster-switcher-accent:#6d28d9}\n"

type view struct {
	Issuer string
	S      *session
	Orgs   []client.Affiliation
	Answer string
	Error  string
}

func (a *hostApp) render(w http.ResponseWriter, r *http.Request, v view) {
	if v.S != nil {
		// The switcher's data: the user's organizations with their stores, asked with the
		// access token through the Go client.
		c, err := client.New(a.cfg.Issuer, v.S.Tokens.AccessToken)
		if err == nil {
			v.Orgs, err = c.MyOrganizations(r.Context())
		}
		if err != nil && v.Error == "" {
			v.Error = err.Error()
		}
	}
	v.Issuer = a.cfg.Issuer
	// A strict policy: the switcher needs only its script and its calls to Roster allowed.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+a.cfg.Issuer+"; connect-src 'self' "+a.cfg.Issuer+
		"; style-src 'self'; form-action 'self' "+a.cfg.Issuer+"; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, v); err != nil {
		log.Printf("rendering the page: %v", err)
	}
}

func (a *hostApp) home(w http.ResponseWriter, r *http.Request) { a.render(w, r, view{S: a.session(r)}) }

func static(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write([]byte(body))
	}
}

// token gives the page the session's access token for the switcher, refreshed (for the same
// organization and store) when it has expired. Same origin only: no CORS here.
func (a *hostApp) token(w http.ResponseWriter, r *http.Request) {
	s := a.session(r)
	if s == nil {
		http.Error(w, "signed out", http.StatusUnauthorized)
		return
	}
	a.mu.Lock()
	tok, claims := s.Tokens, s.Claims
	a.mu.Unlock()
	if time.Until(tok.Expiry) < 10*time.Second {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "organization": {claims.OrgID}}
		if claims.StoreID != "" {
			form.Set("store", claims.StoreID)
		}
		next, err := a.refresh(r.Context(), form)
		if err == nil {
			var ns *session
			if ns, err = a.verify(r.Context(), next, ""); err == nil {
				a.mu.Lock()
				*s = *ns
				a.mu.Unlock()
				tok = next
			}
		}
		if err != nil {
			http.Error(w, "refreshing the token failed: "+err.Error(), http.StatusBadGateway)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{"access_token": tok.AccessToken})
}

// switchTo refreshes the tokens with the organization and store parameters: new tokens for
// that organization and store, without a new sign-in.
func (a *hostApp) switchTo(w http.ResponseWriter, r *http.Request) {
	s := a.session(r)
	if s == nil {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.Tokens.RefreshToken}, "organization": {r.FormValue("organization")}}
	if st := r.FormValue("store"); st != "" {
		form.Set("store", st)
	}
	tok, err := a.refresh(r.Context(), form)
	if err == nil {
		var next *session
		if next, err = a.verify(r.Context(), tok, ""); err == nil {
			*s = *next
		}
	}
	if err != nil {
		a.render(w, r, view{S: s, Error: "switching failed: " + err.Error()})
		return
	}
	http.Redirect(w, r, "/", http.StatusFound)
}

// refresh posts a refresh grant with the extra parameters that switch organization or store
// (x/oauth2's token sources send none), authenticated as the client.
func (a *hostApp) refresh(ctx context.Context, form url.Values) (*oauth2.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.oauth.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(a.oauth.ClientID), url.QueryEscape(a.oauth.ClientSecret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var body struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
		IDToken      string `json:"id_token"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Error != "" {
		return nil, fmt.Errorf("%s: %s", body.Error, body.Description)
	}
	tok := &oauth2.Token{AccessToken: body.AccessToken, TokenType: body.TokenType, RefreshToken: body.RefreshToken,
		Expiry: time.Now().Add(time.Duration(body.ExpiresIn) * time.Second)}
	return tok.WithExtra(map[string]any{"id_token": body.IDToken}), nil
}

// check asks Roster, with the user's own access token, whether they hold a permission in the
// active store (or organization).
func (a *hostApp) check(w http.ResponseWriter, r *http.Request) {
	s := a.session(r)
	if s == nil {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	c, err := client.New(a.cfg.Issuer, s.Tokens.AccessToken)
	if err != nil {
		a.render(w, r, view{S: s, Error: err.Error()})
		return
	}
	in := client.CheckRequest{UserID: s.Claims.Sub, Permission: r.FormValue("permission"), StoreID: s.Claims.StoreID}
	if in.StoreID == "" {
		in.OrgID = s.Claims.OrgID
	}
	res, err := c.Check(r.Context(), in)
	if err != nil {
		a.render(w, r, view{S: s, Error: err.Error()})
		return
	}
	answer := "No: " + res.Reason
	if res.Allowed {
		answer = "Yes: " + res.Reason
	}
	a.render(w, r, view{S: s, Answer: answer})
}

// logout forgets the session here and sends the browser to Roster's end-session endpoint,
// which revokes the tokens, ends the Roster session and comes back.
func (a *hostApp) logout(w http.ResponseWriter, r *http.Request) {
	s := a.session(r)
	if c, err := r.Cookie("hostapp"); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: "hostapp", Value: "", Path: "/", MaxAge: -1})
	if s == nil || a.endSess == "" {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	q := url.Values{"id_token_hint": {s.IDToken}, "post_logout_redirect_uri": {a.cfg.BaseURL + "/"}, "client_id": {a.cfg.ClientID}}
	http.Redirect(w, r, a.endSess+"?"+q.Encode(), http.StatusFound)
}
