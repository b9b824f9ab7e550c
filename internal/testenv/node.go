package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Node makes the npm packages declared in dir (a folder with package.json and
// package-lock.json) ready and returns the path of the node binary. Third-party JavaScript
// implementations (an OIDC relying party, a webhook verifier) prove our protocols this way.
// Without Node the test is skipped, and fails in CI; the packages are installed once per
// folder with `npm ci` (.ci/run installs them beforehand, so CI never waits here).
func Node(t testing.TB, dir string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed: tests that run third-party JavaScript must run in CI")
		}
		t.Skip("node is not installed: skipping a test that runs a third-party JavaScript client")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	nodeMu.Lock()
	defer nodeMu.Unlock()
	if _, err := os.Stat(filepath.Join(abs, "node_modules")); err == nil {
		return node
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--silent")
	cmd.Dir = abs
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("npm ci in %s: %v\n%s", abs, err, out)
		}
		t.Skipf("npm ci in %s failed (no registry?): %v\n%s", abs, err, out)
	}
	return node
}

var nodeMu sync.Mutex
