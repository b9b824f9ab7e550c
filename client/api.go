package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The JSON shapes of the API that this client reads and sends; TestShapesMatchTheSchema
// holds their field names to the OpenAPI document.

// User is a user as the API shows it.
type User struct {
	ID              string     `json:"id"`
	Email           string     `json:"email"`
	Name            string     `json:"name"`
	Locale          string     `json:"locale"`
	Status          string     `json:"status"` // active or deactivated
	EmailVerified   bool       `json:"email_verified"`
	EmailVerifiedAt *time.Time `json:"email_verified_at,omitempty"`
	Operator        bool       `json:"operator,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
}

// OrganizationDetails is the descriptive information of an organization.
type OrganizationDetails struct {
	LegalName    string `json:"legal_name,omitempty"`
	Website      string `json:"website,omitempty"`
	Phone        string `json:"phone,omitempty"`
	AddressLine1 string `json:"address_line1,omitempty"`
	AddressLine2 string `json:"address_line2,omitempty"`
	City         string `json:"city,omitempty"`
	PostalCode   string `json:"postal_code,omitempty"`
	Region       string `json:"region,omitempty"`
	Country      string `json:"country,omitempty"`
}

// Organization is an organization as its members see it.
type Organization struct {
	ID           string              `json:"id"`
	Name         string              `json:"name"`
	Details      OrganizationDetails `json:"details"`
	LogoURL      string              `json:"logo_url,omitempty"`
	StoreCredits int                 `json:"store_credits"`
	MyRole       string              `json:"my_role,omitempty"` // owner, admin or member
	CreatedAt    time.Time           `json:"created_at"`
	UpdatedAt    time.Time           `json:"updated_at"`
}

// StoreRole is someone's effective role in a store.
type StoreRole struct {
	RoleID      string   `json:"role_id"`
	RoleName    string   `json:"role_name"`
	Via         string   `json:"via"` // organization_role or store_role
	Permissions []string `json:"permissions"`
}

// Store is a store of an organization.
type Store struct {
	ID        string     `json:"id"`
	OrgID     string     `json:"organization_id"`
	Name      string     `json:"name"`
	Website   string     `json:"website,omitempty"`
	Currency  string     `json:"currency,omitempty"`
	TimeZone  string     `json:"time_zone,omitempty"`
	LogoURL   string     `json:"logo_url,omitempty"`
	Status    string     `json:"status"` // active or archived
	MyRole    *StoreRole `json:"my_role,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Affiliation is one organization of the caller with the stores they reach in it: the
// organization and store switcher's data.
type Affiliation struct {
	Organization Organization `json:"organization"`
	Role         string       `json:"role"`
	Status       string       `json:"status"`
	Stores       []Store      `json:"stores"`
}

// StoreMembership is a store role given in a store.
type StoreMembership struct {
	StoreID string `json:"store_id"`
	RoleID  string `json:"role_id"`
}

// Member is a member of an organization.
type Member struct {
	User            User              `json:"user"`
	Role            string            `json:"role"`
	Status          string            `json:"status"`
	JoinedAt        time.Time         `json:"joined_at"`
	Stores          []StoreMembership `json:"stores,omitempty"`
	PolicyViolation string            `json:"policy_violation,omitempty"`
	StoreNames      []string          `json:"store_names,omitempty"`    // in a listing: where the member has a store role of their own
	LastActiveAt    *time.Time        `json:"last_active_at,omitempty"` // last sign-in or use of a session
	TwoFactor       bool              `json:"two_factor"`               // has an authenticator app or a passkey
}

// Invitation is an invitation to an organization.
type Invitation struct {
	ID            string            `json:"id"`
	OrgID         string            `json:"organization_id"`
	Email         string            `json:"email"`
	Role          string            `json:"role"`
	Stores        []StoreMembership `json:"stores"`
	Message       string            `json:"message,omitempty"`
	Locale        string            `json:"locale"`
	Status        string            `json:"status"`
	InvitedBy     string            `json:"invited_by,omitempty"`
	InviterName   string            `json:"inviter_name,omitempty"`
	AcceptedBy    string            `json:"accepted_by,omitempty"`
	DeliveryError string            `json:"delivery_error,omitempty"`
	SendCount     int               `json:"send_count"`
	CreatedAt     time.Time         `json:"created_at"`
	ExpiresAt     time.Time         `json:"expires_at"`
	LastSentAt    time.Time         `json:"last_sent_at"`
	RespondedAt   *time.Time        `json:"responded_at,omitempty"`
}

// AuditEvent is one entry of an organization's audit log.
type AuditEvent struct {
	ID         string         `json:"id"`
	OrgID      string         `json:"organization_id,omitempty"`
	StoreID    string         `json:"store_id,omitempty"`
	ActorKind  string         `json:"actor_kind"`
	ActorID    string         `json:"actor_id,omitempty"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type,omitempty"`
	TargetID   string         `json:"target_id,omitempty"`
	Before     map[string]any `json:"before,omitempty"`
	After      map[string]any `json:"after,omitempty"`
	IP         string         `json:"ip,omitempty"`
	UserAgent  string         `json:"user_agent,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
}

// CheckRequest asks whether a user holds a permission: in a store (StoreID), or in an
// organization (OrgID, for organization permissions).
type CheckRequest struct {
	UserID     string `json:"user_id"`
	Permission string `json:"permission"`
	StoreID    string `json:"store_id,omitempty"`
	OrgID      string `json:"organization_id,omitempty"`
	// AtLeastRevision demands an answer at least as fresh as a write that answered with this
	// Roster-Revision (0: as fresh as Roster is).
	AtLeastRevision int64 `json:"at_least_revision,omitempty"`
}

// CheckResult is Roster's answer, with why.
type CheckResult struct {
	Allowed   bool   `json:"allowed"`
	Reason    string `json:"reason"`
	OrgID     string `json:"organization_id,omitempty"`
	OrgRole   string `json:"organization_role,omitempty"`
	StoreID   string `json:"store_id,omitempty"`
	StoreRole string `json:"store_role,omitempty"`
}

// Me returns the caller (a user's session, API key or access token).
func (c *Client) Me(ctx context.Context) (User, error) {
	var u User
	return u, c.do(ctx, http.MethodGet, "/v1/me", nil, nil, &u)
}

// MyOrganizations returns the caller's organizations with the stores they reach in each.
func (c *Client) MyOrganizations(ctx context.Context) ([]Affiliation, error) {
	var out struct {
		Organizations []Affiliation `json:"organizations"`
	}
	return out.Organizations, c.do(ctx, http.MethodGet, "/v1/me/organizations", nil, nil, &out)
}

// CreateOrganization creates an organization; the caller owns it.
func (c *Client) CreateOrganization(ctx context.Context, name string, details OrganizationDetails) (Organization, error) {
	var o Organization
	in := struct {
		Name    string              `json:"name"`
		Details OrganizationDetails `json:"details"`
	}{name, details}
	return o, c.do(ctx, http.MethodPost, "/v1/organizations", nil, in, &o)
}

// Organization reads an organization the caller belongs to.
func (c *Client) Organization(ctx context.Context, orgID string) (Organization, error) {
	var o Organization
	return o, c.do(ctx, http.MethodGet, "/v1/organizations/"+url.PathEscape(orgID), nil, nil, &o)
}

// StoreInput creates or edits a store.
type StoreInput struct {
	Name     string `json:"name"`
	Website  string `json:"website,omitempty"`
	Currency string `json:"currency,omitempty"`
	TimeZone string `json:"time_zone,omitempty"`
}

// CreateStore creates a store in an organization (it uses a store credit).
func (c *Client) CreateStore(ctx context.Context, orgID string, in StoreInput) (Store, error) {
	var s Store
	return s, c.do(ctx, http.MethodPost, "/v1/organizations/"+url.PathEscape(orgID)+"/stores", nil, in, &s)
}

// Stores lists an organization's stores that the caller sees; status is "active",
// "archived" or "" for both.
func (c *Client) Stores(ctx context.Context, orgID, status string) ([]Store, error) {
	var out struct {
		Stores []Store `json:"stores"`
	}
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	return out.Stores, c.do(ctx, http.MethodGet, "/v1/organizations/"+url.PathEscape(orgID)+"/stores", q, nil, &out)
}

// MemberFilter narrows a listing of members.
type MemberFilter struct {
	Query  string // part of a name or an address
	Role   string // owner, admin or member
	Status string // active or suspended
	Limit  int    // per page (the server's default when 0)
}

// Members lists an organization's members, every page of them, in order.
func (c *Client) Members(ctx context.Context, orgID string, f MemberFilter) iter.Seq2[Member, error] {
	q := url.Values{}
	set(q, "q", f.Query)
	set(q, "role", f.Role)
	set(q, "status", f.Status)
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return pages(ctx, c, "/v1/organizations/"+url.PathEscape(orgID)+"/members", q, func(p *page[Member]) []Member { return p.Members })
}

// InvitationInput invites someone into an organization, with an organization role and store
// roles.
type InvitationInput struct {
	Email   string            `json:"email"`
	Role    string            `json:"role,omitempty"` // admin or member (member when empty)
	Stores  []StoreMembership `json:"stores,omitempty"`
	Locale  string            `json:"locale,omitempty"` // the email's language for an address without an account
	Message string            `json:"message,omitempty"`
}

// Invite sends an invitation.
func (c *Client) Invite(ctx context.Context, orgID string, in InvitationInput) (Invitation, error) {
	var inv Invitation
	return inv, c.do(ctx, http.MethodPost, "/v1/organizations/"+url.PathEscape(orgID)+"/invitations", nil, in, &inv)
}

// Invitations lists an organization's invitations with a status ("pending", "accepted",
// "declined", "expired", "revoked" or "" for all), every page of them.
func (c *Client) Invitations(ctx context.Context, orgID, status string) iter.Seq2[Invitation, error] {
	q := url.Values{}
	set(q, "status", status)
	return pages(ctx, c, "/v1/organizations/"+url.PathEscape(orgID)+"/invitations", q, func(p *page[Invitation]) []Invitation { return p.Invitations })
}

// StoreInvitations lists the pending invitations that give a role in a store, newest first,
// every page of them (limit: the page size, 50 when 0).
func (c *Client) StoreInvitations(ctx context.Context, storeID string, limit int) iter.Seq2[Invitation, error] {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return pages(ctx, c, "/v1/stores/"+url.PathEscape(storeID)+"/invitations", q, func(p *page[Invitation]) []Invitation { return p.Invitations })
}

// CancelInvitation revokes a pending invitation.
func (c *Client) CancelInvitation(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/invitations/"+url.PathEscape(id), nil, nil, nil)
}

// AuditEvents lists an organization's audit log, newest first, every page of it; action
// may be a prefix ending in a dot ("member.").
func (c *Client) AuditEvents(ctx context.Context, orgID, action string) iter.Seq2[AuditEvent, error] {
	q := url.Values{}
	set(q, "action", action)
	return pages(ctx, c, "/v1/organizations/"+url.PathEscape(orgID)+"/audit-events", q, func(p *page[AuditEvent]) []AuditEvent { return p.Events })
}

// Check asks whether a user holds a permission (a service token, or a user about themself).
func (c *Client) Check(ctx context.Context, in CheckRequest) (CheckResult, error) {
	var r CheckResult
	return r, c.do(ctx, http.MethodPost, "/v1/check", nil, in, &r)
}

// CheckBatch asks up to 100 questions at once; the answers come in the same order.
func (c *Client) CheckBatch(ctx context.Context, checks []CheckRequest) ([]CheckResult, error) {
	var out struct {
		Results []CheckResult `json:"results"`
	}
	in := struct {
		Checks []CheckRequest `json:"checks"`
	}{checks}
	return out.Results, c.do(ctx, http.MethodPost, "/v1/check/batch", nil, in, &out)
}

// UserStores lists the stores a user may open with a permission ("" for any access), with
// their role in each: what a host application's store menu shows.
func (c *Client) UserStores(ctx context.Context, userID, permission string) ([]Store, error) {
	var out struct {
		Stores []Store `json:"stores"`
	}
	q := url.Values{}
	set(q, "permission", permission)
	return out.Stores, c.do(ctx, http.MethodGet, "/v1/users/"+url.PathEscape(userID)+"/stores", q, nil, &out)
}

func set(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}
