package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/scim"
)

// SCIMDirectory is a SCIM directory of an organization, as listed: never its token.
type SCIMDirectory struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	BaseURL        string `json:"base_url" doc:"The SCIM base URL to give the identity provider (Okta: SCIM connector base URL; Entra ID: Tenant URL)"`
	TokenCreatedAt Time   `json:"token_created_at"`
	LastUsedAt     *Time  `json:"last_used_at,omitempty"`
	CreatedAt      Time   `json:"created_at"`
}

// NewSCIMDirectory is a directory with its token: shown this once.
type NewSCIMDirectory struct {
	SCIMDirectory
	Token string `json:"token" doc:"The bearer token to give the identity provider (Okta: API token; Entra ID: Secret token). Shown once: only its hash is kept."`
}

// SCIMGroup is a group a directory pushed, with the role it maps to.
type SCIMGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	OrgRole     string `json:"org_role,omitempty" enum:"admin,member" doc:"The organization role the group's members hold"`
	StoreID     string `json:"store_id,omitempty" doc:"The store in which the group's members hold role_id"`
	RoleID      string `json:"role_id,omitempty" doc:"A store role: admin, member, viewer or a custom role ID"`
}

func (s *Server) directoryJSON(d roster.Directory) SCIMDirectory {
	return SCIMDirectory{ID: d.ID, OrganizationID: d.OrgID, Name: d.Name, BaseURL: strings.TrimSuffix(s.app.Config().BaseURL.String(), "/") + scim.Prefix,
		TokenCreatedAt: Time(d.TokenCreatedAt), LastUsedAt: (*Time)(d.LastUsedAt), CreatedAt: Time(d.CreatedAt)}
}

func scimGroupJSON(g roster.SCIMGroup) SCIMGroup {
	return SCIMGroup{ID: g.ID, DisplayName: g.DisplayName, OrgRole: string(g.OrgRole), StoreID: g.StoreID, RoleID: g.RoleID}
}

type directoryOut struct{ Body SCIMDirectory }
type newDirectoryOut struct{ Body NewSCIMDirectory }
type directoriesOut struct {
	Body struct {
		Directories []SCIMDirectory `json:"directories"`
	}
}

type directoryPath struct {
	OrgPath
	ID string `path:"id" maxLength:"40"`
}

type createDirectoryIn struct {
	OrgPath
	Body struct {
		Name string `json:"name" maxLength:"100" doc:"What the directory is, such as Okta or Entra ID"`
	}
}

type scimGroupsOut struct {
	Body struct {
		Groups []SCIMGroup `json:"groups"`
	}
}

type scimGroupOut struct{ Body SCIMGroup }

type mapGroupIn struct {
	OrgPath
	ID    string `path:"id" maxLength:"40"`
	Group string `path:"group" maxLength:"40"`
	Body  struct {
		OrgRole string `json:"org_role,omitempty" enum:"admin,member" doc:"Map to an organization role…"`
		StoreID string `json:"store_id,omitempty" maxLength:"40" doc:"…or to a store role in this store (with role_id); nothing at all unmaps the group"`
		RoleID  string `json:"role_id,omitempty" maxLength:"40"`
	}
}

func (s *Server) registerSCIM() {
	const tag = "SCIM directories"
	const path = "/v1/organizations/{org}/scim"
	const who = " Owner and admins."
	created := func(ctx context.Context, c app.CreatedDirectory, err error) (*newDirectoryOut, error) {
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &newDirectoryOut{Body: NewSCIMDirectory{SCIMDirectory: s.directoryJSON(c.Directory), Token: c.Token}}, nil
	}
	register(s.api, op("create-scim-directory", http.MethodPost, path, "Create a SCIM directory", tag),
		func(ctx context.Context, in *createDirectoryIn) (*newDirectoryOut, error) {
			c, err := s.app.Directories.Create(ctx, actor(ctx), in.Org, in.Body.Name)
			return created(ctx, c, err)
		}, withStatus(http.StatusCreated), withDescription("An identity provider (Okta, Microsoft Entra ID, …) provisions the organization's "+
			"members at base_url with the token, shown this once. The directory acts as an admin of this organization only: it never "+
			"changes or removes the owner, and each change is in the audit log with the directory as its actor."+who))
	register(s.api, op("list-scim-directories", http.MethodGet, path, "List the SCIM directories", tag),
		func(ctx context.Context, in *OrgPath) (*directoriesOut, error) {
			list, err := s.app.Directories.List(ctx, actor(ctx), in.Org)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &directoriesOut{}
			out.Body.Directories = mapSlice(list, s.directoryJSON)
			return out, nil
		}, withDescription("Tokens are never listed."+who))
	register(s.api, op("get-scim-directory", http.MethodGet, path+"/{id}", "Show a SCIM directory", tag),
		func(ctx context.Context, in *directoryPath) (*directoryOut, error) {
			d, err := s.app.Directories.Get(ctx, actor(ctx), in.Org, in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &directoryOut{Body: s.directoryJSON(d)}, nil
		}, withDescription(who))
	register(s.api, op("rotate-scim-token", http.MethodPost, path+"/{id}/rotate", "Give a SCIM directory a new token", tag),
		func(ctx context.Context, in *directoryPath) (*newDirectoryOut, error) {
			c, err := s.app.Directories.RotateToken(ctx, actor(ctx), in.Org, in.ID)
			return created(ctx, c, err)
		}, withDescription("The old token stops working at once; the new one is shown this once."+who))
	register(s.api, op("delete-scim-directory", http.MethodDelete, path+"/{id}", "Delete a SCIM directory", tag),
		func(ctx context.Context, in *directoryPath) (*struct{}, error) {
			if err := s.app.Directories.Delete(ctx, actor(ctx), in.Org, in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("Its token stops working; the members it provisioned stay, with their roles."+who))
	register(s.api, op("list-scim-groups", http.MethodGet, path+"/{id}/groups", "List the groups a SCIM directory pushed", tag),
		func(ctx context.Context, in *directoryPath) (*scimGroupsOut, error) {
			list, err := s.app.Directories.Groups(ctx, actor(ctx), in.Org, in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &scimGroupsOut{}
			out.Body.Groups = mapSlice(list, scimGroupJSON)
			return out, nil
		}, withDescription("With the role each maps to."+who))
	register(s.api, op("map-scim-group", http.MethodPut, path+"/{id}/groups/{group}", "Map a SCIM group to a role", tag),
		func(ctx context.Context, in *mapGroupIn) (*scimGroupOut, error) {
			g, err := s.app.Directories.MapGroup(ctx, actor(ctx), in.Org, in.ID, in.Group,
				app.GroupMapping{OrgRole: roster.OrgRole(in.Body.OrgRole), StoreID: in.Body.StoreID, RoleID: in.Body.RoleID})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &scimGroupOut{Body: scimGroupJSON(g)}, nil
		}, withDescription("The group's members hold the role while they are in it (the highest organization role of their groups; "+
			"in a store, the role of the first group mapping it); those who leave the last group giving a role lose it. The group's "+
			"current members gain the new role at once. Nobody maps a group to a role they could not grant themselves (role_escalation)."+who))
}
