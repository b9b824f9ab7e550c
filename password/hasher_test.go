package password_test

import (
	"context"
	"sync"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/password"
)

// TestHasherRefusesAFlood: a hasher that runs one hash at once lets 16 wait; of many hashes
// asked at once, those beyond are refused as unavailable with a Retry-After, never queued
// without bound, and every request is answered.
func TestHasherRefusesAFlood(t *testing.T) {
	h := password.NewHasher(password.Params{Memory: 8192, Time: 3, Threads: 1}, 1)
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = h.Hash(context.Background(), "a password long enough") })
	}
	wg.Wait()
	ok, busy := 0, 0
	for _, err := range errs {
		switch e := roster.AsError(err); {
		case err == nil:
			ok++
		case e != nil && e.Code == roster.EUnavailable && e.RetryAfter > 0:
			busy++
		default:
			t.Fatalf("unexpected answer: %v", err)
		}
	}
	if h.Capacity() != 17 {
		t.Errorf("capacity %d, want 1 running and 16 waiting", h.Capacity())
	}
	if ok == 0 || busy == 0 || ok+busy != n {
		t.Fatalf("%d hashed, %d refused as busy, of %d", ok, busy, n)
	}
}
