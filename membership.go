package roster

import "time"

// OrgRole is a role in an organization.
type OrgRole string

// Organization roles. The owner and admins act as store admin in every store of the
// organization; a member reaches a store only through a store membership.
const (
	OrgOwner  OrgRole = "owner"
	OrgAdmin  OrgRole = "admin"
	OrgMember OrgRole = "member"
)

// CreatorRole is the role of whoever creates an organization: they own it.
const CreatorRole = OrgOwner

// Valid reports whether r is an organization role.
func (r OrgRole) Valid() bool { return r == OrgOwner || r == OrgAdmin || r == OrgMember }

// ReachesEveryStore reports whether the role acts as store admin in every store of the
// organization: the owner and admins do. RolesReachingEveryStore lists them for SQL.
func (r OrgRole) ReachesEveryStore() bool { return r == OrgOwner || r == OrgAdmin }

// RolesReachingEveryStore are the organization roles for which ReachesEveryStore holds, for
// the queries that select such members (sqlstore builds its IN lists from it).
var RolesReachingEveryStore = []OrgRole{OrgOwner, OrgAdmin}

// CheckAssignable refuses a role that nobody is given by an invitation, an addition or a role
// change: the owner's (ownership moves only by transfer), and anything not a role.
func (r OrgRole) CheckAssignable() error {
	if r == OrgOwner {
		return &Error{Code: EOwnerRequired, Field: "role", Message: "ownership moves only by transfer, from the owner to an admin"}
	}
	if !r.Valid() {
		return Invalidf("role", "role must be admin or member")
	}
	return nil
}

// Rank orders roles: owner above admin above member.
func (r OrgRole) Rank() int {
	switch r {
	case OrgOwner:
		return 3
	case OrgAdmin:
		return 2
	case OrgMember:
		return 1
	}
	return 0
}

// MembershipStatus says whether a membership grants anything.
type MembershipStatus string

// Membership statuses. A suspended membership keeps its roles and grants nothing.
const (
	MembershipActive    MembershipStatus = "active"
	MembershipSuspended MembershipStatus = "suspended"
)

// Membership is a user's place in an organization.
type Membership struct {
	OrgID     string
	UserID    string
	Role      OrgRole
	Status    MembershipStatus
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Member is a membership with the user it belongs to, as listed to admins.
type Member struct {
	Membership
	User   User
	Stores []StoreMembership // filled when one member is read

	// StoreNames are the active stores in which the member holds a store role of their own,
	// by name; filled by listings of members. Owners and admins reach every store anyway
	// (OrgRole.ReachesEveryStore).
	StoreNames []string

	// PolicyViolation is the rule of the organization's policy that the member's address
	// breaks (EEmailDomainNotAllowed or EFreeEmailBlocked), "" when it complies. A policy
	// change never removes anyone; admins see who breaks it.
	PolicyViolation string

	// TwoFactor tells whether the member has a second factor that signs in (an authenticator
	// app or a passkey); filled by listings and reads of members.
	TwoFactor bool
}

// StoreMembership is a user's place in a store.
type StoreMembership struct {
	StoreID   string
	OrgID     string
	UserID    string
	RoleID    string // a built-in store role ("admin", "member", "viewer") or a custom role ID
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Affiliation is one organization a user belongs to, with the stores they reach in it: one
// entry of the organization and store selector.
type Affiliation struct {
	Organization Organization
	Membership   Membership
	Stores       []StoreAccess
}

// StoreAccess is a store with the grant a principal holds in it.
type StoreAccess struct {
	Store Store
	Grant StoreGrant
}

// TeamMember is someone who reaches a store, directly or via their organization role.
type TeamMember struct {
	User     User
	OrgRole  OrgRole
	Status   MembershipStatus
	RoleID   string // the effective store role
	RoleName string // its name: a custom role's own, a built-in role's in English
	Via      string // ViaOrganizationRole or ViaStoreRole
}

// OrganizationSummary is an organization as the operator lists it.
type OrganizationSummary struct {
	Organization
	Members        int
	ActiveStores   int
	ArchivedStores int
	OwnerEmail     string
}

// Removable reports whether a membership with this role may be demoted, suspended, removed
// or left. The owner's may not (DESIGN §3 rule 1): ownership moves only by transfer.
func (r OrgRole) Removable() bool { return r.Valid() && r != OrgOwner }
