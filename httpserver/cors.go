package httpserver

import (
	"net/http"
	"slices"
	"strings"
)

// CORS is the cross-origin policy of the few endpoints that pages on other origins call with
// a bearer token: the switcher's /v1 reads and the OpenID endpoints a browser client uses.
// An origin is allowed only when Allow says so (an operator registered it for a client);
// its answers name that one origin, never "*" and never an origin merely echoed back. No
// credentials mode: cookies never travel across origins, the bearer token does.
type CORS struct {
	// Allow reports whether pages on origin may call the endpoint r asks for.
	Allow   func(r *http.Request, origin string) bool
	Methods []string // the methods a preflight may ask for
}

// corsRequestHeaders are the request headers a page may send; what the endpoints read.
var corsRequestHeaders = []string{"authorization", "content-type", "accept", "accept-language", "last-event-id"}

// corsExposedHeaders are the answer headers a page may read besides the safelisted ones.
const corsExposedHeaders = "Retry-After, WWW-Authenticate, X-Request-Id, Roster-Revision"

// Preflight reports whether r is a CORS preflight request (OPTIONS with
// Access-Control-Request-Method), which Answer answers whole.
func Preflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// Answer sets the CORS headers of the answer to r. A preflight is answered here (204), with
// the policy's headers only when its origin, method and headers are allowed: done is true and
// the caller writes nothing more. Otherwise the caller answers the request as usual.
func (c CORS) Answer(w http.ResponseWriter, r *http.Request) (done bool) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if !Preflight(r) {
		if c.Allow(r, origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExposedHeaders)
		}
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	if slices.Contains(c.Methods, r.Header.Get("Access-Control-Request-Method")) && allowedHeaders(r.Header.Values("Access-Control-Request-Headers")) &&
		c.Allow(r, origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", strings.Join(c.Methods, ", "))
		h.Set("Access-Control-Allow-Headers", strings.Join(corsRequestHeaders, ", "))
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

func allowedHeaders(lists []string) bool {
	for _, l := range lists {
		for name := range strings.SplitSeq(l, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" && !slices.Contains(corsRequestHeaders, name) {
				return false
			}
		}
	}
	return true
}
