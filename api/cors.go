package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/httpserver"
)

// corsOperations are the operations that pages on an origin registered for a client may call
// with CORS and a bearer token (a Roster access token): what the organization switcher reads,
// and the permission checks of the token's own user. Every other operation answers other
// origins without CORS headers, so their browsers keep the answer from the page.
var corsOperations = map[string]bool{"get-me": true, "my-organizations": true, "check": true, "check-batch": true}

const corsNote = "\n\nPages on an origin registered for a client (its `cors_origins`) may call this operation with CORS, with a bearer token; cookies never cross origins."

func (s *Server) corsPolicy() httpserver.CORS {
	return httpserver.CORS{Methods: []string{http.MethodGet, http.MethodPost},
		Allow: func(r *http.Request, origin string) bool { return s.app.Clients.CORSAllowed(r.Context(), origin) }}
}

// cors gives the answers of corsOperations their CORS headers, before anything is written
// (a refused token's 401 included: the page reads why).
func (s *Server) cors(ctx huma.Context, next func(huma.Context)) {
	if corsOperations[ctx.Operation().OperationID] {
		r, w := humago.Unwrap(ctx)
		s.corsPolicy().Answer(w, r)
	}
	next(ctx)
}

// registerCORS documents corsOperations and answers their preflight requests (OPTIONS, which
// no operation of the API has).
func (s *Server) registerCORS(mux *http.ServeMux) {
	policy := s.corsPolicy()
	for path, item := range s.api.OpenAPI().Paths {
		cross, allow := false, []string{}
		for _, o := range []*huma.Operation{item.Get, item.Post, item.Patch, item.Put, item.Delete} {
			if o != nil {
				allow = append(allow, o.Method)
			}
			if o != nil && corsOperations[o.OperationID] {
				o.Description += corsNote
				cross = true
			}
		}
		if !cross {
			continue
		}
		allowed := strings.Join(allow, ", ")
		mux.HandleFunc("OPTIONS "+path, func(w http.ResponseWriter, r *http.Request) {
			if httpserver.Preflight(r) {
				policy.Answer(w, r)
				return
			}
			p := s.fail(r.Context(), roster.Errorf(roster.EMethodNotAllowed, "OPTIONS is for CORS preflight requests only")).(*Problem)
			w.Header().Set("Allow", allowed)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(p.Status)
			_ = json.NewEncoder(w).Encode(p)
		})
	}
}
