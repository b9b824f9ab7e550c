package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testenv"
)

// TestRetryAfterOnEvery429And503: whatever produced a 429 or a 503 — a rate limit or an
// outage with or without a known wait, or huma itself — the answer says when to come back.
func TestRetryAfterOnEvery429And503(t *testing.T) {
	f := failer{log: testenv.Logger(t)}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"rate limit with a wait", &roster.Error{Code: roster.ERateLimited, Message: "slow down", RetryAfter: 90 * time.Second}, "90"},
		{"rate limit without a wait", roster.Errorf(roster.ERateLimited, "slow down"), "5"},
		{"outage without a wait", roster.Errorf(roster.EUnavailable, "down"), "5"},
		{"outage with a wait", &roster.Error{Code: roster.EUnavailable, Message: "busy", RetryAfter: 1500 * time.Millisecond}, "2"},
		{"huma's 429", huma.NewError(http.StatusTooManyRequests, "slow down"), "5"},
		{"huma's 503", huma.NewError(http.StatusServiceUnavailable, "down"), "5"},
	} {
		var p *Problem
		if hp, ok := c.err.(*Problem); ok {
			p = hp
		} else {
			p = f.fail(context.Background(), c.err).(*Problem)
		}
		if got := p.GetHeaders().Get("Retry-After"); got != c.want {
			t.Errorf("%s: status %d, Retry-After %q, want %q", c.name, p.Status, got, c.want)
		}
	}
	if h := (&Problem{Status: http.StatusConflict}).GetHeaders().Get("Retry-After"); h != "" {
		t.Errorf("a 409 with Retry-After %q", h)
	}
}
