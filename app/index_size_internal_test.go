package app

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// heapGrowth returns how much live heap build leaves behind, and what it returns.
func heapGrowth[T any](build func() T) (T, int64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return v, int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// TestIndexCostEstimates: the estimates that bound the access index in bytes are of the
// size of what its entries really hold on the heap (within a factor of two either way), for
// the entries that grow with the data: a member's access in an organization with many
// stores, the selector of a user in many organizations, OpenID tokens and organizations.
func TestIndexCostEstimates(t *testing.T) {
	cat := roster.NewCatalog(nil)
	member, _ := cat.BuiltinPermSet(roster.StoreRoleMember)
	viewer, _ := cat.BuiltinPermSet(roster.StoreRoleViewer)
	id := func(prefix string, i int) string { return fmt.Sprintf("%s_%026d", prefix, i) }
	check := func(t *testing.T, estimate, actual int64) {
		t.Helper()
		ratio := float64(estimate) / float64(actual)
		t.Logf("estimated %d bytes, heap grew %d bytes (ratio %.2f)", estimate, actual, ratio)
		if ratio < 0.5 || ratio > 2 {
			t.Fatalf("estimate %d is not within a factor of 2 of the heap's %d", estimate, actual)
		}
	}

	t.Run("OpenID tokens", func(t *testing.T) {
		var estimate int64
		now := time.Now()
		g, actual := heapGrowth(func() *generation {
			g := newGeneration()
			for i := range 20000 {
				tok := sqlstore.OIDCToken{ID: id("tok", i), Kind: "access", FamilyID: id("tok", i+1<<20), ClientID: id("cli", i%7),
					UserID: id("usr", i), OrgID: id("org", i%10), StoreID: id("sto", i%40), Scopes: []string{"openid", "profile", "email", "organization"},
					Audience: []string{id("cli", i%7)}, SessionID: id("ses", i), AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
				estimate += oidcTokenCost(tok)
				g.oidc[tok.ID] = tok
			}
			return g
		})
		check(t, estimate, actual)
		if len(g.oidc) != 20000 {
			t.Fatal("entries lost")
		}
	})

	t.Run("organizations", func(t *testing.T) {
		var estimate int64
		now := time.Now()
		g, actual := heapGrowth(func() *generation {
			g := newGeneration()
			for i := range 20000 {
				o := roster.Organization{ID: id("org", i), Name: fmt.Sprintf("Organization %d", i), CreatedAt: now, UpdatedAt: now,
					Details: roster.OrganizationDetails{LegalName: fmt.Sprintf("Organization %d S.L.", i), Website: "https://example.com", Country: "ES"},
					Policy:  roster.Policy{AllowedDomains: []string{fmt.Sprintf("example%d.com", i)}}}
				io := indexedOrg{Organization: o, nameKey: roster.NameKey(o.Name)}
				estimate += indexedOrgCost(io)
				g.orgs[o.ID] = io
			}
			return g
		})
		check(t, estimate, actual)
		if len(g.orgs) != 20000 {
			t.Fatal("entries lost")
		}
	})

	t.Run("active stores", func(t *testing.T) {
		var estimate int64
		now := time.Now()
		g, actual := heapGrowth(func() *generation {
			g := newGeneration()
			for i := range 2000 {
				stores := make([]roster.Store, 10)
				for j := range stores {
					stores[j] = roster.Store{ID: id("sto", i*10+j), OrgID: id("org", i), Name: fmt.Sprintf("Store %d", j), Currency: "EUR",
						TimeZone: "Europe/Madrid", Status: roster.StoreActive, CreatedAt: now, UpdatedAt: now}
				}
				estimate += activeStoresCost(stores)
				g.active[id("org", i)] = stores
			}
			return g
		})
		check(t, estimate, actual)
		if len(g.active) != 2000 {
			t.Fatal("entries lost")
		}
	})

	t.Run("access", func(t *testing.T) {
		var estimate int64
		g, actual := heapGrowth(func() *generation {
			g := newGeneration()
			for i := range 2000 {
				grants := make([]roster.StoreGrant, 40)
				for j := range grants {
					perms := member
					if j%2 == 1 {
						perms = viewer
					}
					grants[j] = roster.StoreGrant{StoreID: id("sto", j), RoleID: roster.StoreRoleMember, RoleName: "Member", Perms: perms}
				}
				acc := roster.NewAccess(id("org", i%10), id("usr", i), roster.OrgMember, roster.MembershipActive, grants, cat)
				estimate += accessCost(acc)
				g.putAccess(acc)
			}
			return g
		})
		check(t, estimate, actual)
		runtime.KeepAlive(g)
	})

	t.Run("organizations held whole", func(t *testing.T) {
		// As the benchmark's dataset: 300 members in each organization of 10 stores, three
		// store memberships each. memberBytes, which decides whether the whole graph fits,
		// must be of the size of what one member costs.
		const orgs, members = 100, 300
		grant := func(storeID, roleID string) (roster.StoreGrant, error) {
			return roster.StoreGrant{StoreID: storeID, RoleID: roleID, RoleName: "Member", Perms: member}, nil
		}
		var estimate int64
		g, actual := heapGrowth(func() *generation {
			g := newGeneration()
			for o := range orgs {
				orgID := id("org", o)
				var ms []sqlstore.MemberAccess
				var sms []roster.StoreMembership
				for i := range members {
					userID := id("usr", o*members+i)
					ms = append(ms, sqlstore.MemberAccess{Membership: roster.Membership{OrgID: orgID, UserID: userID, Role: roster.OrgRole(string([]byte("member"))),
						Status: roster.MembershipStatus(string([]byte("active")))}, UserStatus: roster.UserStatus(string([]byte("active")))})
					for j := range 3 {
						sms = append(sms, roster.StoreMembership{StoreID: id("sto", o*10+(i+j)%10), UserID: userID, RoleID: roster.StoreRoleMember})
					}
				}
				w, err := newWholeOrg(orgID, ms, sms, grant, cat)
				if err != nil {
					t.Fatal(err)
				}
				estimate += w.cost
				g.putWhole(w)
			}
			return g
		})
		check(t, estimate, actual)
		per := actual / (orgs * members)
		t.Logf("a member held whole: %d bytes on the heap, memberBytes %d", per, memberBytes)
		if per > 2*memberBytes || 2*per < memberBytes {
			t.Fatalf("a member held whole costs %d bytes: memberBytes (%d) is not within a factor of 2", per, memberBytes)
		}
		if len(g.whole) != orgs || len(g.users) != orgs*members {
			t.Fatal("entries lost")
		}
	})

	t.Run("selector", func(t *testing.T) {
		var estimate int64
		now := time.Now()
		g, actual := heapGrowth(func() *generation {
			g := newGeneration()
			for i := range 200 {
				affs := make([]roster.Affiliation, 50)
				for j := range affs {
					org := roster.Organization{ID: id("org", j), Name: fmt.Sprintf("Organization %d", j), CreatedAt: now, UpdatedAt: now,
						Policy: roster.Policy{AllowedDomains: []string{"example.com"}}}
					stores := make([]roster.StoreAccess, 5)
					for k := range stores {
						stores[k] = roster.StoreAccess{
							Store: roster.Store{ID: id("sto", j*5+k), OrgID: org.ID, Name: fmt.Sprintf("Store %d", k), Currency: "EUR", TimeZone: "Europe/Madrid", Status: roster.StoreActive},
							Grant: roster.StoreGrant{StoreID: id("sto", j*5+k), RoleID: roster.StoreRoleMember, RoleName: "Member", Perms: member},
						}
					}
					affs[j] = roster.Affiliation{Organization: org, Membership: roster.Membership{OrgID: org.ID, UserID: id("usr", i), Role: roster.OrgMember, Status: roster.MembershipActive}, Stores: stores}
				}
				estimate += affiliationsCost(affs)
				g.putAffiliations(id("usr", i), affs)
			}
			return g
		})
		check(t, estimate, actual)
		runtime.KeepAlive(g)
	})
}
