package roster

import "time"

// PrefixAPIKeyRequest prefixes the IDs of API key request log entries.
const PrefixAPIKeyRequest = "req"

// APIKey is a secret for machines (the connector's "connections", a support partner's tool).
// It belongs to one member of one organization, its owner, and acts as them, bounded by its
// scope: an organization role (admin or member) for the organization's own permissions, and a
// store role (built-in or custom) applied in one store, or in every store the owner reaches.
// A key never holds more than its owner: see Access.Restrict.
type APIKey struct {
	ID         string
	OrgID      string
	UserID     string  // the owner: the key acts as them and stops when they lose access
	StoreID    string  // "" for every store the owner reaches
	RoleID     string  // the store role: "admin", "member", "viewer" or "rol_…"
	RoleName   string  // its name, filled when the key is read through the app
	OrgRole    OrgRole // OrgAdmin or OrgMember: bounds the organization permissions
	Name       string
	CreatedBy  string // who minted it (for a clone, who cloned it)
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// APIKey statuses, derived from the revocation and expiry times.
const (
	APIKeyActive  = "active"
	APIKeyRevoked = "revoked"
	APIKeyExpired = "expired"
)

// Status says whether the key works at now: active, revoked or expired.
func (k APIKey) Status(now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return APIKeyRevoked
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return APIKeyExpired
	}
	return APIKeyActive
}

// ValidAPIKeyOrgRole reports whether an API key may carry the organization role r: admin or
// member. Ownership powers (transfer, deletion, organization details) are never given to a key.
func ValidAPIKeyOrgRole(r OrgRole) bool { return r == OrgAdmin || r == OrgMember }

// APIKeyRequest is one request authenticated by an API key, as its request log keeps it.
// The path never holds the query string.
type APIKeyRequest struct {
	ID     string
	KeyID  string
	OrgID  string
	At     time.Time
	Method string
	Path   string
	Status int
	IP     string
}

// RoleHolder is someone or something that holds a store role: a store membership, an API key
// or a pending invitation. It is listed when a role still in use is deleted.
type RoleHolder struct {
	Kind         string // "store_member", "api_key" or "invitation"
	UserID       string // the member, or the key's owner
	StoreID      string
	APIKeyID     string
	InvitationID string
}

// Role holder kinds.
const (
	HolderStoreMember = "store_member"
	HolderAPIKey      = "api_key"
	HolderInvitation  = "invitation"
)

// Usage is what an organization consumes, as every member may see it.
type Usage struct {
	MembersByRole      map[string]int // "owner", "admin", "member", and "suspended" apart
	PendingInvitations int
	ActiveStores       int
	ArchivedStores     int
	StoreCredits       int
	APIRequests        MonthlyCount
	EmailsSent         MonthlyCount
}

// MonthlyCount counts something in the current and the previous calendar month (UTC).
type MonthlyCount struct {
	ThisMonth int64
	LastMonth int64
}
