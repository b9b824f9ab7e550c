// Package gate bounds expensive work in one process — argon2id hashes, logo decodes, password
// attempts — and how long and how many requests may wait for a turn, so that under a flood
// requests are refused at once (the caller answers 503 with Retry-After) instead of queueing
// for seconds and holding memory.
package gate

import (
	"context"
	"time"
)

// Gate lets a number of holders in at once, and a bounded number of others wait a bounded
// time for a turn.
type Gate struct {
	turns   chan struct{} // holders
	waiting chan struct{} // requests waiting for a turn
	wait    time.Duration
}

// New returns a gate for running holders at once, with at most waiting requests waiting, each
// at most wait.
func New(running, waiting int, wait time.Duration) *Gate {
	return &Gate{turns: make(chan struct{}, max(1, running)), waiting: make(chan struct{}, max(0, waiting)), wait: wait}
}

// Enter takes a turn and reports whether it got one; a caller that got one calls Leave when
// done. It answers false at once when the waiting room is full, or after wait, or when ctx ends.
func (g *Gate) Enter(ctx context.Context) bool {
	select {
	case g.turns <- struct{}{}:
		return true
	default:
	}
	select {
	case g.waiting <- struct{}{}:
		defer func() { <-g.waiting }()
	default:
		return false // the waiting room is full: refuse now rather than queue
	}
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	select {
	case g.turns <- struct{}{}:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	return false
}

// Leave gives a turn back.
func (g *Gate) Leave() { <-g.turns }
