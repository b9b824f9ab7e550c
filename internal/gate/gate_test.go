package gate

import (
	"context"
	"testing"
	"time"
)

// TestGate: a free turn is taken at once; with every turn taken and the waiting room full, a
// request is refused at once; a waiter whose time or context runs out is refused and leaves
// the waiting room; a turn given back is taken by a waiter.
func TestGate(t *testing.T) {
	ctx := context.Background()
	g := New(1, 1, time.Hour)
	if !g.Enter(ctx) {
		t.Fatal("a free turn was refused")
	}
	g.waiting <- struct{}{} // someone waits already: the waiting room is full
	if g.Enter(ctx) {
		t.Fatal("entered with every turn taken and a full waiting room")
	}
	<-g.waiting

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if g.Enter(cancelled) {
		t.Fatal("a waiter whose request ended got a turn")
	}
	if len(g.waiting) != 0 {
		t.Fatal("a refused waiter stayed in the waiting room")
	}
	short := New(1, 1, 0)
	short.turns <- struct{}{}
	if short.Enter(ctx) {
		t.Fatal("a waiter out of time got a turn")
	}

	// A turn given back goes to the next request, whether it was waiting already or not.
	got := make(chan bool)
	go func() { got <- g.Enter(ctx) }()
	g.Leave()
	if !<-got {
		t.Fatal("a request did not get the turn given back")
	}
	g.Leave()
}
