//go:build race

package testenv

// Race is true when the tests run with the race detector, which makes SQLite (C translated to
// Go) 20 to 150 times slower: tests whose point is scale run smaller then, and at full size
// in a plain `go test ./...`.
const Race = true
