package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/crewjam/saml"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/webhook"
)

// SSO is an organization's single sign-on: its connection to the company's identity provider
// (OpenID Connect or SAML), the domains whose users must use it, and the sign-ins through it
// (sso_login.go), which open ordinary Roster sessions.
type SSO struct{ *core }

// Single sign-on per organization (README, "Enterprise SSO"): an owner or admin connects the
// organization's identity provider, OpenID Connect (go-oidc: discovery, ID token checks) or
// SAML 2.0 (crewjam/saml: Roster is the service provider). Who signs in through it is found
// by the email domains the organization verified (domains.go); sign-in is in sso_login.go.

// SSOInput is what an owner or admin sets of the organization's single sign-on.
type SSOInput struct {
	Protocol     roster.SSOProtocol
	Enabled      bool
	Issuer       string
	ClientID     string
	ClientSecret string // "" keeps the stored secret
	Scopes       []string
	EmailClaim   string
	NameClaim    string
	GroupsClaim  string

	IdPMetadataURL string
	IdPMetadataXML string

	JIT          bool
	DefaultRole  roster.OrgRole
	RoleMappings []roster.SSORoleMapping
}

// SSOSettings is an organization's single sign-on as its owner and admins see it: the
// connection (ID "" when there is none) and what to give the identity provider.
type SSOSettings struct {
	Connection     roster.SSOConnection
	RedirectURI    string   // OIDC: the redirect URI to register at the provider
	EntityID       string   // SAML: the service provider's entity ID (and metadata URL)
	ACSURL         string   // SAML: the assertion consumer service (HTTP-POST)
	MetadataURL    string   // SAML: the service provider's metadata
	RequireDomains []string // verified domains whose people must sign in through it
	// MapsRoles: the actor sees and sets the role mappings. Not the holder of a setup link:
	// the mappings name the organization's stores and roles, so Get hides them from the link
	// and Configure keeps them as the owner and admins set them.
	MapsRoles bool
}

// ssoHTTPTimeout bounds each request to an identity provider (discovery, keys, tokens, metadata).
const ssoHTTPTimeout = 10 * time.Second

// ssoHTTP is the client that speaks to identity providers: it reaches no loopback, private,
// link-local or metadata address unless the operator allowed its host
// (ROSTER_SSO_ALLOWED_HOSTS), so that an organization's administrator cannot make Roster
// fetch from the instance's own network.
func (a *SSO) ssoHTTP() *http.Client { return a.idpClient }

// providerUnreachable says why an identity provider could not be read, with what the
// operator can do when the address was refused.
func providerUnreachable(err error) string {
	why := trimErr(err)
	if errors.Is(err, webhook.ErrRefusedAddress) {
		why += " (an identity provider on the instance's own network must be allowed by the operator: ROSTER_SSO_ALLOWED_HOSTS)"
	}
	return why
}

// ssoCache keeps what was read of each connection's provider (OIDC discovery and keys), by
// connection and the time it was last changed: a changed connection is read again.
type ssoCache struct {
	mu        sync.Mutex
	providers map[string]*oidc.Provider
}

func (c *ssoCache) provider(ctx context.Context, client *http.Client, conn roster.SSOConnection) (*oidc.Provider, error) {
	key := conn.ID + "|" + conn.UpdatedAt.String() + "|" + conn.Issuer
	c.mu.Lock()
	p, ok := c.providers[key]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := discover(ctx, client, conn.Issuer)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.providers == nil || len(c.providers) > 1000 {
		c.providers = map[string]*oidc.Provider{}
	}
	c.providers[key] = p
	c.mu.Unlock()
	return p, nil
}

// discover reads an OpenID provider's discovery document (go-oidc checks that it names the
// issuer it was fetched from). The provider keeps the HTTP client for its keys, which it
// fetches with a background context and caches.
func discover(ctx context.Context, client *http.Client, issuer string) (*oidc.Provider, error) {
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, client), ssoHTTPTimeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, issuer)
	if err != nil {
		return nil, (&roster.Error{Code: roster.ESSOProvider, Field: "issuer",
			Message: "the OpenID provider's discovery document could not be read: " + providerUnreachable(err)}).With("reason", trimErr(err))
	}
	return p, nil
}

