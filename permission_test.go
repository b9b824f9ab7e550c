package roster_test

import (
	"slices"
	"testing"

	"github.com/rosterhq/roster"
)

// TestOrgRolePermissions states DESIGN §2's organization table again, row by row, and checks
// the code's one table against it: a change to either must be made on purpose.
func TestOrgRolePermissions(t *testing.T) {
	const o, a, m = true, true, true
	const no = false
	rows := []struct {
		perm                 roster.Permission
		owner, admin, member bool
	}{
		{roster.PermOrgRead, o, a, m},
		{roster.PermOrgUsageRead, o, a, m},
		{roster.PermOrgSettingsRead, o, a, no},
		{roster.PermOrgUpdate, o, no, no},
		{roster.PermOrgStoresCreate, o, no, no},
		{roster.PermOrgStoresManage, o, a, no},
		{roster.PermOrgMembersManage, o, a, no},
		{roster.PermOrgRolesManage, o, a, no},
		{roster.PermOrgAPIKeysManage, o, a, no},
		{roster.PermOrgAuditRead, o, a, no},
		{roster.PermOrgWebhooksManage, o, a, no},
		{roster.PermOrgDomainsManage, o, a, no},
		{roster.PermOrgSSOManage, o, a, no},
		{roster.PermOrgTransfer, o, no, no},
		{roster.PermOrgDelete, o, no, no},
	}
	cat := roster.NewCatalog(nil)
	for _, r := range rows {
		info, ok := cat.Lookup(r.perm)
		if !ok || info.Scope != roster.ScopeOrganization {
			t.Errorf("%s: in catalog %v with scope %q, want an organization permission", r.perm, ok, info.Scope)
		}
		for role, want := range map[roster.OrgRole]bool{roster.OrgOwner: r.owner, roster.OrgAdmin: r.admin, roster.OrgMember: r.member} {
			if got := roster.OrgRolePermissions(role).Has(r.perm); got != want {
				t.Errorf("%s holds %s: %v, want %v", role, r.perm, got, want)
			}
		}
	}
	// Nothing outside the table: every organization permission of the catalog has a row.
	for _, p := range cat.All() {
		if p.Scope == roster.ScopeOrganization && !slices.ContainsFunc(rows, func(r struct {
			perm                 roster.Permission
			owner, admin, member bool
		}) bool {
			return r.perm == p.Key
		}) {
			t.Errorf("organization permission %s has no row in the test table", p.Key)
		}
	}
	if got := roster.OrgRolePermissions("stranger"); len(got) != 0 {
		t.Errorf("an unknown role holds %v", got.Sorted())
	}
}

// TestBuiltinStoreRoles checks DESIGN §2's store table, with host-application permissions
// registered as member defaults and read-only.
func TestBuiltinStoreRoles(t *testing.T) {
	host := []roster.PermissionInfo{
		{Key: "campaigns.create", Member: true},
		{Key: "campaigns.read", Member: true, Viewer: true},
		{Key: "notifications.read_all"},
	}
	cat := roster.NewCatalog(host)
	want := map[string][]roster.Permission{
		roster.StoreRoleAdmin: {"campaigns.create", "campaigns.read", "notifications.read_all",
			roster.PermStoreAPIKeysManage, roster.PermStoreAuditRead, roster.PermStoreDataReadAll, roster.PermStoreMembersInvite,
			roster.PermStoreMembersManage, roster.PermStoreMembersRead, roster.PermStoreRead, roster.PermStoreUpdate},
		roster.StoreRoleMember: {"campaigns.create", "campaigns.read", roster.PermStoreMembersRead, roster.PermStoreRead},
		roster.StoreRoleViewer: {"campaigns.read", roster.PermStoreMembersRead, roster.PermStoreRead},
	}
	for id, perms := range want {
		r, ok := cat.BuiltinRole(id)
		if !ok || !r.Builtin || r.ID != id || r.Name == "" {
			t.Fatalf("built-in role %s: %+v %v", id, r, ok)
		}
		slices.Sort(perms)
		if !slices.Equal(r.Permissions, perms) {
			t.Errorf("%s holds %v, want %v", id, r.Permissions, perms)
		}
	}
	if _, ok := cat.BuiltinRole("owner"); ok {
		t.Error("owner is not a store role")
	}
	for _, id := range roster.BuiltinStoreRoles {
		if !roster.IsBuiltinStoreRole(id) {
			t.Errorf("IsBuiltinStoreRole(%s) = false", id)
		}
	}
	if roster.IsBuiltinStoreRole("rol_x") || roster.IsBuiltinStoreRole("") {
		t.Error("custom or empty role IDs taken for built-in ones")
	}
}

