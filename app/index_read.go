package app

import (
	"context"
	"crypto/hmac"
	"slices"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// source answers the reads of a check: from the access index when it may answer (ready),
// else from SQL. Either way, the answer is what the tables said after the read arrived.
type source struct {
	a     *core
	c     *sqlstore.Conn
	x     *accessIndex // nil: from SQL
	epoch uint64       // the index epoch that fills are made under

	cat *roster.Catalog // the catalog, once read
}

// source returns where a read that arrives now may answer from. atLeast is the access
// revision the client asked for, 0 for none.
func (a *core) source(ctx context.Context, atLeast int64) (*source, error) {
	s := &source{a: a, c: a.read()}
	if a.index == nil {
		return s, checkAhead(ctx, a.db, atLeast)
	}
	epoch, ok, err := a.index.ready(ctx, atLeast)
	if err != nil {
		return nil, err
	}
	if ok {
		s.x, s.epoch = a.index, epoch
		a.index.fromIndex.Add(1)
	} else {
		a.index.fromSQL.Add(1)
	}
	return s, nil
}

// fill answers from the index when it holds the entry (get), else runs load outside the
// lock and keeps its result (put) only when no change of access was applied meanwhile (the
// epoch did not move): a fill that might have read a state older than a change it did not
// see is answered once, never kept. An entry found in the old generation moves to the
// current one. cost estimates an entry's memory (index_size.go).
func fill[T any](s *source, get func(*generation) (T, bool), load func() (T, error), put func(*generation, T), cost func(T) int64) (T, error) {
	x := s.x
	x.mu.Lock()
	v, ok := get(x.cur)
	if !ok {
		if v, ok = get(x.old); ok && x.roomLocked(cost(v)) {
			put(x.cur, v)
		}
	}
	x.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	x.mu.Lock()
	if x.admitLocked(s.epoch, cost(v)) {
		put(x.cur, v)
	}
	x.mu.Unlock()
	return v, nil
}

func (s *source) catalog(ctx context.Context) (*roster.Catalog, error) {
	if s.cat != nil {
		return s.cat, nil
	}
	var err error
	if s.x == nil {
		s.cat, err = s.a.catalog(ctx, s.c)
		return s.cat, err
	}
	s.cat, err = fill(s, func(*generation) (*roster.Catalog, bool) { return s.x.cat, s.x.cat != nil },
		func() (*roster.Catalog, error) { return s.a.catalog(ctx, s.c) },
		func(_ *generation, c *roster.Catalog) { s.x.cat = c },
		func(*roster.Catalog) int64 { return 0 }) // one, of bounded size, outside the generations
	return s.cat, err
}

// user returns a user. From the index, only what access depends on: their ID, status and
// operator right (key u:); a caller needing the profile reads SQL.
func (s *source) user(ctx context.Context, id string) (roster.User, error) {
	if s.x == nil {
		return s.c.User(ctx, id)
	}
	u, err := fill(s, func(g *generation) (indexedUser, bool) { u, ok := g.users[id]; return u, ok },
		func() (indexedUser, error) {
			u, err := s.c.User(ctx, id)
			return newIndexedUser(u.Status, u.Operator), err
		},
		func(g *generation, u indexedUser) { g.users[id] = u }, userCost)
	return roster.User{ID: id, Status: u.status, Operator: u.operator}, err
}

func (s *source) store(ctx context.Context, id string) (roster.Store, error) {
	if s.x == nil {
		return s.c.Store(ctx, id)
	}
	return fill(s, func(g *generation) (roster.Store, bool) { st, ok := g.stores[id]; return st, ok },
		func() (roster.Store, error) { return s.c.Store(ctx, id) },
		func(g *generation, st roster.Store) { g.stores[id] = st }, storeCost)
}

// organization returns an organization (key o:), the caller's to change.
func (s *source) organization(ctx context.Context, id string) (roster.Organization, error) {
	if s.x == nil {
		return s.c.Organization(ctx, id)
	}
	o, err := s.sharedOrganization(ctx, id)
	// A copy: callers may change what they are given, never the index.
	o.Policy.AllowedDomains = slices.Clone(o.Policy.AllowedDomains)
	return o, err
}

// sharedOrganization is an organization's row as the index holds it: read it, never change
// it. Only with the index (s.x).
func (s *source) sharedOrganization(ctx context.Context, id string) (roster.Organization, error) {
	o, err := s.indexedOrganization(ctx, id)
	return o.Organization, err
}

// indexedOrg is an organization as the index holds it, with its name's collation key
// (roster.NameKey): every answer of the stores a user may open sorts their organizations, and
// collating the names again at each comparison was 3 % of such an answer's CPU.
type indexedOrg struct {
	roster.Organization
	nameKey []byte
}

func (s *source) indexedOrganization(ctx context.Context, id string) (indexedOrg, error) {
	return fill(s, func(g *generation) (indexedOrg, bool) { o, ok := g.orgs[id]; return o, ok },
		func() (indexedOrg, error) {
			o, err := s.c.Organization(ctx, id)
			if err != nil {
				return indexedOrg{}, err
			}
			return indexedOrg{Organization: o, nameKey: roster.NameKey(o.Name)}, nil
		},
		func(g *generation, o indexedOrg) { g.orgs[id] = o }, indexedOrgCost)
}

// access is what a user holds in an organization (nothing when not a member).
func (s *source) access(ctx context.Context, orgID, userID string) (roster.Access, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return roster.Access{}, err
	}
	if s.x == nil {
		return s.a.userAccess(ctx, s.c, cat, orgID, userID)
	}
	if acc, ok := s.x.member(orgID, userID, cat); ok {
		return acc, nil
	}
	if s.x.wholeOrgs(ctx, s.c) {
		if acc, ok, err := s.loadOrg(ctx, cat, orgID, userID); ok || err != nil {
			return acc, err
		}
	}
	// Most questions about someone outside the organization are answered by the one entry
	// listing the user's organizations, not by an entry per organization asked about.
	orgs, err := s.orgsOf(ctx, userID)
	if err != nil {
		return roster.Access{}, err
	}
	if !slices.Contains(orgs, orgID) {
		return roster.NewAccess(orgID, userID, "", "", nil, cat), nil
	}
	return fill(s, func(g *generation) (roster.Access, bool) {
		if p, ok := g.access[orgID][userID]; ok {
			return p.Unpack(orgID, userID, cat), true
		}
		return roster.Access{}, false
	},
		func() (roster.Access, error) { return s.a.userAccess(ctx, s.c, cat, orgID, userID) },
		func(g *generation, acc roster.Access) { g.putAccess(acc) }, accessCost)
}

