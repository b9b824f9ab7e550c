package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Role is a store role: built-in (admin, member, viewer) or defined by the organization.
type Role struct {
	ID          string   `json:"id" doc:"admin, member, viewer, or rol_… for a custom role"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Builtin     bool     `json:"builtin"`
	Permissions []string `json:"permissions" doc:"Store permissions the role holds, from the catalog"`
	Holders     int      `json:"holders" doc:"Store memberships, live API keys and pending invitations holding the role"`
}

func roleJSON(r app.RoleView) Role {
	return Role{ID: r.ID, Name: r.Name, Description: r.Description, Builtin: r.Builtin, Permissions: roster.PermissionKeys(r.Permissions), Holders: r.Holders}
}

// RolePath names a store role of an organization in a path.
type RolePath struct {
	OrgPath
	Role string `path:"role" maxLength:"40" doc:"Role ID"`
}

type rolesOutput struct {
	Body struct {
		Roles []Role `json:"roles"`
	}
}

type roleOutput struct{ Body Role }

type createRoleInput struct {
	OrgPath
	Body struct {
		Name        string   `json:"name" maxLength:"60" example:"Chatter"`
		Description string   `json:"description,omitempty" maxLength:"300"`
		Permissions []string `json:"permissions" maxItems:"500" example:"[\"store.read\",\"store.members.read\"]"`
	}
}

type updateRoleInput struct {
	RolePath
	Body struct {
		Name        *string   `json:"name,omitempty" maxLength:"60"`
		Description *string   `json:"description,omitempty" maxLength:"300"`
		Permissions *[]string `json:"permissions,omitempty" maxItems:"500" doc:"The whole new set of permissions"`
	}
}

type deleteRoleInput struct {
	RolePath
	Replacement string `query:"replacement_role_id" maxLength:"40" doc:"Give every holder this role instead, in the same transaction"`
}

// RoleHolder is a store membership, API key or invitation holding a role.
type RoleHolder struct {
	Kind         string `json:"kind" enum:"store_member,api_key,invitation"`
	UserID       string `json:"user_id,omitempty"`
	StoreID      string `json:"store_id,omitempty"`
	APIKeyID     string `json:"api_key_id,omitempty"`
	InvitationID string `json:"invitation_id,omitempty"`
}

type roleHoldersOutput struct {
	Body struct {
		Holders []RoleHolder `json:"holders"`
	}
}

func (s *Server) registerRoles() {
	register(s.api, op("list-roles", http.MethodGet, "/v1/organizations/{org}/roles", "List store roles", "Roles"),
		func(ctx context.Context, in *OrgPath) (*rolesOutput, error) {
			roles, err := s.app.Roles.List(ctx, actor(ctx), in.Org)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &rolesOutput{}
			out.Body.Roles = mapSlice(roles, roleJSON)
			return out, nil
		}, withDescription("Built-in roles first (admin, member, viewer), then the organization's custom roles by name. "+
			"Owner and admins, and anyone who grants store roles in some store."))

	register(s.api, op("get-role", http.MethodGet, "/v1/organizations/{org}/roles/{role}", "Read a store role", "Roles"),
		func(ctx context.Context, in *RolePath) (*roleOutput, error) {
			r, err := s.app.Roles.Get(ctx, actor(ctx), in.Org, in.Role)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &roleOutput{Body: roleJSON(r)}, nil
		})

	register(s.api, op("create-role", http.MethodPost, "/v1/organizations/{org}/roles", "Define a custom store role", "Roles"),
		func(ctx context.Context, in *createRoleInput) (*roleOutput, error) {
			r, err := s.app.Roles.Create(ctx, actor(ctx), in.Org, app.RoleInput{Name: in.Body.Name, Description: in.Body.Description, Permissions: roster.Permissions(in.Body.Permissions...)})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &roleOutput{Body: roleJSON(app.RoleView{Role: r})}, nil
		}, withStatus(http.StatusCreated), withDescription("Owner and admins. Any set of store permissions from the catalog (GET /v1/permissions); "+
			"nobody creates a role holding a permission they lack (role_escalation)."))

	register(s.api, op("update-role", http.MethodPatch, "/v1/organizations/{org}/roles/{role}", "Edit a custom store role", "Roles"),
		func(ctx context.Context, in *updateRoleInput) (*roleOutput, error) {
			u := app.RoleUpdate{Name: in.Body.Name, Description: in.Body.Description}
			if in.Body.Permissions != nil {
				p := roster.Permissions(*in.Body.Permissions...)
				u.Permissions = &p
			}
			r, err := s.app.Roles.Update(ctx, actor(ctx), in.Org, in.Role, u)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			v, err := s.app.Roles.Get(ctx, actor(ctx), in.Org, r.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &roleOutput{Body: roleJSON(v)}, nil
		}, withDescription("Owner and admins, holding every permission of the role before and after. Everyone holding the role has the new access from their next request."))

	register(s.api, op("delete-role", http.MethodDelete, "/v1/organizations/{org}/roles/{role}", "Delete a custom store role", "Roles"),
		func(ctx context.Context, in *deleteRoleInput) (*struct{}, error) {
			if err := s.app.Roles.Delete(ctx, actor(ctx), in.Org, in.Role, in.Replacement); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("Owner and admins. A role still held is refused with role_in_use and details.holders, "+
			"unless replacement_role_id is given: then every holder gets that role in the same transaction."))

	register(s.api, op("list-role-holders", http.MethodGet, "/v1/organizations/{org}/roles/{role}/holders", "List who holds a store role", "Roles"),
		func(ctx context.Context, in *RolePath) (*roleHoldersOutput, error) {
			hs, err := s.app.Roles.Holders(ctx, actor(ctx), in.Org, in.Role)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &roleHoldersOutput{}
			out.Body.Holders = mapSlice(hs, func(h roster.RoleHolder) RoleHolder {
				return RoleHolder{Kind: h.Kind, UserID: h.UserID, StoreID: h.StoreID, APIKeyID: h.APIKeyID, InvitationID: h.InvitationID}
			})
			return out, nil
		}, withDescription("Owner and admins: the store memberships, live API keys and pending invitations that deleting the role would affect."))
}
