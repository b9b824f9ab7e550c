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
	ID                     string    `json:"id"`
	Name                   string    `json:"name"`
	Type                   string    `json:"type" enum:"confidential,public"`
	Secret                 string    `json:"secret,omitempty" doc:"A confidential client's secret, shown once at creation and stored hashed"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	Scopes                 []string  `json:"scopes"`
	AccessTokenTTL         int       `json:"access_token_ttl" doc:"Seconds"`
	RefreshTokenTTL        int       `json:"refresh_token_ttl" doc:"Seconds"`
	FirstParty             bool      `json:"first_party"`
	BackChannelLogoutURI   string    `json:"backchannel_logout_uri,omitempty"`
	SigningAlg             string    `json:"id_token_signed_response_alg" enum:"ES256,RS256" doc:"The algorithm its ID and access tokens are signed with"`
	CORSOrigins            []string  `json:"cors_origins" doc:"Origins whose pages may call the OpenID token, userinfo, revocation and introspection endpoints for this client, and the switcher's /v1 reads, with CORS"`
	CreatedAt              time.Time `json:"created_at"`
}

func clientJSON(c roster.OIDCClient, secret string) Client {
	typ := "confidential"
	if c.Public {
		typ = "public"
	}
	return Client{ID: c.ID, Name: c.Name, Type: typ, Secret: secret, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		Scopes: c.Scopes, AccessTokenTTL: int(c.AccessTokenTTL / time.Second), RefreshTokenTTL: int(c.RefreshTokenTTL / time.Second),
		FirstParty: c.FirstParty, BackChannelLogoutURI: c.BackChannelLogoutURI, SigningAlg: c.SigningAlg, CORSOrigins: c.CORSOrigins, CreatedAt: c.CreatedAt}
}

type createClientInput struct {
	Body struct {
		Name                   string   `json:"name" maxLength:"100"`
		Type                   string   `json:"type,omitempty" enum:"confidential,public" default:"confidential" doc:"A public client (single-page or native application) has no secret and must use PKCE"`
		RedirectURIs           []string `json:"redirect_uris" minItems:"1" maxItems:"20" doc:"Matched exactly; https, or http on a loopback address"`
		PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty" maxItems:"20"`
		Scopes                 []string `json:"scopes,omitempty" maxItems:"10" doc:"Allowed scopes among openid, profile, email, offline_access, organization; all when omitted"`
		AccessTokenTTL         int      `json:"access_token_ttl,omitempty" minimum:"0" maximum:"3600" doc:"Seconds (60 to 3600); 300 when omitted"`
		RefreshTokenTTL        int      `json:"refresh_token_ttl,omitempty" minimum:"0" maximum:"7776000" doc:"Seconds (3600 to 7776000); 30 days when omitted"`
		FirstParty             bool     `json:"first_party,omitempty"`
		BackChannelLogoutURI   string   `json:"backchannel_logout_uri,omitempty" maxLength:"2000" doc:"Where logout tokens are posted when the user signs out (OpenID Connect Back-Channel Logout)"`
		SigningAlg             string   `json:"id_token_signed_response_alg,omitempty" enum:"ES256,RS256" doc:"The algorithm its ID and access tokens are signed with: ES256 when omitted; RS256 for relying parties that only know RSA (signed by an RSA key published in the key set)"`
		CORSOrigins            []string `json:"cors_origins,omitempty" maxItems:"20" doc:"Origins (scheme://host[:port], https or http on a loopback address) whose pages may call, with CORS and a bearer token, the OpenID token, userinfo, revocation and introspection endpoints for this client, and the /v1 reads of the organization switcher. No cookie ever crosses origins."`
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
			b := in.Body
			c, secret, err := s.app.CreateClient(ctx, actor(ctx), app.ClientInput{Name: b.Name, Public: b.Type == "public",
				RedirectURIs: b.RedirectURIs, PostLogoutRedirectURIs: b.PostLogoutRedirectURIs, Scopes: b.Scopes,
				AccessTokenTTL: time.Duration(b.AccessTokenTTL) * time.Second, RefreshTokenTTL: time.Duration(b.RefreshTokenTTL) * time.Second,
				FirstParty: b.FirstParty, BackChannelLogoutURI: b.BackChannelLogoutURI, SigningAlg: b.SigningAlg, CORSOrigins: b.CORSOrigins})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &clientOutput{Body: clientJSON(c, secret)}, nil
		}, withStatus(http.StatusCreated), withDescription("A confidential client's secret is in the answer, once; only its hash is kept."+who))

	register(s.api, op("list-clients", http.MethodGet, "/v1/clients", "List the registered applications", "Sign in with Roster"),
		func(ctx context.Context, _ *struct{}) (*clientsOutput, error) {
			list, err := s.app.Clients(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &clientsOutput{}
			out.Body.Clients = mapSlice(list, func(c roster.OIDCClient) Client { return clientJSON(c, "") })
			return out, nil
		}, withDescription(who))

	register(s.api, op("get-client", http.MethodGet, "/v1/clients/{id}", "Show a registered application", "Sign in with Roster"),
		func(ctx context.Context, in *ClientPath) (*clientOutput, error) {
			c, err := s.app.Client(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &clientOutput{Body: clientJSON(c, "")}, nil
		}, withDescription(who))

	register(s.api, op("delete-client", http.MethodDelete, "/v1/clients/{id}", "Delete a registered application", "Sign in with Roster"),
		func(ctx context.Context, in *ClientPath) (*struct{}, error) {
			if err := s.app.DeleteClient(ctx, actor(ctx), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("Its tokens stop working at once."+who))
}