// trimErr shortens a library's error for a message shown to an administrator.
func trimErr(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// ssoKID is the associated data sealing a connection's secrets: a secret moved to another
// connection's row does not open.
func ssoKID(connID, what string) string { return "sso:" + connID + ":" + what }

// ssoSettings completes a connection with the addresses to give its provider.
func (a *SSO) ssoSettings(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, conn roster.SSOConnection) (SSOSettings, error) {
	s := SSOSettings{Connection: conn, RedirectURI: a.absolute(SSOCallbackPath), MapsRoles: actor.Kind != roster.ActorSetupLink}
	if !s.MapsRoles {
		s.Connection.RoleMappings = nil
	}
	if conn.ID != "" {
		s.EntityID = a.absolute(SSOSAMLPath + conn.ID)
		s.MetadataURL = s.EntityID
		s.ACSURL = a.absolute(SSOSAMLPath + conn.ID + "/acs")
		var err error
		if s.RequireDomains, err = c.SSORequiredDomains(ctx, conn.OrgID); err != nil {
			return s, err
		}
	}
	return s, nil
}

// The paths of the sign-in's protocol endpoints under the base URL (served by the console).
const (
	SSOCallbackPath = "/sso/callback" // OIDC redirect URI
	SSOSAMLPath     = "/sso/saml/"    // + connection ID: metadata; + "/acs": assertion consumer service
)

// absolute makes a link from the base URL (never from a request's Host).
func (a *SSO) absolute(path string) string {
	u := *a.cfg.BaseURL
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// ssoScope checks that the actor configures the organization's single sign-on (a setup
// link's holder may: settingsScope).
func (a *SSO) ssoScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string, lock bool) (scope, error) {
	s, err := a.settingsScope(ctx, c, actor, orgID, lock)
	if err == nil {
		err = s.require(roster.PermOrgSSOManage)
	}
	return s, err
}

// Get reads an organization's single sign-on settings (owner and admins). An organization
// without one gets settings whose connection has no ID, with the addresses to register.
func (a *SSO) Get(ctx context.Context, actor roster.Actor, orgID string) (SSOSettings, error) {
	c := a.read()
	if _, err := a.ssoScope(ctx, c, actor, orgID, false); err != nil {
		return SSOSettings{}, a.refused(ctx, actor, err)
	}
	conn, _, err := c.SSOConnectionOf(ctx, orgID)
	if roster.ErrorCode(err) == roster.ENotFound {
		conn, err = roster.SSOConnection{OrgID: orgID, Protocol: roster.SSOOIDC, JIT: true, DefaultRole: roster.OrgMember}, nil
	}
	if err != nil {
		return SSOSettings{}, err
	}
	return a.ssoSettings(ctx, c, actor, conn)
}

func ssoMap(c roster.SSOConnection) map[string]any {
	m := map[string]any{"protocol": string(c.Protocol), "enabled": c.Enabled, "jit": c.JIT, "default_role": string(c.DefaultRole),
		"role_mappings": len(c.RoleMappings)}
	switch c.Protocol {
	case roster.SSOOIDC:
		m["issuer"], m["client_id"], m["scopes"] = c.Issuer, c.ClientID, strings.Join(c.Scopes, " ")
		m["email_claim"], m["name_claim"], m["groups_claim"] = c.EmailClaim, c.NameClaim, c.GroupsClaim
	case roster.SSOSAML:
		m["idp_metadata_url"] = c.IdPMetadataURL
		m["groups_attribute"] = c.GroupsClaim
	}
	return m
}

// Configure creates or replaces the organization's single sign-on (owner and admins). The
// provider is read first: an OpenID provider whose discovery document, or SAML metadata that
// cannot be fetched or parsed, is refused with the reason (sso_provider_error), and nothing
// changes. The client secret is sealed; a SAML connection gets its own service provider key
// and certificate the first time. Roles it grants (the default role, the mappings' roles) must
// be held by the actor.
func (a *SSO) Configure(ctx context.Context, actor roster.Actor, orgID string, in SSOInput) (SSOSettings, error) {
	// The right first: an outsider makes Roster fetch nothing.
	if _, err := a.ssoScope(ctx, a.read(), actor, orgID, false); err != nil {
		return SSOSettings{}, a.refused(ctx, actor, err)
	}
	conn := roster.SSOConnection{OrgID: orgID, Protocol: in.Protocol, Enabled: in.Enabled, JIT: in.JIT, DefaultRole: cmpOr(in.DefaultRole, roster.OrgMember),
		RoleMappings: in.RoleMappings, EmailClaim: strings.TrimSpace(in.EmailClaim), NameClaim: strings.TrimSpace(in.NameClaim),
		GroupsClaim: strings.TrimSpace(in.GroupsClaim)}
	if len(in.ClientSecret) > roster.MaxSSOClientSecret {
		return SSOSettings{}, roster.Invalidf("client_secret", "at most %d characters", roster.MaxSSOClientSecret)
	}
	switch in.Protocol {
	case roster.SSOOIDC:
		conn.Issuer, conn.ClientID = strings.TrimSuffix(strings.TrimSpace(in.Issuer), "/"), strings.TrimSpace(in.ClientID)
		conn.Scopes = []string{oidc.ScopeOpenID}
		for _, s := range in.Scopes {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(conn.Scopes, s) {
				conn.Scopes = append(conn.Scopes, s)
			}
		}
		if len(in.Scopes) == 0 {
			conn.Scopes = append(conn.Scopes, "email", "profile")
		}
		conn.EmailClaim, conn.NameClaim, conn.GroupsClaim = cmpOr(conn.EmailClaim, "email"), cmpOr(conn.NameClaim, "name"), cmpOr(conn.GroupsClaim, "groups")
	case roster.SSOSAML:
		conn.IdPMetadataURL, conn.IdPMetadataXML = strings.TrimSpace(in.IdPMetadataURL), strings.TrimSpace(in.IdPMetadataXML)
	}
	if err := roster.CheckSSO(conn); err != nil {
		return SSOSettings{}, err
	}
	// Read the provider now (outside the transaction: it is a network call).
	switch conn.Protocol {
	case roster.SSOOIDC:
		if _, err := discover(ctx, a.ssoHTTP(), conn.Issuer); err != nil {
			return SSOSettings{}, err
		}
	case roster.SSOSAML:
		if conn.IdPMetadataURL != "" {
			raw, err := a.fetchMetadata(ctx, conn.IdPMetadataURL)
			if err != nil {
				return SSOSettings{}, err
			}
			conn.IdPMetadataXML = string(raw)
		}
		if _, err := parseIdPMetadata([]byte(conn.IdPMetadataXML)); err != nil {
			return SSOSettings{}, err
		}
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (SSOSettings, error) {
		conn := conn
		s, err := a.ssoScope(t.ctx, &t.Conn, actor, orgID, true)
		if err != nil {
			return SSOSettings{}, err
		}
		old, sec, err := t.SSOConnectionOf(t.ctx, orgID)
		exists := err == nil
		if err != nil && roster.ErrorCode(err) != roster.ENotFound {
			return SSOSettings{}, err
		}
		if actor.Kind == roster.ActorSetupLink {
			conn.RoleMappings = old.RoleMappings // SSOSettings.MapsRoles
		}
		if err := a.checkSSORoles(t, s, conn); err != nil {
			return SSOSettings{}, err
		}
		if exists {
			conn.ID, conn.CreatedAt, conn.SPCertificate = old.ID, old.CreatedAt, old.SPCertificate
		} else {
			conn.ID, conn.CreatedAt = roster.NewID(roster.PrefixSSO), t.now
		}
		conn.UpdatedAt = t.now
		secretChanged := false
		switch {
		case conn.Protocol != roster.SSOOIDC:
			sec.ClientSecret = ""
		case in.ClientSecret != "":
			if sec.ClientSecret, err = a.seal(ssoKID(conn.ID, "client_secret"), []byte(in.ClientSecret)); err != nil {
				return SSOSettings{}, err
			}
			secretChanged = true
		}
		conn.HasClientSecret = sec.ClientSecret != ""
		if conn.Protocol == roster.SSOSAML && sec.SPKey == "" {
			keyPEM, certPEM, err := newSPKey(t.now, a.absolute(SSOSAMLPath+conn.ID))
			if err != nil {
				return SSOSettings{}, err
			}
			if sec.SPKey, err = a.seal(ssoKID(conn.ID, "sp_key"), keyPEM); err != nil {
				return SSOSettings{}, err
			}
			conn.SPCertificate = string(certPEM)
		}
		if err := t.PutSSOConnection(t.ctx, conn, sec); err != nil {
			return SSOSettings{}, err
		}
		after := ssoMap(conn)
		after["client_secret_changed"] = secretChanged
		ev := roster.AuditEvent{OrgID: orgID, Action: "sso.configured", TargetType: "sso_connection", TargetID: conn.ID, After: after}
		if exists {
			ev.Before = ssoMap(old)
		}
		if err := t.audit(ev); err != nil {
			return SSOSettings{}, err
		}
		return a.ssoSettings(t.ctx, &t.Conn, actor, conn)
	})
}

// checkSSORoles refuses roles the actor could not grant: the default role and each mapping's
// organization role (Access.Holds), each mapped store role (checkGrant: the store is the
// organization's, the role exists, the actor holds it there).
func (a *SSO) checkSSORoles(t *txn, s scope, c roster.SSOConnection) error {
	roles := []roster.OrgRole{c.DefaultRole}
	for _, m := range c.RoleMappings {
		if m.OrgRole != "" {
			roles = append(roles, m.OrgRole)
		}
		for store, role := range m.Stores {
			if _, err := a.checkGrant(t, s, StoreGrantInput{StoreID: store, RoleID: role}, roster.PermStoreMembersManage); err != nil {
				if e := roster.AsError(err); e != nil && e.Field == "stores" {
					c := *e
					c.Field = "role_mappings"
					return &c
				}
				return err
			}
		}
	}
	for _, r := range roles {
		if missing := s.acc.Holds(roster.OrgRolePermissions(r).Sorted()); len(missing) > 0 {
			return escalation(missing)
		}
	}
	return nil
}

// Remove removes the organization's single sign-on: nobody signs in through it any more,
// its domains no longer require it (the requirements are cleared, not kept for a later
// connection), and its links to accounts go (the accounts stay).
func (a *SSO) Remove(ctx context.Context, actor roster.Actor, orgID string) error {
	return a.write(ctx, actor, func(t *txn) error {
		if _, err := a.ssoScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return err
		}
		old, _, err := t.SSOConnectionOf(t.ctx, orgID)
		if err != nil {
			return err
		}
		required, err := t.SSORequiredDomains(t.ctx, orgID)
		if err != nil {
			return err
		}
		if err := t.DeleteSSOConnection(t.ctx, orgID); err != nil {
			return err
		}
		// A connection set up again later must not find old requirements waiting.
		if err := t.ClearSSORequired(t.ctx, orgID, t.now); err != nil {
			return err
		}
		before := ssoMap(old)
		before["require_sso_domains"] = required
		return t.audit(roster.AuditEvent{OrgID: orgID, Action: "sso.removed", TargetType: "sso_connection", TargetID: old.ID, Before: before})
	})
}