// orgsOf returns the organizations a user is a member of, suspended or not; read it, never
// change it. Only with the index (s.x).
func (s *source) orgsOf(ctx context.Context, userID string) ([]string, error) {
	return fill(s, func(g *generation) ([]string, bool) { o, ok := g.orgsOf[userID]; return o, ok },
		func() ([]string, error) {
			if s.x.wholeOrgs(ctx, s.c) {
				s.x.loadEveryOrgsOf() // in the background: this read goes on
			}
			return s.c.UserOrganizationIDs(ctx, userID)
		},
		func(g *generation, orgs []string) { g.putOrgsOf(userID, orgs) }, orgsOfCost)
}

// activeStores returns an organization's active stores in name order (roster.CompareByName);
// read them, never change them. Only with the index (s.x).
func (s *source) activeStores(ctx context.Context, orgID string) ([]roster.Store, error) {
	return fill(s, func(g *generation) ([]roster.Store, bool) { st, ok := g.active[orgID]; return st, ok },
		func() ([]roster.Store, error) { return s.c.ListStores(ctx, orgID, roster.StoreActive) },
		func(g *generation, stores []roster.Store) { g.active[orgID] = stores }, activeStoresCost)
}

// userStores is the stores a user may open with a permission ("": any), put together from
// what the index holds of each of their organizations — the organization, the user's access
// in it (often from the organization held whole), its active stores — rather than from a
// copy of all of it per user (sharedAffiliations): a host application asks about any of its
// users, and per user the copy is what would not fit. The order is the selector's:
// organizations, then their stores, by roster.CompareByName. Only with the index (s.x).
func (s *source) userStores(ctx context.Context, userID string, perm roster.Permission) ([]roster.StoreAccess, error) {
	orgs, err := s.orgsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	type orgStores struct {
		key    []byte // the organization's name's collation key, then
		id     string // its ID, to sort by
		stores []roster.StoreAccess
	}
	found := make([]orgStores, 0, len(orgs))
	n := 0
	for _, orgID := range orgs {
		acc, err := s.access(ctx, orgID, userID)
		if err != nil {
			return nil, err
		}
		if !acc.Active() {
			continue // a suspended membership reaches no store
		}
		o, err := s.indexedOrganization(ctx, orgID) // its name only
		if roster.ErrorCode(err) == roster.ENotFound {
			continue // deleted since the list was read
		}
		if err != nil {
			return nil, err
		}
		stores, err := s.activeStores(ctx, orgID)
		if err != nil {
			return nil, err
		}
		e := orgStores{key: o.nameKey, id: o.ID}
		if acc.AllStores() {
			e.stores = make([]roster.StoreAccess, 0, len(stores))
		}
		for _, st := range stores {
			if g, ok := acc.Store(st.ID); ok && (perm == "" || g.Perms.Has(perm)) {
				e.stores = append(e.stores, roster.StoreAccess{Store: st, Grant: g})
			}
		}
		found = append(found, e)
		n += len(e.stores)
	}
	slices.SortFunc(found, func(x, y orgStores) int { return roster.CompareByNameKey(x.key, x.id, y.key, y.id) })
	out := make([]roster.StoreAccess, 0, n)
	for _, e := range found {
		out = append(out, e.stores...)
	}
	return out, nil
}

