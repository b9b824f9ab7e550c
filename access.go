package roster

import (
	"cmp"
	"iter"
	"maps"
	"math"
	"slices"
	"time"
)

// Via says where a store grant comes from.
const (
	ViaOrganizationRole = "organization_role" // owner and admins act as store admin everywhere
	ViaStoreRole        = "store_role"        // a store membership
)

// StoreGrant is what a principal holds in one store.
type StoreGrant struct {
	StoreID  string
	RoleID   string // "admin", "member", "viewer" or "rol_…"
	RoleName string
	Via      string // ViaOrganizationRole or ViaStoreRole
	Perms    PermSet
}

// Access is everything one principal holds in one organization. It is read from the tables,
// or from the access index (app/index.go), which never answers from a state older than a
// write that has returned: a role change, a suspension or a removal applies on the next request.
// Every permission decision of Roster is a method of Access: app enforces them, and the
// console calls the same methods to decide what to show.
type Access struct {
	OrgID  string
	UserID string
	Role   OrgRole          // "" when the principal is not a member
	Status MembershipStatus // a suspended membership grants nothing
	// Changed is when the membership last changed (its role, its status), as the membership
	// says; zero when there is none. A grant given before it is out of date (app/oidc.go).
	Changed time.Time

	org        PermSet
	everyStore *StoreGrant  // the grant in every store of the organization, if any
	stores     []storeGrant // the store memberships' grants, by store ID (a slice, not a map: the access index holds hundreds of thousands)
	computed   bool         // by NewAccess (or Unpack): org and everyStore follow from Role and Status
}

// storeGrant is how Access holds a store membership's grant: the store, and the part the
// role decides, shared by the grants of that role (GrantRoles). The access index holds
// hundreds of thousands: three words each, two of them pointers, where a StoreGrant takes
// nine, five of them pointers, for the collector to visit.
type storeGrant struct {
	storeID string
	role    *grantRole
}

// grantRole is what a store grant's role decides: the role, its name, where the grant comes
// from and the permissions it gives (read them, never change them).
type grantRole struct {
	id, name, via string
	perms         PermSet
}

func (g storeGrant) grant() StoreGrant {
	return StoreGrant{StoreID: g.storeID, RoleID: g.role.id, RoleName: g.role.name, Via: g.role.via, Perms: g.role.perms}
}

// GrantRoles shares the role part of store grants among the accesses computed with it
// (NewAccessSharing): an organization read whole holds one per role, not one per grant. Use
// one for grants resolved together, in one organization, from one catalog: grants of the
// same role ID then carry the same name and permissions.
type GrantRoles struct {
	roles map[string]*grantRole // by role ID and where the grant comes from
}

func (r *GrantRoles) of(g StoreGrant) *grantRole {
	key := g.Via + ":" + g.RoleID
	if gr, ok := r.roles[key]; ok && gr.name == g.RoleName && maps.Equal(gr.perms, g.Perms) {
		return gr
	}
	gr := &grantRole{id: g.RoleID, name: g.RoleName, via: g.Via, perms: g.Perms}
	if r.roles == nil {
		r.roles = map[string]*grantRole{}
	}
	r.roles[key] = gr
	return gr
}

// IndexedAccess is an Access as the access index keeps it (app/index.go): without the
// organization and user its keys name, and with its role, status and time of last change in
// a few bytes: five words with one pointer, where an Access takes seventeen with eight. What an
// Access derives from its role (its organization permissions, the grant in every store) is
// derived again by Unpack, from the catalog it is given.
type IndexedAccess struct {
	changed      int64        // Changed in Unix nanoseconds; noTime for the zero time
	stores       []storeGrant // shared with the Access it was packed from: neither changes them
	role, status uint8        // indices in packedRoles and packedStatuses
}

var (
	packedRoles    = [...]OrgRole{"", OrgOwner, OrgAdmin, OrgMember}
	packedStatuses = [...]MembershipStatus{"", MembershipActive, MembershipSuspended}
)

const noTime = math.MinInt64

