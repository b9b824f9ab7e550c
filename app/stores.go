package app

import (
	"context"

	"github.com/rosterhq/roster"
)

// Stores creates, edits, archives and deletes an organization's stores, and keeps their logos.
type Stores struct{ *core }

// StoreInput is a store's name and details, as created or edited.
type StoreInput struct {
	Name     string
	Website  string
	Currency string
	TimeZone string
}

func (in StoreInput) apply(s *roster.Store) error {
	var errs []error
	keep := func(v string, err error) string { errs = append(errs, err); return v }
	s.Name = keep(text("name", in.Name, true, roster.MaxNameLength))
	s.Website = keep(website("website", in.Website))
	s.Currency = keep(currencyCode("currency", in.Currency))
	s.TimeZone = keep(timeZone("time_zone", in.TimeZone))
	return roster.Invalids(errs...) // every field at fault at once
}

func storeMap(s roster.Store) map[string]any {
	return map[string]any{"name": s.Name, "website": s.Website, "currency": s.Currency, "time_zone": s.TimeZone, "status": string(s.Status)}
}

// noCredits is the refusal when an organization's active stores already use every credit.
func noCredits(org roster.Organization) error {
	return (&roster.Error{Code: roster.ENoStoreCredits,
		Message: "the organization has no store credits left; archive a store or ask for more credits"}).With("store_credits", org.StoreCredits)
}

// useCredit checks, with the organization locked, that one more active store fits in its credits.
func (t *txn) useCredit(org roster.Organization) error {
	active, err := t.CountStores(t.ctx, org.ID, roster.StoreActive)
	if err != nil {
		return err
	}
	if active >= org.StoreCredits {
		return noCredits(org)
	}
	return nil
}

// Create creates a store in an organization (owner), using one store credit. The
// organization row is locked while credits are counted, so concurrent creations never
// exceed the credits.
func (a *Stores) Create(ctx context.Context, actor roster.Actor, orgID string, in StoreInput) (roster.Store, error) {
	var in2 roster.Store
	if err := in.apply(&in2); err != nil {
		return roster.Store{}, err
	}
	return orgWriteValue(ctx, a.core, actor, orgID, roster.PermOrgStoresCreate, func(t *txn, s scope) (roster.Store, error) {
		if err := t.useCredit(s.org); err != nil {
			return roster.Store{}, err
		}
		st := in2
		st.ID, st.OrgID, st.Status, st.CreatedAt, st.UpdatedAt = roster.NewID(roster.PrefixStore), orgID, roster.StoreActive, t.now, t.now
		if err := t.CreateStore(t.ctx, st); err != nil {
			return roster.Store{}, err
		}
		return st, t.audit(roster.AuditEvent{OrgID: orgID, StoreID: st.ID, Action: "store.created", TargetType: "store", TargetID: st.ID, After: storeMap(st)})
	})
}

// StoreView is a store with the actor's grant in it.
type StoreView struct {
	roster.Store
	Grant roster.StoreGrant // zero when the actor sees the store only through organization settings
}

// Stores lists an organization's stores: all of them (status "" for every status) for those
// who view its settings, else the active stores the actor reaches.
func (a *Stores) List(ctx context.Context, actor roster.Actor, orgID string, status roster.StoreStatus) ([]StoreView, error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err != nil {
		return nil, err
	}
	if status != "" && status != roster.StoreActive && status != roster.StoreArchived {
		return nil, roster.Invalidf("status", "status must be active or archived")
	}
	all := s.acc.Can(roster.PermOrgSettingsRead)
	if !all {
		status = roster.StoreActive
	}
	stores, err := c.ListStores(ctx, orgID, status)
	if err != nil {
		return nil, err
	}
	out := make([]StoreView, 0, len(stores))
	for _, st := range stores {
		g, ok := s.acc.Store(st.ID)
		if ok || all {
			out = append(out, StoreView{Store: st, Grant: g})
		}
	}
	return out, nil
}

// Store returns a store the actor reaches, or whose organization's settings they view.
func (a *Stores) Get(ctx context.Context, actor roster.Actor, storeID string) (StoreView, error) {
	s, st, err := a.storeScope(ctx, a.read(), actor, storeID, false)
	if err != nil {
		return StoreView{}, err
	}
	g, _ := s.acc.Store(st.ID)
	return StoreView{Store: st, Grant: g}, nil
}

// storeWrite runs fn on a store the actor may change with perm in that store; the
// organization is locked first.
func (a *core) storeWrite(ctx context.Context, actor roster.Actor, storeID string, perm roster.Permission, fn func(t *txn, s scope, st roster.Store) error) error {
	_, err := storeWriteValue(ctx, a, actor, storeID, perm, func(t *txn, s scope, st roster.Store) (struct{}, error) { return struct{}{}, fn(t, s, st) })
	return err
}

// storeWriteValue is storeWrite for a use case with a result, returned once committed.
func storeWriteValue[T any](ctx context.Context, a *core, actor roster.Actor, storeID string, perm roster.Permission, fn func(t *txn, s scope, st roster.Store) (T, error)) (T, error) {
	return writeValue(ctx, a, actor, func(t *txn) (T, error) {
		s, st, err := a.storeScope(t.ctx, &t.Conn, actor, storeID, true)
		if err == nil {
			err = s.requireStore(st.ID, perm)
		}
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(t, s, st)
	})
}

