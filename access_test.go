package roster_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

const (
	storeA = "sto_a"
	storeB = "sto_b"
)

// grant is a store membership with a built-in role, as app resolves it.
func grant(t *testing.T, cat *roster.Catalog, storeID, roleID string) roster.StoreGrant {
	t.Helper()
	r, ok := cat.BuiltinRole(roleID)
	if !ok {
		t.Fatalf("no role %s", roleID)
	}
	return roster.StoreGrant{StoreID: storeID, RoleID: r.ID, RoleName: r.Name, Perms: roster.NewPermSet(r.Permissions...)}
}

func TestAccessDecisions(t *testing.T) {
	cat := roster.NewCatalog([]roster.PermissionInfo{{Key: "campaigns.create", Member: true}})
	custom := roster.StoreGrant{StoreID: storeB, RoleID: "rol_creator", RoleName: "Creator", Perms: roster.NewPermSet(roster.PermStoreRead, "campaigns.create")}
	access := map[string]roster.Access{
		"owner":       roster.NewAccess("org_1", "usr_o", roster.OrgOwner, roster.MembershipActive, nil, cat),
		"admin":       roster.NewAccess("org_1", "usr_a", roster.OrgAdmin, roster.MembershipActive, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleViewer)}, cat),
		"member":      roster.NewAccess("org_1", "usr_m", roster.OrgMember, roster.MembershipActive, nil, cat),
		"storeMember": roster.NewAccess("org_1", "usr_s", roster.OrgMember, roster.MembershipActive, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleMember)}, cat),
		"storeAdmin":  roster.NewAccess("org_1", "usr_sa", roster.OrgMember, roster.MembershipActive, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleAdmin), custom}, cat),
		"suspended":   roster.NewAccess("org_1", "usr_x", roster.OrgAdmin, roster.MembershipSuspended, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleAdmin)}, cat),
		"nonMember":   roster.NewAccess("org_1", "usr_n", "", "", nil, cat),
	}
	type want struct {
		allowed bool
		reason  string
		role    string // the store role that decided
	}
	cases := []struct {
		perm  roster.Permission
		store string
		want  map[string]want
	}{
		{roster.PermOrgRead, "", map[string]want{
			"owner": {true, "organization_role", ""}, "admin": {true, "organization_role", ""}, "member": {true, "organization_role", ""},
			"storeMember": {true, "organization_role", ""}, "storeAdmin": {true, "organization_role", ""},
			"suspended": {false, "suspended", ""}, "nonMember": {false, "not_member", ""}}},
		{roster.PermOrgSettingsRead, "", map[string]want{
			"owner": {true, "organization_role", ""}, "admin": {true, "organization_role", ""}, "member": {false, "permission_missing", ""},
			"storeMember": {false, "permission_missing", ""}, "storeAdmin": {false, "permission_missing", ""},
			"suspended": {false, "suspended", ""}, "nonMember": {false, "not_member", ""}}},
		{roster.PermOrgTransfer, "", map[string]want{
			"owner": {true, "organization_role", ""}, "admin": {false, "permission_missing", ""}, "member": {false, "permission_missing", ""},
			"storeMember": {false, "permission_missing", ""}, "storeAdmin": {false, "permission_missing", ""},
			"suspended": {false, "suspended", ""}, "nonMember": {false, "not_member", ""}}},
		// The admin's own viewer membership of store A does not lower what the organization role gives.
		{roster.PermStoreUpdate, storeA, map[string]want{
			"owner": {true, "organization_role", "admin"}, "admin": {true, "organization_role", "admin"}, "member": {false, "no_store_access", ""},
			"storeMember": {false, "permission_missing", "member"}, "storeAdmin": {true, "store_role", "admin"},
			"suspended": {false, "suspended", ""}, "nonMember": {false, "not_member", ""}}},
		{roster.PermStoreRead, storeA, map[string]want{
			"owner": {true, "organization_role", "admin"}, "admin": {true, "organization_role", "admin"}, "member": {false, "no_store_access", ""},
			"storeMember": {true, "store_role", "member"}, "storeAdmin": {true, "store_role", "admin"},
			"suspended": {false, "suspended", ""}, "nonMember": {false, "not_member", ""}}},
		{"campaigns.create", storeA, map[string]want{
			"owner": {true, "organization_role", "admin"}, "admin": {true, "organization_role", "admin"}, "member": {false, "no_store_access", ""},
			"storeMember": {true, "store_role", "member"}, "storeAdmin": {true, "store_role", "admin"},
			"suspended": {false, "suspended", ""}, "nonMember": {false, "not_member", ""}}},
		{roster.PermStoreMembersInvite, storeB, map[string]want{
			"owner": {true, "organization_role", "admin"}, "admin": {true, "organization_role", "admin"}, "member": {false, "no_store_access", ""},
			"storeMember": {false, "no_store_access", ""}, "storeAdmin": {false, "permission_missing", "rol_creator"},
			"suspended": {false, "suspended", ""}, "nonMember": {false, "not_member", ""}}},
		{"campaigns.create", storeB, map[string]want{
			"owner": {true, "organization_role", "admin"}, "storeAdmin": {true, "store_role", "rol_creator"}, "storeMember": {false, "no_store_access", ""}}},
	}
	for _, c := range cases {
		for who, w := range c.want {
			acc := access[who]
			d := acc.Explain(c.perm, c.store)
			if d.Allowed != w.allowed || d.Reason != w.reason || d.RoleID != w.role || d.OrgRole != acc.Role {
				t.Errorf("%s: Explain(%s, %q) = %+v, want %+v", who, c.perm, c.store, d, w)
			}
			// Can and CanInStore agree with Explain.
			var can bool
			if c.store == "" {
				can = acc.Can(c.perm)
			} else {
				can = acc.CanInStore(c.store, c.perm)
			}
			if can != w.allowed {
				t.Errorf("%s: Can/CanInStore(%s, %q) = %v, Explain says %v", who, c.perm, c.store, can, w.allowed)
			}
		}
	}

	// Organization permissions never come from a store role, and store permissions never
	// from Can.
	if access["storeAdmin"].Can(roster.PermStoreUpdate) || access["owner"].Can(roster.PermStoreUpdate) {
		t.Error("a store permission counts as an organization permission")
	}
	if access["owner"].CanInStore(storeA, roster.PermOrgDelete) {
		t.Error("an organization permission counts in a store")
	}
}

