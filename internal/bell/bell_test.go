package bell

import "testing"

// TestBell: a ring closes the channel taken before it, and only that one.
func TestBell(t *testing.T) {
	var b Bell
	before := b.Wait()
	if b.Wait() != before {
		t.Fatal("two waits before a ring got different channels")
	}
	b.Ring()
	select {
	case <-before:
	default:
		t.Fatal("the ring did not close the channel taken before it")
	}
	after := b.Wait()
	select {
	case <-after:
		t.Fatal("a channel taken after the ring is already closed")
	default:
	}
	b.Ring()
	b.Ring() // a ring nobody waits for is harmless
	<-after
}
