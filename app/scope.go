package app

import (
	"context"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// This file derives what an actor holds in an organization from the database (access,
// userAccess) and the scope a use case works in (orgScope, storeScope, orgWrite). The rules
// that decide with it are the root's access.go; none is restated here.

// catalog returns the permission catalog: Roster's own plus the host application's, read
// afresh so that a permission registered by another Roster process counts at once.
func (a *core) catalog(ctx context.Context, c *sqlstore.Conn) (*roster.Catalog, error) {
	host, err := c.HostPermissions(ctx)
	if err != nil {
		return nil, err
	}
	return roster.NewCatalog(host), nil
}

// roleResolver turns store role IDs into roles: built-in ones from the catalog, custom ones
// from the organization's roles (read once, when first needed).
type roleResolver struct {
	ctx    context.Context
	c      *sqlstore.Conn
	cat    *roster.Catalog
	orgID  string
	custom map[string]roster.Role
	sets   map[string]roster.PermSet // each role's permissions, one set its grants share
}

func (a *core) resolver(ctx context.Context, c *sqlstore.Conn, cat *roster.Catalog, orgID string) *roleResolver {
	return &roleResolver{ctx: ctx, c: c, cat: cat, orgID: orgID}
}

// name returns a role's name, or "" for a role that no longer exists.
func (r *roleResolver) name(id string) (string, error) {
	role, err := r.role(id)
	if roster.ErrorCode(err) == roster.EUnknownRole {
		return "", nil
	}
	return role.Name, err
}

// role returns the role with its permissions as the catalog knows them today: a permission
// removed from the catalog no longer counts.
func (r *roleResolver) role(id string) (roster.Role, error) {
	if role, ok := r.cat.BuiltinRole(id); ok {
		return role, nil
	}
	if r.custom == nil {
		roles, err := r.c.Roles(r.ctx, r.orgID)
		if err != nil {
			return roster.Role{}, err
		}
		r.custom = make(map[string]roster.Role, len(roles))
		for _, role := range roles {
			r.custom[role.ID] = role
		}
	}
	role, ok := r.custom[id]
	if !ok {
		return roster.Role{}, &roster.Error{Code: roster.EUnknownRole, Field: "role", Message: "unknown store role " + id}
	}
	role.Permissions = roster.NewPermSet(role.Permissions...).Intersect(r.cat.StorePermissions()).Sorted()
	return role, nil
}

// grant returns the store grant a store membership gives. Grants of the same role share one
// permission set.
func (r *roleResolver) grant(storeID, roleID string) (roster.StoreGrant, error) {
	role, err := r.role(roleID)
	if err != nil {
		return roster.StoreGrant{}, err
	}
	perms, ok := r.cat.BuiltinPermSet(role.ID)
	if !ok {
		if perms, ok = r.sets[role.ID]; !ok {
			perms = roster.NewPermSet(role.Permissions...)
			if r.sets == nil {
				r.sets = map[string]roster.PermSet{}
			}
			r.sets[role.ID] = perms
		}
	}
	return roster.StoreGrant{StoreID: storeID, RoleID: role.ID, RoleName: role.Name, Via: roster.ViaStoreRole, Perms: perms}, nil
}

// userAccess computes what a user holds in an organization, from the database as it is now.
func (a *core) userAccess(ctx context.Context, c *sqlstore.Conn, cat *roster.Catalog, orgID, userID string) (roster.Access, error) {
	m, err := c.Membership(ctx, orgID, userID)
	if roster.ErrorCode(err) == roster.ENotFound {
		return roster.NewAccess(orgID, userID, "", "", nil, cat), nil
	}
	if err != nil {
		return roster.Access{}, err
	}
	sms, err := c.MemberStores(ctx, orgID, userID)
	if err != nil {
		return roster.Access{}, err
	}
	return memberAccess(m, sms, a.resolver(ctx, c, cat, orgID).grant, cat, nil)
}

// memberAccess computes a member's access from their membership and their store memberships
// in its organization; grant resolves a store membership's role (roleResolver.grant), and
// roles, when not nil, shares the grants' roles with other members' (roster.GrantRoles). The
// one computation for a member read alone (userAccess) and for an organization read whole
// (index_whole.go).
func memberAccess(m roster.Membership, sms []roster.StoreMembership, grant func(storeID, roleID string) (roster.StoreGrant, error), cat *roster.Catalog, roles *roster.GrantRoles) (roster.Access, error) {
	grants := make([]roster.StoreGrant, 0, len(sms))
	for _, sm := range sms {
		g, err := grant(sm.StoreID, sm.RoleID)
		if roster.ErrorCode(err) == roster.EUnknownRole {
			continue // a role deleted under a race grants nothing
		}
		if err != nil {
			return roster.Access{}, err
		}
		grants = append(grants, g)
	}
	acc := roster.NewAccessSharing(m.OrgID, m.UserID, m.Role, m.Status, grants, cat, roles)
	acc.Changed = m.UpdatedAt
	return acc, nil
}

// indexedAccess is userAccess for a read outside a transaction (a page, a listing): from the
// access index when it may answer, which is as fresh as reading the tables (index_read.go),
// without the three reads (catalog, membership, store memberships) of every such request.
// A write reads access inside its transaction instead, where the rows it locks decide.
func (a *core) indexedAccess(ctx context.Context, orgID, userID string) (roster.Access, *roster.Catalog, error) {
	src, err := a.source(ctx, 0)
	if err != nil {
		return roster.Access{}, nil, err
	}
	return indexedAccessFrom(ctx, src, orgID, userID)
}

func indexedAccessFrom(ctx context.Context, src *source, orgID, userID string) (roster.Access, *roster.Catalog, error) {
	cat, err := src.catalog(ctx)
	if err != nil {
		return roster.Access{}, nil, err
	}
	acc, err := src.access(ctx, orgID, userID)
	return acc, cat, err
}

// indexedActor reports whether an actor's access to an organization is read from the access
// index (indexedAccess): a signed-in person's, in a read outside a transaction. Every other
// actor's (API keys, applications, directories, setup links) is computed from the tables.
func indexedActor(c *sqlstore.Conn, actor roster.Actor, orgID string) bool {
	return c.Pooled() && actor.Kind == roster.ActorUser && (actor.OIDCOrgID == "" || actor.OIDCOrgID == orgID)
}

// access computes what an actor holds in an organization. Only users hold anything in an
// organization; an API key holds its owner's access narrowed to the key (apikeys.go).
func (a *core) access(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string) (roster.Access, *roster.Catalog, error) {
	if indexedActor(c, actor, orgID) {
		return a.indexedAccess(ctx, orgID, actor.UserID)
	}
	cat, err := a.catalog(ctx, c)
	if err != nil {
		return roster.Access{}, nil, err
	}
	if actor.Kind == roster.ActorClient {
		acc, err := a.clientActorAccess(ctx, c, cat, actor, orgID) // oidc_machine.go
		return acc, cat, err
	}
	if actor.Kind == roster.ActorDirectory {
		acc, err := a.directoryActorAccess(ctx, c, cat, actor, orgID) // scim.go
		return acc, cat, err
	}
	if actor.Kind == roster.ActorSetupLink {
		acc, err := a.setupLinkActorAccess(ctx, c, cat, actor, orgID) // setuplinks.go
		return acc, cat, err
	}
	if !actor.IsUser() {
		return roster.NewAccess(orgID, "", "", "", nil, cat), cat, nil
	}
	if actor.Kind == roster.ActorAPIKey {
		acc, err := a.apiKeyActorAccess(ctx, c, cat, actor, orgID)
		return acc, cat, err
	}
	if actor.OIDCOrgID != "" && orgID != actor.OIDCOrgID {
		// A Roster access token issued for one organization holds nothing in the others.
		return roster.NewAccess(orgID, "", "", "", nil, cat), cat, nil
	}
	acc, err := a.userAccess(ctx, c, cat, orgID, actor.UserID)
	return acc, cat, err
}

// scope is an organization seen by an actor who belongs to it.
type scope struct {
	org roster.Organization
	acc roster.Access
	cat *roster.Catalog
}

// orgScope loads an organization and the actor's access to it. To anyone who is not a
// member it does not exist; a suspended member is told so. Nor does it exist to the holder of
// a setup link, who reaches the organization's sign-in settings only (settingsScope).
func (a *core) orgScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string, lock bool) (scope, error) {
	if actor.Kind == roster.ActorSetupLink {
		return scope{}, roster.NotFound("organization")
	}
	return a.settingsScope(ctx, c, actor, orgID, lock)
}

