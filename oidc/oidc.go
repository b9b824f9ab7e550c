// Package oidc is Roster's OpenID provider ("Sign in with Roster"): a door beside api/ and
// console/. The protocol is github.com/zitadel/oidc/v3's op package; its storage interface is
// implemented over app (storage.go), so every rule stays in app. The user signs in on the
// console's own login page, and chooses an organization and store on a console page
// (console/oidc.go); this package only speaks the protocol.
package oidc

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/token"
)

// Paths of the provider. Discovery is at /.well-known/openid-configuration.
const (
	Prefix         = "/oidc/"
	AuthorizePath  = "/oidc/authorize"
	CallbackPath   = "/oidc/authorize/callback" // the library's: authorize + "/callback"
	continuePath   = "/oidc/continue"           // the console's sign-in step (console/oidc.go)
	EndSessionPath = "/oidc/end_session"        // RP-initiated logout
)

// ContinuePath is the console page where a signed-in user completes an authorization
// request; it sends the browser to CallbackPath?id=… when done.
const ContinuePath = continuePath

// Options configure the provider.
type Options struct {
	Log *slog.Logger
	// ErrorPage shows a localized error page where redirecting to the client would be unsafe
	// (an unknown client or redirect URI). The console provides it.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int)
}

// Register adds the provider's endpoints to mux. The issuer is the app's base URL, never a
// request's Host header.
func Register(mux *http.ServeMux, a *app.App, o Options) error {
	h, err := New(a, o)
	if err != nil {
		return err
	}
	mux.Handle(Prefix, h)
	mux.Handle("/.well-known/openid-configuration", h)
	return nil
}

// New returns the provider's handler.
func New(a *app.App, o Options) (http.Handler, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	cfg := &op.Config{
		DefaultLogoutRedirectURI:   "/login",
		BackChannelLogoutSupported: true,
		// Logout tokens and ID tokens name the Roster session the sign-in began in (sid).
		BackChannelLogoutSessionSupported: true,
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		SupportedScopes:                   app.OIDCScopes,
		SupportedUILocales:                []language.Tag{language.English, language.French, language.Spanish},
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "at_hash", "c_hash", "azp", "sid",
			"email", "email_verified", "name", "locale", "org_id", "org_role", "store_id", "store_roles", "permissions", "access_version"},
	}
	// The library encrypts the authorization codes it makes with this key; derived from the
	// instance's encryption key when there is one, else random per process (codes live 60 s).
	cfg.CryptoKey = sha256.Sum256(append([]byte("roster oidc codes\x00"), a.Config().EncryptionKey...))
	if len(a.Config().EncryptionKey) == 0 {
		cfg.CryptoKey = sha256.Sum256([]byte(token.Random()))
	}
	opts := []op.Option{
		op.WithCustomAuthEndpoint(op.NewEndpoint("oidc/authorize")),
		op.WithCustomTokenEndpoint(op.NewEndpoint("oidc/token")),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint("oidc/userinfo")),
		op.WithCustomRevocationEndpoint(op.NewEndpoint("oidc/revoke")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("oidc/introspect")),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint("oidc/end_session")),
		op.WithCustomKeysEndpoint(op.NewEndpoint("oidc/jwks")),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint("oidc/device_authorization")),
		op.WithLogger(o.Log),
		// The library's default CORS policy lets every origin read every answer, credentials
		// included; door.cors allows the origins registered for clients, on the endpoints a
		// browser calls, and no others.
		op.WithCORSOptions(nil),
	}
	if a.Config().BaseURL.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure()) // development on http://localhost
	}
	p, err := op.NewProvider(cfg, &storage{app: a}, op.StaticIssuer(a.OIDC.Issuer()), opts...) // never from the Host header
	if err != nil {
		return nil, err
	}
	return &door{p: p, o: o, issuer: a.OIDC.Issuer(), app: a}, nil
}

