package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/rosterhq/roster"
)

// model is the dataset of a benchmark run, generated from its sizes and a seed: the same
// flags give the same IDs and memberships, so the seeder, the driver (which checks every
// answer) and the ceiling server (which answers from it) agree without sharing files.
type model struct {
	users  []string // user IDs; users[u] has the address userEmail(u)
	orgs   []modelOrg
	stores []modelStore
	cat    *roster.Catalog

	members    map[[2]int32]roster.OrgRole // (org, user) → organization role
	storeRoles map[[2]int32]string         // (store, user) → store role ID
	userOrgs   [][]int32                   // user → organizations, in joining order
	userStores [][]int32                   // user → stores with a store membership

	selectorUser int32 // a member of every organization
	bigOrg       int32 // the organization every user belongs to

	storePerms roster.PermSet            // what owners and admins hold in every store
	rolePerms  map[string]roster.PermSet // built-in store role → permissions
	customSet  roster.PermSet
}

type modelOrg struct {
	id     string
	owner  int32
	stores []int32
	custom string // ID of the organization's custom role "Chatter", or ""
}

type modelStore struct {
	id  string
	org int32
}

// hostPermissions are the host application's permissions the dataset registers.
var hostPermissions = []roster.PermissionInfo{
	{Key: "campaigns.create", Scope: roster.ScopeStore, Area: "campaigns", HostApp: true, Member: true},
	{Key: "reports.read", Scope: roster.ScopeStore, Area: "reports", HostApp: true, Member: true, Viewer: true},
	{Key: "billing.manage", Scope: roster.ScopeStore, Area: "billing", HostApp: true},
}

// customPermissions are those of each organization's custom role.
var customPermissions = []roster.Permission{roster.PermStoreRead, "campaigns.create"}

// questionPermissions are the store permissions the driver asks about.
var questionPermissions = []roster.Permission{roster.PermStoreRead, roster.PermStoreUpdate, roster.PermStoreMembersInvite,
	"campaigns.create", "reports.read", "billing.manage"}

// epoch is the creation time of every seeded row.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// benchID returns the n-th ID with a prefix, in Roster's ID format (a ULID).
func benchID(prefix string, kind byte, n int) string {
	var u ulid.ULID
	if err := u.SetTime(ulid.Timestamp(epoch)); err != nil {
		panic(err)
	}
	u[6] = kind
	binary.BigEndian.PutUint64(u[8:], uint64(n))
	return prefix + "_" + strings.ToLower(u.String())
}

func userEmail(u int32) string { return fmt.Sprintf("user%07d@bench.example", u) }

