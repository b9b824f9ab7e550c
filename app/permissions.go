package app

import (
	"context"
	"strings"

	"github.com/rosterhq/roster"
)

// requirePermissionAdmin lets the host application (its service tokens), operators and
// Roster itself (the permissions file applied at start) change the catalog.
func requirePermissionAdmin(actor roster.Actor) error {
	if actor.Kind == roster.ActorSystem {
		return nil
	}
	return requireChecker(actor)
}

// Permissions returns the catalog, Roster's permissions first, then the host application's
// by key: what custom roles may hold. Anyone signed in may read it.
func (a *Roles) Permissions(ctx context.Context, actor roster.Actor) ([]roster.PermissionInfo, error) {
	if actor.Kind == roster.ActorAnonymous || actor.Kind == "" {
		return nil, roster.Errorf(roster.EUnauthenticated, "log in first")
	}
	cat, err := a.catalog(ctx, a.read())
	if err != nil {
		return nil, err
	}
	return cat.All(), nil
}

// PermissionInput registers one host application permission.
type PermissionInput struct {
	Key         roster.Permission
	Area        string // groups permissions in the role editor; the key's first word when empty
	Description string
	Member      bool // held by the built-in store role "member"
	Viewer      bool // held by the built-in store role "viewer"
}

// reservedPrefixes are Roster's own namespaces: host permissions live outside them.
var reservedPrefixes = []string{"org.", "store."}

func (in PermissionInput) validate() (roster.PermissionInfo, error) {
	key := roster.Permission(strings.TrimSpace(string(in.Key)))
	if !roster.ValidPermissionKey(string(key)) {
		return roster.PermissionInfo{}, roster.Invalidf("key", "a permission key is lower-case words separated by dots, such as campaigns.create (at most 100 characters)")
	}
	if roster.IsBuiltinPermission(key) {
		return roster.PermissionInfo{}, (&roster.Error{Code: roster.EConflict, Field: "key", Message: string(key) + " is one of Roster's own permissions"}).With("permission", string(key))
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(string(key), p) {
			return roster.PermissionInfo{}, roster.Invalidf("key", "keys starting with %q are reserved for Roster's own permissions", p)
		}
	}
	info := roster.PermissionInfo{Key: key, Scope: roster.ScopeStore, HostApp: true, Member: in.Member, Viewer: in.Viewer}
	var err error
	if info.Area, err = text("area", in.Area, false, roster.MaxAreaLength); err != nil {
		return info, err
	}
	if info.Area == "" {
		info.Area, _, _ = strings.Cut(string(key), ".")
	}
	if info.Description, err = text("description", in.Description, false, roster.MaxDescriptionLength); err != nil {
		return info, err
	}
	return info, nil
}

func permissionMap(p roster.PermissionInfo) map[string]any {
	return map[string]any{"area": p.Area, "description": p.Description, "member": p.Member, "viewer": p.Viewer}
}

// PutPermission registers a host application permission, or updates its description, area
// and built-in role defaults (service tokens and operators). It reports whether it is new.
// The change counts from everyone's next request: built-in roles member and viewer gain or
// lose it according to the defaults, custom roles hold it only when they list it.
func (a *Roles) PutPermission(ctx context.Context, actor roster.Actor, in PermissionInput) (roster.PermissionInfo, bool, error) {
	if err := requirePermissionAdmin(actor); err != nil {
		return roster.PermissionInfo{}, false, err
	}
	info, err := in.validate()
	if err != nil {
		return roster.PermissionInfo{}, false, err
	}
	created, err := writeValue(ctx, a.core, actor, func(t *txn) (bool, error) {
		return a.putPermission(t, info)
	})
	return info, created, err
}

func (a *Roles) putPermission(t *txn, info roster.PermissionInfo) (bool, error) {
	before, err := t.HostPermission(t.ctx, info.Key)
	created := roster.ErrorCode(err) == roster.ENotFound
	if err != nil && !created {
		return false, err
	}
	if !created && before.Area == info.Area && before.Description == info.Description && before.Member == info.Member && before.Viewer == info.Viewer {
		return false, nil
	}
	if err := t.PutHostPermission(t.ctx, info, t.now); err != nil {
		return false, err
	}
	e := roster.AuditEvent{Action: "permission.registered", TargetType: "permission", TargetID: string(info.Key), After: permissionMap(info)}
	if !created {
		e.Action, e.Before = "permission.updated", permissionMap(before)
	}
	return created, t.audit(e)
}

