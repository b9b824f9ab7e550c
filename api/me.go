package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

type updateMeInput struct {
	Body struct {
		Name   *string `json:"name,omitempty" maxLength:"100"`
		Locale *string `json:"locale,omitempty" enum:"en,fr,es"`
	}
}

type changePasswordInput struct {
	Body struct {
		CurrentPassword string `json:"current_password" maxLength:"1024"`
		NewPassword     string `json:"new_password" maxLength:"1024"`
	}
}

type sessionsOutput struct {
	Body struct {
		Sessions []Session `json:"sessions"`
	}
}

type sessionIDInput struct {
	Session string `path:"session" maxLength:"40"`
}

// Affiliation is one organization of the selector, with the stores the caller reaches.
type Affiliation struct {
	Organization Organization `json:"organization"`
	Role         string       `json:"role" enum:"owner,admin,member"`
	Status       string       `json:"status" enum:"active,suspended"`
	Stores       []Store      `json:"stores" doc:"Active stores the caller reaches, with their effective store role"`
}

type myOrganizationsOutput struct {
	Body myOrganizationsOutputBody
}

type myOrganizationsOutputBody struct {
	Organizations []Affiliation `json:"organizations"`
	encoded       []byte        // the body as jsonFormat writes it, kept by the access index
}

func (m myOrganizationsOutputBody) encodedJSON() []byte { return m.encoded }

func (s *Server) registerMe() {
	register(s.api, op("get-me", http.MethodGet, "/v1/me", "Who am I", "Account"),
		func(ctx context.Context, _ *struct{}) (*userOutput, error) {
			u, err := s.app.Accounts.Me(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &userOutput{Body: userJSON(u)}, nil
		})

	register(s.api, op("update-me", http.MethodPatch, "/v1/me", "Change my name or language", "Account"),
		func(ctx context.Context, in *updateMeInput) (*userOutput, error) {
			u, err := s.app.Accounts.Update(ctx, actor(ctx), app.ProfileInput{Name: in.Body.Name, Locale: in.Body.Locale})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &userOutput{Body: userJSON(u)}, nil
		})

	register(s.api, op("change-password", http.MethodPost, "/v1/me/password", "Change my password", "Account"),
		func(ctx context.Context, in *changePasswordInput) (*struct{}, error) {
			if err := s.app.Accounts.ChangePassword(ctx, actor(ctx), in.Body.CurrentPassword, in.Body.NewPassword); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("Needs the current password. Every other session of the account ends."))

	register(s.api, op("list-sessions", http.MethodGet, "/v1/me/sessions", "List my sessions", "Account"),
		func(ctx context.Context, _ *struct{}) (*sessionsOutput, error) {
			ss, err := s.app.Auth.Sessions(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &sessionsOutput{}
			out.Body.Sessions = mapSlice(ss, func(s app.SessionInfo) Session {
				return Session{ID: s.ID, Current: s.Current, CreatedAt: Time(s.CreatedAt), LastSeenAt: Time(s.LastSeenAt), ExpiresAt: Time(s.ExpiresAt), IP: s.IP, UserAgent: s.UserAgent}
			})
			return out, nil
		})

	register(s.api, op("revoke-session", http.MethodDelete, "/v1/me/sessions/{session}", "End one of my sessions", "Account"),
		func(ctx context.Context, in *sessionIDInput) (*struct{}, error) {
			if err := s.app.Auth.RevokeSession(ctx, actor(ctx), in.Session); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent))

	register(s.api, op("revoke-other-sessions", http.MethodDelete, "/v1/me/sessions", "End all my other sessions", "Account"),
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			if _, err := s.app.Auth.RevokeOtherSessions(ctx, actor(ctx)); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent))

	register(s.api, op("my-organizations", http.MethodGet, "/v1/me/organizations", "My organizations and stores (the selector)", "Account"),
		func(ctx context.Context, _ *struct{}) (*myOrganizationsOutput, error) {
			b, err := s.app.Accounts.RenderOrganizations(ctx, actor(ctx), func(affs []roster.Affiliation) ([]byte, error) {
				return encodeJSON(affiliationsJSON(affs).Body)
			})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &myOrganizationsOutput{Body: myOrganizationsOutputBody{encoded: b}}, nil
		}, withDescription("Every organization the caller belongs to, with their role, and under each the active stores they reach with their effective store role: direct, or via their organization role."))
}

func affiliationsJSON(affs []roster.Affiliation) *myOrganizationsOutput {
	out := &myOrganizationsOutput{}
	l := storeLister{}
	out.Body.Organizations = mapSlice(affs, func(a roster.Affiliation) Affiliation {
		return Affiliation{Organization: orgJSON(a.Organization, a.Membership.Role), Role: string(a.Membership.Role), Status: string(a.Membership.Status),
			Stores: mapSlice(a.Stores, func(s roster.StoreAccess) Store { return l.store(s.Store, s.Grant) })}
	})
	return out
}
