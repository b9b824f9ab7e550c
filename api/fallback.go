package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/httpserver"
)

// fallbackPattern catches the requests under /v1 that no operation serves.
const fallbackPattern = "/v1/"

// registerFallback answers requests under /v1 that match no operation with a problem, as
// every other error of the API: 405 with Allow when the path exists for other methods,
// else 404. Without it, net/http answers them in plain text.
func registerFallback(mux *http.ServeMux) {
	mux.HandleFunc(fallbackPattern, func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != fallbackPattern {
				allow = append(allow, m)
				if m == http.MethodGet {
					allow = append(allow, http.MethodHead) // GET patterns serve HEAD too
				}
			}
		}
		status, code, detail := http.StatusNotFound, "not_found", "no such endpoint; see /openapi.json"
		if len(allow) > 0 {
			status, code, detail = http.StatusMethodNotAllowed, "method_not_allowed", "this endpoint takes "+strings.Join(allow, ", ")
			w.Header().Set("Allow", strings.Join(allow, ", "))
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(&Problem{Title: http.StatusText(status), Status: status, Code: code, Detail: detail,
			RequestID: httpserver.RequestID(r.Context())})
	})
}
