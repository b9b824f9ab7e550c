package roster

import "time"

// Limits: every bound on what Roster accepts, in one place. The app enforces them, the API's
// OpenAPI schema states them (maxLength, maxItems, maximum: api.TestLimitsMatchTheSchema checks
// each against the constant), the console's fields take them from here (the template
// function maxlen), and the README's "Limits" table lists them (checked too). Lengths are in
// characters unless the comment says bytes.
const (
	// Names and free text.
	MaxNameLength        = 100  // a person, organization, store, API key or application name
	MaxRoleNameLength    = 60   // a custom role's name
	MaxDescriptionLength = 300  // a role's or a host permission's description
	MaxAreaLength        = 50   // the area a host permission is listed under
	MaxSearchLength      = 100  // a search text (q)
	MaxInvitationMessage = 1000 // the personal message of an invitation
	MaxWebsiteLength     = 300  // a website address
	MaxEmailLength       = 320  // an email address (RFC 5321: 64 + @ + 255)
	MaxPasswordField     = 1024 // bytes of a password field; the password rule allows 256 characters (password.MaxLength)
	MaxTokenLength       = 200  // a one-time link's token as sent back
	MaxCodeLength        = 64   // a second-factor code as typed (6 digits or a recovery code, with spaces and dashes)
	MaxIDLength          = 40   // an identifier (usr_…, org_…) or a cursor
	MaxDurationLength    = 10   // a duration parameter such as 30s (the event feed's wait)
	MaxTimeZoneLength    = 64   // an IANA time zone name
	MaxPermissionKey     = 100  // a permission key such as campaigns.create
	MaxDomainLength      = 253  // characters of an email domain an organization claims (DNS: 253)
	MaxURILength         = 2000 // a redirect or back-channel logout URI of an application, a webhook endpoint's URL

	// An organization's details.
	MaxLegalNameLength   = 200
	MaxAddressLineLength = 200
	MaxCityLength        = 100
	MaxRegionLength      = 100
	MaxPostalCodeLength  = 20
	MaxPhoneLength       = 40

	// Lists.
	DefaultPageSize    = 50   // items of a page when the client names no limit
	MaxPageSize        = 200  // items of one page
	MaxRolePermissions = 500  // permissions one role holds
	MaxStoreGrants     = 500  // store grants one invitation or account carries
	MaxImportRows      = 1000 // invitations of one bulk call (one transaction); the CLI sends bigger files in batches
	MaxBatchChecks     = 100  // questions of one batch check
	MaxAllowedDomains  = 100  // domains of a policy's allow-list
	MaxPermissionsFile = 5000 // host permissions one file or call registers
	MaxRedirectURIs    = 20   // redirect URIs (and post-logout redirect URIs) of one application
	MaxClientScopes    = 10   // scopes one application may ask for
	MaxCORSOrigins     = 20   // CORS origins of one application
	MaxPasskeys        = 20   // passkeys of one user

	// Numbers.
	MaxStoreCredits        = 100000         // store credits an operator grants an organization
	MaxInvitationTTLHours  = 30 * 24        // MaxInvitationTTL as the API states it
	MaxAccessTokenSeconds  = 3600           // the longest access-token lifetime of an application
	MaxRefreshTokenSeconds = 90 * 24 * 3600 // the longest refresh-token lifetime of an application

	// Codes, fixed by their standard.
	CurrencyCodeLength = 3 // ISO 4217
	CountryCodeLength  = 2 // ISO 3166-1 alpha-2

	// Request bodies (bytes).
	MaxJSONBody    = 1 << 20                // an API request
	MaxUploadBody  = 2 << 20                // an API upload: a logo, a CSV of invitations
	MaxFormBody    = 64 << 10               // a console form
	MaxImageBytes  = 1 << 20                // a logo file (app/images.go bounds its decoding too)
	MaxFormUpload  = MaxImageBytes + 64<<10 // a console form carrying a logo
	MaxPasskeyJSON = 16 << 10               // a browser's answer to a passkey request (WebAuthn JSON)

	// Recorded from requests, cut rather than refused (bytes).
	MaxUserAgentLength = 512
)

// Invitation lifetimes.
const (
	DefaultInvitationTTL = 7 * 24 * time.Hour
	MinInvitationTTL     = time.Hour
	MaxInvitationTTL     = MaxInvitationTTLHours * time.Hour
)
