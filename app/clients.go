package app

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/token"
)

// Clients is the OpenID clients (applications) registered by the operator, their CORS origins
// (cors.go), and machine clients' client-credentials grant (oidc_machine.go).
type Clients struct{ *core }

// Applications that sign in with Roster (OpenID clients) are registered by the operator.

// OIDC scopes a client may be allowed.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
	ScopeOrganization  = "organization" // the tokens carry the chosen organization and store
)

// OIDCScopes are the scopes Roster's provider knows.
var OIDCScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess, ScopeOrganization}

// Bounds and defaults of token lifetimes.
const (
	DefaultAccessTokenTTL  = 5 * time.Minute
	MinAccessTokenTTL      = time.Minute
	MaxAccessTokenTTL      = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	MinRefreshTokenTTL     = time.Hour
	MaxRefreshTokenTTL     = 90 * 24 * time.Hour
)

// clientSecretPrefix marks client secrets for secret scanners.
const clientSecretPrefix = "rcs_"

// ClientInput registers an application.
type ClientInput struct {
	Name                   string
	Public                 bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Scopes                 []string // empty: every scope
	AccessTokenTTL         time.Duration
	RefreshTokenTTL        time.Duration
	FirstParty             bool
	BackChannelLogoutURI   string
	SigningAlg             string   // ES256 (default) or RS256
	CORSOrigins            []string // origins whose pages may call Roster with CORS (cors.go)
	// OrgID makes a machine client: confidential, bound to that organization, taking tokens
	// with the client-credentials grant only (no redirect URIs, scopes or logout URI), and
	// holding there Permissions (at least one; organization permissions at most an admin's).
	Machine     bool // a machine client even without OrgID or Permissions (then refused for want of them)
	OrgID       string
	Permissions []roster.Permission
}

// ClientInputOf is the input that leaves a client as it is: an update that changes a few
// fields starts from it.
func ClientInputOf(c roster.OIDCClient) ClientInput {
	return ClientInput{Name: c.Name, Public: c.Public, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		Scopes: c.Scopes, AccessTokenTTL: c.AccessTokenTTL, RefreshTokenTTL: c.RefreshTokenTTL, FirstParty: c.FirstParty,
		BackChannelLogoutURI: c.BackChannelLogoutURI, SigningAlg: c.SigningAlg, CORSOrigins: c.CORSOrigins,
		Machine: c.Machine(), OrgID: c.OrgID, Permissions: c.Permissions}
}

// redirectURI validates a redirect URI: absolute, no fragment, https, or http on a loopback
// address (development and native applications).
func redirectURI(field, s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || u.User != nil || len(s) > 2000 {
		return "", roster.Invalidf(field, "%q is not an absolute URL without a fragment", s)
	}
	if strings.Contains(s, "*") {
		return "", roster.Invalidf(field, "%q: a redirect URI is matched exactly, with no wildcard; register each one", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", roster.Invalidf(field, "%q: plain http is allowed only on a loopback address; use https", s)
		}
	default:
		return "", roster.Invalidf(field, "%q: use https", s)
	}
	return s, nil
}

func redirectURIs(field string, in []string, required bool) ([]string, error) {
	if required && len(in) == 0 {
		return nil, roster.Invalidf(field, "give at least one redirect URI")
	}
	return validList(field, in, roster.MaxRedirectURIs, "URIs", redirectURI)
}

