package roster

import (
	"regexp"
	"slices"
	"sort"
	"sync"
)

// Permission is a key from the catalog, such as "store.members.invite".
type Permission string

// Permissions converts permission keys as given (a form, a flag, a JSON list).
func Permissions(keys ...string) []Permission {
	out := make([]Permission, len(keys))
	for i, k := range keys {
		out[i] = Permission(k)
	}
	return out
}

// PermissionKeys is the reverse of Permissions: the keys of permissions, as strings.
func PermissionKeys(ps []Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// Scope says where a permission applies.
type Scope string

// Scopes. Organization permissions come only from the organization role; store permissions
// come from a store role, or from the organization role "via organization role".
const (
	ScopeOrganization Scope = "organization"
	ScopeStore        Scope = "store"
)

// Roster's own organization permissions (DESIGN §2).
const (
	PermOrgRead           Permission = "org.read"               // see the organization and one's own memberships
	PermOrgUsageRead      Permission = "org.usage.read"         // see account usage
	PermOrgSettingsRead   Permission = "org.settings.read"      // view settings: details, stores, members, invitations, roles, policy
	PermOrgUpdate         Permission = "org.update"             // edit details, logo, address, policy
	PermOrgStoresCreate   Permission = "org.stores.create"      // create stores (uses a credit)
	PermOrgStoresManage   Permission = "org.stores.manage"      // edit, archive and unarchive stores
	PermOrgMembersManage  Permission = "org.members.manage"     // invite, add, change roles, remove, suspend, reset passwords
	PermOrgRolesManage    Permission = "org.roles.manage"       // define custom roles
	PermOrgAPIKeysManage  Permission = "org.api_keys.manage"    // #nosec G101 -- a permission's name, no secret: manage every API key of the organization
	PermOrgAuditRead      Permission = "org.audit.read"         // read everyone's actions
	PermOrgWebhooksManage Permission = "org.webhooks.manage"    // manage the organization's webhook endpoints
	PermOrgDomainsManage  Permission = "org.domains.manage"     // add, verify and remove the organization's email domains
	PermOrgSSOManage      Permission = "org.sso.manage"         // configure the organization's single sign-on
	PermOrgTransfer       Permission = "org.ownership.transfer" // hand ownership to an admin
	PermOrgDelete         Permission = "org.delete"             // delete the organization
)

// Roster's own store permissions (DESIGN §2).
const (
	PermStoreRead          Permission = "store.read"
	PermStoreMembersRead   Permission = "store.members.read"
	PermStoreUpdate        Permission = "store.update"
	PermStoreMembersInvite Permission = "store.members.invite"
	PermStoreMembersManage Permission = "store.members.manage"
	PermStoreAPIKeysManage Permission = "store.api_keys.manage" // #nosec G101 -- a permission's name, no secret
	PermStoreAuditRead     Permission = "store.audit.read"
	PermStoreDataReadAll   Permission = "store.data.read_all"
)

// PermissionInfo describes one permission of the catalog.
type PermissionInfo struct {
	Key         Permission
	Scope       Scope
	Area        string // groups permissions in the role editor
	Description string
	HostApp     bool // registered by the host application, not built into Roster
	Member      bool // held by the built-in store role "member"
	Viewer      bool // held by the built-in store role "viewer"
}

// builtinPermissions is Roster's own part of the catalog.
var builtinPermissions = []PermissionInfo{
	{Key: PermOrgRead, Scope: ScopeOrganization, Area: "organization", Description: "See the organization, its name and one's own memberships"},
	{Key: PermOrgUsageRead, Scope: ScopeOrganization, Area: "organization", Description: "See account usage: members, stores and credits, API calls, emails sent"},
	{Key: PermOrgSettingsRead, Scope: ScopeOrganization, Area: "organization", Description: "View organization settings: details, stores, members, invitations, roles, policy"},
	{Key: PermOrgUpdate, Scope: ScopeOrganization, Area: "organization", Description: "Edit organization details, logo, address and policy"},
	{Key: PermOrgStoresCreate, Scope: ScopeOrganization, Area: "stores", Description: "Create stores, each using one store credit"},
	{Key: PermOrgStoresManage, Scope: ScopeOrganization, Area: "stores", Description: "Edit, archive and unarchive stores"},
	{Key: PermOrgMembersManage, Scope: ScopeOrganization, Area: "members", Description: "Invite and add members, change roles, remove and suspend members, send password resets"},
	{Key: PermOrgRolesManage, Scope: ScopeOrganization, Area: "members", Description: "Define custom store roles"},
	{Key: PermOrgAPIKeysManage, Scope: ScopeOrganization, Area: "api_keys", Description: "Manage the organization's API keys"},
	{Key: PermOrgAuditRead, Scope: ScopeOrganization, Area: "audit", Description: "Read the whole audit log"},
	{Key: PermOrgWebhooksManage, Scope: ScopeOrganization, Area: "webhooks", Description: "Manage the organization's webhook endpoints and read their delivery logs"},
	{Key: PermOrgDomainsManage, Scope: ScopeOrganization, Area: "domains", Description: "Add, verify and remove the organization's email domains and set who joins through them"},
	{Key: PermOrgSSOManage, Scope: ScopeOrganization, Area: "domains", Description: "Configure the organization's single sign-on and which domains require it"},
	{Key: PermOrgTransfer, Scope: ScopeOrganization, Area: "organization", Description: "Transfer ownership to an admin"},
	{Key: PermOrgDelete, Scope: ScopeOrganization, Area: "organization", Description: "Delete the organization"},

	{Key: PermStoreRead, Scope: ScopeStore, Area: "store", Description: "See the store and its details", Member: true, Viewer: true},
	{Key: PermStoreMembersRead, Scope: ScopeStore, Area: "store_members", Description: "See the store's team", Member: true, Viewer: true},
	{Key: PermStoreUpdate, Scope: ScopeStore, Area: "store", Description: "Edit the store's details and logo"},
	{Key: PermStoreMembersInvite, Scope: ScopeStore, Area: "store_members", Description: "Invite people to this store"},
	{Key: PermStoreMembersManage, Scope: ScopeStore, Area: "store_members", Description: "Change store roles and remove people from the store"},
	{Key: PermStoreAPIKeysManage, Scope: ScopeStore, Area: "api_keys", Description: "Manage the store's API keys"},
	{Key: PermStoreAuditRead, Scope: ScopeStore, Area: "audit", Description: "Read everyone's actions in the store"},
	{Key: PermStoreDataReadAll, Scope: ScopeStore, Area: "data", Description: "See every user's data in the store, not only one's own"},
}

// orgRolePermissions is the organization role table of DESIGN §2, the one place it is stated.
var orgRolePermissions = map[OrgRole][]Permission{
	OrgOwner: {
		PermOrgRead, PermOrgUsageRead, PermOrgSettingsRead, PermOrgUpdate, PermOrgStoresCreate,
		PermOrgStoresManage, PermOrgMembersManage, PermOrgRolesManage, PermOrgAPIKeysManage,
		PermOrgAuditRead, PermOrgWebhooksManage, PermOrgDomainsManage, PermOrgSSOManage, PermOrgTransfer, PermOrgDelete,
	},
	OrgAdmin: {
		PermOrgRead, PermOrgUsageRead, PermOrgSettingsRead, PermOrgStoresManage,
		PermOrgMembersManage, PermOrgRolesManage, PermOrgAPIKeysManage, PermOrgAuditRead, PermOrgWebhooksManage,
		PermOrgDomainsManage, PermOrgSSOManage,
	},
	OrgMember: {PermOrgRead, PermOrgUsageRead},
}

// OrgRolePermissions returns the organization permissions of an organization role.
func OrgRolePermissions(r OrgRole) PermSet { return NewPermSet(orgRolePermissions[r]...) }

// orgRoleSets are the organization roles' permissions, shared read-only by every Access.
var orgRoleSets = func() map[OrgRole]PermSet {
	m := make(map[OrgRole]PermSet, len(orgRolePermissions))
	for r, perms := range orgRolePermissions {
		m[r] = NewPermSet(perms...)
	}
	return m
}()

// Holders names the built-in roles that hold a permission, for telling someone refused who
// may do it: the organization roles that hold it (for a store permission, owners and admins,
// who act as store admin everywhere), and the built-in store roles that grant it.
func (c *Catalog) Holders(p Permission) (org []OrgRole, store []string) {
	info, ok := c.Lookup(p)
	if !ok {
		return nil, nil
	}
	if info.Scope == ScopeStore {
		org = []OrgRole{OrgOwner, OrgAdmin}
		for _, id := range BuiltinStoreRoles {
			if perms, ok := c.BuiltinPermSet(id); ok && perms.Has(p) {
				store = append(store, id)
			}
		}
		return org, store
	}
	for _, r := range []OrgRole{OrgOwner, OrgAdmin, OrgMember} {
		if OrgRolePermissions(r).Has(p) {
			org = append(org, r)
		}
	}
	return org, nil
}

// Built-in store role IDs. Custom roles have IDs with the "rol" prefix.
const (
	StoreRoleAdmin  = "admin"
	StoreRoleMember = "member"
	StoreRoleViewer = "viewer"
)

// BuiltinStoreRoles lists the built-in store roles, most powerful first.
var BuiltinStoreRoles = []string{StoreRoleAdmin, StoreRoleMember, StoreRoleViewer}

// IsBuiltinStoreRole reports whether id names a built-in store role.
func IsBuiltinStoreRole(id string) bool { return slices.Contains(BuiltinStoreRoles, id) }

// Role is a store role: built-in or defined by an organization.
type Role struct {
	ID          string // "admin", "member", "viewer", or "rol_…"
	OrgID       string // "" for built-in roles
	Name        string
	Description string
	Permissions []Permission // sorted
	Builtin     bool
}

var permissionKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// ValidPermissionKey reports whether key has the shape of a permission key: lower-case
// dot-separated words such as "campaigns.create".
func ValidPermissionKey(key string) bool {
	return len(key) <= 100 && permissionKeyPattern.MatchString(key)
}

// Catalog is the set of known permissions: Roster's own plus the host application's.
type Catalog struct {
	byKey map[Permission]PermissionInfo
	keys  []Permission // sorted: Roster's first, then host ones by key

	roleSetsOnce sync.Once
	roleSets     map[string]PermSet // the built-in store roles' permissions, made once
	everyStore   *StoreGrant        // owners' and admins' grant in every store, made with roleSets
}

// NewCatalog returns the catalog of Roster's permissions plus the host application's ones.
// Host permissions are always store-scoped; one that reuses a built-in key is ignored.
func NewCatalog(host []PermissionInfo) *Catalog {
	c := &Catalog{byKey: make(map[Permission]PermissionInfo)}
	for _, p := range builtinPermissions {
		c.byKey[p.Key] = p
		c.keys = append(c.keys, p.Key)
	}
	hosts := slices.Clone(host)
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Key < hosts[j].Key })
	for _, p := range hosts {
		if _, ok := c.byKey[p.Key]; ok {
			continue
		}
		p.Scope, p.HostApp = ScopeStore, true
		c.byKey[p.Key] = p
		c.keys = append(c.keys, p.Key)
	}
	return c
}

