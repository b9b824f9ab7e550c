package sqlstore

import (
	"context"
	"sync/atomic"
)

// QueryCount counts the statements run on behalf of one context: the reads (queries) and
// the writes (statements that change rows), in a transaction or not. Tests use it to bound
// what a request costs (CountQueries); it costs one context lookup per statement otherwise.
type QueryCount struct {
	reads, writes atomic.Int64
}

type countKey struct{}

// CountQueries returns a context whose statements, and those of every context derived from
// it, are counted in the returned QueryCount.
func CountQueries(ctx context.Context) (context.Context, *QueryCount) {
	n := &QueryCount{}
	return context.WithValue(ctx, countKey{}, n), n
}

// Reads returns the queries counted so far.
func (n *QueryCount) Reads() int64 { return n.reads.Load() }

// Writes returns the statements that change rows counted so far.
func (n *QueryCount) Writes() int64 { return n.writes.Load() }

// count records one statement in the context's QueryCount, if it has one.
func count(ctx context.Context, write bool) {
	n, _ := ctx.Value(countKey{}).(*QueryCount)
	switch {
	case n == nil:
	case write:
		n.writes.Add(1)
	default:
		n.reads.Add(1)
	}
}
