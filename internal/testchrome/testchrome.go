// Package testchrome starts a headless Chromium for the browser tests of a package that has
// no browser of its own to share (the console's tests keep one for all of theirs), and keeps
// the browser tests of different packages from running at the same time.
package testchrome

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	_ "github.com/rosterhq/roster/internal/memtemp" // temporary files in memory
)

// Options are how every browser test starts Chromium (path from Path, profile in dir):
// headless, without the services a test has no use for, and without the features that cost
// Chromium a renderer process per navigation. The browser tests are bound by Chromium's CPU
// on a small machine; measured on one page loaded 20 times (2 cores, Chromium 156), the back-
// forward cache, per-document renderers, site isolation and the spare renderer together
// doubled the CPU of a page load. The console's pages are of one origin: isolating sites
// protects nothing a test looks at.
//
// Chromium's headless shell (Path prefers it) also draws no frame unless one is asked for
// (begin-frame control): pages are parsed, styled, laid out and run their scripts as ever,
// and clicks, focus and the accessibility checks work on that layout, but nothing is painted
// or composited. Painting was a third of Chromium's CPU in the console's tests (its GPU
// process alone a quarter); no test looks at pixels. ROSTER_SCREENSHOTS=1 turns drawing back
// on, for the console's screenshots and for anyone who wants to look at a page a test shows.
func Options(path, dir string) []chromedp.ExecAllocatorOption {
	// chromedp's defaults: headless, no first run, no background networking or sync.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(dir), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-features", "Translate,BackForwardCache,RenderDocument,IsolateOrigins,site-per-process,SpareRendererForSitePerProcess"))
	if headlessShell(path) && os.Getenv("ROSTER_SCREENSHOTS") != "1" {
		opts = append(opts, chromedp.Flag("enable-begin-frame-control", true))
	}
	return opts
}

// headlessShell says whether path is Chromium's headless shell (Debian's
// chromium-headless-shell, chromedp's headless-shell image) rather than the browser.
func headlessShell(path string) bool {
	return strings.Contains(filepath.Base(path), "headless-shell")
}

// Context starts a headless Chromium for one test, bounded to two minutes. Without Chromium
// the test skips, except in CI, where it fails.
func Context(t *testing.T) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), Options(Path(t), t.TempDir())...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// Interrupted says whether err is a step's script cut short by a navigation (the page it
// ran in went away): a poll that meets it polls the new page. Chromium says it three ways,
// depending on when the page went.
func Interrupted(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "navigated or closed") || strings.Contains(msg, "Cannot find context") ||
		strings.Contains(msg, "Execution context was destroyed")
}

// Path returns Chromium's executable, once this package's browser tests have the machine's
// browsers to themselves (hold): its headless shell when it is installed (apt-get install
// chromium-headless-shell), made for automation and lighter (Options), or else the browser.
// Without either the test skips, except in CI (CI=true), where it fails.
func Path(t *testing.T) string {
	t.Helper()
	var path string
	for _, name := range []string{"chromium-headless-shell", "headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is not installed: the browser tests must run in CI (apt-get install -y chromium-headless-shell)")
		}
		t.Skip("browser tests skipped: Chromium is not installed (apt-get install -y chromium-headless-shell)")
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