// Pack is the access as the index keeps it; false for one it cannot keep: not computed by
// NewAccess (narrowed by Restrict, a machine client's) or with a role or status it does not
// know.
func (a Access) Pack() (IndexedAccess, bool) {
	role, status := slices.Index(packedRoles[:], a.Role), slices.Index(packedStatuses[:], a.Status)
	if !a.computed || role < 0 || status < 0 {
		return IndexedAccess{}, false
	}
	p := IndexedAccess{changed: noTime, stores: a.stores, role: uint8(role), status: uint8(status)}
	if !a.Changed.IsZero() {
		p.changed = a.Changed.UnixNano()
	}
	return p, true
}

// Unpack is the access of userID in orgID that p holds, with the catalog c of the index.
func (p IndexedAccess) Unpack(orgID, userID string, c *Catalog) Access {
	a := Access{OrgID: orgID, UserID: userID, Role: packedRoles[p.role], Status: packedStatuses[p.status], stores: p.stores, computed: true}
	if p.changed != noTime {
		a.Changed = time.Unix(0, p.changed).UTC()
	}
	if a.Active() {
		a.org = orgRoleSets[a.Role]
		if a.Role.ReachesEveryStore() {
			a.everyStore = c.everyStoreGrant()
		}
	}
	return a
}

// NewAccess computes the access of a member from their organization role and their store
// grants (each with its role's permissions already resolved). A suspended membership, or
// none at all, grants nothing.
func NewAccess(orgID, userID string, role OrgRole, status MembershipStatus, grants []StoreGrant, c *Catalog) Access {
	return NewAccessSharing(orgID, userID, role, status, grants, c, nil)
}

// NewAccessSharing is NewAccess with the grants' roles shared through roles (nil: shared
// within this access only).
func NewAccessSharing(orgID, userID string, role OrgRole, status MembershipStatus, grants []StoreGrant, c *Catalog, roles *GrantRoles) Access {
	a := Access{OrgID: orgID, UserID: userID, Role: role, Status: status, computed: true}
	if !role.Valid() || status != MembershipActive {
		return a
	}
	a.org = orgRoleSets[role]
	if role.ReachesEveryStore() {
		a.everyStore = c.everyStoreGrant()
	}
	if len(grants) > 0 {
		if roles == nil {
			roles = &GrantRoles{}
		}
		a.stores = make([]storeGrant, 0, len(grants))
		for _, g := range grants {
			g.Via = ViaStoreRole
			a.stores = append(a.stores, storeGrant{storeID: g.StoreID, role: roles.of(g)})
		}
		slices.SortFunc(a.stores, func(x, y storeGrant) int { return cmp.Compare(x.storeID, y.storeID) })
		a.stores = slices.CompactFunc(a.stores, func(x, y storeGrant) bool { return x.storeID == y.storeID })
	}
	return a
}

// storeGrant returns the grant of the principal's store membership in a store.
func (a Access) storeGrant(storeID string) (StoreGrant, bool) {
	i, ok := slices.BinarySearchFunc(a.stores, storeID, func(g storeGrant, id string) int { return cmp.Compare(g.storeID, id) })
	if !ok {
		return StoreGrant{}, false
	}
	return a.stores[i].grant(), true
}

// ClientAccess is what a machine client (the client-credentials grant) holds in the one
// organization it is bound to: the organization permissions among perms that an admin may
// hold (it never acts as the owner), and the store permissions among perms in every store.
// It ranks as a member wherever roles are compared. Permissions the catalog no longer has
// grant nothing.
func ClientAccess(orgID string, perms []Permission, c *Catalog) Access {
	a := Access{OrgID: orgID, Role: OrgMember, Status: MembershipActive, org: PermSet{}}
	store := PermSet{}
	for _, p := range perms {
		switch info, ok := c.Lookup(p); {
		case !ok:
		case info.Scope == ScopeOrganization && orgRoleSets[OrgAdmin].Has(p):
			a.org[p] = struct{}{}
		case info.Scope == ScopeStore:
			store[p] = struct{}{}
		}
	}
	a.everyStore = &StoreGrant{RoleID: "client", RoleName: "Machine client", Via: ViaOrganizationRole, Perms: store}
	return a
}

// IsMember reports whether the principal belongs to the organization, suspended or not.
func (a Access) IsMember() bool { return a.Role.Valid() }

// Active reports whether the principal is a member whose membership grants access.
func (a Access) Active() bool { return a.Role.Valid() && a.Status == MembershipActive }

// Can reports whether the principal holds an organization permission.
func (a Access) Can(p Permission) bool { return a.org.Has(p) }