func TestAccessMembership(t *testing.T) {
	cat := roster.NewCatalog(nil)
	for _, tc := range []struct {
		role                         roster.OrgRole
		status                       roster.MembershipStatus
		member, active, allStores    bool
		storeIDs                     int
		reachesStoreB, reachesStoreA bool
	}{
		{roster.OrgOwner, roster.MembershipActive, true, true, true, 1, true, true},
		{roster.OrgAdmin, roster.MembershipActive, true, true, true, 1, true, true},
		{roster.OrgMember, roster.MembershipActive, true, true, false, 1, false, true},
		{roster.OrgOwner, roster.MembershipSuspended, true, false, false, 0, false, false},
		{roster.OrgMember, roster.MembershipSuspended, true, false, false, 0, false, false},
		{"", "", false, false, false, 0, false, false},
		{"bogus", roster.MembershipActive, false, false, false, 0, false, false},
	} {
		acc := roster.NewAccess("org_1", "usr_1", tc.role, tc.status, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleViewer)}, cat)
		_, inA := acc.Store(storeA)
		_, inB := acc.Store(storeB)
		if acc.IsMember() != tc.member || acc.Active() != tc.active || acc.AllStores() != tc.allStores ||
			len(acc.StoreIDs()) != tc.storeIDs || inA != tc.reachesStoreA || inB != tc.reachesStoreB {
			t.Errorf("%s/%s: member %v active %v all %v stores %v A %v B %v", tc.role, tc.status,
				acc.IsMember(), acc.Active(), acc.AllStores(), acc.StoreIDs(), inA, inB)
		}
		if !tc.active && (len(acc.Holds([]roster.Permission{roster.PermOrgRead})) == 0 || acc.Can(roster.PermOrgRead)) {
			t.Errorf("%s/%s grants organization permissions", tc.role, tc.status)
		}
	}
	// Via: an admin's grant in every store comes from the organization role, whatever the
	// store membership says; a member's comes from the store role.
	admin := roster.NewAccess("org_1", "usr_1", roster.OrgAdmin, roster.MembershipActive, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleViewer)}, cat)
	if g, _ := admin.Store(storeA); g.Via != roster.ViaOrganizationRole || g.RoleID != roster.StoreRoleAdmin || g.StoreID != storeA {
		t.Errorf("admin's grant in store A: %+v", g)
	}
	member := roster.NewAccess("org_1", "usr_1", roster.OrgMember, roster.MembershipActive, []roster.StoreGrant{{StoreID: storeA, RoleID: "viewer", Via: "forged"}}, cat)
	if g, _ := member.Store(storeA); g.Via != roster.ViaStoreRole {
		t.Errorf("member's grant: %+v", g)
	}
}

