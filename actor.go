package roster

// ActorKind says what kind of principal acts.
type ActorKind string

// Actor kinds, as recorded in the audit log.
const (
	ActorAnonymous ActorKind = "anonymous"
	ActorUser      ActorKind = "user"
	ActorAPIKey    ActorKind = "api_key"
	ActorService   ActorKind = "service"    // a host application's instance token
	ActorClient    ActorKind = "client"     // a machine client's access token (client-credentials grant)
	ActorDirectory ActorKind = "directory"  // a SCIM directory's bearer token (an identity provider provisioning one organization)
	ActorSetupLink ActorKind = "setup_link" // the holder of a setup link: an organization's IT administrator setting up its sign-in
	ActorSystem    ActorKind = "system"     // Roster itself: workers, the CLI
)

// Actor is who makes a request, authenticated by the transport and passed to every app
// method. For an API key, UserID is the key's owner and the key bounds what they may do.
type Actor struct {
	Kind      ActorKind
	UserID    string
	SessionID string
	Operator  bool // instance-wide rights

	APIKeyID    string
	APIKeyOrgID string // an API key works in one organization only

	ServiceTokenID string

	OIDCTokenID string // a Roster access token (Sign in with Roster) acting for UserID
	OIDCOrgID   string // the organization the access token was issued for: it acts there only ("" without the scope organization)

	ClientID    string // a machine client acting on its own (ActorClient), with
	ClientOrgID string // the one organization it is bound to

	DirectoryID    string // a SCIM directory acting on its own (ActorDirectory), in
	DirectoryOrgID string // the one organization it provisions

	SetupLinkID    string // a setup link's holder (ActorSetupLink), setting up the sign-in of
	SetupLinkOrgID string // the one organization the link is for

	IP        string
	UserAgent string
}

// Anonymous returns an unauthenticated actor seen from ip.
func Anonymous(ip, userAgent string) Actor {
	return Actor{Kind: ActorAnonymous, IP: ip, UserAgent: userAgent}
}

// System is Roster itself acting: workers and command-line administration.
func System() Actor { return Actor{Kind: ActorSystem, Operator: true} }

// ID returns the identifier recorded in the audit log for this actor.
func (a Actor) ID() string {
	switch a.Kind {
	case ActorUser:
		return a.UserID
	case ActorAPIKey:
		return a.APIKeyID
	case ActorService:
		return a.ServiceTokenID
	case ActorClient:
		return a.ClientID
	case ActorDirectory:
		return a.DirectoryID
	case ActorSetupLink:
		return a.SetupLinkID
	}
	return ""
}

// IsUser reports whether a signed-in user acts (through a session or an API key of theirs).
func (a Actor) IsUser() bool { return (a.Kind == ActorUser || a.Kind == ActorAPIKey) && a.UserID != "" }
