package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// SSORoleMapping maps a group the identity provider asserts to roles given at just-in-time join.
type SSORoleMapping struct {
	Group   string            `json:"group" maxLength:"300" doc:"A group (OIDC groups claim value, SAML groups attribute value)"`
	OrgRole string            `json:"org_role,omitempty" enum:"member,admin" doc:"The organization role; absent keeps default_role. The highest role of the matching mappings wins."`
	Stores  map[string]string `json:"stores,omitempty" doc:"Store ID → store role ID"`
}

// SSO is an organization's single sign-on.
type SSO struct {
	ID              string           `json:"id,omitempty" doc:"Absent until single sign-on is configured"`
	OrganizationID  string           `json:"organization_id"`
	Protocol        string           `json:"protocol" enum:"oidc,saml"`
	Enabled         bool             `json:"enabled"`
	Issuer          string           `json:"issuer,omitempty" doc:"OIDC: the issuer URL (discovery)"`
	ClientID        string           `json:"client_id,omitempty"`
	HasClientSecret bool             `json:"has_client_secret" doc:"A client secret is stored, encrypted; it is never returned"`
	Scopes          []string         `json:"scopes,omitempty"`
	EmailClaim      string           `json:"email_claim,omitempty" doc:"OIDC claim or SAML attribute holding the email address"`
	NameClaim       string           `json:"name_claim,omitempty"`
	GroupsClaim     string           `json:"groups_claim,omitempty" doc:"OIDC claim or SAML attribute holding the groups (role_mappings)"`
	IdPMetadataURL  string           `json:"idp_metadata_url,omitempty"`
	JIT             bool             `json:"jit" doc:"People at a verified domain who are not members join when they first sign in"`
	DefaultRole     string           `json:"default_role" enum:"member,admin"`
	RoleMappings    []SSORoleMapping `json:"role_mappings"`
	RedirectURI     string           `json:"redirect_uri" doc:"OIDC: register this redirect URI at the provider"`
	EntityID        string           `json:"entity_id,omitempty" doc:"SAML: the service provider's entity ID, where its metadata is served"`
	ACSURL          string           `json:"acs_url,omitempty" doc:"SAML: the assertion consumer service (HTTP-POST binding)"`
	SPCertificate   string           `json:"sp_certificate,omitempty" doc:"SAML: the service provider's certificate (PEM)"`
	RequireDomains  []string         `json:"require_sso_domains" doc:"Verified domains whose people must sign in through single sign-on (the owner may still use a password)"`
	UpdatedAt       *Time            `json:"updated_at,omitempty"`
}

func ssoJSON(s app.SSOSettings) SSO {
	c := s.Connection
	out := SSO{ID: c.ID, OrganizationID: c.OrgID, Protocol: string(c.Protocol), Enabled: c.Enabled, Issuer: c.Issuer, ClientID: c.ClientID,
		HasClientSecret: c.HasClientSecret, Scopes: c.Scopes, EmailClaim: c.EmailClaim, NameClaim: c.NameClaim, GroupsClaim: c.GroupsClaim,
		IdPMetadataURL: c.IdPMetadataURL, JIT: c.JIT, DefaultRole: string(c.DefaultRole), RoleMappings: []SSORoleMapping{},
		RedirectURI: s.RedirectURI, EntityID: s.EntityID, ACSURL: s.ACSURL, SPCertificate: c.SPCertificate, RequireDomains: s.RequireDomains,
		UpdatedAt: optTime(c.UpdatedAt)}
	if out.RequireDomains == nil {
		out.RequireDomains = []string{}
	}
	for _, m := range c.RoleMappings {
		out.RoleMappings = append(out.RoleMappings, SSORoleMapping{Group: m.Group, OrgRole: string(m.OrgRole), Stores: m.Stores})
	}
	return out
}

type ssoOut struct{ Body SSO }

