// Package testchrome starts a headless Chromium for the browser tests of a package that has
// no browser of its own to share (the console's tests keep one for all of theirs), and keeps
// the browser tests of different packages from running at the same time.
package testchrome

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Context starts a headless Chromium for one test, bounded to two minutes. Without Chromium
// the test skips, except in CI, where it fails.
func Context(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(Path(t)), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()), chromedp.Flag("no-first-run", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// Path returns Chromium's executable, once this package's browser tests have the machine's
// browsers to themselves (hold). Without Chromium the test skips, except in CI (CI=true),
// where it fails.
func Path(t *testing.T) string {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is not installed: the browser tests must run in CI (apt-get install -y chromium)")
		}
		t.Skip("browser tests skipped: Chromium is not installed (apt-get install -y chromium)")
	}
	hold(t)
	return path
}

// held counts this process's browser tests under way; while there is one, the process holds
// an exclusive lock on a file shared by every test process of the machine.
var held struct {
	sync.Mutex
	n    int
	lock *os.File
}

// hold waits until no other test process runs browser tests, and keeps them waiting until
// this test ends and no other test of this process uses a browser. go test runs packages in
// parallel: two packages driving Chromium at once on a small machine starved each other's
// tabs past their deadlines. Tests of one package share the browsers as they did.
func hold(t *testing.T) {
	held.Lock()
	defer held.Unlock()
	if held.n == 0 {
		f, err := os.OpenFile(filepath.Join(os.TempDir(), "roster-browser-tests.lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil { // waits for the other process
			f.Close()
			t.Fatal(err)
		}
		held.lock = f
	}
	held.n++
	t.Cleanup(func() {
		held.Lock()
		defer held.Unlock()
		if held.n--; held.n == 0 {
			held.lock.Close() // releases the lock
			held.lock = nil
		}
	})
}