// validList checks each value of a list with valid (which also normalizes it) and drops
// repeats; at most most values.
func validList(field string, in []string, most int, what string, valid func(field, s string) (string, error)) ([]string, error) {
	if len(in) > most {
		return nil, roster.Invalidf(field, "give at most %d %s", most, what)
	}
	out := []string{}
	for _, s := range in {
		v, err := valid(field, strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

func ttl(field string, d, def, lo, hi time.Duration) (time.Duration, error) {
	if d == 0 {
		return def, nil
	}
	if d < lo || d > hi || d%time.Second != 0 {
		return 0, roster.Invalidf(field, "give a whole number of seconds between %d and %d", int(lo/time.Second), int(hi/time.Second))
	}
	return d, nil
}

// client validates an application's registration: everything but its ID, its secret and who
// registered it when. machine says it is a machine client.
func (in ClientInput) client() (cl roster.OIDCClient, machine bool, err error) {
	name, err := text("name", in.Name, true, roster.MaxNameLength)
	if err != nil {
		return cl, false, err
	}
	cl = roster.OIDCClient{Name: name, Public: in.Public, FirstParty: in.FirstParty}
	machine = in.Machine || in.OrgID != "" || len(in.Permissions) > 0
	if machine {
		if err := in.checkMachine(); err != nil {
			return cl, true, err
		}
		cl.OrgID, cl.FirstParty = in.OrgID, false
	}
	if cl.RedirectURIs, err = redirectURIs("redirect_uris", in.RedirectURIs, !machine); err != nil {
		return cl, machine, err
	}
	if cl.PostLogoutRedirectURIs, err = redirectURIs("post_logout_redirect_uris", in.PostLogoutRedirectURIs, false); err != nil {
		return cl, machine, err
	}
	if in.BackChannelLogoutURI != "" {
		if cl.BackChannelLogoutURI, err = redirectURI("backchannel_logout_uri", strings.TrimSpace(in.BackChannelLogoutURI)); err != nil {
			return cl, machine, err
		}
	}
	if cl.CORSOrigins, err = corsOrigins("cors_origins", in.CORSOrigins); err != nil {
		return cl, machine, err
	}
	cl.Scopes = []string{}
	for _, s := range in.Scopes {
		if !slices.Contains(OIDCScopes, s) {
			return cl, machine, roster.Invalidf("scopes", "unknown scope %q; known scopes: %s", s, strings.Join(OIDCScopes, ", "))
		}
		if !slices.Contains(cl.Scopes, s) {
			cl.Scopes = append(cl.Scopes, s)
		}
	}
	if len(cl.Scopes) == 0 && !machine {
		cl.Scopes = slices.Clone(OIDCScopes)
	}
	if !slices.Contains(cl.Scopes, ScopeOpenID) && !machine {
		return cl, machine, roster.Invalidf("scopes", "the scope openid is required")
	}
	if cl.AccessTokenTTL, err = ttl("access_token_ttl", in.AccessTokenTTL, DefaultAccessTokenTTL, MinAccessTokenTTL, MaxAccessTokenTTL); err != nil {
		return cl, machine, err
	}
	if cl.RefreshTokenTTL, err = ttl("refresh_token_ttl", in.RefreshTokenTTL, DefaultRefreshTokenTTL, MinRefreshTokenTTL, MaxRefreshTokenTTL); err != nil {
		return cl, machine, err
	}
	switch cl.SigningAlg = strings.ToUpper(strings.TrimSpace(in.SigningAlg)); cl.SigningAlg {
	case "":
		cl.SigningAlg = AlgES256
	case AlgES256, AlgRS256:
	default:
		return cl, machine, roster.Invalidf("id_token_signed_response_alg", "give ES256 or RS256")
	}
	return cl, machine, nil
}

// clientAudit is what the audit log records of a registration.
func clientAudit(c roster.OIDCClient) map[string]any {
	after := map[string]any{"name": c.Name, "public": c.Public, "redirect_uris": c.RedirectURIs, "post_logout_redirect_uris": c.PostLogoutRedirectURIs,
		"scopes": c.Scopes, "signing_alg": c.SigningAlg, "cors_origins": c.CORSOrigins, "first_party": c.FirstParty,
		"backchannel_logout_uri": c.BackChannelLogoutURI, "access_token_ttl": int64(c.AccessTokenTTL / time.Second),
		"refresh_token_ttl": int64(c.RefreshTokenTTL / time.Second)}
	if c.OrgID != "" {
		after["organization_id"], after["permissions"] = c.OrgID, c.Permissions
	}
	return after
}

// Create registers an application. A confidential client's secret (256 random bits)
// is returned once; only its hash is kept.
func (a *Clients) Create(ctx context.Context, actor roster.Actor, in ClientInput) (roster.OIDCClient, string, error) {
	if err := requireOperator(actor); err != nil {
		return roster.OIDCClient{}, "", err
	}
	cl, machine, err := in.client()
	if err != nil {
		return roster.OIDCClient{}, "", err
	}
	cl.ID = roster.NewID(roster.PrefixClient)
	var secret, hash string
	if !cl.Public {
		secret, hash = token.New(clientSecretPrefix)
	}
	cl.CreatedBy = actor.ID()
	cl, err = writeValue(ctx, a.core, actor, func(t *txn) (roster.OIDCClient, error) {
		c := cl
		c.CreatedAt = t.now
		if machine {
			perms, err := a.machinePermissions(t, in.OrgID, in.Permissions)
			if err != nil {
				return c, err
			}
			c.Permissions = perms
		}
		if err := t.CreateOIDCClient(t.ctx, c, hash); err != nil {
			return c, err
		}
		return c, t.audit(roster.AuditEvent{Action: "client.created", OrgID: c.OrgID, TargetType: "client", TargetID: c.ID, After: clientAudit(c)})
	})
	if err != nil {
		return roster.OIDCClient{}, "", err
	}
	a.forgetCORSOrigins()
	return cl, secret, nil
}

// Update changes a registered application: its name, URIs, scopes, token lifetimes, consent,
// signing algorithm, CORS origins and, for a machine client, its permissions, all given again
// (what is left out is cleared or takes its default). What it is cannot change — public or
// confidential, a machine client or not, its organization: register another. Narrower scopes
// apply from the next sign-in or refresh, narrower permissions of a machine client at once;
// redirect and logout URIs taken away are refused from now on. Operators only.
func (a *Clients) Update(ctx context.Context, actor roster.Actor, id string, in ClientInput) (roster.OIDCClient, error) {
	if err := requireOperator(actor); err != nil {
		return roster.OIDCClient{}, err
	}
	if !roster.ValidID(roster.PrefixClient, id) {
		return roster.OIDCClient{}, roster.NotFound("client")
	}
	next, machine, err := in.client()
	if err != nil {
		return roster.OIDCClient{}, err
	}
	cl, err := writeValue(ctx, a.core, actor, func(t *txn) (roster.OIDCClient, error) {
		prev, _, err := t.OIDCClient(t.ctx, id)
		if err != nil {
			return prev, err
		}
		switch {
		case prev.Public != next.Public:
			return prev, roster.Invalidf("type", "a client stays public or confidential; register another to change it")
		case (prev.OrgID != "") != machine:
			return prev, roster.Invalidf("organization_id", "a client stays a machine client or not; register another to change it")
		case prev.OrgID != next.OrgID:
			return prev, roster.Invalidf("organization_id", "a machine client stays bound to its organization; register another for another organization")
		}
		c := next
		c.ID, c.CreatedBy, c.CreatedAt = prev.ID, prev.CreatedBy, prev.CreatedAt
		if machine {
			if c.Permissions, err = a.machinePermissions(t, c.OrgID, in.Permissions); err != nil {
				return c, err
			}
		}
		if err := t.UpdateOIDCClient(t.ctx, c); err != nil {
			return c, err
		}
		return c, t.audit(roster.AuditEvent{Action: "client.updated", OrgID: c.OrgID, TargetType: "client", TargetID: c.ID,
			Before: clientAudit(prev), After: clientAudit(c)})
	})
	if err != nil {
		return roster.OIDCClient{}, err
	}
	a.forgetCORSOrigins()
	return cl, nil
}

// RotateSecret gives a confidential application a new secret, returned once, and ends the old
// one at once. Operators only.
func (a *Clients) RotateSecret(ctx context.Context, actor roster.Actor, id string) (string, error) {
	if err := requireOperator(actor); err != nil {
		return "", err
	}
	if !roster.ValidID(roster.PrefixClient, id) {
		return "", roster.NotFound("client")
	}
	secret, hash := token.New(clientSecretPrefix)
	err := a.write(ctx, actor, func(t *txn) error {
		cl, _, err := t.OIDCClient(t.ctx, id)
		if err != nil {
			return err
		}
		if cl.Public {
			return roster.Invalidf("type", "a public client has no secret")
		}
		if err := t.SetOIDCClientSecret(t.ctx, id, hash); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "client.secret_rotated", OrgID: cl.OrgID, TargetType: "client", TargetID: id})
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// checkMachine refuses what a machine client cannot have: it is confidential, and takes its
// tokens with the client-credentials grant only, for no user.
func (in ClientInput) checkMachine() error {
	var errs []error
	if !roster.ValidID(roster.PrefixOrganization, in.OrgID) {
		errs = append(errs, roster.Invalidf("organization_id", "a machine client is bound to one organization: give its ID"))
	}
	if in.Public {
		errs = append(errs, roster.Invalidf("type", "a machine client is confidential: it proves itself with its secret"))
	}
	if len(in.Permissions) == 0 || len(in.Permissions) > roster.MaxRolePermissions {
		errs = append(errs, roster.Invalidf("permissions", "give between 1 and %d permissions", roster.MaxRolePermissions))
	}
	if len(in.RedirectURIs) > 0 || len(in.PostLogoutRedirectURIs) > 0 {
		errs = append(errs, roster.Invalidf("redirect_uris", "a machine client signs no user in: it has no redirect URI"))
	}
	if len(in.Scopes) > 0 {
		errs = append(errs, roster.Invalidf("scopes", "a machine client asks for its permissions, not for scopes"))
	}
	if in.BackChannelLogoutURI != "" {
		errs = append(errs, roster.Invalidf("backchannel_logout_uri", "a machine client signs no user in: it has no logout URI"))
	}
	return roster.Invalids(errs...)
}

// machinePermissions validates a machine client's permissions in its organization, as an
// API key's scope is validated: every one in the catalog, organization permissions at most
// an admin's (a machine client never acts as the owner). They come back sorted, once each.
func (a *Clients) machinePermissions(t *txn, orgID string, in []roster.Permission) ([]roster.Permission, error) {
	if _, err := t.Organization(t.ctx, orgID); err != nil {
		if roster.ErrorCode(err) == roster.ENotFound {
			return nil, (&roster.Error{Code: roster.ENotFound, Field: "organization_id", Message: "organization not found"}).With("organization_id", orgID)
		}
		return nil, err
	}
	cat, err := a.catalog(t.ctx, &t.Conn)
	if err != nil {
		return nil, err
	}
	admin := roster.OrgRolePermissions(roster.OrgAdmin)
	set := roster.PermSet{}
	for _, p := range in {
		p = roster.Permission(strings.TrimSpace(string(p)))
		info, ok := cat.Lookup(p)
		if !ok {
			return nil, (&roster.Error{Code: roster.EUnknownPermission, Field: "permissions", Message: "unknown permission " + string(p)}).With("permission", string(p))
		}
		if info.Scope == roster.ScopeOrganization && !admin.Has(p) {
			return nil, (&roster.Error{Code: roster.EInvalid, Field: "permissions",
				Message: string(p) + " is beyond a machine client: its organization permissions are at most an admin's"}).With("permission", string(p))
		}
		set[p] = struct{}{}
	}
	return set.Sorted(), nil
}

// Clients lists the registered applications. Operators only.
func (a *Clients) List(ctx context.Context, actor roster.Actor) ([]roster.OIDCClient, error) {
	if err := requireOperator(actor); err != nil {
		return nil, err
	}
	return a.read().OIDCClients(ctx)
}

// Client returns one registered application. Operators only.
func (a *Clients) Get(ctx context.Context, actor roster.Actor, id string) (roster.OIDCClient, error) {
	if err := requireOperator(actor); err != nil {
		return roster.OIDCClient{}, err
	}
	if !roster.ValidID(roster.PrefixClient, id) {
		return roster.OIDCClient{}, roster.NotFound("client")
	}
	cl, _, err := a.read().OIDCClient(ctx, id)
	return cl, err
}

// Delete deletes an application; its tokens stop working at once. Operators only.
func (a *Clients) Delete(ctx context.Context, actor roster.Actor, id string) error {
	if err := requireOperator(actor); err != nil {
		return err
	}
	if !roster.ValidID(roster.PrefixClient, id) {
		return roster.NotFound("client")
	}
	err := a.write(ctx, actor, func(t *txn) error {
		if err := t.DeleteOIDCClient(t.ctx, id); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "client.deleted", TargetType: "client", TargetID: id})
	})
	if err == nil {
		a.forgetCORSOrigins()
	}
	return err
}
