package app

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

// TestBarrierCoalesces: callers that arrive while a revision read is under way do not use it
// (it may have started before their write returned); they all share the next one. Many
// concurrent checks cost two reads, not one each.
func TestBarrierCoalesces(t *testing.T) {
	started, release := make(chan int64, 10), make(chan struct{})
	var mu sync.Mutex
	var rev int64
	b := &barrier{read: func(context.Context) (int64, error) {
		mu.Lock()
		rev++
		r := rev
		mu.Unlock()
		started <- r
		<-release
		return r, nil
	}}
	first := make(chan int64)
	go func() { r, _ := b.wait(context.Background()); first <- r }()
	if r := <-started; r != 1 {
		t.Fatalf("first read %d", r)
	}
	// The first read is under way: these callers arrive after it started.
	const n = 50
	got := make(chan int64, n)
	for range n {
		go func() { r, _ := b.wait(context.Background()); got <- r }()
	}
	for {
		b.mu.Lock()
		joined := b.calls
		b.mu.Unlock()
		if joined == n+1 {
			break
		}
		runtime.Gosched()
	}
	release <- struct{}{}
	if r := <-first; r != 1 {
		t.Fatalf("the first caller got %d", r)
	}
	if r := <-started; r != 2 {
		t.Fatalf("second read %d", r)
	}
	release <- struct{}{}
	for range n {
		if r := <-got; r != 2 {
			t.Fatalf("a caller that arrived during read 1 was answered by read %d", r)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.reads != 2 {
		t.Fatalf("%d reads for %d callers, want 2", b.reads, n+1)
	}
}