// IsBuiltinPermission reports whether key is one of Roster's own permissions.
func IsBuiltinPermission(key Permission) bool {
	for _, p := range builtinPermissions {
		if p.Key == key {
			return true
		}
	}
	return false
}

// Lookup returns the description of a permission.
func (c *Catalog) Lookup(key Permission) (PermissionInfo, bool) {
	p, ok := c.byKey[key]
	return p, ok
}

// All returns every permission, Roster's first.
func (c *Catalog) All() []PermissionInfo {
	out := make([]PermissionInfo, 0, len(c.keys))
	for _, k := range c.keys {
		out = append(out, c.byKey[k])
	}
	return out
}

// StorePermissions returns every store-scoped permission: what a store role may hold.
func (c *Catalog) StorePermissions() PermSet {
	s := PermSet{}
	for _, k := range c.keys {
		if c.byKey[k].Scope == ScopeStore {
			s[k] = struct{}{}
		}
	}
	return s
}

// builtinStoreRoleText names and describes the built-in store roles.
var builtinStoreRoleText = map[string]struct{ name, description string }{
	StoreRoleAdmin:  {"Admin", "Everything in the store, including its team and settings"},
	StoreRoleMember: {"Member", "Uses the store; cannot invite or manage its team"},
	StoreRoleViewer: {"Viewer", "Reads the store; changes nothing"},
}

