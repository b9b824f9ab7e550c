package api

import (
	"reflect"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api/auditexport"
)

// The JSON shapes of the API. They are separate from the vocabulary so that the wire format
// is chosen on purpose, field by field, and never leaks a secret by accident.

// User is a user as the API shows it.
type User struct {
	ID            string `json:"id" example:"usr_01jd8x5x9q0000000000000000"`
	Email         string `json:"email" format:"email"`
	Name          string `json:"name"`
	Locale        string `json:"locale" enum:"en,fr,es"`
	Status        string `json:"status" enum:"active,deactivated"`
	EmailVerified bool   `json:"email_verified"`
	Operator      bool   `json:"operator,omitempty"`
	CreatedAt     Time   `json:"created_at"`
	VerifiedAt    *Time  `json:"email_verified_at,omitempty"`
}

func userJSON(u roster.User) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Locale: u.Locale, Status: string(u.Status), EmailVerified: u.Verified(),
		Operator: u.Operator, CreatedAt: Time(u.CreatedAt), VerifiedAt: (*Time)(u.EmailVerifiedAt)}
}

// Session is one signed-in client of a user.
type Session struct {
	ID         string `json:"id"`
	Current    bool   `json:"current"`
	CreatedAt  Time   `json:"created_at"`
	LastSeenAt Time   `json:"last_seen_at"`
	ExpiresAt  Time   `json:"expires_at"`
	IP         string `json:"ip"`
	UserAgent  string `json:"user_agent"`
}

// OrganizationDetails is the descriptive information of an organization.
type OrganizationDetails struct {
	LegalName    string `json:"legal_name,omitempty" maxLength:"200"`
	Website      string `json:"website,omitempty" maxLength:"300"`
	Phone        string `json:"phone,omitempty" maxLength:"40"`
	AddressLine1 string `json:"address_line1,omitempty" maxLength:"200"`
	AddressLine2 string `json:"address_line2,omitempty" maxLength:"200"`
	City         string `json:"city,omitempty" maxLength:"100"`
	PostalCode   string `json:"postal_code,omitempty" maxLength:"20"`
	Region       string `json:"region,omitempty" maxLength:"100"`
	Country      string `json:"country,omitempty" maxLength:"2" doc:"ISO 3166-1 alpha-2 code"`
}

func (d OrganizationDetails) domain() roster.OrganizationDetails {
	return roster.OrganizationDetails{LegalName: d.LegalName, Website: d.Website, Phone: d.Phone, AddressLine1: d.AddressLine1,
		AddressLine2: d.AddressLine2, City: d.City, PostalCode: d.PostalCode, Region: d.Region, Country: d.Country}
}

func detailsJSON(d roster.OrganizationDetails) OrganizationDetails {
	return OrganizationDetails{LegalName: d.LegalName, Website: d.Website, Phone: d.Phone, AddressLine1: d.AddressLine1,
		AddressLine2: d.AddressLine2, City: d.City, PostalCode: d.PostalCode, Region: d.Region, Country: d.Country}
}

// Organization is an organization as its members see it.
type Organization struct {
	ID           string              `json:"id"`
	Name         string              `json:"name"`
	Details      OrganizationDetails `json:"details"`
	LogoURL      string              `json:"logo_url,omitempty" doc:"Where the logo is served, to members"`
	StoreCredits int                 `json:"store_credits" doc:"How many active stores the organization may have"`
	MyRole       string              `json:"my_role,omitempty" enum:"owner,admin,member"`
	CreatedAt    Time                `json:"created_at"`
	UpdatedAt    Time                `json:"updated_at"`
}

func orgJSON(o roster.Organization, myRole roster.OrgRole) Organization {
	out := Organization{ID: o.ID, Name: o.Name, Details: detailsJSON(o.Details), StoreCredits: o.StoreCredits, MyRole: string(myRole),
		CreatedAt: Time(o.CreatedAt), UpdatedAt: Time(o.UpdatedAt)}
	if o.LogoID != "" {
		out.LogoURL = "/v1/organizations/" + o.ID + "/logo?v=" + o.LogoID
	}
	return out
}

// Store is a store of an organization.
type Store struct {
	ID        string     `json:"id"`
	OrgID     string     `json:"organization_id"`
	Name      string     `json:"name"`
	Website   string     `json:"website,omitempty"`
	Currency  string     `json:"currency,omitempty" doc:"ISO 4217 code"`
	TimeZone  string     `json:"time_zone,omitempty" doc:"IANA time zone"`
	LogoURL   string     `json:"logo_url,omitempty"`
	Status    string     `json:"status" enum:"active,archived"`
	MyRole    *StoreRole `json:"my_role,omitempty" doc:"The caller's effective role in the store"`
	CreatedAt Time       `json:"created_at"`
	UpdatedAt Time       `json:"updated_at"`
}

