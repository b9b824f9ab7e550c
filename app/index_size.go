package app

import (
	"unsafe"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// What the access index's entries cost in memory, estimated from their shape: the struct
// itself, the strings it points to, and what a map slot holding it costs. The estimate only
// has to be of the right size (TestIndexCostEstimates compares it with the heap), so that the
// bound of DefaultIndexMemory is a bound in bytes, not in entries of unknown size. Permission
// sets are shared by every grant of a role (roster.Catalog.BuiltinPermSet, roleResolver), so
// an access costs a set per distinct custom role, not per store, and none for built-in roles.

const (
	mapSlot   = 48  // a map slot's share of buckets, control bytes and growth slack
	innerMap  = 200 // a small map of its own (access per organization, users per org)
	permEntry = 40  // one permission in a set: its key and slot
)

func idCost(id string) int64 { return mapSlot + int64(unsafe.Sizeof(id)) + int64(len(id)) }

func strs(ss ...string) int64 {
	var n int64
	for _, s := range ss {
		n += int64(len(s))
	}
	return n
}

func userCost(indexedUser) int64 {
	return idCost("usr_01234567890123456789012345") + int64(unsafe.Sizeof(indexedUser{}))
}

func storeCost(s roster.Store) int64 {
	return idCost(s.ID) + int64(unsafe.Sizeof(s)) + strs(s.Name, s.Website, s.Currency, s.TimeZone, s.LogoID)
}

func activeStoresCost(stores []roster.Store) int64 {
	n := idCost("org_01234567890123456789012345") + int64(unsafe.Sizeof(stores))
	for _, s := range stores {
		n += storeCost(s) - mapSlot
	}
	return n
}

func indexedOrgCost(o indexedOrg) int64 {
	return orgCost(o.Organization) + int64(unsafe.Sizeof(o.nameKey)) + int64(len(o.nameKey))
}

func orgCost(o roster.Organization) int64 {
	d := o.Details
	n := idCost(o.ID) + int64(unsafe.Sizeof(o)) + strs(o.Name, o.LogoID, d.LegalName, d.Website, d.Phone, d.AddressLine1, d.AddressLine2, d.City, d.PostalCode, d.Region, d.Country)
	for _, dom := range o.Policy.AllowedDomains {
		n += int64(unsafe.Sizeof(dom)) + int64(len(dom))
	}
	return n
}

// grantCost is a store grant as Access holds it: three words and its store's ID.
func grantCost(storeID string) int64 {
	return 24 + int64(len(storeID))
}

// roleCost counts, once for each role seen, the part of a grant its role decides (shared by
// the role's grants, roster.GrantRoles) and, for a custom role, its permission set: a built-in
// role's set is the catalog's, shared by every grant of it.
func roleCost(seen map[string]bool, g roster.StoreGrant) int64 {
	if seen[g.RoleID] {
		return 0
	}
	seen[g.RoleID] = true
	n := int64(64)
	if !roster.IsBuiltinStoreRole(g.RoleID) {
		n += innerMap + int64(len(g.Perms))*permEntry
	}
	return n
}

// accessCost is an access filled alone, its roles counted with it.
func accessCost(a roster.Access) int64 { return accessCostSharing(a, map[string]bool{}) }

// accessCostSharing is an access whose roles are shared with the accesses counted with the
// same seen (an organization read whole).
func accessCostSharing(a roster.Access, seen map[string]bool) int64 {
	n := 2*idCost(a.UserID) + int64(unsafe.Sizeof(roster.IndexedAccess{})) + 3*16 // the access as kept, its byUser entry and its slice of organizations
	for id, g := range a.Grants() {
		n += grantCost(id) + roleCost(seen, g)
	}
	return n
}

func affiliationsCost(affs []roster.Affiliation) int64 {
	n := idCost("usr_01234567890123456789012345") + int64(len(affs))*int64(unsafe.Sizeof(roster.Affiliation{}))
	seen := map[string]bool{}
	for _, a := range affs {
		o := a.Organization
		n += idCost(o.ID) + strs(o.ID, o.Name, o.LogoID, o.Details.LegalName, o.Details.Website) + 256 // details and policy
		for _, d := range o.Policy.AllowedDomains {
			n += int64(unsafe.Sizeof(d)) + int64(len(d))
		}
		n += int64(len(a.Stores)) * int64(unsafe.Sizeof(roster.StoreAccess{}))
		for _, s := range a.Stores {
			n += strs(s.Store.ID, s.Store.Name, s.Store.Website, s.Store.Currency, s.Store.TimeZone, s.Store.LogoID) + roleCost(seen, s.Grant)
		}
	}
	return n
}

func renderingCost(b []byte) int64 {
	return idCost("usr_01234567890123456789012345") + int64(unsafe.Sizeof(rendering{})) + int64(cap(b))
}

func orgsOfCost(orgs []string) int64 {
	n := idCost("usr_01234567890123456789012345") + int64(unsafe.Sizeof(orgs))
	for _, org := range orgs {
		n += int64(unsafe.Sizeof(org)) + idCost(org) + innerMap/4 // its place here and the user's in the organization's reverse entry
	}
	return n
}

func keyCost(k indexedKey) int64 {
	return idCost(k.key.ID) + int64(unsafe.Sizeof(k)) + strs(k.mac, k.key.OrgID, k.key.UserID, k.key.StoreID, k.key.RoleID, k.key.RoleName, k.key.Name, k.key.CreatedBy) + 3*24
}

const tokenCost = mapSlot + 32 + int64(unsafe.Sizeof(indexedToken{}))

func oidcTokenCost(t sqlstore.OIDCToken) int64 {
	n := idCost(t.ID) + int64(unsafe.Sizeof(t)) + strs(t.Kind, t.FamilyID, t.ClientID, t.UserID, t.OrgID, t.StoreID, t.SessionID)
	n += strs(t.Scopes...) + strs(t.Audience...) + int64(len(t.Scopes)+len(t.Audience))*int64(unsafe.Sizeof("")) // the slices' arrays
	return n
}

func clientCost(r clientRead) int64 {
	cl := r.client
	lists := [][]string{cl.RedirectURIs, cl.PostLogoutRedirectURIs, cl.Scopes, cl.CORSOrigins}
	n := idCost(cl.ID) + int64(unsafe.Sizeof(r)) + strs(r.hash, cl.Name, cl.BackChannelLogoutURI, cl.CreatedBy, cl.SigningAlg, cl.OrgID)
	for _, l := range lists {
		n += strs(l...) + int64(len(l))*int64(unsafe.Sizeof(""))
	}
	return n + int64(len(cl.Permissions))*int64(unsafe.Sizeof(""))
}
