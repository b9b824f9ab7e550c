package roster

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"Mozilla/5.0", 512, "Mozilla/5.0"},
		{"X\xff", 512, "X\uFFFD"},
		{"\xc3", 512, "\uFFFD"},
		{strings.Repeat("a", 511) + "é", 512, strings.Repeat("a", 511)}, // é is 2 bytes: not split
		{strings.Repeat("a", 510) + "é", 512, strings.Repeat("a", 510) + "é"},
		{"日本語", 4, "日"},
		{"", 10, ""},
	} {
		got := CleanText(c.in, c.max)
		if got != c.want || len(got) > c.max || !utf8.ValidString(got) {
			t.Errorf("CleanText(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