type ssoIn struct {
	OrgPath
	Body struct {
		Protocol       string           `json:"protocol" enum:"oidc,saml"`
		Enabled        bool             `json:"enabled,omitempty"`
		Issuer         string           `json:"issuer,omitempty" maxLength:"2000"`
		ClientID       string           `json:"client_id,omitempty" maxLength:"300"`
		ClientSecret   string           `json:"client_secret,omitempty" maxLength:"1000" doc:"Write-only; absent keeps the stored secret"`
		Scopes         []string         `json:"scopes,omitempty" maxItems:"20" doc:"openid is always asked; absent: openid email profile"`
		EmailClaim     string           `json:"email_claim,omitempty" maxLength:"100" doc:"Default email (OIDC); SAML also reads the usual email attributes"`
		NameClaim      string           `json:"name_claim,omitempty" maxLength:"100"`
		GroupsClaim    string           `json:"groups_claim,omitempty" maxLength:"100"`
		IdPMetadataURL string           `json:"idp_metadata_url,omitempty" maxLength:"2000"`
		IdPMetadataXML string           `json:"idp_metadata_xml,omitempty" maxLength:"1048576"`
		JIT            *bool            `json:"jit,omitempty" doc:"true when absent"`
		DefaultRole    string           `json:"default_role,omitempty" enum:"member,admin" doc:"member when absent"`
		RoleMappings   []SSORoleMapping `json:"role_mappings,omitempty" maxItems:"100"`
	}
}

type ssoDomainIn struct {
	OrgPath
	ID   string `path:"id" maxLength:"40"`
	Body struct {
		RequireSSO bool `json:"require_sso"`
	}
}

func (s *Server) registerSSO() {
	const tag = "Single sign-on"
	const path = "/v1/organizations/{org}/sso"
	const who = " Owner and admins (org.sso.manage)."
	one := func(ctx context.Context, set app.SSOSettings, err error) (*ssoOut, error) {
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &ssoOut{Body: ssoJSON(set)}, nil
	}
	register(s.api, op("get-sso", http.MethodGet, path, "Show the single sign-on", tag),
		func(ctx context.Context, in *OrgPath) (*ssoOut, error) {
			set, err := s.app.SSO.Get(ctx, actor(ctx), in.Org)
			return one(ctx, set, err)
		}, withDescription("Without a configuration, no id and the addresses to register at the identity provider."+who))
	register(s.api, op("put-sso", http.MethodPut, path, "Configure the single sign-on", tag),
		func(ctx context.Context, in *ssoIn) (*ssoOut, error) {
			b := in.Body
			jit := b.JIT == nil || *b.JIT
			ms := make([]roster.SSORoleMapping, 0, len(b.RoleMappings))
			for _, m := range b.RoleMappings {
				ms = append(ms, roster.SSORoleMapping{Group: m.Group, OrgRole: roster.OrgRole(m.OrgRole), Stores: m.Stores})
			}
			set, err := s.app.SSO.Configure(ctx, actor(ctx), in.Org, app.SSOInput{Protocol: roster.SSOProtocol(b.Protocol), Enabled: b.Enabled,
				Issuer: b.Issuer, ClientID: b.ClientID, ClientSecret: b.ClientSecret, Scopes: b.Scopes, EmailClaim: b.EmailClaim,
				NameClaim: b.NameClaim, GroupsClaim: b.GroupsClaim, IdPMetadataURL: b.IdPMetadataURL, IdPMetadataXML: b.IdPMetadataXML,
				JIT: jit, DefaultRole: roster.OrgRole(b.DefaultRole), RoleMappings: ms})
			return one(ctx, set, err)
		}, withDescription("Replaces the configuration. The provider is read now: an OpenID provider whose discovery document, or SAML "+
			"metadata that cannot be fetched or parsed, is refused with sso_provider_error and the reason. Roles given (default_role, "+
			"mappings) must be held by the caller (else role_escalation). A SAML connection gets its own service provider key and "+
			"certificate; its metadata is at entity_id."+who))
	register(s.api, op("delete-sso", http.MethodDelete, path, "Remove the single sign-on", tag),
		func(ctx context.Context, in *OrgPath) (*struct{}, error) {
			if err := s.app.SSO.Remove(ctx, actor(ctx), in.Org); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("Nobody signs in through it any more; accounts and memberships stay."+who))
	register(s.api, op("set-domain-require-sso", http.MethodPut, path+"/domains/{id}", "Require single sign-on for a domain", tag),
		func(ctx context.Context, in *ssoDomainIn) (*domainOut, error) {
			d, err := s.app.SSO.SetDomainRequired(ctx, actor(ctx), in.Org, in.ID, in.Body.RequireSSO)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &domainOut{Body: domainJSON(d)}, nil
		}, withDescription("With require_sso, people at this verified domain can no longer sign in with a password (sso_required); "+
			"the organization's owner still can (break-glass). Needs an enabled single sign-on (else conflict)."+who))
}
