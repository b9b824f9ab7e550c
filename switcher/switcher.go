// Package switcher serves the organization and store switcher: a standard Web Component
// (<roster-switcher>, no framework) that a host application's page on another origin
// includes with one tag. It lists the signed-in user's organizations and their stores from
// /v1/me/organizations, with the user's Roster access token and CORS (the client's
// cors_origins), and tells the page which one the user chose (a roster-switch event); the
// host switches its tokens. The file is embedded and served at a versioned path: a
// change that breaks a host page gets a new version, and the old path keeps its file.
package switcher

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

// Path is where the component is served.
const Path = "/switcher/v1/roster-switcher.js"

//go:embed roster-switcher.js
var source []byte

// etag names this build's file, for revalidation once the cache's day is over.
var etag = func() string { h := sha256.Sum256(source); return `"` + hex.EncodeToString(h[:12]) + `"` }()

// Register serves the component at Path.
func Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Path, serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	// The same public file for every page: a module script is fetched with CORS, so any
	// origin may load it (never with credentials); what it reads from /v1 is guarded by the
	// clients' origins. Host pages that isolate themselves (COEP) may embed it.
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	// A week in caches, then revalidated: fixes within v1 reach pages within the week.
	h.Set("Cache-Control", "public, max-age=604800")
	h.Set("ETag", etag)
	http.ServeContent(w, r, "roster-switcher.js", time.Time{}, bytes.NewReader(source))
}