func TestHoldsInStore(t *testing.T) {
	cat := roster.NewCatalog(nil)
	admin, _ := cat.BuiltinRole(roster.StoreRoleAdmin)
	member, _ := cat.BuiltinRole(roster.StoreRoleMember)
	orgAdmin := roster.NewAccess("org_1", "usr_1", roster.OrgAdmin, roster.MembershipActive, nil, cat)
	storeAdmin := roster.NewAccess("org_1", "usr_2", roster.OrgMember, roster.MembershipActive, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleAdmin)}, cat)
	storeMember := roster.NewAccess("org_1", "usr_3", roster.OrgMember, roster.MembershipActive, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleMember)}, cat)
	suspended := roster.NewAccess("org_1", "usr_4", roster.OrgOwner, roster.MembershipSuspended, nil, cat)
	for _, tc := range []struct {
		name    string
		acc     roster.Access
		store   string
		want    []roster.Permission
		missing int
	}{
		{"org admin grants admin anywhere", orgAdmin, storeB, admin.Permissions, 0},
		{"org admin grants admin in every store", orgAdmin, "", admin.Permissions, 0},
		{"store admin grants admin in their store", storeAdmin, storeA, admin.Permissions, 0},
		{"store admin grants nothing in another store", storeAdmin, storeB, member.Permissions, len(member.Permissions)},
		{"store admin cannot grant in every store", storeAdmin, "", member.Permissions, len(member.Permissions)},
		{"store member cannot grant admin", storeMember, storeA, admin.Permissions, len(admin.Permissions) - len(member.Permissions)},
		{"store member may grant what they hold", storeMember, storeA, member.Permissions, 0},
		{"suspended owner grants nothing", suspended, storeA, member.Permissions, len(member.Permissions)},
	} {
		if got := tc.acc.HoldsInStore(tc.store, tc.want); len(got) != tc.missing {
			t.Errorf("%s: missing %v, want %d missing", tc.name, got, tc.missing)
		}
	}
	if got := orgAdmin.Holds(roster.OrgRolePermissions(roster.OrgOwner).Sorted()); !slices.Equal(got, []roster.Permission{
		roster.PermOrgDelete, roster.PermOrgTransfer, roster.PermOrgStoresCreate, roster.PermOrgUpdate}) {
		t.Errorf("an admin lacks %v of the owner's permissions", got)
	}
	if got := orgAdmin.Holds(roster.OrgRolePermissions(roster.OrgAdmin).Sorted()); len(got) != 0 {
		t.Errorf("an admin lacks %v of their own role", got)
	}
}

