package app

import (
	"context"

	"github.com/rosterhq/roster"
)

// Access answers "may they?" for host applications (Check, CheckBatch, UserStores) and reports
// on the in-memory access index that answers them (index.go).
type Access struct{ *core }

// CheckInput asks whether a user may do something in a store, or in an organization when
// StoreID is empty.
type CheckInput struct {
	UserID     string
	Permission roster.Permission
	StoreID    string
	OrgID      string
	// AtLeastRevision, when not 0, lets the answer come from any state at least as new as
	// this access revision (a Roster-Revision a write answered with) instead of the state
	// after the question arrived; a batch takes the highest of its questions'.
	AtLeastRevision int64
}

// CheckResult answers a CheckInput, with the reason.
type CheckResult struct {
	roster.Decision
	OrgID   string
	StoreID string
}

// requireChecker lets the host application (its service tokens) and operators ask about
// any user.
func requireChecker(actor roster.Actor) error {
	if actor.Kind == roster.ActorService || (actor.Operator && actor.Kind == roster.ActorUser) {
		return nil
	}
	if actor.Kind == roster.ActorAnonymous || actor.Kind == "" {
		return roster.Errorf(roster.EUnauthenticated, "the check API needs a service token")
	}
	return roster.Forbidden("the check API needs a service token")
}

// Check answers "may this user do this here?" for the host application.
func (a *Access) Check(ctx context.Context, actor roster.Actor, in CheckInput) (CheckResult, error) {
	res, err := a.CheckBatch(ctx, actor, []CheckInput{in})
	if err != nil {
		return CheckResult{}, err
	}
	return res[0], nil
}

// CheckBatch answers several questions at once, in order.
func (a *Access) CheckBatch(ctx context.Context, actor roster.Actor, in []CheckInput) ([]CheckResult, error) {
	if err := requireChecker(actor); err != nil && !ownCheck(actor, in) && actor.Kind != roster.ActorClient {
		return nil, err
	}
	if len(in) == 0 || len(in) > roster.MaxBatchChecks {
		return nil, roster.Invalidf("checks", "give between 1 and %d checks", roster.MaxBatchChecks)
	}
	var atLeast int64
	for _, q := range in {
		atLeast = max(atLeast, q.AtLeastRevision)
	}
	src, err := a.source(ctx, atLeast)
	if err != nil {
		return nil, err
	}
	out := make([]CheckResult, len(in))
	for i, q := range in {
		if out[i], err = a.check(ctx, src, q); err != nil {
			if e := roster.AsError(err); e != nil && len(in) > 1 {
				e = e.With("index", i)
				return nil, e
			}
			return nil, err
		}
	}
	if actor.Kind == roster.ActorClient {
		if err := a.clientChecks(ctx, actor, out); err != nil { // its own organization only
			return nil, err
		}
	}
	return out, nil
}

func (a *Access) check(ctx context.Context, src *source, q CheckInput) (CheckResult, error) {
	cat, err := src.catalog(ctx)
	if err != nil {
		return CheckResult{}, err
	}
	info, ok := cat.Lookup(q.Permission)
	if !ok {
		return CheckResult{}, (&roster.Error{Code: roster.EUnknownPermission, Field: "permission", Message: "unknown permission " + string(q.Permission)}).
			With("permission", string(q.Permission))
	}
	if !roster.ValidID(roster.PrefixUser, q.UserID) {
		return CheckResult{}, roster.NotFound("user")
	}
	u, err := src.user(ctx, q.UserID)
	if err != nil {
		return CheckResult{}, err
	}
	res := CheckResult{StoreID: q.StoreID, OrgID: q.OrgID}
	switch {
	case q.StoreID != "":
		if info.Scope != roster.ScopeStore {
			return res, roster.Invalidf("permission", "%s is an organization permission; ask with organization_id", q.Permission)
		}
		if !roster.ValidID(roster.PrefixStore, q.StoreID) {
			return res, roster.NotFound("store")
		}
		st, err := src.store(ctx, q.StoreID)
		if err != nil {
			return res, err
		}
		if q.OrgID != "" && q.OrgID != st.OrgID {
			return res, roster.NotFound("store")
		}
		res.OrgID = st.OrgID
		if st.Status != roster.StoreActive {
			res.Reason = "store_archived"
			return res, nil
		}
	case q.OrgID != "":
		if info.Scope != roster.ScopeOrganization {
			return res, roster.Invalidf("permission", "%s is a store permission; ask with store_id", q.Permission)
		}
		if !roster.ValidID(roster.PrefixOrganization, q.OrgID) {
			return res, roster.NotFound("organization")
		}
		if _, err := src.organization(ctx, q.OrgID); err != nil {
			return res, err
		}
	default:
		return res, roster.Invalidf("store_id", "give store_id or organization_id")
	}
	if u.Status != roster.UserActive {
		res.Reason = "user_deactivated"
		return res, nil
	}
	acc, err := src.access(ctx, res.OrgID, u.ID)
	if err != nil {
		return res, err
	}
	res.Decision = acc.Explain(q.Permission, q.StoreID)
	return res, nil
}

