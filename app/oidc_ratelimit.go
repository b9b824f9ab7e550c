package app

import "context"

// The token endpoint's rate limits, counted by each node in memory (ratelimit.go):
//
//   - Refused requests (a wrong secret, an unknown or spent code or refresh token, a grant the
//     client is not registered for): OIDCTokenFailures a minute per key.
//   - Every request, refused or not: Config.TokenPerClient a minute per client key, so that a
//     runaway client (a machine client asking for a token per call, a refresh loop) is slowed
//     down before it fills the token tables.
//
// The key is the client when the request proves it is that client (a confidential client
// whose secret was right), the client at that address for a public client (whom anyone may
// name: the browsers of its users each count apart), and the address alone when no client is
// proven (an unknown client, a wrong secret): nobody who lacks a client's secret can spend
// that client's budget, and a host application's users whose refreshes fail do not slow down
// its other users.

// OIDCTokenFailures bounds the refused token requests per key and minute.
const OIDCTokenFailures = 60

// DefaultTokenPerClient is Config.TokenPerClient unless set: 20 requests a second on average,
// bursts of a minute's worth.
const DefaultTokenPerClient = 1200

// TokenRequest names who makes a token request: the client it claims to be ("" for none), and
// its address.
type TokenRequest struct {
	ClientID string
	IP       string
}

// tokenKeys returns the key of the request's failures and, when a client is proven or named
// (public), the key of its requests ("" for none).
func (a *OIDC) tokenKeys(ctx context.Context, r TokenRequest, proven bool) (failures, requests string) {
	ipKey := "ip:" + r.IP
	if r.ClientID == "" {
		return ipKey, ""
	}
	cl, err := a.app.Clients.ByID(ctx, r.ClientID)
	switch {
	case err != nil:
		return ipKey, ""
	case cl.Public:
		k := "public:" + cl.ID + "|" + r.IP
		return k, k
	case !proven:
		return ipKey, ""
	}
	return "client:" + cl.ID, "client:" + cl.ID
}

// TokenAttempt says whether a token request may be served now: nil, or a rate-limited
// error with the wait. The address is checked, and the client it names as if proven: a
// client past its budget waits whoever asks in its name.
func (a *OIDC) TokenAttempt(ctx context.Context, r TokenRequest) error {
	now := a.clock.Now()
	wait := a.tokenFailures.wait("ip:"+r.IP, now)
	if r.ClientID != "" {
		f, q := a.tokenKeys(ctx, r, true)
		wait = max(wait, a.tokenFailures.wait(f, now))
		if q != "" {
			wait = max(wait, a.tokenRequests.wait(q, now))
		}
	}
	if wait > 0 {
		return rateLimited(wait)
	}
	return nil
}

// TokenServed counts a token request once answered: proven says the client's secret was
// right, refused that the request was refused.
func (a *OIDC) TokenServed(ctx context.Context, r TokenRequest, proven, refused bool) {
	now := a.clock.Now()
	f, q := a.tokenKeys(ctx, r, proven)
	if q != "" {
		a.tokenRequests.allow(q, now)
	}
	if refused {
		a.tokenFailures.allow(f, now)
	}
}