// BuiltinRole returns a built-in store role with its permissions in this catalog.
func (c *Catalog) BuiltinRole(id string) (Role, bool) {
	text, ok := builtinStoreRoleText[id]
	if !ok {
		return Role{}, false
	}
	r := Role{ID: id, Name: text.name, Description: text.description, Builtin: true}
	perms, _ := c.BuiltinPermSet(id)
	r.Permissions = perms.Sorted()
	return r, true
}

// BuiltinPermSet returns the permissions of a built-in store role as one set that every
// grant of the role shares: read it, never change it. Sharing keeps an access in memory
// (the access index holds many) at a pointer per store instead of a set per store.
func (c *Catalog) BuiltinPermSet(id string) (PermSet, bool) {
	c.builtinSets()
	s, ok := c.roleSets[id]
	return s, ok
}

func (c *Catalog) builtinSets() {
	c.roleSetsOnce.Do(func() {
		c.roleSets = map[string]PermSet{
			StoreRoleAdmin:  c.StorePermissions(),
			StoreRoleMember: c.filterStore(func(p PermissionInfo) bool { return p.Member }),
			StoreRoleViewer: c.filterStore(func(p PermissionInfo) bool { return p.Viewer }),
		}
		c.everyStore = &StoreGrant{RoleID: StoreRoleAdmin, RoleName: builtinStoreRoleText[StoreRoleAdmin].name, Via: ViaOrganizationRole, Perms: c.roleSets[StoreRoleAdmin]}
	})
}

