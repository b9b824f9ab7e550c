package console_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestScreenshotsAreReferenced: docs/screenshots holds exactly the screenshots README.md shows
// (the browser tests write only those; see screenshot).
func TestScreenshotsAreReferenced(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, m := range regexp.MustCompile(`docs/screenshots/([A-Za-z0-9._-]+)`).FindAllSubmatch(readme, -1) {
		shown[string(m[1])] = true
	}
	entries, err := os.ReadDir(filepath.Join("..", "docs", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, e := range entries {
		files[e.Name()] = true
		if !shown[e.Name()] {
			t.Errorf("docs/screenshots/%s is not shown in README.md: remove it", e.Name())
		}
	}
	for name := range shown {
		if !files[name] {
			t.Errorf("README.md shows docs/screenshots/%s, which does not exist", name)
		}
	}
	if len(shown) == 0 {
		t.Fatal("README.md shows no screenshot")
	}
}
