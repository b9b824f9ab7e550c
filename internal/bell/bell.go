// Package bell wakes every goroutine waiting for something to happen, without missing a ring
// that comes between looking and waiting: take the channel (Wait), look, then wait on it; a
// Ring in between has already closed it.
package bell

import "sync"

// Bell is rung by whoever makes something happen and waited on by whoever waits for it. The
// zero value is ready to use.
type Bell struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns a channel that the next Ring closes.
func (b *Bell) Wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// Ring wakes everyone waiting on a channel Wait returned.
func (b *Bell) Ring() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}
