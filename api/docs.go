package api

import (
	_ "embed"
	"io"
	"net/http"
)

// The /docs page and the Redoc renderer (npm package redoc, MIT, at the version
// docs/redoc.version records; scripts/update-assets.sh fetches exactly that version) are served
// from the binary: no CDN, so the page works offline and under a strict Content-Security-Policy.
// They are strings, read where the binary holds them: a copy on the heap would be a megabyte of
// every node's memory for a page few open.
var (
	//go:embed docs/index.html
	docsPage string
	//go:embed docs/redoc.standalone.js
	redocScript string
)

// docsCSP lets Redoc apply its own styles and run its search worker; nothing else is relaxed.
const docsCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
	"worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

func registerDocs(mux *http.ServeMux) {
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", docsCSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, docsPage)
	})
	mux.HandleFunc("GET /docs/redoc.standalone.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = io.WriteString(w, redocScript)
	})
}
