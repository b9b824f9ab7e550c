package oidc

import (
	"context"
	"errors"
	"strings"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/rosterhq/roster/app"
)

// The client-credentials grant (RFC 6749 §4.4) for machine clients: a confidential client
// bound to one organization takes an access token for itself. The library authenticates it
// (ClientCredentials: a public client or a wrong secret is invalid_client) and refuses a
// client not registered for the grant (GrantTypes: unauthorized_client); app decides the rest.

// clientRequest is a machine client's token request as the library sees it. Its scopes are
// the permissions asked for (every one of the client's when none is named).
type clientRequest struct {
	app.ClientGrant
	issuer string
}

func (r *clientRequest) GetSubject() string    { return r.Client.ID }
func (r *clientRequest) GetAudience() []string { return []string{r.issuer} }
func (r *clientRequest) GetScopes() []string {
	out := make([]string, len(r.Permissions))
	for i, p := range r.Permissions {
		out[i] = string(p)
	}
	return out
}

// claims are the private claims of a machine client's access token: its organization and
// the permissions it carries there.
func (r *clientRequest) claims() map[string]any {
	return map[string]any{"org_id": r.Client.OrgID, "permissions": r.GetScopes(), "scope": strings.Join(r.GetScopes(), " ")}
}

func (s *storage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, clientID, clientSecret); err != nil {
		return nil, err
	}
	return s.GetClientByClientID(ctx, clientID)
}

func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	g, err := s.app.Clients.MachineGrant(ctx, clientID, scopes)
	switch {
	case errors.Is(err, app.ErrClientScope):
		return nil, zoidc.ErrInvalidScope().WithDescription("ask for some of the permissions the client was given, or none for all of them")
	case errors.Is(err, app.ErrOIDCGrant):
		return nil, zoidc.ErrUnauthorizedClient()
	case err != nil:
		return nil, zoidc.ErrServerError().WithParent(err)
	}
	return &clientRequest{ClientGrant: g, issuer: s.app.OIDC.Issuer()}, nil
}

// introspectClientToken answers introspection of a machine client's token, for that client
// only.
func (s *storage) introspectClientToken(ctx context.Context, resp *zoidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, cl, err := s.app.Clients.LiveToken(ctx, tokenID)
	if err != nil || cl.ID != subject || cl.ID != clientID {
		return zoidc.ErrAccessDenied()
	}
	r := &clientRequest{ClientGrant: app.ClientGrant{Client: cl, Permissions: app.ClientTokenPermissions(t, cl)}, issuer: s.app.OIDC.Issuer()}
	resp.Subject, resp.Scope, resp.ClientID, resp.TokenType = cl.ID, r.GetScopes(), cl.ID, "Bearer"
	resp.Expiration, resp.IssuedAt = zoidc.FromTime(t.ExpiresAt), zoidc.FromTime(t.CreatedAt)
	resp.Audience, resp.Issuer, resp.JWTID = r.GetAudience(), s.app.OIDC.Issuer(), t.ID
	resp.Claims = map[string]any{"org_id": cl.OrgID, "permissions": r.GetScopes()}
	return nil
}