// settingsScope is orgScope for the organization's sign-in settings — its domains, single
// sign-on and SCIM directories — which the holder of one of its setup links reaches too
// (setuplinks.go). The permission each needs is checked apart.
func (a *core) settingsScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string, lock bool) (scope, error) {
	if !roster.ValidID(roster.PrefixOrganization, orgID) {
		return scope{}, roster.NotFound("organization")
	}
	shareable := !lock && c.Pooled()
	if sc, ok := sharedScope(ctx, actor, orgID); ok && shareable {
		if err := memberOnly(sc.acc); err != nil {
			return sc, err
		}
		return sc, a.twoFactorGate(ctx, c, actor, sc.org)
	}
	org, acc, cat, err := a.orgAndAccess(ctx, c, actor, orgID, lock)
	if err != nil {
		return scope{}, err
	}
	if shareable {
		shareScope(ctx, actor, scope{org: org, acc: acc, cat: cat})
	}
	if err := memberOnly(acc); err != nil {
		return scope{}, err
	}
	if err := a.twoFactorGate(ctx, c, actor, org); err != nil {
		return scope{}, err
	}
	return scope{org: org, acc: acc, cat: cat}, nil
}

// orgAndAccess reads an organization and the actor's access to it: both from the access
// index for a signed-in person outside a transaction (indexedActor), else from the tables,
// the organization's row locked when lock is set.
func (a *core) orgAndAccess(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string, lock bool) (roster.Organization, roster.Access, *roster.Catalog, error) {
	if !lock && indexedActor(c, actor, orgID) {
		src, err := a.source(ctx, 0)
		if err != nil {
			return roster.Organization{}, roster.Access{}, nil, err
		}
		org, err := src.organization(ctx, orgID)
		if err != nil {
			return roster.Organization{}, roster.Access{}, nil, err
		}
		acc, cat, err := indexedAccessFrom(ctx, src, orgID, actor.UserID)
		return org, acc, cat, err
	}
	var org roster.Organization
	var err error
	if lock {
		org, err = c.LockOrganization(ctx, orgID)
	} else {
		org, err = c.Organization(ctx, orgID)
	}
	if err != nil {
		return roster.Organization{}, roster.Access{}, nil, err
	}
	acc, cat, err := a.access(ctx, c, actor, orgID)
	return org, acc, cat, err
}