func TestRestrict(t *testing.T) {
	cat := roster.NewCatalog(nil)
	owner := roster.NewAccess("org_1", "usr_o", roster.OrgOwner, roster.MembershipActive, nil, cat)
	viewerRole, _ := cat.BuiltinRole(roster.StoreRoleViewer)
	viewer := roster.StoreGrant{RoleID: viewerRole.ID, RoleName: viewerRole.Name, Perms: roster.NewPermSet(viewerRole.Permissions...)}
	orgPerms := roster.NewPermSet(roster.PermOrgRead, roster.PermOrgMembersManage, "made.up")

	// Limited to one store: the other stores vanish, and the org part is the intersection.
	r := owner.Restrict(orgPerms, viewer, storeA)
	if !r.Can(roster.PermOrgRead) || !r.Can(roster.PermOrgMembersManage) || r.Can(roster.PermOrgDelete) || r.Can("made.up") {
		t.Errorf("restricted organization permissions: %+v", r)
	}
	if r.AllStores() {
		t.Error("a key limited to one store reaches every store")
	}
	if _, ok := r.Store(storeB); ok {
		t.Error("a key limited to store A reaches store B")
	}
	if g, ok := r.Store(storeA); !ok || g.RoleID != roster.StoreRoleViewer || g.Perms.Has(roster.PermStoreUpdate) || !g.Perms.Has(roster.PermStoreRead) {
		t.Errorf("grant in store A: %+v", g)
	}
	if d := r.Explain(roster.PermStoreUpdate, storeA); d.Allowed || d.Reason != "permission_missing" {
		t.Errorf("restricted Explain: %+v", d)
	}

	// Not limited to a store: every store the principal reaches, each narrowed.
	r = owner.Restrict(orgPerms, viewer, "")
	if !r.AllStores() || !r.CanInStore(storeB, roster.PermStoreRead) || r.CanInStore(storeB, roster.PermStoreMembersManage) {
		t.Errorf("restricted to the viewer role everywhere: %+v", r)
	}

	// Never more than the principal holds: a member's key with an admin role stays a member.
	admin, _ := cat.BuiltinRole(roster.StoreRoleAdmin)
	member := roster.NewAccess("org_1", "usr_m", roster.OrgMember, roster.MembershipActive, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleMember)}, cat)
	r = member.Restrict(roster.OrgRolePermissions(roster.OrgOwner), roster.StoreGrant{RoleID: "admin", Perms: roster.NewPermSet(admin.Permissions...)}, "")
	if r.Can(roster.PermOrgDelete) || r.CanInStore(storeA, roster.PermStoreUpdate) || !r.CanInStore(storeA, roster.PermStoreRead) {
		t.Errorf("a key holds more than its owner: %+v", r)
	}
	if _, ok := r.Store(storeB); ok {
		t.Error("a member's key reaches a store the member does not")
	}
	// A key on a store its owner does not reach reaches nothing.
	r = member.Restrict(orgPerms, viewer, storeB)
	if _, ok := r.Store(storeB); ok || len(r.StoreIDs()) != 0 {
		t.Error("a key reaches a store its owner does not")
	}
	// A suspended principal's restricted access is still nothing.
	susp := roster.NewAccess("org_1", "usr_s", roster.OrgOwner, roster.MembershipSuspended, nil, cat)
	if r := susp.Restrict(orgPerms, viewer, ""); r.Active() || r.Can(roster.PermOrgRead) || r.CanInStore(storeA, roster.PermStoreRead) {
		t.Errorf("suspended, restricted: %+v", r)
	}
}

