package roster_test

import (
	"slices"
	"testing"

	"github.com/rosterhq/roster"
)

// TestCompareByName: names in the order people read them, whatever their case and accents
// (lower-cased bytes put "Éclair" after "zeta"), then by ID; a total order either way round,
// and SortByName's, by collation keys, the same.
func TestCompareByName(t *testing.T) {
	type named struct{ name, id string }
	want := []named{
		{"Aardvark", "org_2"}, {"apple", "org_9"}, {"Banana", "org_1"}, {"éclair", "org_5"},
		{"Éclair", "org_3"}, {"Égal", "org_4"}, {"Ñandú", "org_8"}, {"nuez", "org_0"},
		{"zoe", "org_7"}, {"zoe", "org_a"}, {"Zoë", "org_6"},
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, func(x, y named) int { return roster.CompareByName(x.name, x.id, y.name, y.id) })
	if !slices.Equal(got, want) {
		t.Errorf("sorted\n%v\nwant\n%v", got, want)
	}
	sorted := slices.Clone(want)
	slices.Reverse(sorted)
	roster.SortByName(sorted, func(x named) string { return x.name }, func(x named) string { return x.id })
	if !slices.Equal(sorted, want) {
		t.Errorf("SortByName\n%v\nwant\n%v", sorted, want)
	}
	for i, x := range want {
		for j, y := range want {
			c, r := roster.CompareByName(x.name, x.id, y.name, y.id), roster.CompareByName(y.name, y.id, x.name, x.id)
			if (i < j) != (c < 0) || (i == j) != (c == 0) || c != -r {
				t.Errorf("%v against %v: %d, and %d the other way round", x, y, c, r)
			}
			// Keys made one at a time order as the comparison does (the access index keeps an
			// organization's, app/index_read.go).
			if k := roster.CompareByNameKey(roster.NameKey(x.name), x.id, roster.NameKey(y.name), y.id); k != c {
				t.Errorf("%v against %v: keys %d, comparison %d", x, y, k, c)
			}
		}
	}
}

// BenchmarkCompareByName: what ordering a user's organizations costs per comparison (the
// stores a user may open sorts them on every answer).
func BenchmarkCompareByName(b *testing.B) {
	for b.Loop() {
		roster.CompareByName("Org 0412 Retail", "org_1", "org 0412 retail", "org_2")
	}
}
