package roster

import "time"

// PrefixClient starts the IDs of applications that sign in with Roster (OpenID clients).
const PrefixClient = "cli"

// OIDCClient is an application registered by the operator to sign its users in with Roster.
// A confidential client authenticates with a secret (only its hash is kept); a public one
// (a single-page or native application) has none and must use PKCE.
type OIDCClient struct {
	ID                     string
	Name                   string
	Public                 bool
	RedirectURIs           []string // matched exactly: no wildcard, no prefix
	PostLogoutRedirectURIs []string
	Scopes                 []string // the scopes it may ask for
	AccessTokenTTL         time.Duration
	RefreshTokenTTL        time.Duration
	FirstParty             bool
	BackChannelLogoutURI   string   // logout tokens are posted here when the user signs out
	SigningAlg             string   // ES256 (the default) or RS256: signs its ID and access tokens
	CORSOrigins            []string // origins (scheme://host[:port]) whose pages may call Roster with CORS
	// OrgID binds a machine client (a confidential server-to-server client) to one
	// organization: it takes tokens with the client-credentials grant and acts there on its
	// own, with Permissions and nothing else. "" for a client that signs users in.
	OrgID       string
	Permissions []Permission
	CreatedBy   string
	CreatedAt   time.Time
}

// Machine reports whether the client is a machine client (the client-credentials grant).
func (c OIDCClient) Machine() bool { return c.OrgID != "" }
