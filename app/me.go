package app

import (
	"context"
	"slices"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/password"
	"github.com/rosterhq/roster/sqlstore"
)

// Me returns the signed-in user.
func (a *Accounts) Me(ctx context.Context, actor roster.Actor) (roster.User, error) {
	if err := requireUser(actor); err != nil {
		return roster.User{}, err
	}
	return a.read().User(ctx, actor.UserID)
}

// ProfileInput is what a user may change of their own profile; nil fields stay as they are.
// Role, operator rights, status and verification are never settable here.
type ProfileInput struct {
	Name   *string
	Locale *string
}

// Update changes the signed-in user's name and language.
func (a *Accounts) Update(ctx context.Context, actor roster.Actor, in ProfileInput) (roster.User, error) {
	if err := requireUser(actor); err != nil {
		return roster.User{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.User, error) {
		before, err := t.User(t.ctx, actor.UserID)
		if err != nil {
			return roster.User{}, err
		}
		u := before
		if in.Name != nil {
			if u.Name, err = text("name", *in.Name, true, roster.MaxNameLength); err != nil {
				return roster.User{}, err
			}
		}
		if in.Locale != nil {
			if u.Locale, err = locale(*in.Locale); err != nil {
				return roster.User{}, err
			}
		}
		if err := t.UpdateUserProfile(t.ctx, u.ID, u.Name, u.Locale, t.now); err != nil {
			return roster.User{}, err
		}
		u.UpdatedAt = t.now
		return u, t.audit(roster.AuditEvent{Action: "user.updated", TargetType: "user", TargetID: u.ID,
			Before: map[string]any{"name": before.Name, "locale": before.Locale}, After: map[string]any{"name": u.Name, "locale": u.Locale}})
	})
}

// ChangePassword replaces the signed-in user's password. It needs the current one, and ends
// every other session of the user.
func (a *Accounts) ChangePassword(ctx context.Context, actor roster.Actor, current, next string) error {
	if err := requireUser(actor); err != nil {
		return err
	}
	c := a.read()
	u, err := c.User(ctx, actor.UserID)
	if err != nil {
		return err
	}
	if err := a.stepUp(ctx, c, actor, orNonEmpty(current)); err != nil {
		if roster.ErrorCode(err) == roster.EInvalidCredentials {
			return &roster.Error{Code: roster.EInvalidCredentials, Field: "current_password", Message: "the current password is not correct"}
		}
		return err
	}
	if err := password.Check(next, a.cfg.PasswordMinLength, password.Context{Email: u.Email, Name: u.Name}); err != nil {
		return err
	}
	hash, err := a.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return a.write(ctx, actor, func(t *txn) error {
		if err := t.SetPasswordHash(t.ctx, u.ID, hash, t.now); err != nil {
			return err
		}
		ended, err := t.endSessions(u.ID, "", actor.SessionID)
		if err != nil {
			return err
		}
		if actor.SessionID != "" {
			if err := t.SetSessionReauth(t.ctx, actor.SessionID, t.now); err != nil {
				return err
			}
		}
		if err := t.audit(roster.AuditEvent{Action: "user.password_changed", TargetType: "user", TargetID: u.ID,
			After: map[string]any{"other_sessions_ended": ended}}); err != nil {
			return err
		}
		return a.notifyPasswordChanged(t, u)
	})
}

// orNonEmpty makes sure a password that must be given is not taken for "recently entered".
func orNonEmpty(pw string) string {
	if pw == "" {
		return "\x00"
	}
	return pw
}

// SessionInfo is a session as its user sees it.
type SessionInfo struct {
	roster.Session
	Current bool
}

// Sessions lists the signed-in user's sessions.
func (a *Auth) Sessions(ctx context.Context, actor roster.Actor) ([]SessionInfo, error) {
	if err := requireUser(actor); err != nil {
		return nil, err
	}
	ss, err := a.read().ListSessions(ctx, actor.UserID)
	if err != nil {
		return nil, err
	}
	now := a.clock.Now()
	out := make([]SessionInfo, 0, len(ss))
	for _, s := range ss {
		if a.sessionLive(s, now) {
			out = append(out, SessionInfo{Session: s, Current: s.ID == actor.SessionID})
		}
	}
	return out, nil
}

// RevokeSession ends one of the signed-in user's sessions.
func (a *Auth) RevokeSession(ctx context.Context, actor roster.Actor, sessionID string) error {
	if err := requireUser(actor); err != nil {
		return err
	}
	if !roster.ValidID(roster.PrefixSession, sessionID) {
		return roster.NotFound("session")
	}
	return a.write(ctx, actor, func(t *txn) error {
		if _, err := t.endSessions(actor.UserID, sessionID, ""); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "session.revoked", TargetType: "session", TargetID: sessionID})
	})
}

// RevokeOtherSessions ends every session of the signed-in user but the current one.
func (a *Auth) RevokeOtherSessions(ctx context.Context, actor roster.Actor) (int64, error) {
	if err := requireUser(actor); err != nil {
		return 0, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (int64, error) {
		n, err := t.endSessions(actor.UserID, "", actor.SessionID)
		if err != nil {
			return 0, err
		}
		return n, t.audit(roster.AuditEvent{Action: "session.revoked_others", TargetType: "user", TargetID: actor.UserID,
			After: map[string]any{"sessions_ended": n}})
	})
}

