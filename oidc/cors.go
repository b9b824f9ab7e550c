package oidc

import (
	"mime"
	"net/http"
	"net/url"

	"github.com/rosterhq/roster/httpserver"
)

// corsPaths are the endpoints a page on another origin calls (a single-page client, the
// organization switcher's host page): discovery and the key set, the token endpoint, userinfo,
// revocation and introspection. Authorization and logout are navigations, never CORS.
var corsPaths = map[string]bool{
	"/.well-known/openid-configuration": true, "/oidc/jwks": true, "/oidc/userinfo": true,
	"/oidc/token": true, "/oidc/revoke": true, "/oidc/introspect": true,
}

// cors sets the CORS headers of an answer, and answers a preflight request (done). A request
// that names its client (client_id, or the user of HTTP Basic authentication) is allowed from
// that client's origins; the others, and preflights, which carry neither, from any client's.
func (d *door) cors(w http.ResponseWriter, r *http.Request) (done bool) {
	if !corsPaths[r.URL.Path] || r.Header.Get("Origin") == "" {
		return false
	}
	policy := httpserver.CORS{Methods: []string{http.MethodGet, http.MethodPost}, Allow: func(r *http.Request, origin string) bool {
		if id := requestClient(r); id != "" {
			return d.app.Clients.ClientCORSAllowed(r.Context(), id, origin)
		}
		return d.app.Clients.CORSAllowed(r.Context(), origin)
	}}
	return policy.Answer(w, r)
}

// requestClient returns the client a request names, if it says: the user of HTTP Basic
// authentication (form-encoded, RFC 6749 §2.3.1) or the client_id of a posted form (parsed
// here once; the endpoint reads the parsed form).
func requestClient(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			return u
		}
		return id
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Method == http.MethodPost && mt == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err == nil {
			return r.PostForm.Get("client_id")
		}
	}
	return ""
}