// SetDomainRequired turns on or off, for one verified domain of the organization, the rule
// that its people sign in through the organization's single sign-on only (owner and admins).
// Turning it on needs an enabled connection. The owner may still sign in with a password
// (roster.MayBypassSSO), so that a broken provider never locks the organization out.
func (a *SSO) SetDomainRequired(ctx context.Context, actor roster.Actor, orgID, domainID string, required bool) (roster.Domain, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.Domain, error) {
		if _, err := a.ssoScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return roster.Domain{}, err
		}
		d, err := ownDomain(t.ctx, &t.Conn, orgID, domainID)
		if err != nil {
			return d, err
		}
		if required {
			if d.Status != roster.DomainVerified {
				return d, &roster.Error{Code: roster.EConflict, Field: "require_sso", Message: "verify the domain before requiring single sign-on for it"}
			}
			conn, _, err := t.SSOConnectionOf(t.ctx, orgID)
			if roster.ErrorCode(err) == roster.ENotFound || (err == nil && !conn.Enabled) {
				return d, &roster.Error{Code: roster.EConflict, Field: "require_sso", Message: "set up and enable single sign-on before requiring it"}
			}
			if err != nil {
				return d, err
			}
		}
		if d.RequireSSO == required {
			return d, nil
		}
		before := domainMap(d)
		before["require_sso"] = d.RequireSSO
		d.RequireSSO, d.UpdatedAt = required, t.now
		if err := t.UpdateDomain(t.ctx, d); err != nil {
			return d, err
		}
		after := domainMap(d)
		after["require_sso"] = d.RequireSSO
		return d, t.audit(roster.AuditEvent{OrgID: orgID, Action: "domain.sso_required_changed", TargetType: "domain", TargetID: d.ID,
			Before: before, After: after})
	})
}

