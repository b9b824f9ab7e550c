package api

import (
	"context"
	"net/http"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Client is an application that signs its users in with Roster (an OpenID client).
type Client struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name"`
	Type                   string   `json:"type" enum:"confidential,public"`
	Secret                 string   `json:"secret,omitempty" doc:"A confidential client's secret, shown once at creation and stored hashed"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	Scopes                 []string `json:"scopes"`
	AccessTokenTTL         int      `json:"access_token_ttl" doc:"Seconds"`
	RefreshTokenTTL        int      `json:"refresh_token_ttl" doc:"Seconds"`
	FirstParty             bool     `json:"first_party"`
	BackChannelLogoutURI   string   `json:"backchannel_logout_uri,omitempty"`
	SigningAlg             string   `json:"id_token_signed_response_alg" enum:"ES256,RS256" doc:"The algorithm its ID and access tokens are signed with"`
	GrantTypes             []string `json:"grant_types" doc:"authorization_code and refresh_token for an application that signs users in; client_credentials alone for a machine client"`
	OrgID                  string   `json:"organization_id,omitempty" doc:"A machine client's organization: the one where its tokens act"`
	Permissions            []string `json:"permissions,omitempty" doc:"A machine client's permissions in its organization"`
	CORSOrigins            []string `json:"cors_origins" doc:"Origins whose pages may call the OpenID token, userinfo, revocation and introspection endpoints for this client, and the switcher's /v1 reads, with CORS"`
	CreatedAt              Time     `json:"created_at"`
}

func clientJSON(c roster.OIDCClient, secret string) Client {
	typ := "confidential"
	if c.Public {
		typ = "public"
	}
	grants := []string{"authorization_code", "refresh_token"}
	if c.Machine() {
		grants = []string{"client_credentials"}
	}
	return Client{ID: c.ID, Name: c.Name, Type: typ, Secret: secret, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		Scopes: c.Scopes, AccessTokenTTL: int(c.AccessTokenTTL / time.Second), RefreshTokenTTL: int(c.RefreshTokenTTL / time.Second),
		FirstParty: c.FirstParty, BackChannelLogoutURI: c.BackChannelLogoutURI, SigningAlg: c.SigningAlg, GrantTypes: grants,
		OrgID: c.OrgID, Permissions: roster.PermissionKeys(c.Permissions), CORSOrigins: c.CORSOrigins,
		CreatedAt: Time(c.CreatedAt)}
}

// clientBody registers an application, or registers it again (PUT).
type clientBody struct {
	Name                   string   `json:"name" maxLength:"100"`
	Type                   string   `json:"type,omitempty" enum:"confidential,public" default:"confidential" doc:"A public client (single-page or native application) has no secret and must use PKCE"`
	RedirectURIs           []string `json:"redirect_uris,omitempty" maxItems:"20" doc:"Matched exactly; https, or http on a loopback address. At least one, except for a machine client, which has none"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty" maxItems:"20"`
	Scopes                 []string `json:"scopes,omitempty" maxItems:"10" doc:"Allowed scopes among openid, profile, email, offline_access, organization; all when omitted"`
	AccessTokenTTL         int      `json:"access_token_ttl,omitempty" minimum:"0" maximum:"3600" doc:"Seconds (60 to 3600); 300 when omitted"`
	RefreshTokenTTL        int      `json:"refresh_token_ttl,omitempty" minimum:"0" maximum:"7776000" doc:"Seconds (3600 to 7776000); 30 days when omitted"`
	FirstParty             bool     `json:"first_party,omitempty"`
	BackChannelLogoutURI   string   `json:"backchannel_logout_uri,omitempty" maxLength:"2000" doc:"Where logout tokens are posted when the user signs out (OpenID Connect Back-Channel Logout)"`
	SigningAlg             string   `json:"id_token_signed_response_alg,omitempty" enum:"ES256,RS256" doc:"The algorithm its ID and access tokens are signed with: ES256 when omitted; RS256 for relying parties that only know RSA (signed by an RSA key published in the key set)"`
	OrgID                  string   `json:"organization_id,omitempty" maxLength:"40" doc:"Registers a machine client bound to this organization: confidential, it takes access tokens with the client-credentials grant only (no redirect URIs, scopes or logout URI) and acts there on its own with its permissions"`
	Permissions            []string `json:"permissions,omitempty" maxItems:"500" doc:"A machine client's permissions in its organization, from the catalog (GET /v1/permissions): store permissions hold in every store; organization permissions at most an admin's. A token asks for some of them with the scope parameter, all when it names none"`
	CORSOrigins            []string `json:"cors_origins,omitempty" maxItems:"20" doc:"Origins (scheme://host[:port], https or http on a loopback address) whose pages may call, with CORS and a bearer token, the OpenID token, userinfo, revocation and introspection endpoints for this client, and the /v1 reads of the organization switcher. No cookie ever crosses origins."`
}

