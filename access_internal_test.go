package roster

import (
	"reflect"
	"testing"
	"time"
)

// The grants of one role share their role part: within an access always, across the
// accesses computed with one GrantRoles (an organization read whole) too. The access index
// holds hundreds of thousands of grants; this is what keeps each to three words.
func TestGrantRolesShared(t *testing.T) {
	cat := NewCatalog(nil)
	member, _ := cat.BuiltinPermSet(StoreRoleAdmin) // given as the member role: the built-in member and viewer roles differ only in host permissions
	viewer, _ := cat.BuiltinPermSet(StoreRoleViewer)
	custom := NewPermSet(PermStoreRead)
	grants := func(user string) []StoreGrant {
		return []StoreGrant{
			{StoreID: "sto_c", RoleID: StoreRoleMember, RoleName: "Member", Perms: member},
			{StoreID: "sto_a", RoleID: StoreRoleMember, RoleName: "Member", Perms: member},
			{StoreID: "sto_b", RoleID: StoreRoleViewer, RoleName: "Viewer", Perms: viewer},
			{StoreID: "sto_d", RoleID: "rol_1", RoleName: "Readers of " + user, Perms: custom},
		}
	}
	roles := &GrantRoles{}
	a := NewAccessSharing("org_1", "usr_a", OrgMember, MembershipActive, grants("a"), cat, roles)
	b := NewAccessSharing("org_1", "usr_b", OrgMember, MembershipActive, grants("b"), cat, roles)
	alone := NewAccess("org_1", "usr_c", OrgMember, MembershipActive, grants("c"), cat)

	byStore := func(acc Access) map[string]*grantRole {
		m := map[string]*grantRole{}
		for _, g := range acc.stores {
			m[g.storeID] = g.role
		}
		return m
	}
	ra, rb, rc := byStore(a), byStore(b), byStore(alone)
	if ra["sto_a"] != ra["sto_c"] || rc["sto_a"] != rc["sto_c"] {
		t.Error("two grants of one role in one access do not share their role part")
	}
	if ra["sto_a"] != rb["sto_a"] || ra["sto_b"] != rb["sto_b"] {
		t.Error("accesses computed with one GrantRoles do not share a role's part")
	}
	if ra["sto_a"] == ra["sto_b"] || ra["sto_a"] == rc["sto_a"] {
		t.Error("a role part is shared where it must not be: another role, or another GrantRoles")
	}
	// A custom role of the same ID but another name (renamed between two reads) is not taken
	// for the first.
	if ra["sto_d"] == rb["sto_d"] {
		t.Error("a role part was shared across two names of one role")
	}
	// Nor one whose permissions changed to as many others (edited between two reads).
	edited := NewAccessSharing("org_1", "usr_e", OrgMember, MembershipActive,
		[]StoreGrant{{StoreID: "sto_d", RoleID: "rol_1", RoleName: "Readers of b", Perms: NewPermSet(PermStoreUpdate)}}, cat, roles)
	if g, _ := edited.Store("sto_d"); g.Perms.Has(PermStoreRead) || !g.Perms.Has(PermStoreUpdate) {
		t.Errorf("a role edited to other permissions took the first's: %v", g.Perms.Sorted())
	}
	for _, acc := range []Access{a, b, alone} {
		if g, ok := acc.Store("sto_b"); !ok || g.StoreID != "sto_b" || g.RoleID != StoreRoleViewer || g.RoleName != "Viewer" || g.Via != ViaStoreRole || !g.Perms.Has(PermStoreRead) {
			t.Errorf("%s's grant in sto_b: %+v", acc.UserID, g)
		}
		if ids := acc.StoreIDs(); len(ids) != 4 || ids[0] != "sto_a" || ids[3] != "sto_d" {
			t.Errorf("%s's stores: %v", acc.UserID, ids)
		}
	}
	// Restricting narrows every grant, and leaves the shared parts as they were.
	var memberOnly Permission // a permission the first role holds and viewers do not
	for p := range member {
		if !viewer.Has(p) {
			memberOnly = p
		}
	}
	if memberOnly == "" {
		t.Fatal("the admin role holds nothing the viewer role does not")
	}
	r := a.Restrict(NewPermSet(), StoreGrant{RoleID: StoreRoleViewer, RoleName: "Viewer", Perms: viewer}, "")
	if r.CanInStore("sto_a", memberOnly) || !r.CanInStore("sto_a", PermStoreRead) {
		t.Errorf("restricted to viewer: %+v", r)
	}
	if g, _ := r.Store("sto_c"); g.RoleID != StoreRoleViewer {
		t.Errorf("a restricted grant keeps its role: %+v", g)
	}
	if !a.CanInStore("sto_a", memberOnly) || !b.CanInStore("sto_a", memberOnly) {
		t.Error("restricting one access changed the grants it shares with another")
	}
}

// What the access index keeps of an access gives back the same access; what it cannot keep
// (a narrowed access, a machine client's) is not packed.
func TestIndexedAccessRoundTrip(t *testing.T) {
	cat := NewCatalog([]PermissionInfo{{Key: "orders.read", Scope: ScopeStore, Member: true, Viewer: true}})
	member, _ := cat.BuiltinPermSet(StoreRoleMember)
	changed := time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC)
	grants := []StoreGrant{{StoreID: "sto_b", RoleID: StoreRoleMember, RoleName: "Member", Perms: member}, {StoreID: "sto_a", RoleID: "rol_1", RoleName: "Readers", Perms: NewPermSet("orders.read")}}
	for _, c := range []struct {
		role   OrgRole
		status MembershipStatus
		grants []StoreGrant
	}{
		{OrgOwner, MembershipActive, nil},
		{OrgAdmin, MembershipActive, grants},
		{OrgMember, MembershipActive, grants},
		{OrgMember, MembershipSuspended, grants},
		{"", "", nil}, // not a member
	} {
		a := NewAccess("org_1", "usr_1", c.role, c.status, c.grants, cat)
		a.Changed = changed
		if c.role == "" {
			a.Changed = time.Time{}
		}
		p, ok := a.Pack()
		if !ok {
			t.Fatalf("%s/%s: not packed", c.role, c.status)
		}
		got := p.Unpack("org_1", "usr_1", cat)
		if !reflect.DeepEqual(got, a) {
			t.Errorf("%s/%s: unpacked %+v, want %+v", c.role, c.status, got, a)
		}
		for _, perm := range []Permission{PermOrgDelete, PermOrgMembersManage, PermStoreUpdate, "orders.read"} {
			for _, store := range []string{"", "sto_a", "sto_b", "sto_c"} {
				if got.Explain(perm, store) != a.Explain(perm, store) {
					t.Errorf("%s/%s: %s in %q decided otherwise once unpacked", c.role, c.status, perm, store)
				}
			}
		}
	}
	a := NewAccess("org_1", "usr_1", OrgAdmin, MembershipActive, grants, cat)
	if _, ok := a.Restrict(NewPermSet(PermOrgRead), grants[0], "").Pack(); ok {
		t.Error("a narrowed access was packed: unpacked, it would hold its owner's permissions")
	}
	if _, ok := ClientAccess("org_1", []Permission{PermOrgRead}, cat).Pack(); ok {
		t.Error("a machine client's access was packed")
	}
}
