package roster

import "time"

// InvitationStatus is where an invitation stands.
type InvitationStatus string

// Invitation statuses. Expired is not stored: a pending invitation whose link has passed its
// expiry is expired.
const (
	InvitationPending  InvitationStatus = "pending"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationDeclined InvitationStatus = "declined"
	InvitationRevoked  InvitationStatus = "revoked"
	InvitationExpired  InvitationStatus = "expired"
)

// ValidInvitationStatus reports whether s is an invitation status.
func ValidInvitationStatus(s InvitationStatus) bool {
	switch s {
	case InvitationPending, InvitationAccepted, InvitationDeclined, InvitationRevoked, InvitationExpired:
		return true
	}
	return false
}

// InvitationStore is a store role an invitation grants on acceptance.
type InvitationStore struct {
	StoreID string
	RoleID  string
}

// Invitation asks someone, by email address, to join an organization with an organization
// role and store roles. Its one-time link is a token whose hash only is stored; the token is
// minted when the email goes out, and never shown again.
type Invitation struct {
	ID            string
	OrgID         string
	Email         string // normalized
	Role          OrgRole
	Stores        []InvitationStore
	Message       string // the inviter's own words, optional
	Locale        string // the inviter's choice of language for the email
	InvitedBy     string // the inviter's user ID ("" when they no longer exist)
	InviterName   string
	Status        InvitationStatus // as stored; Effective tells whether a pending one has expired
	CreatedAt     time.Time
	ExpiresAt     time.Time
	LastSentAt    time.Time // when the link was last issued (creation or resend)
	SendCount     int       // how many links were issued
	RespondedAt   *time.Time
	AcceptedBy    string // the user who accepted
	DeliveryError string // set when the email could not be delivered
}

// Effective returns the status at a time: a pending invitation past its expiry is expired.
func (i Invitation) Effective(now time.Time) InvitationStatus {
	if i.Status == InvitationPending && !now.Before(i.ExpiresAt) {
		return InvitationExpired
	}
	return i.Status
}
