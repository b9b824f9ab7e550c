package app

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter allows each key (an IP address, say) n events per period, with bursts of n.
// It lives in memory: each Roster process counts on its own, which bounds a flood without a
// shared store. Per-account limits, which must hold across processes, are in the database.
type rateLimiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	keys    map[string]*entry
	lastGC  time.Time
	idleTTL time.Duration
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newRateLimiter(n int, period time.Duration) *rateLimiter {
	if n < 1 {
		n = 1
	}
	return &rateLimiter{every: rate.Every(period / time.Duration(n)), burst: n, keys: map[string]*entry{}, idleTTL: 2 * period}
}

// wait says how long key must wait before its next event, without taking one (0: it may go).
func (r *rateLimiter) wait(key string, now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.keys[key]
	if !ok {
		return 0
	}
	if tokens := e.lim.TokensAt(now); tokens < 1 {
		return time.Duration((1 - tokens) / float64(r.every) * float64(time.Second))
	}
	return 0
}

// allow takes one event for key at now; when none is left it says how long to wait.
func (r *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.lastGC) > r.idleTTL {
		for k, e := range r.keys {
			if now.Sub(e.seen) > r.idleTTL {
				delete(r.keys, k)
			}
		}
		r.lastGC = now
	}
	e, ok := r.keys[key]
	if !ok {
		e = &entry{lim: rate.NewLimiter(r.every, r.burst)}
		r.keys[key] = e
	}
	e.seen = now
	res := e.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}