// twoFactorGate refuses an organization that requires a second factor (its policy, or the
// instance's: Config.RequireTwoFactor) to a member who has none, when they come with a
// session or a Roster access token: they are to set one up first (ETwoFactorRequired; the
// console sends them to their account). Their other organizations stay open, and API keys,
// which a person made for a program, keep working.
func (a *core) twoFactorGate(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, org roster.Organization) error {
	if actor.Kind != roster.ActorUser || (actor.SessionID == "" && actor.OIDCTokenID == "") {
		return nil
	}
	return a.secondFactorFor(ctx, c, actor.UserID, org)
}

// secondFactorFor refuses an organization that requires a second factor to a user without
// one (two_factor_required); twoFactorGate says to whom it applies.
func (a *core) secondFactorFor(ctx context.Context, c *sqlstore.Conn, userID string, org roster.Organization) error {
	if !org.Policy.RequireTwoFactor && !a.cfg.RequireTwoFactor {
		return nil
	}
	has, err := a.hasSecondFactor(ctx, c, userID)
	if err != nil || has {
		return err
	}
	return (&roster.Error{Code: roster.ETwoFactorRequired,
		Message: org.Name + " requires two-factor authentication: set up an authenticator app or a passkey in your account to open it"}).
		With("organization_id", org.ID)
}

// memberOnly refuses an organization to whoever is not an active member: to a non-member it
// does not exist, and a suspended member is told so.
func memberOnly(acc roster.Access) error {
	if !acc.IsMember() {
		return roster.NotFound("organization")
	}
	if !acc.Active() {
		return roster.Errorf(roster.EMembershipSuspended, "your membership of this organization is suspended")
	}
	return nil
}

// require refuses an organization permission the actor lacks.
func (s scope) require(perm roster.Permission) error {
	if s.acc.Can(perm) {
		return nil
	}
	return deny(s.org.ID, "", perm, "your role in this organization does not allow this")
}

// storeScope loads a store, its organization and the actor's access. To anyone who reaches
// neither the store nor its organization's settings, the store does not exist.
func (a *core) storeScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, storeID string, lock bool) (scope, roster.Store, error) {
	if !roster.ValidID(roster.PrefixStore, storeID) {
		return scope{}, roster.Store{}, roster.NotFound("store")
	}
	st, err := c.Store(ctx, storeID)
	if err != nil {
		return scope{}, roster.Store{}, err
	}
	s, err := a.orgScope(ctx, c, actor, st.OrgID, lock)
	if roster.ErrorCode(err) == roster.ENotFound {
		return scope{}, roster.Store{}, roster.NotFound("store")
	}
	if err != nil {
		return scope{}, roster.Store{}, err
	}
	if _, ok := s.acc.Store(st.ID); !ok && !s.acc.Can(roster.PermOrgSettingsRead) {
		return scope{}, roster.Store{}, roster.NotFound("store")
	}
	return s, st, nil
}

// requireStore refuses a store permission the actor lacks in a store.
func (s scope) requireStore(storeID string, perm roster.Permission) error {
	if s.acc.CanInStore(storeID, perm) {
		return nil
	}
	return deny(s.org.ID, storeID, perm, "your role in this store does not allow this")
}

// orgWrite runs fn in a write transaction on an organization the actor may change with
// perm; the organization row is locked first.
func (a *core) orgWrite(ctx context.Context, actor roster.Actor, orgID string, perm roster.Permission, fn func(t *txn, s scope) error) error {
	_, err := orgWriteValue(ctx, a, actor, orgID, perm, func(t *txn, s scope) (struct{}, error) { return struct{}{}, fn(t, s) })
	return err
}

// orgWriteValue is orgWrite for a use case with a result: the result of the attempt that
// committed (writeValue), never one of a rolled-back attempt.
func orgWriteValue[T any](ctx context.Context, a *core, actor roster.Actor, orgID string, perm roster.Permission, fn func(t *txn, s scope) (T, error)) (T, error) {
	return writeValue(ctx, a, actor, func(t *txn) (T, error) {
		s, err := a.orgScope(t.ctx, &t.Conn, actor, orgID, true)
		if err == nil {
			err = s.require(perm)
		}
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(t, s)
	})
}