// Update edits a store's name and details (store admins, and owner and admins).
func (a *Stores) Update(ctx context.Context, actor roster.Actor, storeID string, in StoreInput) (roster.Store, error) {
	var next roster.Store
	if err := in.apply(&next); err != nil {
		return roster.Store{}, err
	}
	return storeWriteValue(ctx, a.core, actor, storeID, roster.PermStoreUpdate, func(t *txn, s scope, st roster.Store) (roster.Store, error) {
		before := st
		st.Name, st.Website, st.Currency, st.TimeZone, st.UpdatedAt = next.Name, next.Website, next.Currency, next.TimeZone, t.now
		if err := t.UpdateStore(t.ctx, st, t.now); err != nil {
			return roster.Store{}, err
		}
		return st, t.audit(roster.AuditEvent{OrgID: st.OrgID, StoreID: st.ID, Action: "store.updated", TargetType: "store", TargetID: st.ID,
			Before: storeMap(before), After: storeMap(st)})
	})
}

// Archive archives a store (owner and admins); it stops using a credit.
func (a *Stores) Archive(ctx context.Context, actor roster.Actor, storeID string) (roster.Store, error) {
	return a.setStoreStatus(ctx, actor, storeID, roster.StoreArchived)
}

// Unarchive brings an archived store back (owner and admins); it needs a free credit.
func (a *Stores) Unarchive(ctx context.Context, actor roster.Actor, storeID string) (roster.Store, error) {
	return a.setStoreStatus(ctx, actor, storeID, roster.StoreActive)
}

func (a *Stores) setStoreStatus(ctx context.Context, actor roster.Actor, storeID string, status roster.StoreStatus) (roster.Store, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.Store, error) {
		s, st, err := a.storeScope(t.ctx, &t.Conn, actor, storeID, true)
		if err != nil {
			return roster.Store{}, err
		}
		if err := s.require(roster.PermOrgStoresManage); err != nil {
			return roster.Store{}, err
		}
		if st.Status == status {
			if status == roster.StoreArchived {
				return roster.Store{}, roster.Errorf(roster.EStoreArchived, "the store is already archived")
			}
			return roster.Store{}, roster.Errorf(roster.EStoreNotArchived, "the store is not archived")
		}
		if status == roster.StoreActive {
			if err := t.useCredit(s.org); err != nil {
				return roster.Store{}, err
			}
		}
		if err := t.SetStoreStatus(t.ctx, st.ID, status, t.now); err != nil {
			return roster.Store{}, err
		}
		action := "store.archived"
		if status == roster.StoreActive {
			action = "store.unarchived"
		}
		out := st
		out.Status, out.UpdatedAt = status, t.now
		return out, t.audit(roster.AuditEvent{OrgID: st.OrgID, StoreID: st.ID, Action: action, TargetType: "store", TargetID: st.ID,
			Before: map[string]any{"status": string(st.Status)}, After: map[string]any{"status": string(status)}})
	})
}

// Delete deletes an archived store for good, with its store memberships (owner and
// admins). An active store must be archived first, so that nothing in use disappears in one click.
func (a *Stores) Delete(ctx context.Context, actor roster.Actor, storeID string) error {
	return a.write(ctx, actor, func(t *txn) error {
		s, st, err := a.storeScope(t.ctx, &t.Conn, actor, storeID, true)
		if err != nil {
			return err
		}
		if err := s.require(roster.PermOrgStoresManage); err != nil {
			return err
		}
		if st.Status != roster.StoreArchived {
			return roster.Errorf(roster.EStoreActive, "archive the store before deleting it")
		}
		if err := t.DeleteStore(t.ctx, st.ID); err != nil {
			return err
		}
		if st.LogoID != "" {
			if err := t.DeleteImage(t.ctx, st.OrgID, st.LogoID); err != nil {
				return err
			}
		}
		return t.audit(roster.AuditEvent{OrgID: st.OrgID, StoreID: st.ID, Action: "store.deleted", TargetType: "store", TargetID: st.ID, Before: storeMap(st)})
	})
}

// SetLogo replaces a store's logo (store admins, and owner and admins).
func (a *Stores) SetLogo(ctx context.Context, actor roster.Actor, storeID string, data []byte) (roster.Store, error) {
	ct, err := a.checkImage(ctx, actor, data)
	if err != nil {
		return roster.Store{}, err
	}
	return storeWriteValue(ctx, a.core, actor, storeID, roster.PermStoreUpdate, func(t *txn, s scope, st roster.Store) (roster.Store, error) {
		out := st
		var err error
		if out.LogoID, err = t.replaceImage(st.OrgID, st.LogoID, data, ct); err != nil {
			return roster.Store{}, err
		}
		if err := t.SetStoreLogo(t.ctx, st.ID, out.LogoID, t.now); err != nil {
			return roster.Store{}, err
		}
		return out, t.audit(roster.AuditEvent{OrgID: st.OrgID, StoreID: st.ID, Action: "store.logo_changed", TargetType: "store", TargetID: st.ID,
			Before: map[string]any{"logo": st.LogoID}, After: map[string]any{"logo": out.LogoID, "content_type": ct, "bytes": len(data)}})
	})
}

// Logo returns a store's logo to those who see the store.
func (a *Stores) Logo(ctx context.Context, actor roster.Actor, storeID string) (roster.Image, error) {
	c := a.read()
	_, st, err := a.storeScope(ctx, c, actor, storeID, false)
	if err != nil {
		return roster.Image{}, err
	}
	if st.LogoID == "" {
		return roster.Image{}, roster.NotFound("logo")
	}
	return c.Image(ctx, st.OrgID, st.LogoID)
}
