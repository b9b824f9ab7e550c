package roster

import "time"

// SetupLink is a link an organization's owner gives the customer's IT administrator, who
// may have no account in Roster: for SetupLinkLifetime, until the owner revokes it, it opens
// a guided page where they verify the organization's email domains, configure its single
// sign-on and create its SCIM directories — and nothing else of the organization is visible
// from it. Its holder acts as an actor of kind setup_link, holding what the owner who made it
// holds today, confined by app to those settings; the secret in the link is shown once and
// kept only as its SHA-256.
type SetupLink struct {
	ID         string
	OrgID      string
	CreatedBy  string // the owner who made it
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// Setup links' bounds.
const (
	SetupLinkLifetime = 7 * 24 * time.Hour // how long a setup link opens its page
	MaxSetupLinks     = 10                 // links of one organization still open at once
)

// Open reports whether the link still opens its page at now: not revoked, not expired.
func (l SetupLink) Open(now time.Time) bool { return l.RevokedAt == nil && now.Before(l.ExpiresAt) }

// MaySetUpLinks reports whether the principal makes, lists and revokes the organization's
// setup links: the owner alone, as a person (not through an API key or a machine client),
// since a link hands over who signs in to the organization and who provisions it.
func (a Access) MaySetUpLinks() bool { return a.Active() && a.Role == OrgOwner && a.UserID != "" }
