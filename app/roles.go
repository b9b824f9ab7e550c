package app

import (
	"context"
	"slices"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// Roles is an organization's custom roles and the instance's permission catalog (permissions.go).
type Roles struct{ *core }

// RoleView is a store role as the role editor lists it.
type RoleView struct {
	roster.Role
	Holders int // store memberships, live API keys and pending invitations holding it
}

// Roles lists the store roles of an organization: the built-in ones first (admin, member,
// viewer, with their permissions in today's catalog), then the custom ones by name. Owner and
// admins see them, and so does anyone who grants store roles in some store.
func (a *Roles) List(ctx context.Context, actor roster.Actor, orgID string) ([]RoleView, error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err == nil && !s.acc.MayListRoles() {
		err = s.require(roster.PermOrgSettingsRead)
	}
	if err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	counts, err := c.CountRoleHolders(ctx, orgID)
	if err != nil {
		return nil, err
	}
	custom, err := c.Roles(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]RoleView, 0, len(roster.BuiltinStoreRoles)+len(custom))
	for _, id := range roster.BuiltinStoreRoles {
		r, _ := s.cat.BuiltinRole(id)
		out = append(out, RoleView{Role: r, Holders: counts[id]})
	}
	store := s.cat.StorePermissions()
	for _, r := range custom {
		r.Permissions = roster.NewPermSet(r.Permissions...).Intersect(store).Sorted()
		out = append(out, RoleView{Role: r, Holders: counts[r.ID]})
	}
	return out, nil
}

// Role returns one store role of an organization, built-in or custom, to those who may list them.
func (a *Roles) Get(ctx context.Context, actor roster.Actor, orgID, roleID string) (RoleView, error) {
	roles, err := a.List(ctx, actor, orgID)
	if err != nil {
		return RoleView{}, err
	}
	for _, r := range roles {
		if r.ID == roleID {
			return r, nil
		}
	}
	return RoleView{}, roster.NotFound("role")
}

// RoleInput is a custom role as created.
type RoleInput struct {
	Name        string
	Description string
	Permissions []roster.Permission
}

// RoleUpdate changes a custom role; nil fields stay as they are.
type RoleUpdate struct {
	Name        *string
	Description *string
	Permissions *[]roster.Permission
}

func roleName(s string) (string, error) {
	name, err := text("name", s, true, roster.MaxRoleNameLength)
	if err != nil {
		return "", err
	}
	for _, id := range roster.BuiltinStoreRoles {
		if strings.EqualFold(name, id) {
			return "", &roster.Error{Code: roster.EConflict, Field: "name", Message: "admin, member and viewer are built-in roles; choose another name"}
		}
	}
	return name, nil
}

func rolePermissions(perms []roster.Permission) ([]roster.Permission, error) {
	if len(perms) > roster.MaxRolePermissions {
		return nil, roster.Invalidf("permissions", "a role holds at most %d permissions", roster.MaxRolePermissions)
	}
	out := slices.Clone(perms)
	slices.Sort(out)
	return slices.Compact(out), nil
}

func roleMap(r roster.Role) map[string]any {
	perms := make([]string, len(r.Permissions))
	for i, p := range r.Permissions {
		perms[i] = string(p)
	}
	return map[string]any{"name": r.Name, "description": r.Description, "permissions": perms}
}

// checkRolePermissions refuses a permission set that a store role cannot hold, or that the
// actor does not hold everywhere (no escalation), and keeps the host permissions it names
// from being removed until the transaction ends.
func (t *txn) checkRolePermissions(s scope, perms []roster.Permission) error {
	if err := s.cat.CheckRolePermissions(perms); err != nil {
		return err
	}
	if missing := s.acc.HoldsInStore("", perms); len(missing) > 0 {
		return escalation(missing)
	}
	return t.ShareHostPermissions(t.ctx, perms)
}

// Create defines a custom store role in an organization (owner and admins). Nobody
// creates a role holding a permission they do not hold in every store.
func (a *Roles) Create(ctx context.Context, actor roster.Actor, orgID string, in RoleInput) (roster.Role, error) {
	var r roster.Role
	var err error
	if r.Name, err = roleName(in.Name); err != nil {
		return roster.Role{}, err
	}
	if r.Description, err = text("description", in.Description, false, roster.MaxDescriptionLength); err != nil {
		return roster.Role{}, err
	}
	if r.Permissions, err = rolePermissions(in.Permissions); err != nil {
		return roster.Role{}, err
	}
	return orgWriteValue(ctx, a.core, actor, orgID, roster.PermOrgRolesManage, func(t *txn, s scope) (roster.Role, error) {
		if err := t.checkRolePermissions(s, r.Permissions); err != nil {
			return roster.Role{}, err
		}
		r := r
		r.ID, r.OrgID = roster.NewID(roster.PrefixRole), orgID
		if err := t.CreateRole(t.ctx, r, t.now); err != nil {
			return roster.Role{}, err
		}
		return r, t.audit(roster.AuditEvent{OrgID: orgID, Action: "role.created", TargetType: "role", TargetID: r.ID, After: roleMap(r)})
	})
}

