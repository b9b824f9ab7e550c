package app

import (
	"context"
	"sync/atomic"
)

// countingHasher counts the password verifications of an app, real and dummy alike.
type countingHasher struct {
	passwordHasher
	n atomic.Int64
}

func (h *countingHasher) Verify(ctx context.Context, pw, encoded string) (bool, bool, error) {
	h.n.Add(1)
	return h.passwordHasher.Verify(ctx, pw, encoded)
}

func (h *countingHasher) VerifyDummy(ctx context.Context, pw string) {
	h.n.Add(1)
	h.passwordHasher.VerifyDummy(ctx, pw)
}

// CountVerifications makes an app count every password it verifies from now on, and
// returns the count. Call it before the app serves concurrent requests.
func CountVerifications(a *App) *atomic.Int64 {
	h := &countingHasher{passwordHasher: a.hasher}
	a.hasher = h
	return &h.n
}
