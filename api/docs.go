package api

import (
	"embed"
	"net/http"
)

// docs holds the /docs page and the Redoc renderer (npm package redoc, MIT, at the version
// docs/redoc.version records; scripts/update-assets.sh fetches exactly that version), served
// from the binary: no CDN, so the page works offline and under a strict Content-Security-Policy.
//
//go:embed docs
var docs embed.FS

// docsCSP lets Redoc apply its own styles and run its search worker; nothing else is relaxed.
const docsCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
	"worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

func registerDocs(mux *http.ServeMux) {
	page, _ := docs.ReadFile("docs/index.html")
	script, _ := docs.ReadFile("docs/redoc.standalone.js")
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", docsCSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("GET /docs/redoc.standalone.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(script)
	})
}