// Update edits a custom role (owner and admins). Whoever edits a role must hold every
// permission it has, before and after the change. Everyone holding the role has their new
// access from their next request on.
func (a *Roles) Update(ctx context.Context, actor roster.Actor, orgID, roleID string, in RoleUpdate) (roster.Role, error) {
	if in.Name == nil && in.Description == nil && in.Permissions == nil {
		return roster.Role{}, roster.Invalidf("name", "give a name, a description or permissions")
	}
	var next roster.Role
	var err error
	if in.Name != nil {
		if next.Name, err = roleName(*in.Name); err != nil {
			return roster.Role{}, err
		}
	}
	if in.Description != nil {
		if next.Description, err = text("description", *in.Description, false, roster.MaxDescriptionLength); err != nil {
			return roster.Role{}, err
		}
	}
	if in.Permissions != nil {
		if next.Permissions, err = rolePermissions(*in.Permissions); err != nil {
			return roster.Role{}, err
		}
	}
	return orgWriteValue(ctx, a.core, actor, orgID, roster.PermOrgRolesManage, func(t *txn, s scope) (roster.Role, error) {
		before, err := a.customRole(t.ctx, &t.Conn, orgID, roleID)
		if err != nil {
			return roster.Role{}, err
		}
		// Permissions the catalog no longer knows are dropped silently: they grant nothing.
		before.Permissions = roster.NewPermSet(before.Permissions...).Intersect(s.cat.StorePermissions()).Sorted()
		out := before
		if in.Name != nil {
			out.Name = next.Name
		}
		if in.Description != nil {
			out.Description = next.Description
		}
		if in.Permissions != nil {
			out.Permissions = next.Permissions
		}
		if missing := s.acc.HoldsInStore("", before.Permissions); len(missing) > 0 {
			return roster.Role{}, escalation(missing)
		}
		if err := t.checkRolePermissions(s, out.Permissions); err != nil {
			return roster.Role{}, err
		}
		if err := t.UpdateRole(t.ctx, out, t.now); err != nil {
			return roster.Role{}, err
		}
		return out, t.audit(roster.AuditEvent{OrgID: orgID, Action: "role.updated", TargetType: "role", TargetID: roleID, Before: roleMap(before), After: roleMap(out)})
	})
}

// customRole reads a custom role; built-in roles are neither editable nor deletable.
func (a *Roles) customRole(ctx context.Context, c *sqlstore.Conn, orgID, roleID string) (roster.Role, error) {
	if roster.IsBuiltinStoreRole(roleID) {
		return roster.Role{}, (&roster.Error{Code: roster.EConflict, Field: "role", Message: "built-in roles cannot be changed or deleted"}).With("role_id", roleID)
	}
	if !roster.ValidID(roster.PrefixRole, roleID) {
		return roster.Role{}, roster.NotFound("role")
	}
	return c.Role(ctx, orgID, roleID)
}

// Delete deletes a custom role (owner and admins). A role still held by store members,
// API keys or pending invitations is refused with role_in_use and the list of its holders, unless a replacement role
// is given: then every holder gets the replacement in the same transaction. The actor must
// hold every permission of the replacement, since they grant it to all those holders.
func (a *Roles) Delete(ctx context.Context, actor roster.Actor, orgID, roleID, replacementID string) error {
	return a.orgWrite(ctx, actor, orgID, roster.PermOrgRolesManage, func(t *txn, s scope) error {
		role, err := a.customRole(t.ctx, &t.Conn, orgID, roleID)
		if err != nil {
			return err
		}
		holders, err := a.roleHolders(t.ctx, &t.Conn, orgID, roleID)
		if err != nil {
			return err
		}
		after := map[string]any{}
		if replacementID != "" {
			if replacementID == roleID {
				return roster.Invalidf("replacement_role_id", "the replacement must be another role")
			}
			repl, err := a.resolver(t.ctx, &t.Conn, s.cat, orgID).role(replacementID)
			if err != nil {
				if e := roster.AsError(err); e != nil && e.Code == roster.EUnknownRole {
					return (&roster.Error{Code: roster.EUnknownRole, Field: "replacement_role_id", Message: e.Message}).With("role_id", replacementID)
				}
				return err
			}
			if missing := s.acc.HoldsInStore("", repl.Permissions); len(missing) > 0 {
				return escalation(missing)
			}
			n, err := t.ReplaceRole(t.ctx, orgID, roleID, replacementID, t.now)
			if err != nil {
				return err
			}
			after["replacement_role_id"], after["reassigned"] = replacementID, n
		} else if len(holders) > 0 {
			return roleInUse(holders)
		}
		if err := t.DeleteRole(t.ctx, orgID, roleID); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: orgID, Action: "role.deleted", TargetType: "role", TargetID: roleID, Before: roleMap(role), After: after})
	})
}

// roleHolders lists who holds a store role: store memberships, live API keys and pending
// invitations.
func (a *Roles) roleHolders(ctx context.Context, c *sqlstore.Conn, orgID, roleID string) ([]roster.RoleHolder, error) {
	return c.RoleHolders(ctx, orgID, roleID)
}

// roleInUse is the refusal to delete a role that someone holds, with the list of holders.
func roleInUse(holders []roster.RoleHolder) error {
	list := make([]map[string]any, len(holders))
	for i, h := range holders {
		m := map[string]any{"kind": h.Kind}
		for k, v := range map[string]string{"user_id": h.UserID, "store_id": h.StoreID, "api_key_id": h.APIKeyID, "invitation_id": h.InvitationID} {
			if v != "" {
				m[k] = v
			}
		}
		list[i] = m
	}
	return (&roster.Error{Code: roster.ERoleInUse, Field: "role",
		Message: "this role is still held; give a replacement role to move its holders, or change their roles first"}).With("holders", list)
}

// Holders lists who holds a store role (owner and admins): what deleting it would affect.
func (a *Roles) Holders(ctx context.Context, actor roster.Actor, orgID, roleID string) ([]roster.RoleHolder, error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err == nil {
		err = s.require(roster.PermOrgSettingsRead)
	}
	if err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	if !roster.IsBuiltinStoreRole(roleID) {
		if _, err := a.customRole(ctx, c, orgID, roleID); err != nil {
			return nil, err
		}
	}
	return a.roleHolders(ctx, c, orgID, roleID)
}