// UserStoresInput asks in which stores a user holds a permission.
type UserStoresInput struct {
	UserID          string
	Permission      roster.Permission
	AtLeastRevision int64 // as in CheckInput
}

// UserStores lists the active stores, across all organizations, where a user holds a store
// permission (every store they reach when Permission is empty).
func (a *Access) UserStores(ctx context.Context, actor roster.Actor, in UserStoresInput) ([]roster.StoreAccess, error) {
	if err := requireChecker(actor); err != nil {
		return nil, err
	}
	src, err := a.source(ctx, in.AtLeastRevision)
	if err != nil {
		return nil, err
	}
	if in.Permission != "" {
		cat, err := src.catalog(ctx)
		if err != nil {
			return nil, err
		}
		info, ok := cat.Lookup(in.Permission)
		if !ok {
			return nil, (&roster.Error{Code: roster.EUnknownPermission, Field: "permission", Message: "unknown permission " + string(in.Permission)}).
				With("permission", string(in.Permission))
		}
		if info.Scope != roster.ScopeStore {
			return nil, roster.Invalidf("permission", "%s is an organization permission", in.Permission)
		}
	}
	if !roster.ValidID(roster.PrefixUser, in.UserID) {
		return nil, roster.NotFound("user")
	}
	u, err := src.user(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if u.Status != roster.UserActive {
		return []roster.StoreAccess{}, nil
	}
	if src.x != nil {
		return src.userStores(ctx, u.ID, in.Permission)
	}
	affs, err := src.sharedAffiliations(ctx, u.ID) // from SQL: no index
	if err != nil {
		return nil, err
	}
	out := []roster.StoreAccess{}
	for _, aff := range affs {
		for _, s := range aff.Stores {
			if in.Permission == "" || s.Grant.Perms.Has(in.Permission) {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// Revision returns the access revision this node's index has applied: a lower bound of the
// revision of every change it answers with.
func (a *Access) Revision() int64 {
	if a.index == nil {
		return 0
	}
	return a.index.revision()
}

// IndexStats tells how this node's access index answers.
type IndexStats struct {
	Revision  int64 // the access revision it has applied
	Trusted   bool  // SQLite, or the PostgreSQL listener is connected
	Leased    bool  // the node's lease holds, so reads skip the barrier
	FromIndex int64 // reads answered from memory
	FromSQL   int64 // reads answered from SQL (listener down or behind, no index)
	Barriers  int64 // revision reads of the read barrier (each shared by the reads waiting then)
	Bytes     int64 // memory its entries hold, as estimated (index_size.go)
	Limit     int64 // the bound of Bytes
	Turnovers int64 // times the newer generation filled up and the older one was dropped
	WholeOrgs int   // organizations held whole (index_whole.go)
	OrgsOfAll int   // users whose organizations the last read of everyone's kept (index_whole.go)
}

// IndexStats returns how this node's access index has answered so far.
func (a *Access) IndexStats() IndexStats {
	if a.index == nil {
		return IndexStats{}
	}
	x := a.index
	x.barrier.mu.Lock()
	barriers := x.barrier.reads
	x.barrier.mu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	return IndexStats{Revision: x.applied, Trusted: x.trusted, Leased: x.trusted && x.leasedLocked(), FromIndex: x.fromIndex.Load(), FromSQL: x.fromSQL.Load(), Barriers: barriers,
		Bytes: x.cur.bytes + x.old.bytes, Limit: x.maxBytes, Turnovers: x.turnovers, WholeOrgs: x.wholeOrgsLocked(),
		OrgsOfAll: x.everyOrgsOf.kept}
}