// door adds what the library does not do to its handler: the iss authorization-response
// parameter (RFC 9207), error pages instead of plain text, and the request's own
// parameters (organization, store) for the storage.
type door struct {
	p      http.Handler
	o      Options
	issuer string
	app    *app.App
}

// slowDown answers a rate-limited token request in the token endpoint's own error format,
// with 429 and Retry-After. RFC 6749 §5.2 has no code for it: temporarily_unavailable (the
// authorization endpoint's, §4.1.2.1: "a temporary overloading") says the right thing to any
// OAuth client, where slow_down belongs to the device grant's polling (RFC 8628 §3.5) and
// would be read by a device-flow client as "poll less often", by others as nothing known.
func slowDown(w http.ResponseWriter, err error) {
	var wait time.Duration
	var e *roster.Error
	if errors.As(err, &e) {
		wait = e.RetryAfter
	}
	w.Header().Set("Retry-After", roster.RetryAfterHeader(http.StatusTooManyRequests, wait))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable",
		"error_description": "too many token requests, or too many refused, from this client or address; retry after the delay in Retry-After"})
}

// token serves the token endpoint: the library's, within the rate limits
// (app/oidc_ratelimit.go), with access tokens typed at+jwt (token.go).
func (d *door) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		d.app.OIDC.TokenServed(r.Context(), app.TokenRequest{IP: httpserver.ClientIP(r.Context())}, false, true)
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	// The organization and store parameters of a refresh (switching) reach the storage,
	// and the client's name its signing key.
	r = withClient(r.WithContext(context.WithValue(r.Context(), keyParams, r.PostForm)))
	tr := app.TokenRequest{ClientID: clientOf(r.Context()), IP: httpserver.ClientIP(r.Context())}
	if cl, err := d.app.Clients.ByID(r.Context(), tr.ClientID); err == nil {
		// Its signing algorithm, now: the library asks for the key after the grant's write,
		// which forgets what the request read (app.PerRequest).
		r = r.WithContext(context.WithValue(r.Context(), keyAlg, cl.SigningAlg))
	}
	if err := d.app.OIDC.TokenAttempt(r.Context(), tr); err != nil {
		slowDown(w, err)
		return
	}
	var ok bool
	var sid string // the Roster session the tokens' sign-in began in, set by the storage
	r = r.WithContext(context.WithValue(context.WithValue(context.WithValue(r.Context(), keyProven, &ok), keySession, &sid), keyResigned, true))
	rec := &recorder{header: w.Header()}
	d.p.ServeHTTP(rec, r)
	status, body := cmp.Or(rec.status, http.StatusOK), rec.body.Bytes()
	d.app.OIDC.TokenServed(r.Context(), tr, ok, status == http.StatusBadRequest || status == http.StatusUnauthorized)
	if status == http.StatusOK {
		typed, err := d.typeAccessToken(r.Context(), body, sid)
		if err != nil {
			d.o.Log.Error("oidc: signing the access token", "err", err)
			oauthError(w, http.StatusInternalServerError, "server_error")
			return
		}
		body = typed
		w.Header().Del("Content-Length")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// oauthError answers a token request with an error of RFC 6749 §5.2.
func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// proven records that the token request's client proved itself with its secret.
func proven(ctx context.Context) {
	if p, _ := ctx.Value(keyProven).(*bool); p != nil {
		*p = true
	}
}

type ctxKey int

const (
	keyParams ctxKey = iota
	keyBrowser
	keyProven
	keySession
	keyResigned // the token endpoint: the door signs the answer's tokens again (token.go)
	keyAlg      // the token request's client's signing algorithm (storage.go, SigningKey)
)

// issuedIn records, for the token endpoint's ID token, the Roster session in which the
// sign-in of the tokens being issued began.
func issuedIn(ctx context.Context, session string) {
	if p, _ := ctx.Value(keySession).(*string); p != nil {
		*p = session
	}
}

// browserInfo is what the logout endpoint knows of the browser.
type browserInfo struct{ session, ip, userAgent string }

func requestParams(ctx context.Context) url.Values {
	v, _ := ctx.Value(keyParams).(url.Values)
	return v
}

func (d *door) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r = r.WithContext(app.PerRequest(r.Context())) // the client and the user's access, read once per request
	if d.cors(w, r) {
		return
	}
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		d.discovery(w, r)
		return
	case "/oidc/token":
		d.token(w, r)
		return
	case AuthorizePath, CallbackPath:
		if err := r.ParseForm(); err != nil {
			d.errorPage(w, r, http.StatusBadRequest)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), keyParams, r.Form))
		rw := &authResponse{ResponseWriter: w, issuer: d.issuer}
		d.p.ServeHTTP(rw, r)
		if rw.failed != 0 {
			d.errorPage(w, r, rw.failed)
		}
		return
	case EndSessionPath:
		// The browser's session, to end it when it is the user's (TerminateSessionFromRequest);
		// a refusal (no or a bad id_token_hint, an unregistered post-logout URI) is a page.
		b := browserInfo{ip: httpserver.ClientIP(r.Context()), userAgent: r.UserAgent()}
		if c, err := r.Cookie(httpserver.SessionCookie); err == nil {
			b.session = c.Value
		}
		r = r.WithContext(context.WithValue(r.Context(), keyBrowser, b))
		rw := &authResponse{ResponseWriter: w, issuer: d.issuer}
		d.p.ServeHTTP(rw, r)
		if rw.failed != 0 {
			d.errorPage(w, r, http.StatusBadRequest)
		}
		return
	case "/oidc/device_authorization":
		http.NotFound(w, r) // not offered
		return
	}
	d.p.ServeHTTP(w, r)
}

