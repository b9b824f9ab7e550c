package app

import (
	"context"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// Organizations held whole. A host application asks about any of its users, not only about
// those it asked about a moment ago; one by one, each first question costs three or four
// queries. When every membership of the database fits in the index (by estimate), a first
// question in an organization loads all of it instead — its memberships, their users and
// store memberships, in two queries — and the organization is then held whole: a user the
// index does not hold in it is not a member, with no query. Until then, and for organizations
// of more than orgWholeLimit members, entries are filled one by one, as asked (index_read.go).
//
// Whole is a property of one generation's entries (generation.whole): every change of a
// membership, a user or the organization takes it away (generation.dropAccess, dropOrg), so
// an organization is held whole only while nothing the index has not applied could have
// added someone to it.

// memberBytes estimates what a membership held whole costs as the generations count it: its
// access with a few store grants and a share of its user (TestIndexCostEstimates: 556 bytes
// estimated, 441 on the heap, with three store memberships). At least the estimate, so that a
// graph that fits by this count fits by the entries' own.
const memberBytes = 576

// graphRecount is how often the count of memberships that decides wholeOrgs is refreshed.
const graphRecount = time.Minute

// graphSize is what the index knows of the size of the access graph.
type graphSize struct {
	members   int64     // memberships of every organization, when last counted
	countedAt time.Time // zero: never
	counting  bool      // a recount runs
}

// wholeOrgs reports whether organizations are loaded whole: when every membership, at
// memberBytes each, fits in one generation. The first call counts them; later calls use a
// count at most graphRecount old, refreshed in the background.
func (x *accessIndex) wholeOrgs(ctx context.Context, c *sqlstore.Conn) bool {
	x.mu.Lock()
	g := x.graph
	stale := !g.countedAt.IsZero() && time.Since(g.countedAt) > graphRecount && !g.counting
	if stale {
		x.graph.counting = true
	}
	x.mu.Unlock()
	switch {
	case g.countedAt.IsZero():
		n, err := c.MembershipCount(ctx)
		if err != nil {
			return false
		}
		x.setGraph(n)
		g.members = n
	case stale:
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			n, err := x.db.Read().MembershipCount(ctx)
			if err != nil {
				x.mu.Lock()
				x.graph.counting = false
				x.mu.Unlock()
				return
			}
			x.setGraph(n)
		}()
	}
	return g.members*memberBytes <= x.maxBytes/2
}

func (x *accessIndex) setGraph(members int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.graph = graphSize{members: members, countedAt: time.Now()}
}

// Everyone's organizations in one read. A host asks which stores any of its users may open,
// and the first question about each user read that user's organizations (orgsOf): for 100,000
// users, 100,000 queries. When the graph fits (wholeOrgs), such a read also starts, in the
// background, one read of every membership's user and organization, and the index keeps every
// user's list from it: as many fills sharing one epoch, all dropped if any change was applied
// meanwhile, and each list then dropped by the same keys as one filled alone (m:, u:, o:). At
// most one such read runs, and at most one starts per graphRecount.
type everyOrgsOf struct {
	running   bool
	startedAt time.Time
	kept      int // users whose list the last read kept (Access.IndexStats)
}

// loadEveryOrgsOf starts the read of every user's organizations, unless one runs or ran
// less than graphRecount ago.
func (x *accessIndex) loadEveryOrgsOf() {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := &x.everyOrgsOf
	if e.running || !e.startedAt.IsZero() && time.Since(e.startedAt) < graphRecount {
		return
	}
	e.running, e.startedAt = true, time.Now()
	epoch := x.epoch
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		lists, err := x.db.Read().EveryUsersOrganizations(ctx)
		x.mu.Lock()
		defer x.mu.Unlock()
		e.running = false
		if err != nil || epoch != x.epoch || !x.trusted {
			return // a change was applied during the read: the lists may predate it
		}
		kept := 0
		for user, ids := range lists {
			if _, ok := x.cur.orgsOf[user]; ok {
				continue
			}
			if x.roomLocked(orgsOfCost(ids)) {
				x.cur.putOrgsOf(user, ids)
				kept++
			}
		}
		e.kept = kept
	}()
}

// orgWholeLimit is the most members an organization loaded whole may have: a quarter of a
// generation. Loads happen only when every membership fits in one generation, so that all
// of them fit together; the largest organizations are the most asked about, and one filled a
// member at a time costs two queries for each of its members (a sixty-fourth, the limit
// before, left the benchmark's organization of 100,000 members to 200,000 queries). The
// questions about an organization wait for its load, once.
func (x *accessIndex) orgWholeLimit() int {
	return int(max(x.maxBytes/2/4/memberBytes, 1))
}

