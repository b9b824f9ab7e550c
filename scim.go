package roster

import "time"

// Directory is a SCIM 2.0 directory of one organization: an identity provider (Okta,
// Microsoft Entra ID, …) that provisions the organization's members with a bearer token of
// its own. It acts as an admin of that organization and nowhere else (DirectoryAccess); the
// token is shown once and kept only as its SHA-256.
type Directory struct {
	ID             string
	OrgID          string
	Name           string
	CreatedBy      string // the user who created it
	TokenCreatedAt time.Time
	LastUsedAt     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// SCIM limits.
const (
	MaxDirectories       = 100      // directories of one organization
	MaxSCIMAttributes    = 16 << 10 // bytes of the SCIM attributes Roster keeps for a user (names, emails, extensions)
	MaxSCIMUserName      = 320      // characters of a SCIM userName or externalId
	MaxSCIMGroupMembers  = 10000    // members one SCIM group holds
	MaxSCIMGroups        = 1000     // groups of one directory
	MaxSCIMPatchOps      = 100      // operations of one PATCH request
	MaxSCIMPageSize      = 200      // resources of one list page (count)
	DefaultSCIMPageSize  = 100      // resources of one list page when count is not given
	MaxSCIMFilterLength  = 1000     // characters of a filter
	MaxSCIMDisplayLength = 256      // characters of a group's displayName
)

// SCIMUser is what a directory said about one member: its own identifiers and attributes,
// beside the Roster user and membership they describe.
type SCIMUser struct {
	DirectoryID    string
	OrgID          string
	UserID         string
	UserName       string // the directory's userName (often the email address, sometimes a login)
	ExternalID     string
	Attributes     string // the other attributes the directory sent, as a JSON object
	CreatedAccount bool   // the directory created the Roster account (it may then rename it)
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// SCIMGroup is a group a directory pushed. A group maps to a role: an organization role
// (OrgRole admin or member) or a store role (StoreID and RoleID), set by the organization's
// owner or admins; its members then hold that role, and lose it when they leave the group.
type SCIMGroup struct {
	ID          string
	DirectoryID string
	OrgID       string
	DisplayName string
	ExternalID  string
	OrgRole     OrgRole // "" when the group maps to no organization role
	StoreID     string  // "" when the group maps to no store role
	RoleID      string  // the store role in StoreID
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Mapped reports whether the group gives a role.
func (g SCIMGroup) Mapped() bool { return g.OrgRole != "" || g.StoreID != "" }

// CheckGroupMapping validates what a group maps to: nothing, an organization role (admin or
// member, never owner), or a store role (a store and a role, both given); not both.
func CheckGroupMapping(orgRole OrgRole, storeID, roleID string) error {
	if orgRole != "" {
		if err := orgRole.CheckAssignable(); err != nil {
			return err
		}
		if storeID != "" || roleID != "" {
			return Invalidf("store_id", "a group maps to an organization role or to a store role, not both")
		}
	}
	if (storeID == "") != (roleID == "") {
		return Invalidf("role_id", "a store role needs both a store and a role")
	}
	return nil
}

// DirectoryAccess is what a SCIM directory holds in the organization it provisions: what an
// admin holds (it manages members and grants roles up to admin; it ranks as an admin, so the
// owner's membership is out of its reach: MayChangeMembership), and nothing elsewhere.
func DirectoryAccess(orgID string, c *Catalog) Access {
	return NewAccess(orgID, "", OrgAdmin, MembershipActive, nil, c)
}

// MayManageDirectories reports whether the principal creates, rotates and deletes the
// organization's SCIM directories, and maps their groups: a directory grants up to admin, so
// only a person who holds everything an admin holds, in the organization and as store admin
// in every store (owner and admins, or an API key of theirs with the admin roles) — never a
// directory itself.
func (a Access) MayManageDirectories() bool {
	if a.UserID == "" || !a.Can(PermOrgMembersManage) || len(a.Holds(OrgRolePermissions(OrgAdmin).Sorted())) > 0 {
		return false
	}
	g, ok := a.Store("")
	return ok && a.AllStores() && g.RoleID == StoreRoleAdmin
}