// everyStoreGrant is the grant owners and admins hold in every store, one for every Access
// (read it, never change it).
func (c *Catalog) everyStoreGrant() *StoreGrant {
	c.builtinSets()
	return c.everyStore
}

func (c *Catalog) filterStore(keep func(PermissionInfo) bool) PermSet {
	s := PermSet{}
	for _, k := range c.keys {
		if p := c.byKey[k]; p.Scope == ScopeStore && keep(p) {
			s[k] = struct{}{}
		}
	}
	return s
}

// CheckRolePermissions reports the first key that a store role cannot hold: unknown to the
// catalog, or not store-scoped.
func (c *Catalog) CheckRolePermissions(keys []Permission) error {
	for _, k := range keys {
		p, ok := c.byKey[k]
		if !ok {
			return (&Error{Code: EUnknownPermission, Field: "permissions", Message: "unknown permission " + string(k)}).With("permission", string(k))
		}
		if p.Scope != ScopeStore {
			return (&Error{Code: EInvalid, Field: "permissions", Message: string(k) + " is an organization permission; store roles hold store permissions only"}).With("permission", string(k))
		}
	}
	return nil
}

// PermSet is a set of permissions.
type PermSet map[Permission]struct{}

// NewPermSet returns a set holding the given permissions.
func NewPermSet(perms ...Permission) PermSet {
	s := make(PermSet, len(perms))
	for _, p := range perms {
		s[p] = struct{}{}
	}
	return s
}

// Has reports whether the set holds p.
func (s PermSet) Has(p Permission) bool { _, ok := s[p]; return ok }

// Missing returns the permissions of want that s lacks, sorted.
func (s PermSet) Missing(want []Permission) []Permission {
	var out []Permission
	for _, p := range want {
		if !s.Has(p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Intersect returns the permissions held by both sets.
func (s PermSet) Intersect(o PermSet) PermSet {
	out := PermSet{}
	for p := range s {
		if o.Has(p) {
			out[p] = struct{}{}
		}
	}
	return out
}

// Sorted returns the permissions in order.
func (s PermSet) Sorted() []Permission {
	out := make([]Permission, 0, len(s))
	for p := range s {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