// member answers from the index what a user holds in an organization: the entry when it holds
// one, not a member when it holds the organization whole and not them. An entry found in the
// old generation moves to the current one.
func (x *accessIndex) member(orgID, userID string, cat *roster.Catalog) (roster.Access, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if p, ok := x.cur.access[orgID][userID]; ok {
		return p.Unpack(orgID, userID, cat), true
	}
	if x.cur.whole[orgID] {
		return roster.NewAccess(orgID, userID, "", "", nil, cat), true
	}
	if p, ok := x.old.access[orgID][userID]; ok {
		acc := p.Unpack(orgID, userID, cat)
		if x.roomLocked(accessCost(acc)) {
			x.cur.putPacked(orgID, userID, p)
		}
		return acc, true
	}
	if x.old.whole[orgID] {
		return roster.NewAccess(orgID, userID, "", "", nil, cat), true
	}
	return roster.Access{}, false
}

// loadOrg loads an organization whole and answers what userID holds in it; ok is false when
// the organization is too large to load whole (the caller fills one entry instead). Reads of
// the same organization that arrive during its load wait for it.
func (s *source) loadOrg(ctx context.Context, cat *roster.Catalog, orgID, userID string) (acc roster.Access, ok bool, err error) {
	x := s.x
	x.mu.Lock()
	if x.cur.tooBig[orgID] || x.old.tooBig[orgID] {
		x.mu.Unlock()
		return roster.Access{}, false, nil
	}
	if wait, loading := x.loading[orgID]; loading {
		x.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return roster.Access{}, false, sqlstore.MapError(ctx.Err())
		}
		acc, ok := x.member(orgID, userID, cat)
		return acc, ok, nil // not ok when the load was not kept: the caller fills one entry
	}
	done := make(chan struct{})
	x.loading[orgID] = done
	x.mu.Unlock()
	defer func() {
		x.mu.Lock()
		delete(x.loading, orgID)
		x.mu.Unlock()
		close(done)
	}()

	members, sms, whole, err := s.c.OrganizationAccess(ctx, orgID, x.orgWholeLimit())
	if err != nil {
		return roster.Access{}, false, err
	}
	if !whole {
		x.mu.Lock()
		if x.admitLocked(s.epoch, idCost(orgID)) {
			x.cur.tooBig[orgID] = true
		}
		x.mu.Unlock()
		return roster.Access{}, false, nil
	}
	res := s.a.resolver(ctx, s.c, cat, orgID)
	w, err := newWholeOrg(orgID, members, sms, res.grant, cat)
	if err != nil {
		return roster.Access{}, false, err
	}
	x.mu.Lock()
	if x.admitLocked(s.epoch, w.cost) {
		x.cur.putWhole(w)
	}
	x.mu.Unlock()
	return w.access(userID, cat), true, nil
}

// wholeOrg is an organization's access as loadOrg reads it, ready to be held whole.
type wholeOrg struct {
	orgID string
	accs  []roster.Access
	users []indexedUser // of accs[i].UserID
	cost  int64         // estimated, as admitLocked counts it
}

// newWholeOrg computes every member's access; grant resolves a store membership's role.
func newWholeOrg(orgID string, members []sqlstore.MemberAccess, sms []roster.StoreMembership, grant func(storeID, roleID string) (roster.StoreGrant, error), cat *roster.Catalog) (wholeOrg, error) {
	// One string per store, role and status, and one for the organization, shared by every entry.
	ids := map[string]string{orgID: orgID}
	intern := func(id string) string {
		if v, ok := ids[id]; ok {
			return v
		}
		ids[id] = id
		return id
	}
	stores := map[string][]roster.StoreMembership{} // user → their store memberships
	for _, sm := range sms {
		sm.StoreID = intern(sm.StoreID)
		stores[sm.UserID] = append(stores[sm.UserID], sm)
	}
	w := wholeOrg{orgID: orgID, accs: make([]roster.Access, len(members)), users: make([]indexedUser, len(members)), cost: idCost(orgID)}
	roles := &roster.GrantRoles{} // one per role for the whole organization
	sets := map[string]bool{}     // the custom roles' permission sets counted so far
	for i, m := range members {
		ms := m.Membership
		ms.OrgID, ms.Role, ms.Status = orgID, roster.OrgRole(intern(string(ms.Role))), roster.MembershipStatus(intern(string(ms.Status)))
		a, err := memberAccess(ms, stores[ms.UserID], grant, cat, roles)
		if err != nil {
			return wholeOrg{}, err
		}
		w.accs[i], w.users[i] = a, newIndexedUser(m.UserStatus, m.Operator)
		w.cost += accessCostSharing(a, sets) + userCost(w.users[i])
	}
	return w, nil
}

// access is what userID holds in the organization.
func (w wholeOrg) access(userID string, cat *roster.Catalog) roster.Access {
	for _, a := range w.accs {
		if a.UserID == userID {
			return a
		}
	}
	return roster.NewAccess(w.orgID, userID, "", "", nil, cat)
}

// putWhole holds an organization whole in the generation.
func (g *generation) putWhole(w wholeOrg) {
	for i, a := range w.accs {
		g.putAccess(a)
		g.users[a.UserID] = w.users[i]
	}
	g.whole[w.orgID] = true
}

// wholeOrgsLocked counts the organizations held whole in either generation.
func (x *accessIndex) wholeOrgsLocked() int {
	n := len(x.cur.whole)
	for org := range x.old.whole {
		if !x.cur.whole[org] {
			n++
		}
	}
	return n
}
