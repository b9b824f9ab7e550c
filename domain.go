package roster

import (
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// DomainStatus is where a domain stands in its verification.
type DomainStatus string

// Domain statuses: pending until its TXT record is found; verified; lapsed when the record was
// missing at DomainLapseAfter re-checks in a row (verifying again brings it back).
const (
	DomainPending  DomainStatus = "pending"
	DomainVerified DomainStatus = "verified"
	DomainLapsed   DomainStatus = "lapsed"
)

// JoinPolicy says what happens to a person whose verified address is at a verified domain.
type JoinPolicy string

// Join policies: off (nothing); suggest (they see "Join …" and ask; an owner or admin approves
// the request); automatic (they become a member with the domain's role when they verify their
// address).
const (
	JoinOff       JoinPolicy = "off"
	JoinSuggest   JoinPolicy = "suggest"
	JoinAutomatic JoinPolicy = "automatic"
)

// DomainLapseAfter is how many re-checks in a row must miss the record before a verified
// domain lapses: one failed lookup (a DNS hiccup, a record being moved) is not enough.
const DomainLapseAfter = 2

// DomainRecordPrefix is the label under which an organization publishes its TXT record.
const DomainRecordPrefix = "_roster-verification."

// DomainValuePrefix starts the value of the TXT record.
const DomainValuePrefix = "roster-verification="

// Domain is an email domain an organization claims, proven by a DNS TXT record.
type Domain struct {
	ID         string
	OrgID      string
	Domain     string // normalized: lower case, IDNA (punycode), no trailing dot
	Token      string // the random part of the TXT value; not a secret (it is published)
	Status     DomainStatus
	JoinPolicy JoinPolicy
	JoinRole   OrgRole // the role of who joins automatically: member or admin, never owner
	VerifiedAt time.Time
	CheckedAt  time.Time // the last verification or re-check
	Failures   int       // re-checks in a row that missed the record
	RequireSSO bool      // its people sign in through the organization's single sign-on only
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// RecordName is the DNS name of the TXT record that proves the domain.
func (d Domain) RecordName() string { return DomainRecordPrefix + d.Domain }

// RecordValue is the value the TXT record must hold.
func (d Domain) RecordValue() string { return DomainValuePrefix + d.Token }

// CheckDomainName normalizes a domain an organization claims: lower case, IDNA, no trailing
// dot, and a registrable name (a public suffix such as "co.uk" cannot be claimed).
func CheckDomainName(s string) (string, error) {
	d, err := NormalizeDomain(s)
	if err != nil {
		return "", err
	}
	if reg, err := publicsuffix.EffectiveTLDPlusOne(d); err != nil || !strings.HasSuffix(d, reg) {
		return "", Invalidf("domain", "%s is a public suffix, not a domain an organization can own", quoteShort(d))
	}
	return d, nil
}

// CheckJoin validates a join policy and its role.
func CheckJoin(p JoinPolicy, role OrgRole) error {
	switch p {
	case JoinOff, JoinSuggest, JoinAutomatic:
	default:
		return Invalidf("join_policy", "the join policy must be off, suggest or automatic")
	}
	if role != OrgMember && role != OrgAdmin {
		return Invalidf("join_role", "people who join through a domain are members or admins, never owners")
	}
	return nil
}

// JoinRequest is a person's request to join an organization through its verified domain
// (join policy suggest), waiting for an owner or admin.
type JoinRequest struct {
	ID        string
	OrgID     string
	UserID    string
	DomainID  string
	CreatedAt time.Time
	// Filled in listings.
	User   User
	Domain string
}

// JoinSuggestion is an organization a user may ask to join: it verified the domain of their
// proven address and suggests joining. RequestID is their pending request, if any.
type JoinSuggestion struct {
	OrgID     string
	OrgName   string
	Domain    string
	RequestID string
}