// oidcToken returns an OpenID token by its ID: its revocation is a change of access
// (sqlstore/access.go, keys ot:, of:, ou:, oc:), so the index keeps the row of a token that
// is used again and again as a bearer.
func (s *source) oidcToken(ctx context.Context, id string) (sqlstore.OIDCToken, error) {
	if s.x == nil {
		return s.c.OIDCToken(ctx, id)
	}
	t, err := fill(s, func(g *generation) (sqlstore.OIDCToken, bool) { t, ok := g.oidc[id]; return t, ok },
		func() (sqlstore.OIDCToken, error) { return s.c.OIDCToken(ctx, id) },
		func(g *generation, t sqlstore.OIDCToken) { g.oidc[id] = t }, oidcTokenCost)
	// A copy: callers may change what they are given, never the index.
	t.Scopes, t.Audience = slices.Clone(t.Scopes), slices.Clone(t.Audience)
	return t, err
}

// client returns an OpenID application with its secret's hash.
func (s *source) client(ctx context.Context, id string) (clientRead, error) {
	read := func() (clientRead, error) {
		cl, hash, err := s.c.OIDCClient(ctx, id)
		return clientRead{client: cl, hash: hash}, err
	}
	if s.x == nil {
		return read()
	}
	r, err := fill(s, func(g *generation) (clientRead, bool) { r, ok := g.clients[id]; return r, ok }, read,
		func(g *generation, r clientRead) { g.clients[id] = r }, clientCost)
	// A copy: callers may change what they are given, never the index.
	r.client.RedirectURIs, r.client.PostLogoutRedirectURIs = slices.Clone(r.client.RedirectURIs), slices.Clone(r.client.PostLogoutRedirectURIs)
	r.client.Scopes, r.client.CORSOrigins, r.client.Permissions = slices.Clone(r.client.Scopes), slices.Clone(r.client.CORSOrigins), slices.Clone(r.client.Permissions)
	return r, err
}

// sharedAffiliations is the selector's data of a user as the index holds them: read them,
// never change them (Accounts.Organizations copies them for callers that keep them). The
// stores a user may open are put together from shared entries instead (userStores); without
// the index they are read from these.
func (s *source) sharedAffiliations(ctx context.Context, userID string) ([]roster.Affiliation, error) {
	if s.x == nil {
		return s.a.selector(ctx, s.c, userID)
	}
	return fill(s, func(g *generation) ([]roster.Affiliation, bool) { a, ok := g.affs[userID]; return a, ok },
		func() ([]roster.Affiliation, error) { return s.a.selector(ctx, s.c, userID) },
		func(g *generation, affs []roster.Affiliation) { g.putAffiliations(userID, affs) }, affiliationsCost)
}

// rendering is what a caller made of a user's selector entry (Accounts.RenderOrganizations):
// it answers for the very entry it was made of, never for one filled again since.
type rendering struct {
	of *roster.Affiliation // the entry's first element: its identity
	b  []byte
}

// sameAffs reports whether a and b are the same entry, not merely equal ones.
func sameAffs(a, b []roster.Affiliation) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// rendered returns the rendering kept with the user's selector entry, if the index holds both.
func (s *source) rendered(userID string) ([]byte, bool) {
	if s.x == nil {
		return nil, false
	}
	s.x.mu.Lock()
	defer s.x.mu.Unlock()
	r, ok := s.x.cur.render[userID]
	if affs := s.x.cur.affs[userID]; !ok || len(affs) == 0 || r.of != &affs[0] {
		return nil, false
	}
	return r.b, true
}