// TestMayManageStoreMember: changing or removing a store membership needs
// store.members.manage there and every permission of the target's current role.
func TestMayManageStoreMember(t *testing.T) {
	cat := roster.NewCatalog([]roster.PermissionInfo{{Key: "campaigns.create", Member: true}})
	admin, _ := cat.BuiltinRole(roster.StoreRoleAdmin)
	member, _ := cat.BuiltinRole(roster.StoreRoleMember)
	viewer, _ := cat.BuiltinRole(roster.StoreRoleViewer)
	lead := roster.Role{ID: "rol_lead", Permissions: []roster.Permission{roster.PermStoreRead, roster.PermStoreMembersRead, roster.PermStoreMembersManage}}
	leadGrant := roster.StoreGrant{StoreID: storeA, RoleID: lead.ID, Perms: roster.NewPermSet(lead.Permissions...)}
	acc := map[string]roster.Access{
		"orgAdmin":    roster.NewAccess("org_1", "usr_1", roster.OrgAdmin, roster.MembershipActive, nil, cat),
		"storeAdmin":  roster.NewAccess("org_1", "usr_2", roster.OrgMember, roster.MembershipActive, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleAdmin)}, cat),
		"lead":        roster.NewAccess("org_1", "usr_3", roster.OrgMember, roster.MembershipActive, []roster.StoreGrant{leadGrant}, cat),
		"storeMember": roster.NewAccess("org_1", "usr_4", roster.OrgMember, roster.MembershipActive, []roster.StoreGrant{grant(t, cat, storeA, roster.StoreRoleMember)}, cat),
		"suspended":   roster.NewAccess("org_1", "usr_5", roster.OrgAdmin, roster.MembershipSuspended, nil, cat),
	}
	for _, tc := range []struct {
		actor   string
		store   string
		target  roster.Role
		missing []roster.Permission
	}{
		{"orgAdmin", storeB, admin, nil},
		{"storeAdmin", storeA, admin, nil},
		{"storeAdmin", storeA, lead, nil},
		{"storeAdmin", storeB, viewer, []roster.Permission{roster.PermStoreMembersManage, roster.PermStoreMembersRead, roster.PermStoreRead}},
		{"lead", storeA, viewer, nil},
		{"lead", storeA, lead, nil},
		{"lead", storeA, admin, []roster.Permission{roster.PermStoreAPIKeysManage, roster.PermStoreAuditRead, roster.PermStoreDataReadAll, roster.PermStoreMembersInvite, roster.PermStoreUpdate, "campaigns.create"}},
		{"lead", storeA, member, []roster.Permission{"campaigns.create"}},
		{"storeMember", storeA, viewer, []roster.Permission{roster.PermStoreMembersManage}},
		{"suspended", storeA, viewer, []roster.Permission{roster.PermStoreMembersManage, roster.PermStoreMembersRead, roster.PermStoreRead}},
		{"orgAdmin", "", viewer, []roster.Permission{roster.PermStoreMembersManage}},
	} {
		got := acc[tc.actor].MayManageStoreMember(tc.store, tc.target)
		want := slices.Clone(tc.missing)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s on a %s in %q: missing %v, want %v", tc.actor, tc.target.ID, tc.store, got, want)
		}
	}
}