// newModel generates a dataset: orgs organizations of storesPerOrg stores, users users. Every
// user belongs to the big organization (for the members page) and to two more, with four
// store roles in each; one user belongs to every organization (for the selector).
func newModel(users, orgs, storesPerOrg int, seed uint64) *model {
	r := rand.New(rand.NewPCG(seed, 1))
	m := &model{
		cat:        roster.NewCatalog(hostPermissions),
		members:    make(map[[2]int32]roster.OrgRole, users*3+orgs),
		storeRoles: make(map[[2]int32]string, users*9),
		userOrgs:   make([][]int32, users),
		userStores: make([][]int32, users),
		bigOrg:     0,
	}
	m.selectorUser = int32(users - 1)
	m.storePerms = m.cat.StorePermissions()
	m.rolePerms = map[string]roster.PermSet{}
	for _, id := range roster.BuiltinStoreRoles {
		r, _ := m.cat.BuiltinRole(id)
		m.rolePerms[id] = roster.NewPermSet(r.Permissions...)
	}
	m.customSet = roster.NewPermSet(customPermissions...)
	m.users = make([]string, users)
	for u := range users {
		m.users[u] = benchID(roster.PrefixUser, 1, u)
	}
	for o := range orgs {
		org := modelOrg{id: benchID(roster.PrefixOrganization, 2, o), owner: int32(o % users)}
		if o%10 == 0 {
			org.custom = benchID(roster.PrefixRole, 3, o)
		}
		for range storesPerOrg {
			s := int32(len(m.stores))
			m.stores = append(m.stores, modelStore{id: benchID(roster.PrefixStore, 4, int(s)), org: int32(o)})
			org.stores = append(org.stores, s)
		}
		m.orgs = append(m.orgs, org)
		m.join(int32(o), org.owner, roster.OrgOwner)
	}
	for u := range int32(users) {
		m.join(m.bigOrg, u, roster.OrgMember)
		for range 2 {
			o := 1 + r.Int32N(int32(orgs-1))
			role := roster.OrgMember
			if r.IntN(20) == 0 {
				role = roster.OrgAdmin
			}
			if !m.join(o, u, role) {
				continue
			}
			for _, i := range r.Perm(storesPerOrg)[:min(4, storesPerOrg)] {
				m.grant(m.orgs[o].stores[i], u, m.randomRole(r, o))
			}
		}
	}
	for o := range int32(orgs) {
		if m.join(o, m.selectorUser, roster.OrgMember) && m.orgs[o].stores != nil {
			m.grant(m.orgs[o].stores[0], m.selectorUser, roster.StoreRoleMember)
		}
	}
	return m
}

// join adds a membership unless the user is already in the organization.
func (m *model) join(o, u int32, role roster.OrgRole) bool {
	k := [2]int32{o, u}
	if _, ok := m.members[k]; ok {
		return false
	}
	m.members[k] = role
	m.userOrgs[u] = append(m.userOrgs[u], o)
	return true
}

func (m *model) grant(s, u int32, role string) {
	m.storeRoles[[2]int32{s, u}] = role
	m.userStores[u] = append(m.userStores[u], s)
}

func (m *model) randomRole(r *rand.Rand, o int32) string {
	switch n := r.IntN(10); {
	case n == 0:
		return roster.StoreRoleAdmin
	case n < 6:
		return roster.StoreRoleMember
	case n < 9 || m.orgs[o].custom == "":
		return roster.StoreRoleViewer
	}
	return m.orgs[o].custom
}

// allowed answers a check from the dataset: owners and admins act as store admin in every
// store of their organization; members hold what their store role grants.
func (m *model) allowed(u int32, p roster.Permission, s int32) bool {
	role, ok := m.members[[2]int32{m.stores[s].org, u}]
	if !ok {
		return false
	}
	if role == roster.OrgOwner || role == roster.OrgAdmin {
		return m.storePerms.Has(p)
	}
	id, ok := m.storeRoles[[2]int32{s, u}]
	if !ok {
		return false
	}
	if id == m.orgs[m.stores[s].org].custom {
		return m.customSet.Has(p)
	}
	return m.rolePerms[id].Has(p)
}

// storesWith counts the stores where a user holds a permission.
func (m *model) storesWith(u int32, p roster.Permission) int {
	n := 0
	for _, o := range m.userOrgs[u] {
		for _, s := range m.orgs[o].stores {
			if m.allowed(u, p, s) {
				n++
			}
		}
	}
	return n
}

// question picks a check: mostly a store the user has a role in, so that answers vary.
func (m *model) question(r *rand.Rand) (u int32, p roster.Permission, s int32) {
	return m.questionAmong(r, int32(len(m.users)))
}

// questionAmong is question about one of the first n users only.
func (m *model) questionAmong(r *rand.Rand, n int32) (u int32, p roster.Permission, s int32) {
	u = r.Int32N(min(n, int32(len(m.users))))
	p = questionPermissions[r.IntN(len(questionPermissions))]
	if st := m.userStores[u]; len(st) > 0 && r.IntN(10) < 7 {
		return u, p, st[r.IntN(len(st))]
	}
	return u, p, r.Int32N(int32(len(m.stores)))
}
