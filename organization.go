package roster

import (
	"bytes"
	"cmp"
	"slices"
	"sync"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// Organization is the top level: it owns stores, has members and exactly one owner.
type Organization struct {
	ID           string
	Name         string
	Details      OrganizationDetails
	LogoID       string // "" when none
	StoreCredits int    // how many active stores it may have
	Policy       Policy
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// OrganizationDetails is the descriptive information an owner edits.
type OrganizationDetails struct {
	LegalName    string
	Website      string
	Phone        string
	AddressLine1 string
	AddressLine2 string
	City         string
	PostalCode   string
	Region       string
	Country      string // ISO 3166-1 alpha-2, upper case
}

// Policy is what an organization requires of everyone who joins it.
type Policy struct {
	AllowedDomains     []string      // normalized; empty means any domain
	BlockFreeProviders bool          // refuse gmail.com, hotmail.com, … and disposable domains
	InvitationTTL      time.Duration // lifetime of invitation links
	// VerifiedDomainsOnly refuses invitations to addresses outside the organization's
	// verified domains (Domain).
	VerifiedDomainsOnly bool
	// RequireTwoFactor requires members to have a second factor to open the organization
	// with a session or a Roster access token (API keys keep working).
	RequireTwoFactor bool
}

// DefaultPolicy is the policy of a new organization.
func DefaultPolicy() Policy { return Policy{InvitationTTL: DefaultInvitationTTL} }

// Store belongs to exactly one organization.
type Store struct {
	ID        string
	OrgID     string
	Name      string
	Website   string
	Currency  string // ISO 4217, upper case
	TimeZone  string // IANA name
	LogoID    string
	Status    StoreStatus
	CreatedAt time.Time
	UpdatedAt time.Time
}

// StoreStatus says whether a store is in use; archived stores use no credit.
type StoreStatus string

// Store statuses.
const (
	StoreActive   StoreStatus = "active"
	StoreArchived StoreStatus = "archived"
)

// Image is an uploaded logo.
type Image struct {
	ID          string
	OrgID       string
	ContentType string
	Data        []byte
	CreatedAt   time.Time
}

// CompareByName orders organizations and stores as Roster lists a user's (the selector, the
// stores a user may open): by name as people read them, then by ID. Names are compared by
// Unicode's collation (x/text/collate, the root locale): "Éclair" before "zeta", "apple"
// before "Banana", where comparing lower-cased bytes put every accented initial after z. One
// rule in Go, so that both engines and the access index agree.
func CompareByName(name1, id1, name2, id2 string) int {
	c := collators.Get().(*collate.Collator)
	r := c.CompareString(name1, name2)
	collators.Put(c)
	if r != 0 {
		return r
	}
	return cmp.Compare(id1, id2)
}

// SortByName sorts list in CompareByName's order, each name's collation key made once: the
// way to sort a list that may be long (an organization's stores), where comparing the names
// themselves would collate each one again at every comparison.
func SortByName[T any](list []T, name, id func(T) string) {
	type keyed struct {
		key []byte
		id  string
		v   T
	}
	c := collators.Get().(*collate.Collator)
	defer collators.Put(c)
	var buf collate.Buffer
	ks := make([]keyed, len(list))
	for i, v := range list {
		ks[i] = keyed{key: c.KeyFromString(&buf, name(v)), id: id(v), v: v}
	}
	slices.SortFunc(ks, func(x, y keyed) int { return CompareByNameKey(x.key, x.id, y.key, y.id) })
	for i, k := range ks {
		list[i] = k.v
	}
}

// NameKey returns name's collation key, for a name compared again and again (an organization
// the access index holds); CompareByNameKey orders by such keys as CompareByName does by names.
func NameKey(name string) []byte {
	c := collators.Get().(*collate.Collator)
	defer collators.Put(c)
	var buf collate.Buffer
	return bytes.Clone(c.KeyFromString(&buf, name))
}

// CompareByNameKey is CompareByName on names' collation keys (NameKey): keys as bytes, then IDs.
func CompareByNameKey(key1 []byte, id1 string, key2 []byte, id2 string) int {
	if c := bytes.Compare(key1, key2); c != 0 {
		return c
	}
	return cmp.Compare(id1, id2)
}

// collators lends CompareByName, SortByName and NameKey a collator: one is not safe for
// concurrent use, and making one costs more than the comparison.
var collators = sync.Pool{New: func() any { return collate.New(language.Und) }}
