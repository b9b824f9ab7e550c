package roster_test

import (
	"testing"

	"github.com/rosterhq/roster"
)

// TestNewIDSortsInOrder: IDs made one after another sort in that order, even within one
// millisecond (lists ordered by ID, like an API key's request log, rely on it).
func TestNewIDSortsInOrder(t *testing.T) {
	prev := roster.NewID(roster.PrefixEvent)
	for range 2000 {
		id := roster.NewID(roster.PrefixEvent)
		if id <= prev {
			t.Fatalf("%s made after %s sorts before it", id, prev)
		}
		prev = id
	}
}