// Store returns the principal's effective grant in a store: via the organization role when
// that gives more, else the store membership.
func (a Access) Store(storeID string) (StoreGrant, bool) {
	if a.everyStore != nil {
		g := *a.everyStore
		g.StoreID = storeID
		return g, true
	}
	return a.storeGrant(storeID)
}

// CanInStore reports whether the principal holds a store permission in a store.
func (a Access) CanInStore(storeID string, p Permission) bool {
	g, ok := a.Store(storeID)
	return ok && g.Perms.Has(p)
}

// AllStores reports whether the principal reaches every store of the organization.
func (a Access) AllStores() bool { return a.everyStore != nil }

// StoreIDs returns the stores reached through store memberships (not via the organization role).
func (a Access) StoreIDs() []string {
	out := make([]string, 0, len(a.stores))
	for _, g := range a.stores {
		out = append(out, g.storeID)
	}
	return out
}

// Grants returns the grants of the principal's store memberships (not the organization-wide
// one), store by store. Their permission sets are shared: read them, never change them.
func (a Access) Grants() iter.Seq2[string, StoreGrant] {
	return func(yield func(string, StoreGrant) bool) {
		for _, g := range a.stores {
			if !yield(g.storeID, g.grant()) {
				return
			}
		}
	}
}

// Holds returns the organization permissions of want that the principal lacks.
func (a Access) Holds(want []Permission) (missing []Permission) { return a.org.Missing(want) }

// HoldsInStore returns the permissions of want that the principal lacks in a store. With
// storeID "" it asks about every store at once, which only an organization-wide grant gives.
// It is the no-escalation test: nobody grants what they do not hold.
func (a Access) HoldsInStore(storeID string, want []Permission) (missing []Permission) {
	var have PermSet
	if a.everyStore != nil {
		have = a.everyStore.Perms
	} else if g, ok := a.storeGrant(storeID); ok && storeID != "" {
		have = g.Perms
	}
	return have.Missing(want)
}

// MayChangeMembership refuses to change or remove an organization membership whose role is
// target when the rules forbid it: the owner's membership is demoted, suspended or removed by
// nobody, not even the owner (DESIGN §3 rules 1 and 2; ownership moves only by transfer). The
// permission to manage members is checked apart.
func (a Access) MayChangeMembership(target OrgRole) error {
	if target != OrgOwner {
		return nil
	}
	if a.Role == OrgOwner {
		return Errorf(EOwnerProtected, "the owner cannot be demoted, suspended or removed; transfer ownership to an admin first")
	}
	return Errorf(EOwnerProtected, "nobody but the owner can change the owner's membership")
}

// MayChangeStoreRolesOf refuses to change someone's store roles when they are the owner and
// the principal is not: only the owner touches the owner's memberships.
func (a Access) MayChangeStoreRolesOf(target OrgRole) error {
	if target == OrgOwner && a.Role != OrgOwner {
		return Errorf(EOwnerProtected, "nobody but the owner can change the owner's membership")
	}
	return nil
}

// MayBypassSSO reports whether a member may sign in with a password although a domain
// of the organization requires single sign-on: the owner alone, as a break-glass when the
// identity provider is down or misconfigured (README, "Enterprise SSO").
func MayBypassSSO(m Membership) bool { return m.Role == OrgOwner && m.Status == MembershipActive }

// MayInviteAs reports whether the principal may invite with an organization role, before each
// store grant is checked (HoldsInStore and store.members.invite in each store): those who
// manage members invite with any role, into any store, or none; those who invite in stores
// invite as member, into at least one store. It returns the permission that is missing, and
// whether the refusal is an escalation (a store-level inviter asking for a higher role).
func (a Access) MayInviteAs(role OrgRole, stores int) (missing Permission, escalation bool) {
	switch {
	case a.Can(PermOrgMembersManage):
		return "", false
	case stores == 0:
		return PermOrgMembersManage, false
	case role != OrgMember:
		return PermOrgMembersManage, true
	}
	return "", false
}

// InvitesSomewhere reports whether the principal may invite anyone at all: they manage
// members, or hold store.members.invite in a store.
func (a Access) InvitesSomewhere() bool {
	if a.Can(PermOrgMembersManage) {
		return true
	}
	for _, g := range a.stores {
		if a.CanInStore(g.storeID, PermStoreMembersInvite) {
			return true
		}
	}
	return false
}

