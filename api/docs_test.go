package api_test

import (
	"os"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sqlstore"
)

// TestDocsRenderer: /docs serves the Redoc bundle whose version api/docs/redoc.version records
// (the version scripts/update-assets.sh fetches from npm), with its third-party licenses beside it.
func TestDocsRenderer(t *testing.T) {
	b, err := os.ReadFile("docs/redoc.version")
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(b))
	if strings.Count(version, ".") != 2 {
		t.Fatalf("docs/redoc.version holds %q, not a version", version)
	}
	s := newServer(t, sqlstore.SQLite)
	r := s.do(t, "GET", "/docs/redoc.standalone.js", "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `" ReDoc Version: ","`+version+`"`) {
		t.Fatalf("the served bundle is not Redoc %s (%d, %d bytes)", version, r.status, len(r.body))
	}
	lic, err := os.ReadFile("docs/redoc.standalone.js.LICENSE.txt")
	if err != nil || !strings.Contains(string(lic), `Version: "`+version+`"`) {
		t.Fatalf("docs/redoc.standalone.js.LICENSE.txt is not Redoc %s's: %v", version, err)
	}
}
