package roster

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// SSOProtocol is how an organization's identity provider speaks to Roster.
type SSOProtocol string

// SSO protocols: OpenID Connect (authorization code with PKCE) and SAML 2.0 (Roster is the
// service provider; HTTP-POST binding for the response).
const (
	SSOOIDC SSOProtocol = "oidc"
	SSOSAML SSOProtocol = "saml"
)

// SSOConnection is an organization's single sign-on: its identity provider, how to read who
// signed in, and who becomes a member. An organization has at most one. Secrets (the OIDC
// client secret, the SAML service provider's private key) are sealed in the store and never
// part of this value.
type SSOConnection struct {
	ID       string
	OrgID    string
	Protocol SSOProtocol
	Enabled  bool // off: nobody signs in through it, and no domain requires it

	// OpenID Connect.
	Issuer          string   // discovery at Issuer + "/.well-known/openid-configuration"
	ClientID        string   //
	HasClientSecret bool     // a secret is stored (sealed); it is never read back
	Scopes          []string // always with "openid"
	EmailClaim      string   // "email" by default
	NameClaim       string   // "name" by default
	GroupsClaim     string   // "groups" by default; a string or a list of strings

	// SAML 2.0.
	IdPMetadataURL string // fetched at configuration time (and the XML kept)
	IdPMetadataXML string // the identity provider's metadata as last read
	SPCertificate  string // PEM of the service provider's certificate (its key is sealed)

	// Membership.
	JIT          bool    // someone at a verified domain of the organization who is not a member yet joins at sign-in
	DefaultRole  OrgRole // member or admin: the organization role of who joins, unless a mapping says otherwise
	RoleMappings []SSORoleMapping

	CreatedAt time.Time
	UpdatedAt time.Time
}

// SSORoleMapping turns a group (or attribute value) the identity provider asserts into an
// organization role and store roles, applied when someone joins just in time.
type SSORoleMapping struct {
	Group   string
	OrgRole OrgRole           // "" keeps the default role; never owner
	Stores  map[string]string // store ID → store role ID
}

// Limits of a connection.
const (
	MaxSSOScopes        = 20      // scopes asked of an OpenID provider
	MaxSSOScopeLength   = 100     // one scope
	MaxSSOClaimLength   = 100     // a claim or attribute name
	MaxSSOClientID      = 300     // a client ID
	MaxSSOClientSecret  = 1000    // a client secret
	MaxSSORoleMappings  = 100     // group mappings of a connection
	MaxSSOGroupLength   = 300     // a group name in a mapping
	MaxSSOMetadataBytes = 1 << 20 // bytes of SAML metadata
	MaxSSOGroups        = 1000    // groups read from one sign-in
)

// SSORoleFor returns the organization role and store roles of someone with groups:
// the highest organization role any matching mapping names (else def), and the store roles
// of the matching mappings, the first mapping naming a store winning.
func (c SSOConnection) SSORoleFor(groups []string) (OrgRole, map[string]string) {
	role := c.DefaultRole
	if role == "" {
		role = OrgMember
	}
	stores := map[string]string{}
	for _, m := range c.RoleMappings {
		if !slices.Contains(groups, m.Group) {
			continue
		}
		if m.OrgRole == OrgAdmin {
			role = OrgAdmin
		}
		for s, r := range m.Stores {
			if _, ok := stores[s]; !ok {
				stores[s] = r
			}
		}
	}
	return role, stores
}

// CheckSSO validates a connection's settings (not the provider's reachability, which the
// app checks by fetching its discovery document or metadata).
func CheckSSO(c SSOConnection) error {
	var errs []error
	switch c.Protocol {
	case SSOOIDC:
		errs = append(errs, checkHTTPURL("issuer", c.Issuer))
		if c.ClientID == "" || len(c.ClientID) > MaxSSOClientID {
			errs = append(errs, Invalidf("client_id", "a client ID of 1 to %d characters is required", MaxSSOClientID))
		}
		if len(c.Scopes) > MaxSSOScopes {
			errs = append(errs, Invalidf("scopes", "at most %d scopes", MaxSSOScopes))
		}
		for _, s := range c.Scopes {
			if s == "" || len(s) > MaxSSOScopeLength || strings.ContainsAny(s, " \t\r\n\"") {
				errs = append(errs, Invalidf("scopes", "a scope is a word of at most %d characters", MaxSSOScopeLength))
				break
			}
		}
		for f, v := range map[string]string{"email_claim": c.EmailClaim, "name_claim": c.NameClaim, "groups_claim": c.GroupsClaim} {
			if len(v) > MaxSSOClaimLength {
				errs = append(errs, Invalidf(f, "at most %d characters", MaxSSOClaimLength))
			}
		}
	case SSOSAML:
		if c.IdPMetadataURL == "" && c.IdPMetadataXML == "" {
			errs = append(errs, Invalidf("idp_metadata_url", "give the identity provider's metadata URL or its metadata XML"))
		}
		if c.IdPMetadataURL != "" {
			errs = append(errs, checkHTTPURL("idp_metadata_url", c.IdPMetadataURL))
		}
		if len(c.IdPMetadataXML) > MaxSSOMetadataBytes {
			errs = append(errs, Invalidf("idp_metadata_xml", "at most %d bytes", MaxSSOMetadataBytes))
		}
		if len(c.GroupsClaim) > MaxSSOClaimLength || len(c.EmailClaim) > MaxSSOClaimLength || len(c.NameClaim) > MaxSSOClaimLength {
			errs = append(errs, Invalidf("groups_claim", "an attribute name is at most %d characters", MaxSSOClaimLength))
		}
	default:
		errs = append(errs, Invalidf("protocol", "the protocol is oidc or saml"))
	}
	switch c.DefaultRole {
	case OrgMember, OrgAdmin:
	default:
		errs = append(errs, Invalidf("default_role", "the default role is member or admin"))
	}
	if len(c.RoleMappings) > MaxSSORoleMappings {
		errs = append(errs, Invalidf("role_mappings", "at most %d mappings", MaxSSORoleMappings))
	}
	for _, m := range c.RoleMappings {
		if m.Group == "" || len(m.Group) > MaxSSOGroupLength {
			errs = append(errs, Invalidf("role_mappings", "each mapping names a group of 1 to %d characters", MaxSSOGroupLength))
			break
		}
		if m.OrgRole != "" && m.OrgRole != OrgMember && m.OrgRole != OrgAdmin {
			errs = append(errs, Invalidf("role_mappings", "a mapping's organization role is member or admin"))
			break
		}
	}
	return Invalids(errs...)
}

// checkHTTPURL accepts an absolute http(s) URL of at most MaxURILength characters.
func checkHTTPURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || len(s) > MaxURILength || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return Invalidf(field, "an absolute https URL of at most %d characters is required", MaxURILength)
	}
	return nil
}
