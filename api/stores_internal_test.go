package api

import (
	"reflect"
	"testing"

	"github.com/rosterhq/roster"
)

// TestStoreListerSharesNames: the stores of one answer list each permission set's names once
// (grants of one role share their set), and say the same as a store mapped alone.
func TestStoreListerSharesNames(t *testing.T) {
	member := roster.NewPermSet(roster.PermStoreRead, "store.members.read")
	viewer := roster.NewPermSet(roster.PermStoreRead)
	grants := []roster.StoreGrant{
		{StoreID: "sto_1", RoleID: roster.StoreRoleMember, RoleName: "Member", Via: roster.ViaStoreRole, Perms: member},
		{StoreID: "sto_2", RoleID: roster.StoreRoleMember, RoleName: "Member", Via: roster.ViaStoreRole, Perms: member},
		{StoreID: "sto_3", RoleID: "viewer", RoleName: "Viewer", Via: roster.ViaStoreRole, Perms: viewer},
		{StoreID: "sto_4"}, // no role: no my_role
	}
	l := storeLister{}
	var got []Store
	for _, g := range grants {
		s := roster.Store{ID: g.StoreID, OrgID: "org_1", Name: "Shop", Status: roster.StoreActive}
		got = append(got, l.store(s, g))
		if alone := storeJSON(s, g); !reflect.DeepEqual(got[len(got)-1], alone) {
			t.Errorf("store %s: listed %+v, alone %+v", g.StoreID, got[len(got)-1], alone)
		}
	}
	if want := []string{"store.members.read", "store.read"}; !reflect.DeepEqual(got[0].MyRole.Permissions, want) {
		t.Errorf("permissions %v, want %v (sorted)", got[0].MyRole.Permissions, want)
	}
	if &got[0].MyRole.Permissions[0] != &got[1].MyRole.Permissions[0] {
		t.Error("two grants of one permission set got two lists")
	}
	if &got[0].MyRole.Permissions[0] == &got[2].MyRole.Permissions[0] || len(l) != 2 {
		t.Errorf("%d lists for two permission sets", len(l))
	}
	if got[3].MyRole != nil {
		t.Errorf("a store without a role has my_role %+v", got[3].MyRole)
	}
}