// Organizations returns the selector's data: every organization the actor belongs to,
// with their role, and under each the active stores they reach with their effective store
// role (direct, or via their organization role). The caller may change what it is given.
func (a *Accounts) Organizations(ctx context.Context, actor roster.Actor) ([]roster.Affiliation, error) {
	src, err := a.selectorSource(ctx, actor)
	if err != nil {
		return nil, err
	}
	affs, err := src.sharedAffiliations(ctx, actor.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]roster.Affiliation, len(affs))
	for i, af := range affs {
		out[i] = af
		out[i].Stores = slices.Clone(af.Stores)
	}
	return out, nil
}

// RenderOrganizations is Organizations for a caller that answers with a rendering of them,
// such as the API's JSON. render reads the access index's own entries, not a copy, and must
// depend on nothing else; the index keeps what it returns with the entry, counted in its
// memory and dropped with it, so that asking again before a change renders nothing (for a
// user in 1,000 organizations, rendering was three quarters of an answer's CPU).
func (a *Accounts) RenderOrganizations(ctx context.Context, actor roster.Actor, render func([]roster.Affiliation) ([]byte, error)) ([]byte, error) {
	src, err := a.selectorSource(ctx, actor)
	if err != nil {
		return nil, err
	}
	if b, ok := src.rendered(actor.UserID); ok {
		return b, nil
	}
	affs, err := src.sharedAffiliations(ctx, actor.UserID)
	if err != nil {
		return nil, err
	}
	b, err := render(affs)
	if err != nil {
		return nil, err
	}
	src.keepRendered(actor.UserID, affs, b)
	return b, nil
}

func (a *Accounts) selectorSource(ctx context.Context, actor roster.Actor) (*source, error) {
	if err := requireUser(actor); err != nil {
		return nil, err
	}
	return a.source(ctx, 0)
}

// selector reads a user's selector from the database (the access index fills from it).
func (a *core) selector(ctx context.Context, c *sqlstore.Conn, userID string) ([]roster.Affiliation, error) {
	affs, _, _, err := a.affiliations(ctx, c, userID)
	return affs, err
}

// affiliations returns a user's organizations as Accounts.Organizations does, and their stores,
// in name order (roster.CompareByName) and, with the same reads, the user's access in each, as
// userAccess computes it, and the catalog.
func (a *core) affiliations(ctx context.Context, c *sqlstore.Conn, userID string) ([]roster.Affiliation, map[string]roster.Access, *roster.Catalog, error) {
	affs, err := c.Affiliations(ctx, userID)
	if err != nil {
		return nil, nil, nil, err
	}
	var adminStores map[string][]roster.Store
	if slices.ContainsFunc(affs, func(a roster.Affiliation) bool {
		return a.Membership.Status == roster.MembershipActive && a.Membership.Role.ReachesEveryStore()
	}) { // most people own or administer nothing: a query saved
		if adminStores, err = c.AdminStores(ctx, userID); err != nil {
			return nil, nil, nil, err
		}
	}
	direct, err := c.StoreMembershipsOfUser(ctx, userID)
	if err != nil {
		return nil, nil, nil, err
	}
	cat, err := a.catalog(ctx, c)
	if err != nil {
		return nil, nil, nil, err
	}
	access := make(map[string]roster.Access, len(affs))
	for i := range affs {
		aff := &affs[i]
		m := aff.Membership
		if m.Status != roster.MembershipActive {
			access[m.OrgID] = roster.NewAccess(m.OrgID, userID, m.Role, m.Status, nil, cat)
			continue // a suspended membership shows, and reaches no store
		}
		res := a.resolver(ctx, c, cat, m.OrgID)
		var grants []roster.StoreGrant
		var stores []roster.Store // the active stores of their store memberships
		for _, d := range direct {
			if d.Store.OrgID != m.OrgID {
				continue
			}
			g, err := res.grant(d.Store.ID, d.Grant.RoleID)
			if roster.ErrorCode(err) == roster.EUnknownRole {
				continue // a role deleted under a race grants nothing
			}
			if err != nil {
				return nil, nil, nil, err
			}
			grants = append(grants, g)
			if d.Store.Status == roster.StoreActive {
				stores = append(stores, d.Store)
			}
		}
		acc := roster.NewAccess(m.OrgID, userID, m.Role, m.Status, grants, cat)
		if acc.AllStores() {
			stores = adminStores[m.OrgID] // every active store of the organization
		}
		for _, st := range stores { // with the grant Access gives in each, as a check would
			if g, ok := acc.Store(st.ID); ok {
				aff.Stores = append(aff.Stores, roster.StoreAccess{Store: st, Grant: g})
			}
		}
		access[m.OrgID] = acc
		slices.SortStableFunc(aff.Stores, func(x, y roster.StoreAccess) int {
			return roster.CompareByName(x.Store.Name, x.Store.ID, y.Store.Name, y.Store.ID)
		})
	}
	slices.SortStableFunc(affs, func(x, y roster.Affiliation) int {
		return roster.CompareByName(x.Organization.Name, x.Organization.ID, y.Organization.Name, y.Organization.ID)
	})
	return affs, access, cat, nil
}
