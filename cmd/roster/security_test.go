package main

import (
	"net/http"
	"path/filepath"
	"testing"
)

// TestServeHSTSOnlyWithHTTPSBaseURL: serve sends Strict-Transport-Security exactly when
// ROSTER_BASE_URL is https, and never a Server header.
func TestServeHSTSOnlyWithHTTPSBaseURL(t *testing.T) {
	for _, c := range []struct {
		base string
		hsts bool
	}{{"https://roster.example", true}, {"http://roster.example", false}, {"", false}} {
		env := map[string]string{"ROSTER_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "roster.db")}
		if c.base != "" {
			env["ROSTER_BASE_URL"] = c.base
		}
		url, _ := serveWith(t, env)
		for _, path := range []string{"/healthz", "/v1/me", "/openapi.json"} {
			res, err := http.Get(url + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("Strict-Transport-Security"); (got != "") != c.hsts {
				t.Errorf("base URL %q, %s: Strict-Transport-Security %q", c.base, path, got)
			}
			if res.Header.Get("Server") != "" {
				t.Errorf("%s: Server %q", path, res.Header.Get("Server"))
			}
		}
	}
}