// MayListRoles reports whether the principal sees the organization's store roles: those who
// view its settings, and those who pick roles for others somewhere (invite, manage a team or
// mint API keys in at least one store).
func (a Access) MayListRoles() bool {
	if a.Can(PermOrgSettingsRead) {
		return true
	}
	for _, g := range a.stores {
		for _, p := range []Permission{PermStoreMembersInvite, PermStoreMembersManage, PermStoreAPIKeysManage} {
			if a.CanInStore(g.storeID, p) {
				return true
			}
		}
	}
	return false
}

// MayManageAPIKeys reports whether the principal creates and manages API keys in a store, or
// organization-wide when storeID is "": owner and admins everywhere, holders of
// store.api_keys.manage in their stores.
func (a Access) MayManageAPIKeys(storeID string) bool {
	return a.Can(PermOrgAPIKeysManage) || (storeID != "" && a.CanInStore(storeID, PermStoreAPIKeysManage))
}

// MayManageStoreMember returns what the principal lacks to change or remove someone's
// membership of a store whose current role is target: store.members.manage in that store,
// and every permission of target. Nobody demotes or removes someone who holds more there
// than they do, as nobody grants more than they hold (HoldsInStore). Empty means allowed.
func (a Access) MayManageStoreMember(storeID string, target Role) (missing []Permission) {
	if storeID == "" {
		return []Permission{PermStoreMembersManage}
	}
	return a.HoldsInStore(storeID, append([]Permission{PermStoreMembersManage}, target.Permissions...))
}

// Restrict narrows the access to what a credential carries: at most the organization
// permissions org, and in stores at most the store role grant (in one store when storeID is
// set, else in every store the principal reaches). An API key never holds more than its owner.
func (a Access) Restrict(org PermSet, role StoreGrant, storeID string) Access {
	r := Access{OrgID: a.OrgID, UserID: a.UserID, Role: a.Role, Status: a.Status, org: a.org.Intersect(org)}
	narrowed := map[*grantRole]*grantRole{} // grants of one role are narrowed alike
	narrow := func(g storeGrant) storeGrant {
		nr, ok := narrowed[g.role]
		if !ok {
			nr = &grantRole{id: role.RoleID, name: role.RoleName, via: g.role.via, perms: g.role.perms.Intersect(role.Perms)}
			narrowed[g.role] = nr
		}
		return storeGrant{storeID: g.storeID, role: nr}
	}
	if storeID != "" {
		if g, ok := a.Store(storeID); ok {
			r.stores = []storeGrant{narrow(storeGrant{storeID: storeID, role: &grantRole{id: g.RoleID, name: g.RoleName, via: g.Via, perms: g.Perms}})}
		}
		return r
	}
	if a.everyStore != nil {
		g := *a.everyStore
		g.Perms = g.Perms.Intersect(role.Perms)
		g.RoleID, g.RoleName = role.RoleID, role.RoleName
		r.everyStore = &g
	}
	r.stores = make([]storeGrant, 0, len(a.stores))
	for _, g := range a.stores {
		r.stores = append(r.stores, narrow(g))
	}
	return r
}

// Decision is the answer to "may this principal do this here?", with the reason.
type Decision struct {
	Allowed bool
	Reason  string // a stable word: "organization_role", "store_role", "not_member", "suspended", "no_store_access", "permission_missing"
	OrgRole OrgRole
	RoleID  string // the store role that decided, if any
}

// Explain decides a permission in a store ("" for an organization permission) and says why.
func (a Access) Explain(p Permission, storeID string) Decision {
	d := Decision{OrgRole: a.Role}
	switch {
	case !a.IsMember():
		d.Reason = "not_member"
	case !a.Active():
		d.Reason = "suspended"
	case storeID == "":
		d.Allowed = a.Can(p)
		d.Reason = "organization_role"
		if !d.Allowed {
			d.Reason = "permission_missing"
		}
	default:
		g, ok := a.Store(storeID)
		if !ok {
			d.Reason = "no_store_access"
			return d
		}
		d.RoleID, d.Allowed, d.Reason = g.RoleID, g.Perms.Has(p), g.Via
		if !d.Allowed {
			d.Reason = "permission_missing"
		}
	}
	return d
}
