package password

import (
	"context"
	"testing"

	"github.com/rosterhq/roster"
)

// TestHasherRefusesWhenBusy: with every hash slot taken and the waiting room full, a request
// is refused at once as unavailable (with a Retry-After), not queued; a waiter whose time runs
// out is refused the same way; a free slot is taken.
func TestHasherRefusesWhenBusy(t *testing.T) {
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1}, 1)
	ctx := context.Background()
	if _, err := h.Hash(ctx, "a password long enough"); err != nil {
		t.Fatalf("a free slot: %v", err)
	}
	h.slots <- struct{}{} // a hash runs
	for range cap(h.waiting) {
		h.waiting <- struct{}{} // and the waiting room is full
	}
	_, err := h.Hash(ctx, "a password long enough")
	if e := roster.AsError(err); e == nil || e.Code != roster.EUnavailable || e.RetryAfter <= 0 {
		t.Fatalf("full waiting room: %v", err)
	}
	if ok, _, err := h.Verify(ctx, "x", h.dummy); ok || roster.ErrorCode(err) != roster.EUnavailable {
		t.Fatalf("verify with a full waiting room: %v %v", ok, err)
	}
	for range cap(h.waiting) {
		<-h.waiting
	}
	h.maxWait = 0 // a waiter's time runs out at once
	if _, err := h.Hash(ctx, "a password long enough"); roster.ErrorCode(err) != roster.EUnavailable {
		t.Fatalf("a waiter out of time: %v", err)
	}
	if len(h.waiting) != 0 {
		t.Fatalf("%d waiters left behind", len(h.waiting))
	}
	<-h.slots
	if _, err := h.Hash(ctx, "a password long enough"); err != nil {
		t.Fatalf("after the slot is free: %v", err)
	}
}