// PutPermissions registers several host permissions in one transaction: all or none. It is
// how ROSTER_PERMISSIONS_FILE is applied at start. Permissions not listed stay registered.
func (a *Roles) PutPermissions(ctx context.Context, actor roster.Actor, in []PermissionInput) (created, updated int, err error) {
	if err := requirePermissionAdmin(actor); err != nil {
		return 0, 0, err
	}
	if len(in) > roster.MaxPermissionsFile {
		return 0, 0, roster.Invalidf("permissions", "at most %d permissions at once", roster.MaxPermissionsFile)
	}
	infos := make([]roster.PermissionInfo, len(in))
	seen := map[roster.Permission]bool{}
	for i, p := range in {
		if infos[i], err = p.validate(); err != nil {
			if e := roster.AsError(err); e != nil {
				return 0, 0, e.With("index", i)
			}
			return 0, 0, err
		}
		if seen[infos[i].Key] {
			return 0, 0, (&roster.Error{Code: roster.EInvalid, Field: "key", Message: "permission " + string(infos[i].Key) + " is listed twice"}).With("index", i)
		}
		seen[infos[i].Key] = true
	}
	type counts struct{ created, updated int }
	n, err := writeValue(ctx, a.core, actor, func(t *txn) (counts, error) {
		var n counts
		for _, info := range infos {
			before, err := t.HostPermission(t.ctx, info.Key)
			if err != nil && roster.ErrorCode(err) != roster.ENotFound {
				return counts{}, err
			}
			isNew, err := a.putPermission(t, info)
			if err != nil {
				return counts{}, err
			}
			switch {
			case isNew:
				n.created++
			case before != info:
				n.updated++
			}
		}
		return n, nil
	})
	return n.created, n.updated, err
}

// DeletePermission removes a host application permission from the catalog (service tokens
// and operators). One still held by custom roles is refused with permission_in_use and the
// list of those roles, unless force is set: then it is removed from those roles too, in the
// same transaction. It returns the roles that lost it.
func (a *Roles) DeletePermission(ctx context.Context, actor roster.Actor, key roster.Permission, force bool) ([]roster.Role, error) {
	if err := requirePermissionAdmin(actor); err != nil {
		return nil, err
	}
	if roster.IsBuiltinPermission(key) {
		return nil, (&roster.Error{Code: roster.EConflict, Field: "key", Message: string(key) + " is one of Roster's own permissions and cannot be removed"}).With("permission", string(key))
	}
	if !roster.ValidPermissionKey(string(key)) {
		return nil, roster.NotFound("permission")
	}
	return writeValue(ctx, a.core, actor, func(t *txn) ([]roster.Role, error) {
		before, err := t.HostPermission(t.ctx, key)
		if err != nil {
			return nil, err
		}
		// Delete first: on PostgreSQL this waits for transactions that are saving a role with
		// this permission (they hold a share lock on its row), so the search below sees them.
		if err := t.DeleteHostPermission(t.ctx, key); err != nil {
			return nil, err
		}
		roles, err := t.RolesWithPermission(t.ctx, key)
		if err != nil {
			return nil, err
		}
		if len(roles) > 0 && !force {
			return nil, permissionInUse(key, roles)
		}
		for _, r := range roles {
			kept := make([]roster.Permission, 0, len(r.Permissions))
			for _, p := range r.Permissions {
				if p != key {
					kept = append(kept, p)
				}
			}
			if err := t.SetRolePermissions(t.ctx, r.OrgID, r.ID, kept, t.now); err != nil {
				return nil, err
			}
			if err := t.audit(roster.AuditEvent{OrgID: r.OrgID, Action: "role.permission_removed", TargetType: "role", TargetID: r.ID,
				Before: map[string]any{"permission": string(key)}, After: map[string]any{"reason": "permission removed from the catalog"}}); err != nil {
				return nil, err
			}
		}
		ids := make([]string, len(roles))
		for i, r := range roles {
			ids[i] = r.ID
		}
		if err := t.audit(roster.AuditEvent{Action: "permission.removed", TargetType: "permission", TargetID: string(key),
			Before: permissionMap(before), After: map[string]any{"forced": force, "roles": ids}}); err != nil {
			return nil, err
		}
		return roles, nil
	})
}

// permissionInUse is the refusal to remove a permission that custom roles hold.
func permissionInUse(key roster.Permission, roles []roster.Role) error {
	list := make([]map[string]any, len(roles))
	for i, r := range roles {
		list[i] = map[string]any{"organization_id": r.OrgID, "role_id": r.ID, "name": r.Name}
	}
	return (&roster.Error{Code: roster.EPermissionInUse, Field: "key",
		Message: "custom roles still hold " + string(key) + "; remove it from them first, or force the removal"}).With("roles", list)
}
