package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

type listMembersInput struct {
	OrgPath
	Query  string `query:"q" maxLength:"100" doc:"Part of a name or an email address"`
	Role   string `query:"role" enum:"owner,admin,member"`
	Status string `query:"status" enum:"active,suspended"`
	Cursor string `query:"cursor" maxLength:"40" doc:"next_cursor of the previous page"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`

	BreaksPolicy bool `query:"breaks_policy" doc:"Only members whose address breaks the organization's policy"`
}

type membersOutput struct {
	Body struct {
		Members    []Member `json:"members"`
		NextCursor string   `json:"next_cursor,omitempty" doc:"Pass as cursor to read the next page; absent on the last page"`
	}
}

// MemberPath names a member of an organization. Path types are exported because huma reads
// the parameters of embedded structs only when they are exported.
type MemberPath struct {
	OrgPath
	User string `path:"user" maxLength:"40" doc:"User ID"`
}

type memberOutput struct{ Body Member }

type updateMemberInput struct {
	MemberPath
	Body struct {
		Role   string `json:"role,omitempty" enum:"admin,member" doc:"New organization role; ownership moves by transfer only"`
		Status string `json:"status,omitempty" enum:"active,suspended" doc:"Suspend or reactivate the membership"`
	}
}

// StoreMemberPath names a member of a store.
type StoreMemberPath struct {
	StorePath
	User string `path:"user" maxLength:"40" doc:"User ID"`
}

type setStoreRoleInput struct {
	StoreMemberPath
	Body struct {
		RoleID string `json:"role_id" maxLength:"40" doc:"admin, member, viewer or a custom role ID"`
	}
}

type teamOutput struct {
	Body struct {
		Members []TeamMember `json:"members"`
	}
}

func (s *Server) registerMembers() {
	register(s.api, op("list-members", http.MethodGet, "/v1/organizations/{org}/members", "List members", "Members"),
		func(ctx context.Context, in *listMembersInput) (*membersOutput, error) {
			p, err := s.app.Members.List(ctx, actor(ctx), in.Org, app.MemberFilter{Query: in.Query, Role: roster.OrgRole(in.Role),
				Status: roster.MembershipStatus(in.Status), Cursor: in.Cursor, Limit: in.Limit, BreaksPolicy: in.BreaksPolicy})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &membersOutput{}
			out.Body.Members, out.Body.NextCursor = mapSlice(p.Items, memberJSON), p.Next
			return out, nil
		}, withDescription("Owner and admins. Cursor pagination; search by name or email; filter by role or status."))

	register(s.api, op("get-member", http.MethodGet, "/v1/organizations/{org}/members/{user}", "Read a member with their store roles", "Members"),
		func(ctx context.Context, in *MemberPath) (*memberOutput, error) {
			m, err := s.app.Members.Get(ctx, actor(ctx), in.Org, in.User)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &memberOutput{Body: memberJSON(m)}, nil
		})

	register(s.api, op("update-member", http.MethodPatch, "/v1/organizations/{org}/members/{user}", "Change a member's role or status", "Members"),
		func(ctx context.Context, in *updateMemberInput) (*memberOutput, error) {
			a := actor(ctx)
			var u app.MemberUpdate
			if in.Body.Role != "" {
				r := roster.OrgRole(in.Body.Role)
				u.Role = &r
			}
			if in.Body.Status != "" {
				st := roster.MembershipStatus(in.Body.Status)
				u.Status = &st
			}
			if err := s.app.Members.Update(ctx, a, in.Org, in.User, u); err != nil {
				return nil, s.fail(ctx, err)
			}
			m, err := s.app.Members.Get(ctx, a, in.Org, in.User)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &memberOutput{Body: memberJSON(m)}, nil
		}, withDescription("Owner and admins; nobody but the owner acts on the owner, and the owner is never demoted or suspended."))

	register(s.api, op("remove-member", http.MethodDelete, "/v1/organizations/{org}/members/{user}", "Remove a member, or leave", "Members"),
		func(ctx context.Context, in *MemberPath) (*struct{}, error) {
			a := actor(ctx)
			var err error
			if in.User == a.UserID {
				err = s.app.Members.Leave(ctx, a, in.Org)
			} else {
				err = s.app.Members.Remove(ctx, a, in.Org, in.User)
			}
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent),
		withDescription("Removes the member with all their store memberships and API keys in the organization, and emails them that their access was removed; the invitations they sent that are still pending are revoked. Your own ID leaves the organization (not for the owner)."))

	register(s.api, op("reset-member-factors", http.MethodDelete, "/v1/organizations/{org}/members/{user}/factors", "Reset a member's second factors", "Members"),
		func(ctx context.Context, in *MemberPath) (*struct{}, error) {
			if err := s.app.MFA.ResetMember(ctx, actor(ctx), in.Org, in.User); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent),
		withDescription("For a member who lost their authenticator app and recovery codes: removes their authenticator app, recovery codes and passkeys, so that they sign in with their password and set up a second factor again. "+
			"Owner and admins, never on the owner (except by the owner) nor on yourself. An account is the person's in every organization they belong to, so this works only when the account is this organization's own: "+
			"the person belongs to no other organization, or their address is at a domain the organization verified; otherwise account_not_managed (403). The member is emailed and the reset audited (member.two_factor_reset)."))

	register(s.api, op("list-store-members", http.MethodGet, "/v1/stores/{store}/members", "List a store's team", "Members"),
		func(ctx context.Context, in *StorePath) (*teamOutput, error) {
			team, err := s.app.Members.StoreTeam(ctx, actor(ctx), in.Store)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &teamOutput{}
			out.Body.Members = mapSlice(team, func(t roster.TeamMember) TeamMember {
				return TeamMember{User: userJSON(t.User), OrgRole: string(t.OrgRole), Status: string(t.Status), RoleID: t.RoleID, RoleName: t.RoleName, Via: t.Via}
			})
			return out, nil
		}, withDescription("Everyone who reaches the store: its direct members and the organization's owner and admins (via organization role)."))

	register(s.api, op("set-store-role", http.MethodPut, "/v1/stores/{store}/members/{user}", "Give a member a role in a store", "Members"),
		func(ctx context.Context, in *setStoreRoleInput) (*struct{}, error) {
			if err := s.app.Members.SetStoreRole(ctx, actor(ctx), in.Store, in.User, in.Body.RoleID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("The user must be a member of the store's organization. Nobody grants a role holding permissions they lack."))

	register(s.api, op("remove-store-member", http.MethodDelete, "/v1/stores/{store}/members/{user}", "Remove a member from a store", "Members"),
		func(ctx context.Context, in *StoreMemberPath) (*struct{}, error) {
			if err := s.app.Members.RemoveFromStore(ctx, actor(ctx), in.Store, in.User); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("They stay in the organization and are told by email."))
}