// StoreRole is an effective store role and where it comes from.
type StoreRole struct {
	RoleID      string   `json:"role_id" doc:"admin, member, viewer or a custom role ID"`
	RoleName    string   `json:"role_name"`
	Via         string   `json:"via" enum:"organization_role,store_role"`
	Permissions []string `json:"permissions"`
}

// storeJSON is one store with the caller's grant in it (see storeLister for several).
func storeJSON(s roster.Store, g roster.StoreGrant) Store { return storeLister(nil).store(s, g) }

// storeLister maps the stores of one answer. Grants of one role share their permission set
// (roster.Catalog.BuiltinPermSet, the role resolver of app), so it lists a set's names, sorted,
// once per set rather than once per store: the selector of a user in 1,000 organizations sorted
// a set for each of their 1,000 stores. The lists it hands out are shared: read-only.
type storeLister map[uintptr][]string

func (l storeLister) store(s roster.Store, g roster.StoreGrant) Store {
	out := Store{ID: s.ID, OrgID: s.OrgID, Name: s.Name, Website: s.Website, Currency: s.Currency, TimeZone: s.TimeZone,
		Status: string(s.Status), CreatedAt: Time(s.CreatedAt), UpdatedAt: Time(s.UpdatedAt)}
	if g.RoleID != "" {
		out.MyRole = &StoreRole{RoleID: g.RoleID, RoleName: g.RoleName, Via: g.Via, Permissions: l.names(g.Perms)}
	}
	if s.LogoID != "" {
		out.LogoURL = "/v1/stores/" + s.ID + "/logo?v=" + s.LogoID
	}
	return out
}

// names lists a permission set's names, sorted; the same list for the same set.
func (l storeLister) names(set roster.PermSet) []string {
	key := reflect.ValueOf(set).Pointer() // the set's identity, while the answer holds it
	if names, ok := l[key]; ok {
		return names
	}
	names := make([]string, 0, len(set))
	for _, p := range set.Sorted() {
		names = append(names, string(p))
	}
	if l != nil {
		l[key] = names
	}
	return names
}

// StoreMembership is a member's role in one store.
type StoreMembership struct {
	StoreID string `json:"store_id"`
	RoleID  string `json:"role_id"`
}

// Member is an organization membership with its user.
type Member struct {
	User      User              `json:"user"`
	Role      string            `json:"role" enum:"owner,admin,member"`
	Status    string            `json:"status" enum:"active,suspended"`
	Stores    []StoreMembership `json:"stores,omitempty" doc:"Store memberships, when one member is read"`
	CreatedAt Time              `json:"joined_at"`

	StoreNames   []string `json:"store_names,omitempty" doc:"In a listing: the active stores in which the member holds a store role of their own, by name (owners and admins reach every store anyway)"`
	LastActiveAt *Time    `json:"last_active_at,omitempty" doc:"When the user last signed in or used a session; absent if never"`

	PolicyViolation string `json:"policy_violation,omitempty" enum:"email_domain_not_allowed,free_email_provider_blocked" doc:"The policy rule the member's address breaks"`
	TwoFactor       bool   `json:"two_factor" doc:"Whether the member has a second factor that signs in: an authenticator app or a passkey"`
}

func memberJSON(m roster.Member) Member {
	out := Member{User: userJSON(m.User), Role: string(m.Role), Status: string(m.Status), CreatedAt: Time(m.CreatedAt), PolicyViolation: m.PolicyViolation,
		StoreNames: m.StoreNames, LastActiveAt: (*Time)(m.User.LastActiveAt), TwoFactor: m.TwoFactor}
	for _, s := range m.Stores {
		out.Stores = append(out.Stores, StoreMembership{StoreID: s.StoreID, RoleID: s.RoleID})
	}
	return out
}

// TeamMember is someone who reaches a store.
type TeamMember struct {
	User     User   `json:"user"`
	OrgRole  string `json:"organization_role" enum:"owner,admin,member"`
	Status   string `json:"status" enum:"active,suspended"`
	RoleID   string `json:"role_id" doc:"The effective store role"`
	RoleName string `json:"role_name" doc:"The role's name: a custom role's own, a built-in role's in English"`
	Via      string `json:"via" enum:"organization_role,store_role"`
}

// AuditEvent is an audit event as the API shows it (its export writes the same shape).
type AuditEvent = auditexport.AuditEvent

func auditJSON(e roster.AuditEvent) AuditEvent { return auditexport.EventOf(e) }

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
