package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/rosterhq/roster"
)

const roleColumns = `r.id, r.org_id, r.name, r.description, r.permissions`

func scanRole(r rowScanner) (roster.Role, error) {
	var role roster.Role
	var perms string
	if err := r.Scan(&role.ID, &role.OrgID, &role.Name, &role.Description, &perms); err != nil {
		return role, err
	}
	return role, json.Unmarshal([]byte(perms), &role.Permissions)
}

// Roles returns an organization's custom roles by name (roster.SortByName).
func (c *Conn) Roles(ctx context.Context, orgID string) ([]roster.Role, error) {
	rows, err := c.query(ctx, `SELECT `+roleColumns+` FROM roles r WHERE r.org_id = ?`, orgID)
	roles, err := scanAll(rows, err, func(r *sql.Rows) (roster.Role, error) { return scanRole(r) })
	roster.SortByName(roles, func(r roster.Role) string { return r.Name }, func(r roster.Role) string { return r.ID })
	return roles, err
}

// Role returns one custom role of an organization.
func (c *Conn) Role(ctx context.Context, orgID, id string) (roster.Role, error) {
	r, err := scanRole(c.queryRow(ctx, `SELECT `+roleColumns+` FROM roles r WHERE r.org_id = ? AND r.id = ?`, orgID, id))
	return r, notFound(err, "role")
}

// CreateRole inserts a custom role; a name already used in the organization gives EConflict.
func (c *Conn) CreateRole(ctx context.Context, r roster.Role, now time.Time) error {
	perms, err := json.Marshal(nonNil(r.Permissions))
	if err != nil {
		return err
	}
	c.touch("o:" + r.OrgID)
	_, err = c.exec(ctx, `INSERT INTO roles (id, org_id, name, description, permissions, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.OrgID, r.Name, r.Description, string(perms), micros(now), micros(now))
	if IsUniqueViolation(err) {
		return &roster.Error{Code: roster.EConflict, Field: "name", Message: "a role with this name already exists"}
	}
	return err
}

// UpdateRole saves a custom role's name, description and permissions.
func (c *Conn) UpdateRole(ctx context.Context, r roster.Role, now time.Time) error {
	perms, err := json.Marshal(nonNil(r.Permissions))
	if err != nil {
		return err
	}
	c.touch("o:" + r.OrgID)
	err = c.execOne(ctx, `UPDATE roles SET name = ?, description = ?, permissions = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
		r.Name, r.Description, string(perms), micros(now), r.OrgID, r.ID)
	if IsUniqueViolation(err) {
		return &roster.Error{Code: roster.EConflict, Field: "name", Message: "a role with this name already exists"}
	}
	return notFound(err, "role")
}

// DeleteRole deletes a custom role.
func (c *Conn) DeleteRole(ctx context.Context, orgID, id string) error {
	c.touch("o:" + orgID)
	return notFound(c.execOne(ctx, `DELETE FROM roles WHERE org_id = ? AND id = ?`, orgID, id), "role")
}

// HostPermissions returns the host application's registered permissions by key.
func (c *Conn) HostPermissions(ctx context.Context) ([]roster.PermissionInfo, error) {
	rows, err := c.query(ctx, `SELECT key, area, description, member_default, viewer_default FROM permissions ORDER BY key`)
	return scanAll(rows, err, func(r *sql.Rows) (roster.PermissionInfo, error) {
		p := roster.PermissionInfo{Scope: roster.ScopeStore, HostApp: true}
		return p, r.Scan(&p.Key, &p.Area, &p.Description, &p.Member, &p.Viewer)
	})
}

// PutHostPermission registers or updates a host application permission.
func (c *Conn) PutHostPermission(ctx context.Context, p roster.PermissionInfo, now time.Time) error {
	c.touch(AllKeys) // the catalog changed
	_, err := c.exec(ctx, `INSERT INTO permissions (key, area, description, member_default, viewer_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET area = excluded.area, description = excluded.description, member_default = excluded.member_default,
		viewer_default = excluded.viewer_default, updated_at = excluded.updated_at`,
		p.Key, p.Area, p.Description, p.Member, p.Viewer, micros(now), micros(now))
	return err
}

// DeleteHostPermission removes a host application permission from the catalog.
func (c *Conn) DeleteHostPermission(ctx context.Context, key roster.Permission) error {
	c.touch(AllKeys) // the catalog changed
	return notFound(c.execOne(ctx, `DELETE FROM permissions WHERE key = ?`, key), "permission")
}