// keepRendered keeps b, a rendering of affs, with the user's selector entry, counted in the
// index's memory, if affs is still that entry.
func (s *source) keepRendered(userID string, affs []roster.Affiliation, b []byte) {
	if s.x == nil {
		return
	}
	x := s.x
	x.mu.Lock()
	defer x.mu.Unlock()
	if sameAffs(x.cur.affs[userID], affs) && x.roomLocked(renderingCost(b)) && sameAffs(x.cur.affs[userID], affs) {
		x.cur.render[userID] = rendering{of: &affs[0], b: b}
	}
}

// apiKey returns an API key whose secret is the one given, or ENotFound.
func (s *source) apiKey(ctx context.Context, id, secret string, verify func(hash string) bool) (roster.APIKey, error) {
	if s.x == nil {
		k, hash, err := s.c.APIKeyByID(ctx, id)
		if err == nil && !verify(hash) {
			err = roster.NotFound("API key")
		}
		return k, err
	}
	mac := s.x.mac(secret)
	ik, err := fill(s, func(g *generation) (indexedKey, bool) { k, ok := g.keys[id]; return k, ok },
		func() (indexedKey, error) {
			k, hash, err := s.c.APIKeyByID(ctx, id)
			if err == nil && !verify(hash) {
				err = roster.NotFound("API key")
			}
			return indexedKey{key: k, mac: mac}, err
		},
		func(g *generation, k indexedKey) { g.keys[id] = k }, keyCost)
	if err != nil {
		return roster.APIKey{}, err
	}
	if !macEqual(ik.mac, mac) {
		return roster.APIKey{}, roster.NotFound("API key")
	}
	return ik.key, nil
}

// serviceToken returns the ID of the live service token with this secret, and whether its
// last use should be recorded now.
func (s *source) serviceToken(ctx context.Context, secret string, stale func(last *roster.ServiceToken) bool) (string, bool, error) {
	if s.x == nil {
		st, err := s.c.ServiceTokenByHash(ctx, token.Hash(secret))
		if err != nil {
			return "", false, err
		}
		return st.ID, stale(&st), nil
	}
	mac := s.x.mac(secret)
	s.x.mu.Lock()
	t, ok := s.x.cur.tokens[mac]
	if !ok {
		t, ok = s.x.old.tokens[mac]
	}
	s.x.mu.Unlock()
	if !ok {
		st, err := s.c.ServiceTokenByHash(ctx, token.Hash(secret))
		if err != nil {
			return "", false, err
		}
		t = indexedToken{id: st.ID}
		if st.LastUsedAt != nil {
			t.lastUsed = *st.LastUsedAt
		}
	}
	touch := stale(&roster.ServiceToken{ID: t.id, LastUsedAt: &t.lastUsed})
	if touch {
		t.lastUsed = s.a.clock.Now()
	}
	s.x.mu.Lock()
	if e, had := s.x.cur.tokens[mac]; had {
		// Still there, so not revoked since: only its last use moves.
		if t.lastUsed.After(e.lastUsed) {
			e.lastUsed = t.lastUsed
		}
		s.x.cur.tokens[mac] = e
	} else if e, had := s.x.old.tokens[mac]; had && s.x.roomLocked(tokenCost) {
		if t.lastUsed.After(e.lastUsed) {
			e.lastUsed = t.lastUsed
		}
		s.x.cur.tokens[mac] = e // used again: it moves to the current generation
	} else if !had && s.x.admitLocked(s.epoch, tokenCost) {
		s.x.cur.tokens[mac] = t
	}
	s.x.mu.Unlock()
	return t.id, touch, nil
}

func macEqual(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }

// WithRevisionSink returns a context in which the writes of one request record the access
// revision they made; Access.WrittenRevision reads it (the API's Roster-Revision header).
func WithRevisionSink(ctx context.Context) context.Context { return sqlstore.WithRevisionSink(ctx) }

// WrittenRevision returns the access revision a request's writes reached: the highest they
// made, or, when none changed access, the revision this node has applied (0 without an
// index).
func (a *Access) WrittenRevision(ctx context.Context) int64 {
	return max(sqlstore.Revision(ctx), a.Revision())
}
