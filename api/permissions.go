package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Permission is one permission of the catalog.
type Permission struct {
	Key         string `json:"key" example:"campaigns.create"`
	Scope       string `json:"scope" enum:"organization,store"`
	Area        string `json:"area" doc:"Groups permissions in the role editor"`
	Description string `json:"description"`
	HostApp     bool   `json:"host_app" doc:"Registered by the host application rather than built into Roster"`
	Member      bool   `json:"member" doc:"Held by the built-in store role member"`
	Viewer      bool   `json:"viewer" doc:"Held by the built-in store role viewer"`
}

func permissionJSON(p roster.PermissionInfo) Permission {
	return Permission{Key: string(p.Key), Scope: string(p.Scope), Area: p.Area, Description: p.Description, HostApp: p.HostApp, Member: p.Member, Viewer: p.Viewer}
}

type permissionsOutput struct {
	Body struct {
		Permissions []Permission `json:"permissions"`
	}
}

// PermissionPath names a permission of the catalog in a path.
type PermissionPath struct {
	Key string `path:"key" maxLength:"100" doc:"Permission key, such as campaigns.create"`
}

type putPermissionInput struct {
	PermissionPath
	Body struct {
		Area        string `json:"area,omitempty" maxLength:"50" doc:"Defaults to the key's first word"`
		Description string `json:"description,omitempty" maxLength:"300"`
		Member      bool   `json:"member,omitempty" doc:"Whether the built-in store role member holds it"`
		Viewer      bool   `json:"viewer,omitempty" doc:"Whether the built-in store role viewer holds it"`
	}
}

type putPermissionOutput struct {
	Status int
	Body   Permission
}

type deletePermissionInput struct {
	PermissionPath
	Force bool `query:"force" doc:"Also remove it from the custom roles that hold it"`
}

type deletePermissionOutput struct {
	Body struct {
		RolesChanged []PermissionRole `json:"roles_changed" doc:"Custom roles the permission was removed from"`
	}
}

// PermissionRole names a custom role of an organization.
type PermissionRole struct {
	OrgID  string `json:"organization_id"`
	RoleID string `json:"role_id"`
	Name   string `json:"name"`
}

func (s *Server) registerPermissions() {
	register(s.api, op("list-permissions", http.MethodGet, "/v1/permissions", "The permission catalog", "Roles"),
		func(ctx context.Context, _ *struct{}) (*permissionsOutput, error) {
			ps, err := s.app.Roles.Permissions(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &permissionsOutput{}
			out.Body.Permissions = mapSlice(ps, permissionJSON)
			return out, nil
		}, withDescription("Roster's own permissions, then the host application's. Anyone signed in."))

	register(s.api, op("put-permission", http.MethodPut, "/v1/permissions/{key}", "Register a host application permission", "Roles"),
		func(ctx context.Context, in *putPermissionInput) (*putPermissionOutput, error) {
			p, created, err := s.app.Roles.PutPermission(ctx, actor(ctx), app.PermissionInput{Key: roster.Permission(in.Key), Area: in.Body.Area,
				Description: in.Body.Description, Member: in.Body.Member, Viewer: in.Body.Viewer})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &putPermissionOutput{Status: http.StatusOK, Body: permissionJSON(p)}
			if created {
				out.Status = http.StatusCreated
			}
			return out, nil
		}, withDescription("A service token or an operator. Creates (201) or updates (200) a store-scoped permission of the host application. "+
			"Keys under org. and store. are Roster's."))

	register(s.api, op("delete-permission", http.MethodDelete, "/v1/permissions/{key}", "Remove a host application permission", "Roles"),
		func(ctx context.Context, in *deletePermissionInput) (*deletePermissionOutput, error) {
			roles, err := s.app.Roles.DeletePermission(ctx, actor(ctx), roster.Permission(in.Key), in.Force)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &deletePermissionOutput{}
			out.Body.RolesChanged = mapSlice(roles, func(r roster.Role) PermissionRole { return PermissionRole{OrgID: r.OrgID, RoleID: r.ID, Name: r.Name} })
			return out, nil
		}, withDescription("A service token or an operator. One still held by custom roles is refused with permission_in_use and details.roles, "+
			"unless force=true: then it is removed from those roles too."))
}
