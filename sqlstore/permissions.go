package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// HostPermission returns one registered host application permission.
func (c *Conn) HostPermission(ctx context.Context, key roster.Permission) (roster.PermissionInfo, error) {
	p := roster.PermissionInfo{Scope: roster.ScopeStore, HostApp: true}
	err := c.queryRow(ctx, `SELECT key, area, description, member_default, viewer_default FROM permissions WHERE key = ?`, key).
		Scan(&p.Key, &p.Area, &p.Description, &p.Member, &p.Viewer)
	return p, notFound(err, "permission")
}

// ShareHostPermissions locks the rows of the given host permissions against deletion until
// the transaction ends (PostgreSQL; SQLite write transactions are serialized already), so a
// role saved with a permission never outlives a concurrent removal of that permission.
func (c *Conn) ShareHostPermissions(ctx context.Context, keys []roster.Permission) error {
	if c.engine != Postgres || len(keys) == 0 {
		return nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := c.query(ctx, `SELECT key FROM permissions WHERE key IN (`+placeholders(len(keys))+`) FOR SHARE`, args...)
	if err != nil {
		return err
	}
	return mapError(rows.Close())
}

// RolesWithPermission returns every custom role, in any organization, that holds a
// permission, by organization then name.
func (c *Conn) RolesWithPermission(ctx context.Context, key roster.Permission) ([]roster.Role, error) {
	pattern := `%"` + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(string(key)) + `"%`
	rows, err := c.query(ctx, `SELECT `+roleColumns+` FROM roles r WHERE r.permissions LIKE ? ESCAPE '\' ORDER BY r.org_id, lower(r.name), r.id`, pattern)
	roles, err := scanAll(rows, err, func(r *sql.Rows) (roster.Role, error) { return scanRole(r) })
	if err != nil {
		return nil, err
	}
	out := roles[:0]
	for _, r := range roles {
		if slices.Contains(r.Permissions, key) {
			out = append(out, r)
		}
	}
	return out, nil
}

// SetRolePermissions replaces the permissions of a custom role.
func (c *Conn) SetRolePermissions(ctx context.Context, orgID, id string, perms []roster.Permission, now time.Time) error {
	b, err := json.Marshal(nonNil(perms))
	if err != nil {
		return err
	}
	c.touch("o:" + orgID)
	return notFound(c.execOne(ctx, `UPDATE roles SET permissions = ?, updated_at = ? WHERE org_id = ? AND id = ?`, string(b), micros(now), orgID, id), "role")
}

// CountRoleHolders counts, for each store role of an organization, the store memberships,
// live API keys and pending invitations holding it.
func (c *Conn) CountRoleHolders(ctx context.Context, orgID string) (map[string]int, error) {
	rows, err := c.query(ctx, `SELECT role_id, COUNT(*) FROM (
		SELECT role_id FROM store_members WHERE org_id = ?
		UNION ALL SELECT role_id FROM api_keys WHERE org_id = ? AND revoked_at IS NULL
		UNION ALL SELECT s.role_id FROM invitation_stores s JOIN invitations i ON i.id = s.invitation_id WHERE s.org_id = ? AND i.status = 'pending'
		) h GROUP BY role_id`, orgID, orgID, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, mapError(err)
		}
		out[id] = n
	}
	return out, mapError(rows.Err())
}