func TestCatalog(t *testing.T) {
	cat := roster.NewCatalog([]roster.PermissionInfo{
		{Key: "zeta.use"},
		{Key: roster.PermStoreUpdate, Description: "hijack", Member: true}, // reuses a built-in key: ignored
		{Key: "alpha.use", Scope: roster.ScopeOrganization},                // host permissions are always store-scoped
	})
	all := cat.All()
	var keys []roster.Permission
	for _, p := range all {
		keys = append(keys, p.Key)
	}
	if n := len(keys); keys[n-2] != "alpha.use" || keys[n-1] != "zeta.use" {
		t.Errorf("host permissions come last, sorted: %v", keys)
	}
	if keys[0] != roster.PermOrgRead {
		t.Errorf("Roster's permissions come first: %v", keys)
	}
	if p, _ := cat.Lookup(roster.PermStoreUpdate); p.HostApp || p.Member || p.Description == "hijack" {
		t.Errorf("a host permission replaced a built-in one: %+v", p)
	}
	if p, _ := cat.Lookup("alpha.use"); p.Scope != roster.ScopeStore || !p.HostApp {
		t.Errorf("host permission: %+v", p)
	}
	if m, _ := cat.BuiltinRole(roster.StoreRoleMember); slices.Contains(m.Permissions, roster.PermStoreUpdate) {
		t.Error("the store member role gained store.update through a host registration")
	}
	if !roster.IsBuiltinPermission(roster.PermOrgDelete) || roster.IsBuiltinPermission("alpha.use") {
		t.Error("IsBuiltinPermission")
	}
	sp := cat.StorePermissions()
	if sp.Has(roster.PermOrgRead) || !sp.Has("alpha.use") || !sp.Has(roster.PermStoreRead) {
		t.Errorf("store permissions: %v", sp.Sorted())
	}

	for _, tc := range []struct {
		keys []roster.Permission
		code string
	}{
		{[]roster.Permission{roster.PermStoreRead, "zeta.use"}, ""},
		{nil, ""},
		{[]roster.Permission{"nope.nope"}, roster.EUnknownPermission},
		{[]roster.Permission{roster.PermStoreRead, roster.PermOrgDelete}, roster.EInvalid},
	} {
		if got := roster.ErrorCode(cat.CheckRolePermissions(tc.keys)); got != tc.code {
			t.Errorf("CheckRolePermissions(%v) = %q, want %q", tc.keys, got, tc.code)
		}
	}
}

func TestValidPermissionKey(t *testing.T) {
	for key, want := range map[string]bool{
		"campaigns.create": true, "store.members.invite": true, "a.b": true, "notifications.read_all": true, "x1.y2": true,
		"": false, "campaigns": false, "Campaigns.create": false, ".a": false, "a.": false, "a..b": false, "1a.b": false,
		"a.b c": false, "a-b.c": false, "a.b\n": false, "a." + string(make([]byte, 100)): false,
	} {
		if got := roster.ValidPermissionKey(key); got != want {
			t.Errorf("ValidPermissionKey(%q) = %v, want %v", key, got, want)
		}
	}
	long := "a."
	for len(long) <= 100 {
		long += "b"
	}
	if roster.ValidPermissionKey(long) {
		t.Error("a key over 100 bytes is accepted")
	}
}

