// Package testchrome starts a headless Chromium for the browser tests of a package that has
// no browser of its own to share (the console's tests keep one for all of theirs).
package testchrome

import (
	"context"
	"os"
	"os/exec"
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

// Path returns Chromium's executable. Without Chromium the test skips, except in CI
// (CI=true), where it fails.
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
	return path
}
