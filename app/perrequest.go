package app

import (
	"context"
	"sync"

	"github.com/rosterhq/roster"
)

// PerRequest returns a context for the use cases one request calls. Their reads share the
// access they derive: a user's access to an organization (with the organization and the
// permission catalog) is computed once per request, not once per use case; so are an
// application (OpenID client) read, which one token request needs at each of its steps, the
// organization claims of its tokens (the access token's and the ID token's, the same) and the
// signing key of each algorithm. Writes never use
// it (they derive access again in their transaction, under the organization's lock), and a
// write that commits forgets it, so that the reads after a change see the change. Its reads
// from the access index share one read barrier (WithRequestBarrier).
func PerRequest(ctx context.Context) context.Context {
	return context.WithValue(WithRequestBarrier(ctx), scopesKey{}, &sharedScopes{})
}

type scopesKey struct{}

// sharedScopes are the organizations a request's reads have scoped, by organization ID.
type sharedScopes struct {
	mu      sync.Mutex
	userID  string
	orgs    map[string]scope
	clients map[string]clientRead // by client ID
	claims  map[string]OIDCClaims // by user, organization and store (oidc.go, OrgClaims)
	keys    map[string]SigningKey // by algorithm (oidc_keys.go, SigningKeys.For)
}

// memo returns what get gives for key, once per request: from the request's memo m (one of
// sharedScopes' maps) when it has it, else from get, kept there. Without a request's
// context, get is called each time.
func memo[V any](ctx context.Context, m func(*sharedScopes) *map[string]V, key string, get func() (V, error)) (V, error) {
	s, _ := ctx.Value(scopesKey{}).(*sharedScopes)
	if s == nil {
		return get()
	}
	s.mu.Lock()
	v, ok := (*m(s))[key]
	s.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := get()
	if err == nil {
		s.mu.Lock()
		if *m(s) == nil {
			*m(s) = map[string]V{}
		}
		(*m(s))[key] = v
		s.mu.Unlock()
	}
	return v, err
}

// clientRead is an application as read from the database, with its secret's hash.
type clientRead struct {
	client roster.OIDCClient
	hash   string
}

// oidcClient reads an application, once per request, through the access index.
func (a *core) oidcClient(ctx context.Context, id string) (roster.OIDCClient, string, error) {
	r, err := memo(ctx, func(s *sharedScopes) *map[string]clientRead { return &s.clients }, id, func() (clientRead, error) {
		src, err := a.source(ctx, 0) // the access index keeps applications (key cl:)
		if err != nil {
			return clientRead{}, err
		}
		return src.client(ctx, id)
	})
	return r.client, r.hash, err
}

// sharedScope returns the scope a read of this request derived for a user in an
// organization. Only a signed-in user's scope is shared.
func sharedScope(ctx context.Context, actor roster.Actor, orgID string) (scope, bool) {
	s, _ := ctx.Value(scopesKey{}).(*sharedScopes)
	if s == nil || actor.Kind != roster.ActorUser {
		return scope{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.orgs[orgID]
	return sc, ok && s.userID == actor.UserID
}

// shareScope keeps a scope derived outside any transaction for the request's next reads.
func shareScope(ctx context.Context, actor roster.Actor, sc scope) {
	s, _ := ctx.Value(scopesKey{}).(*sharedScopes)
	if s == nil || actor.Kind != roster.ActorUser {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orgs == nil || s.userID != actor.UserID {
		s.userID, s.orgs = actor.UserID, map[string]scope{}
	}
	s.orgs[sc.org.ID] = sc
}

// forgetScopes drops the scopes of a request after a change.
func forgetScopes(ctx context.Context) {
	if s, _ := ctx.Value(scopesKey{}).(*sharedScopes); s != nil {
		s.mu.Lock()
		s.orgs, s.clients, s.claims, s.keys = nil, nil, nil, nil
		s.mu.Unlock()
	}
}