func TestPermSet(t *testing.T) {
	s := roster.NewPermSet("b.x", "a.x", "a.x")
	if len(s) != 2 || !s.Has("a.x") || s.Has("c.x") {
		t.Fatalf("set: %v", s.Sorted())
	}
	if got := s.Sorted(); !slices.Equal(got, []roster.Permission{"a.x", "b.x"}) {
		t.Errorf("Sorted = %v", got)
	}
	if got := s.Missing([]roster.Permission{"c.x", "a.x", "c.x", "0.x"}); !slices.Equal(got, []roster.Permission{"0.x", "c.x"}) {
		t.Errorf("Missing = %v", got)
	}
	if got := s.Missing(nil); len(got) != 0 {
		t.Errorf("Missing(nil) = %v", got)
	}
	if got := s.Intersect(roster.NewPermSet("b.x", "c.x")).Sorted(); !slices.Equal(got, []roster.Permission{"b.x"}) {
		t.Errorf("Intersect = %v", got)
	}
	var none roster.PermSet
	if none.Has("a.x") || len(none.Missing([]roster.Permission{"a.x"})) != 1 {
		t.Error("a nil set holds something")
	}
}

func TestOrgRole(t *testing.T) {
	if !(roster.OrgOwner.Rank() > roster.OrgAdmin.Rank() && roster.OrgAdmin.Rank() > roster.OrgMember.Rank() && roster.OrgMember.Rank() > roster.OrgRole("x").Rank()) {
		t.Error("ranks are not owner > admin > member > unknown")
	}
	for r, want := range map[roster.OrgRole]bool{"owner": true, "admin": true, "member": true, "": false, "Owner": false, "viewer": false} {
		if r.Valid() != want {
			t.Errorf("%q.Valid() = %v", r, !want)
		}
	}
}

func TestValidID(t *testing.T) {
	id := roster.NewID(roster.PrefixOrganization)
	for _, tc := range []struct {
		prefix, id string
		want       bool
	}{
		{roster.PrefixOrganization, id, true},
		{roster.PrefixStore, id, false},
		{roster.PrefixOrganization, id + "0", false},
		{roster.PrefixOrganization, id[:len(id)-1], false},
		{roster.PrefixOrganization, "org_" + "zzzzzzzzzzzzzzzzzzzzzzzzzz", false}, // over the ULID range
		{roster.PrefixOrganization, "org_01ARZ3NDEKTSV4RRFFQ69G5FAV", true},       // upper case parses too
		{roster.PrefixOrganization, "org_01arz3ndektsv4rrffq69g5fa!", false},
		{roster.PrefixOrganization, "", false},
		{roster.PrefixOrganization, "org_", false},
	} {
		if got := roster.ValidID(tc.prefix, tc.id); got != tc.want {
			t.Errorf("ValidID(%q, %q) = %v, want %v", tc.prefix, tc.id, got, tc.want)
		}
	}
	if a, b := roster.NewID("usr"), roster.NewID("usr"); a == b {
		t.Error("two IDs are equal")
	}
}

func TestHolders(t *testing.T) {
	cat := roster.NewCatalog([]roster.PermissionInfo{{Key: "campaigns.create", Scope: roster.ScopeStore, HostApp: true, Member: true}})
	for _, c := range []struct {
		perm  roster.Permission
		org   []roster.OrgRole
		store []string
	}{
		{roster.PermOrgDelete, []roster.OrgRole{roster.OrgOwner}, nil},
		{roster.PermOrgMembersManage, []roster.OrgRole{roster.OrgOwner, roster.OrgAdmin}, nil},
		{roster.PermOrgRead, []roster.OrgRole{roster.OrgOwner, roster.OrgAdmin, roster.OrgMember}, nil},
		{roster.PermStoreMembersInvite, []roster.OrgRole{roster.OrgOwner, roster.OrgAdmin}, []string{roster.StoreRoleAdmin}},
		{roster.PermStoreRead, []roster.OrgRole{roster.OrgOwner, roster.OrgAdmin}, []string{roster.StoreRoleAdmin, roster.StoreRoleMember, roster.StoreRoleViewer}},
		{"campaigns.create", []roster.OrgRole{roster.OrgOwner, roster.OrgAdmin}, []string{roster.StoreRoleAdmin, roster.StoreRoleMember}},
		{"nope.nope", nil, nil},
	} {
		org, store := cat.Holders(c.perm)
		if !slices.Equal(org, c.org) || !slices.Equal(store, c.store) {
			t.Errorf("Holders(%s) = %v %v, want %v %v", c.perm, org, store, c.org, c.store)
		}
	}
}