// fetchMetadata reads a SAML identity provider's metadata from its URL.
func (a *SSO) fetchMetadata(ctx context.Context, u string) ([]byte, error) {
	bad := func(why string) error {
		return (&roster.Error{Code: roster.ESSOProvider, Field: "idp_metadata_url", Message: "the identity provider's metadata could not be fetched: " + why}).With("reason", why)
	}
	ctx, cancel := context.WithTimeout(ctx, ssoHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, bad("invalid URL")
	}
	resp, err := a.ssoHTTP().Do(req)
	if err != nil {
		return nil, bad(providerUnreachable(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, bad(resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, roster.MaxSSOMetadataBytes+1))
	if err != nil {
		return nil, bad(trimErr(err))
	}
	if len(b) > roster.MaxSSOMetadataBytes {
		return nil, bad(fmt.Sprintf("larger than %d bytes", roster.MaxSSOMetadataBytes))
	}
	return b, nil
}

// parseIdPMetadata reads an identity provider's metadata: it must describe an IdP with an
// HTTP-Redirect or HTTP-POST single sign-on service and a signing certificate.
func parseIdPMetadata(raw []byte) (*saml.EntityDescriptor, error) {
	bad := func(why string) error {
		return (&roster.Error{Code: roster.ESSOProvider, Field: "idp_metadata_xml", Message: "the identity provider's metadata is not usable: " + why}).With("reason", why)
	}
	var ed saml.EntityDescriptor
	if err := xml.NewDecoder(bytes.NewReader(raw)).Decode(&ed); err != nil {
		// An EntitiesDescriptor holding one IdP is common too.
		var eds saml.EntitiesDescriptor
		if err2 := xml.Unmarshal(raw, &eds); err2 != nil || len(eds.EntityDescriptors) == 0 {
			return nil, bad("not SAML metadata XML")
		}
		ed = eds.EntityDescriptors[0]
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return nil, bad("it describes no identity provider (IDPSSODescriptor)")
	}
	idp := ed.IDPSSODescriptors[0]
	hasSSO := false
	for _, s := range idp.SingleSignOnServices {
		if s.Binding == saml.HTTPRedirectBinding || s.Binding == saml.HTTPPostBinding {
			hasSSO = true
		}
	}
	if !hasSSO {
		return nil, bad("no single sign-on service with the HTTP-Redirect or HTTP-POST binding")
	}
	hasCert := false
	for _, kd := range idp.KeyDescriptors {
		if (kd.Use == "" || kd.Use == "signing") && len(kd.KeyInfo.X509Data.X509Certificates) > 0 {
			hasCert = true
		}
	}
	if !hasCert {
		return nil, bad("no signing certificate: Roster accepts signed assertions only")
	}
	return &ed, nil
}

// newSPKey makes a service provider's RSA key and a self-signed certificate (ten years) for
// its metadata: identity providers pin it, so it does not rotate by itself.
func newSPKey(now time.Time, entityID string) (keyPEM, certPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	cn := entityID
	if u, err := url.Parse(entityID); err == nil {
		cn = u.Host
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{"Roster"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// cmpOr returns the first of its arguments that is not empty.
func cmpOr[T ~string](vs ...T) T {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
