package app

import (
	"context"
	"slices"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// sessionLive reports whether a session may still be used at now: before its absolute end,
// and used within the idle limit. It is the one rule of a session's life: authenticating,
// listing one's sessions and listing a browser's identities all ask it.
func (a *Auth) sessionLive(s roster.Session, now time.Time) bool {
	return now.Before(s.ExpiresAt) && now.Sub(s.LastSeenAt) < a.cfg.SessionIdle
}

// sessionActor returns the actor of a live session whose user is u, recording the session's
// use (at most once every touchEvery). A deactivated user's session authenticates nobody.
func (a *Auth) sessionActor(ctx context.Context, actor roster.Actor, s roster.Session, u roster.User, now time.Time, unauth error) (roster.Actor, error) {
	if u.Status != roster.UserActive {
		return actor, unauth
	}
	if now.Sub(s.LastSeenAt) > touchEvery {
		if err := a.write(ctx, actor, func(t *txn) error { return t.TouchSession(t.ctx, s.ID, u.ID, t.now) }); err != nil {
			return actor, err
		}
	}
	actor.Kind, actor.UserID, actor.SessionID, actor.Operator = roster.ActorUser, u.ID, s.ID, u.Operator
	return actor, nil
}

// Identity is one identity signed in in a console browser.
type Identity struct {
	Token string       // the session token, as the browser holds it
	Actor roster.Actor // the session's user, to sign this identity out
	User  roster.User
}

// Browser is who is signed in in a console browser: the active identity, and the others the
// account chooser offers.
type Browser struct {
	Active *Identity // nil when the active session is missing or ended, or its user deactivated
	Others []Identity
}

// IdentifyBrowser authenticates the active session of a console browser, as Authenticate
// does (its use is recorded), and lists the browser's other signed-in identities, all in one
// read. The others are only looked at: listing them in the account chooser does not record
// a use, so a session left in the background still ends after its idle limit. Ended
// sessions and deactivated users are left out of Others; tokens is in the browser's order.
func (a *Auth) IdentifyBrowser(ctx context.Context, active string, tokens []string, ip, userAgent string) (Browser, error) {
	var hashes []string
	for _, tok := range append([]string{active}, tokens...) {
		if token.WellFormed(token.PrefixSession, tok) && !slices.Contains(hashes, token.Hash(tok)) {
			hashes = append(hashes, token.Hash(tok))
		}
	}
	found, err := a.read().SessionsByTokenHashes(ctx, hashes)
	if err != nil {
		return Browser{}, err
	}
	now := a.clock.Now()
	live := map[string]sqlstore.SessionUser{}
	for _, f := range found {
		if a.sessionLive(f.Session, now) {
			live[f.TokenHash] = f
		}
	}
	var b Browser
	if f, ok := live[token.Hash(active)]; ok && active != "" {
		unauth := roster.Errorf(roster.EUnauthenticated, "the session ended; log in again")
		actor, err := a.sessionActor(ctx, roster.Actor{IP: ip, UserAgent: userAgent}, f.Session, f.User, now, unauth)
		switch {
		case err == nil:
			b.Active = &Identity{Token: active, Actor: actor, User: f.User}
		case roster.ErrorCode(err) != roster.EUnauthenticated:
			return Browser{}, err
		}
	}
	for _, tok := range tokens {
		f, ok := live[token.Hash(tok)]
		if !ok || tok == active || f.User.Status != roster.UserActive || slices.ContainsFunc(b.Others, func(o Identity) bool { return o.Token == tok }) {
			continue
		}
		b.Others = append(b.Others, Identity{Token: tok, User: f.User, Actor: roster.Actor{Kind: roster.ActorUser, UserID: f.User.ID,
			SessionID: f.Session.ID, Operator: f.User.Operator, IP: ip, UserAgent: userAgent}})
	}
	return b, nil
}