func (b clientBody) input() app.ClientInput {
	return app.ClientInput{Name: b.Name, Public: b.Type == "public",
		RedirectURIs: b.RedirectURIs, PostLogoutRedirectURIs: b.PostLogoutRedirectURIs, Scopes: b.Scopes,
		AccessTokenTTL: time.Duration(b.AccessTokenTTL) * time.Second, RefreshTokenTTL: time.Duration(b.RefreshTokenTTL) * time.Second,
		FirstParty: b.FirstParty, BackChannelLogoutURI: b.BackChannelLogoutURI, SigningAlg: b.SigningAlg,
		OrgID: b.OrgID, Permissions: roster.Permissions(b.Permissions...), CORSOrigins: b.CORSOrigins}
}

type createClientInput struct{ Body clientBody }

type updateClientInput struct {
	ClientPath
	Body clientBody
}

type clientSecretOutput struct {
	Body struct {
		Secret string `json:"secret" doc:"The new secret, shown once; the old one no longer works"`
	}
}

type clientOutput struct{ Body Client }

type clientsOutput struct {
	Body struct {
		Clients []Client `json:"clients"`
	}
}

// ClientPath names a client in a path.
type ClientPath struct {
	ID string `path:"id" maxLength:"40"`
}

func (s *Server) registerClients() {
	const who = " Operators only."
	register(s.api, op("create-client", http.MethodPost, "/v1/clients", "Register an application that signs in with Roster", "Sign in with Roster"),
		func(ctx context.Context, in *createClientInput) (*clientOutput, error) {
			c, secret, err := s.app.Clients.Create(ctx, actor(ctx), in.Body.input())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &clientOutput{Body: clientJSON(c, secret)}, nil
		}, withStatus(http.StatusCreated), withDescription("A confidential client's secret is in the answer, once; only its hash is kept."+who))

	register(s.api, op("list-clients", http.MethodGet, "/v1/clients", "List the registered applications", "Sign in with Roster"),
		func(ctx context.Context, _ *struct{}) (*clientsOutput, error) {
			list, err := s.app.Clients.List(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &clientsOutput{}
			out.Body.Clients = mapSlice(list, func(c roster.OIDCClient) Client { return clientJSON(c, "") })
			return out, nil
		}, withDescription(who))

	register(s.api, op("get-client", http.MethodGet, "/v1/clients/{id}", "Show a registered application", "Sign in with Roster"),
		func(ctx context.Context, in *ClientPath) (*clientOutput, error) {
			c, err := s.app.Clients.Get(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &clientOutput{Body: clientJSON(c, "")}, nil
		}, withDescription(who))

	register(s.api, op("update-client", http.MethodPut, "/v1/clients/{id}", "Change a registered application", "Sign in with Roster"),
		func(ctx context.Context, in *updateClientInput) (*clientOutput, error) {
			c, err := s.app.Clients.Update(ctx, actor(ctx), in.ID, in.Body.input())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &clientOutput{Body: clientJSON(c, "")}, nil
		}, withDescription("The whole registration is given again, as at creation: what is left out is cleared or takes its default. "+
			"Its type, and a machine client's organization, cannot change. Narrower scopes apply from the next sign-in or refresh, "+
			"a machine client's narrower permissions at once, removed redirect URIs at once."+who))

	register(s.api, op("rotate-client-secret", http.MethodPost, "/v1/clients/{id}/secret", "Give a confidential application a new secret", "Sign in with Roster"),
		func(ctx context.Context, in *ClientPath) (*clientSecretOutput, error) {
			secret, err := s.app.Clients.RotateSecret(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &clientSecretOutput{}
			out.Body.Secret = secret
			return out, nil
		}, withDescription("The new secret is in the answer, once; the old one stops working at once."+who))

	register(s.api, op("delete-client", http.MethodDelete, "/v1/clients/{id}", "Delete a registered application", "Sign in with Roster"),
		func(ctx context.Context, in *ClientPath) (*struct{}, error) {
			if err := s.app.Clients.Delete(ctx, actor(ctx), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("Its tokens stop working at once."+who))
}