// TestWhoMayDoWhat: the rules of who may touch whom, decided once here and used by app, the
// console and (ReachesEveryStore) the SQL.
func TestWhoMayDoWhat(t *testing.T) {
	cat := roster.NewCatalog(nil)
	acc := func(role roster.OrgRole, grants ...roster.StoreGrant) roster.Access {
		return roster.NewAccess("org_1", "usr_x", role, roster.MembershipActive, grants, cat)
	}
	owner, admin, member := acc(roster.OrgOwner), acc(roster.OrgAdmin), acc(roster.OrgMember)
	storeAdmin := acc(roster.OrgMember, grant(t, cat, storeA, roster.StoreRoleAdmin))
	viewer := acc(roster.OrgMember, grant(t, cat, storeA, roster.StoreRoleViewer))

	for _, r := range []roster.OrgRole{roster.OrgOwner, roster.OrgAdmin, roster.OrgMember} {
		if got, want := r.ReachesEveryStore(), acc(r).AllStores(); got != want {
			t.Errorf("%s: ReachesEveryStore %v, but its access reaches every store: %v", r, got, want)
		}
		if got := slices.Contains(roster.RolesReachingEveryStore, r); got != r.ReachesEveryStore() {
			t.Errorf("%s: RolesReachingEveryStore disagrees with ReachesEveryStore", r)
		}
	}

	code := roster.ErrorCode
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"owner demotes the owner", owner.MayChangeMembership(roster.OrgOwner), roster.EOwnerProtected},
		{"admin demotes the owner", admin.MayChangeMembership(roster.OrgOwner), roster.EOwnerProtected},
		{"admin demotes an admin", admin.MayChangeMembership(roster.OrgAdmin), ""},
		{"owner changes the owner's store roles", owner.MayChangeStoreRolesOf(roster.OrgOwner), ""},
		{"store admin changes the owner's store roles", storeAdmin.MayChangeStoreRolesOf(roster.OrgOwner), roster.EOwnerProtected},
		{"store admin changes a member's store roles", storeAdmin.MayChangeStoreRolesOf(roster.OrgMember), ""},
		{"owner is assigned", roster.OrgOwner.CheckAssignable(), roster.EOwnerRequired},
		{"no role is assigned", roster.OrgRole("boss").CheckAssignable(), roster.EInvalid},
		{"admin is assigned", roster.OrgAdmin.CheckAssignable(), ""},
	} {
		if got := code(tc.err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if msg := owner.MayChangeMembership(roster.OrgOwner).Error(); !strings.Contains(msg, "transfer") {
		t.Errorf("the owner is told to transfer first: %q", msg)
	}

	for _, tc := range []struct {
		name       string
		acc        roster.Access
		role       roster.OrgRole
		stores     int
		missing    roster.Permission
		escalation bool
	}{
		{"admin invites an admin without stores", admin, roster.OrgAdmin, 0, "", false},
		{"store admin invites a member into a store", storeAdmin, roster.OrgMember, 1, "", false},
		{"store admin invites without stores", storeAdmin, roster.OrgMember, 0, roster.PermOrgMembersManage, false},
		{"store admin invites an admin", storeAdmin, roster.OrgAdmin, 1, roster.PermOrgMembersManage, true},
		{"member invites without stores", member, roster.OrgMember, 0, roster.PermOrgMembersManage, false},
	} {
		missing, esc := tc.acc.MayInviteAs(tc.role, tc.stores)
		if missing != tc.missing || esc != tc.escalation {
			t.Errorf("%s: missing %q escalation %v, want %q %v", tc.name, missing, esc, tc.missing, tc.escalation)
		}
	}
	for _, tc := range []struct {
		name string
		acc  roster.Access
		want bool
	}{{"admin", admin, true}, {"store admin", storeAdmin, true}, {"store viewer", viewer, false}, {"member", member, false}} {
		if got := tc.acc.InvitesSomewhere(); got != tc.want {
			t.Errorf("%s invites somewhere: %v, want %v", tc.name, got, tc.want)
		}
	}
	if viewer.MayListRoles() || member.MayListRoles() || !storeAdmin.MayListRoles() || !admin.MayListRoles() {
		t.Errorf("MayListRoles: viewer %v member %v store admin %v admin %v", viewer.MayListRoles(), member.MayListRoles(), storeAdmin.MayListRoles(), admin.MayListRoles())
	}
	if !admin.MayManageAPIKeys("") || storeAdmin.MayManageAPIKeys("") || !storeAdmin.MayManageAPIKeys(storeA) || viewer.MayManageAPIKeys(storeA) {
		t.Error("MayManageAPIKeys: admin everywhere, store admin in their store only, viewer nowhere")
	}
}

func TestMayManageDirectories(t *testing.T) {
	c := roster.NewCatalog(nil)
	for _, tc := range []struct {
		name string
		acc  roster.Access
		want bool
	}{
		{"owner", roster.NewAccess("org_1", "usr_1", roster.OrgOwner, roster.MembershipActive, nil, c), true},
		{"admin", roster.NewAccess("org_1", "usr_1", roster.OrgAdmin, roster.MembershipActive, nil, c), true},
		{"member", roster.NewAccess("org_1", "usr_1", roster.OrgMember, roster.MembershipActive, nil, c), false},
		{"suspended admin", roster.NewAccess("org_1", "usr_1", roster.OrgAdmin, roster.MembershipSuspended, nil, c), false},
		{"a directory itself", roster.DirectoryAccess("org_1", c), false},
	} {
		if got := tc.acc.MayManageDirectories(); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMaySetUpLinks(t *testing.T) {
	c := roster.NewCatalog(nil)
	for _, tc := range []struct {
		name string
		acc  roster.Access
		want bool
	}{
		{"owner", roster.NewAccess("org_1", "usr_1", roster.OrgOwner, roster.MembershipActive, nil, c), true},
		{"admin", roster.NewAccess("org_1", "usr_1", roster.OrgAdmin, roster.MembershipActive, nil, c), false},
		{"member", roster.NewAccess("org_1", "usr_1", roster.OrgMember, roster.MembershipActive, nil, c), false},
		{"suspended owner", roster.NewAccess("org_1", "usr_1", roster.OrgOwner, roster.MembershipSuspended, nil, c), false},
		{"a directory", roster.DirectoryAccess("org_1", c), false},
		{"a machine client", roster.ClientAccess("org_1", []roster.Permission{roster.PermOrgUpdate}, c), false},
	} {
		if got := tc.acc.MaySetUpLinks(); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
