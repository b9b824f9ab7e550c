package roster

import "time"

// UserStatus is whether a user may sign in.
type UserStatus string

// User statuses.
const (
	UserActive      UserStatus = "active"
	UserDeactivated UserStatus = "deactivated"
)

// User is one identity: one email address, any number of organizations.
type User struct {
	ID              string
	Email           string // normalized: see NormalizeEmail
	Name            string
	Locale          string // "en", "fr", "es"
	Status          UserStatus
	Operator        bool       // instance-wide rights
	EmailVerifiedAt *time.Time // nil until the address is proved
	HasPassword     bool       // false for a user created directly, until they set one
	CreatedAt       time.Time
	UpdatedAt       time.Time
	LastActiveAt    *time.Time // when they last signed in or used a session; nil if never
}

// Verified reports whether the user proved they own their address.
func (u User) Verified() bool { return u.EmailVerifiedAt != nil }

// Session is one signed-in browser or API client of a user.
type Session struct {
	ID         string
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute limit
	ReauthAt   time.Time // last time the password was entered in this session
	StepUpAt   time.Time // last time the strongest proof of the account was given in it (app/stepup.go)
	IP         string
	UserAgent  string
}

// Locales Roster speaks. The first is the fallback.
var Locales = []string{"en", "fr", "es"}

// ValidLocale reports whether Roster speaks loc.
func ValidLocale(loc string) bool {
	for _, l := range Locales {
		if l == loc {
			return true
		}
	}
	return false
}

// TokenPurpose says what a one-time link sent to a user is for.
type TokenPurpose string

// One-time link purposes.
const (
	TokenSetPassword   TokenPurpose = "set_password"   // a user created directly chooses a password
	TokenPasswordReset TokenPurpose = "password_reset" // forgot password
	TokenVerifyEmail   TokenPurpose = "verify_email"   // prove the address after sign-up
	TokenChangeEmail   TokenPurpose = "change_email"   // confirm a new address
	TokenOperatorSetup TokenPurpose = "operator_setup" // create the first operator
)

// UserToken is a one-time link: only its hash is stored; it is consumed once.
type UserToken struct {
	ID        string
	UserID    string // "" for operator setup
	Purpose   TokenPurpose
	Email     string // the new address of an email change
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// ServiceToken is an instance token a host application uses to call the check API.
type ServiceToken struct {
	ID         string
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}