func (d *door) errorPage(w http.ResponseWriter, r *http.Request, status int) {
	w.Header().Del("Content-Type")
	w.Header().Del("X-Content-Type-Options")
	if d.o.ErrorPage != nil {
		d.o.ErrorPage(w, r, status)
		return
	}
	http.Error(w, http.StatusText(status), status)
}

// discovery adds to the library's document what Roster does besides, and removes what it
// does not offer yet.
func (d *door) discovery(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{header: http.Header{}}
	d.p.ServeHTTP(rec, r)
	var doc map[string]any
	if rec.status != 0 && rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &doc) != nil {
		http.Error(w, "discovery unavailable", http.StatusServiceUnavailable)
		return
	}
	doc["authorization_response_iss_parameter_supported"] = true
	doc["response_modes_supported"] = []string{"query"}
	doc["grant_types_supported"] = []string{"authorization_code", "refresh_token", "client_credentials"}
	doc["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post", "none"}
	doc["code_challenge_methods_supported"] = []string{"S256"}
	delete(doc, "device_authorization_endpoint")
	delete(doc, "request_object_signing_alg_values_supported")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rc *recorder) Header() http.Header         { return rc.header }
func (rc *recorder) WriteHeader(s int)           { rc.status = s }
func (rc *recorder) Write(b []byte) (int, error) { return rc.body.Write(b) }

// authResponse watches the authorization endpoint's answer: a redirect to the client gets
// the iss parameter (RFC 9207); a refusal the library would show as plain text (it could not
// redirect safely) becomes the console's error page.
type authResponse struct {
	http.ResponseWriter
	issuer string
	failed int
}

func (a *authResponse) WriteHeader(status int) {
	if status >= 400 {
		a.failed = status
		return
	}
	if status >= 300 && status < 400 {
		if loc := a.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, "/") {
			if u, err := url.Parse(loc); err == nil {
				q := u.Query()
				if q.Get("code") != "" || q.Get("error") != "" {
					q.Set("iss", a.issuer)
					u.RawQuery = q.Encode()
					a.Header().Set("Location", u.String())
				}
			}
		}
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *authResponse) Write(b []byte) (int, error) {
	if a.failed != 0 {
		return len(b), nil // replaced by the error page
	}
	return a.ResponseWriter.Write(b)
}

func languageTag(locale string) language.Tag {
	t, err := language.Parse(locale)
	if err != nil {
		return language.English
	}
	return t
}
