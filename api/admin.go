package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
)

type adminOrgsInput struct {
	Query  string `query:"q" maxLength:"100"`
	Cursor string `query:"cursor" maxLength:"40"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// AdminOrganization is an organization as operators see it.
type AdminOrganization struct {
	Organization
	Members        int    `json:"members"`
	ActiveStores   int    `json:"active_stores"`
	ArchivedStores int    `json:"archived_stores"`
	OwnerEmail     string `json:"owner_email"`
}

type adminOrgsOutput struct {
	Body struct {
		Organizations []AdminOrganization `json:"organizations"`
		NextCursor    string              `json:"next_cursor,omitempty"`
	}
}

type setCreditsInput struct {
	OrgPath
	Body struct {
		StoreCredits int `json:"store_credits" minimum:"0" maximum:"100000"`
	}
}

type adminUsersInput struct {
	Query  string `query:"q" maxLength:"100"`
	Status string `query:"status" enum:"active,deactivated"`
	Cursor string `query:"cursor" maxLength:"40"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type adminUsersOutput struct {
	Body struct {
		Users      []User `json:"users"`
		NextCursor string `json:"next_cursor,omitempty"`
	}
}

// AdminUserPath names a user in an operator path.
type AdminUserPath struct {
	User string `path:"user" maxLength:"320" doc:"User ID or email address"`
}

type serviceTokenInput struct {
	Body struct {
		Name string `json:"name" maxLength:"100"`
	}
}

// ServiceToken is an instance token of the host application.
type ServiceToken struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Token      string `json:"token,omitempty" doc:"The secret, shown once at creation"`
	CreatedAt  Time   `json:"created_at"`
	LastUsedAt *Time  `json:"last_used_at,omitempty"`
	RevokedAt  *Time  `json:"revoked_at,omitempty"`
}

type serviceTokenOutput struct{ Body ServiceToken }

type serviceTokensOutput struct {
	Body struct {
		Tokens []ServiceToken `json:"tokens"`
	}
}

// ServiceTokenPath names a service token in a path, by its ID (never its secret).
type ServiceTokenPath struct {
	ID string `path:"id" maxLength:"40" doc:"The service token's ID, as listed (never its secret)"`
}

func (s *Server) registerAdmin() {
	const who = " Operators only."
	register(s.api, op("admin-list-organizations", http.MethodGet, "/v1/admin/organizations", "List every organization", "Operators"),
		func(ctx context.Context, in *adminOrgsInput) (*adminOrgsOutput, error) {
			p, err := s.app.Operator.Organizations(ctx, actor(ctx), in.Query, in.Cursor, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &adminOrgsOutput{}
			out.Body.NextCursor = p.Next
			out.Body.Organizations = mapSlice(p.Items, func(o roster.OrganizationSummary) AdminOrganization {
				return AdminOrganization{Organization: orgJSON(o.Organization, ""), Members: o.Members, ActiveStores: o.ActiveStores,
					ArchivedStores: o.ArchivedStores, OwnerEmail: o.OwnerEmail}
			})
			return out, nil
		}, withDescription("With members, stores and owner."+who))

	register(s.api, op("admin-update-organization", http.MethodPatch, "/v1/admin/organizations/{org}", "Set an organization's store credits", "Operators"),
		func(ctx context.Context, in *setCreditsInput) (*orgOutput, error) {
			o, err := s.app.Operator.SetStoreCredits(ctx, actor(ctx), in.Org, in.Body.StoreCredits)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orgOutput{Body: orgJSON(o, "")}, nil
		}, withDescription("Credits cannot go below the active stores."+who))

	register(s.api, op("admin-list-users", http.MethodGet, "/v1/admin/users", "List every user", "Operators"),
		func(ctx context.Context, in *adminUsersInput) (*adminUsersOutput, error) {
			p, err := s.app.Operator.Users(ctx, actor(ctx), in.Query, roster.UserStatus(in.Status), in.Cursor, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &adminUsersOutput{}
			out.Body.Users, out.Body.NextCursor = mapSlice(p.Items, userJSON), p.Next
			return out, nil
		}, withDescription(who))

	register(s.api, op("admin-deactivate-user", http.MethodPost, "/v1/admin/users/{user}/deactivate", "Deactivate a user", "Operators"),
		func(ctx context.Context, in *AdminUserPath) (*userOutput, error) {
			u, err := s.app.Operator.DeactivateUser(ctx, actor(ctx), in.User)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &userOutput{Body: userJSON(u)}, nil
		}, withDescription("Their sessions end at once and their API keys stop working. Refused with owns_organizations while they own one."+who))

	register(s.api, op("admin-reactivate-user", http.MethodPost, "/v1/admin/users/{user}/reactivate", "Reactivate a user", "Operators"),
		func(ctx context.Context, in *AdminUserPath) (*userOutput, error) {
			u, err := s.app.Operator.ReactivateUser(ctx, actor(ctx), in.User)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &userOutput{Body: userJSON(u)}, nil
		}, withDescription(who))

	register(s.api, op("admin-reset-user-factors", http.MethodDelete, "/v1/admin/users/{user}/factors", "Reset a user's second factors", "Operators"),
		func(ctx context.Context, in *AdminUserPath) (*userOutput, error) {
			u, err := s.app.Operator.ResetFactors(ctx, actor(ctx), in.User)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &userOutput{Body: userJSON(u)}, nil
		}, withDescription("For someone who lost their authenticator app and recovery codes and whose account no organization may reset: removes their authenticator app, recovery codes and passkeys; they sign in with their password and are emailed. Audited as user.two_factor_reset."+who))

	register(s.api, op("admin-create-service-token", http.MethodPost, "/v1/admin/service-tokens", "Create a service token for the check API", "Operators"),
		func(ctx context.Context, in *serviceTokenInput) (*serviceTokenOutput, error) {
			c, err := s.app.Operator.CreateServiceToken(ctx, actor(ctx), in.Body.Name)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &serviceTokenOutput{Body: ServiceToken{ID: c.ID, Name: in.Body.Name, Token: c.Secret, CreatedAt: Time(s.app.Now())}}, nil
		}, withStatus(http.StatusCreated), withDescription("The token is shown once and stored hashed."+who))

	register(s.api, op("admin-list-service-tokens", http.MethodGet, "/v1/admin/service-tokens", "List service tokens", "Operators"),
		func(ctx context.Context, _ *struct{}) (*serviceTokensOutput, error) {
			list, err := s.app.Operator.ServiceTokens(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &serviceTokensOutput{}
			out.Body.Tokens = mapSlice(list, func(t roster.ServiceToken) ServiceToken {
				return ServiceToken{ID: t.ID, Name: t.Name, CreatedAt: Time(t.CreatedAt), LastUsedAt: (*Time)(t.LastUsedAt), RevokedAt: (*Time)(t.RevokedAt)}
			})
			return out, nil
		}, withDescription(who))

	register(s.api, op("admin-revoke-service-token", http.MethodDelete, "/v1/admin/service-tokens/{id}", "Revoke a service token", "Operators"),
		func(ctx context.Context, in *ServiceTokenPath) (*struct{}, error) {
			if err := s.app.Operator.RevokeServiceToken(ctx, actor(ctx), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription(who))
}
