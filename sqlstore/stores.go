package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

const storeColumns = `s.id, s.org_id, s.name, s.website, s.currency, s.time_zone, s.logo_image_id, s.status, s.created_at, s.updated_at`

func scanStore(r rowScanner, extra ...any) (roster.Store, error) {
	var s roster.Store
	var logo sql.NullString
	var created, updated int64
	err := r.Scan(append([]any{&s.ID, &s.OrgID, &s.Name, &s.Website, &s.Currency, &s.TimeZone, &logo, &s.Status, &created, &updated}, extra...)...)
	s.LogoID, s.CreatedAt, s.UpdatedAt = logo.String, fromMicros(created), fromMicros(updated)
	return s, err
}

func scanStoreRows(r *sql.Rows) (roster.Store, error) { return scanStore(r) }

// CreateStore inserts a store.
func (c *Conn) CreateStore(ctx context.Context, s roster.Store) error {
	c.touch("o:" + s.OrgID)
	_, err := c.exec(ctx, `INSERT INTO stores (id, org_id, name, website, currency, time_zone, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.OrgID, s.Name, s.Website, s.Currency, s.TimeZone, s.Status, micros(s.CreatedAt), micros(s.UpdatedAt))
	return err
}

// Store returns a store by ID.
func (c *Conn) Store(ctx context.Context, id string) (roster.Store, error) {
	s, err := scanStore(c.queryRow(ctx, `SELECT `+storeColumns+` FROM stores s WHERE s.id = ?`, id))
	return s, notFound(err, "store")
}

// UpdateStore saves a store's name and details.
func (c *Conn) UpdateStore(ctx context.Context, s roster.Store, now time.Time) error {
	c.touchStore(ctx, s.ID)
	return notFound(c.execOne(ctx, `UPDATE stores SET name = ?, website = ?, currency = ?, time_zone = ?, updated_at = ? WHERE id = ?`,
		s.Name, s.Website, s.Currency, s.TimeZone, micros(now), s.ID), "store")
}

// SetStoreStatus archives or unarchives a store.
func (c *Conn) SetStoreStatus(ctx context.Context, id string, status roster.StoreStatus, now time.Time) error {
	c.touchStore(ctx, id)
	return notFound(c.execOne(ctx, `UPDATE stores SET status = ?, updated_at = ? WHERE id = ?`, status, micros(now), id), "store")
}

// SetStoreLogo points a store at an uploaded image ("" removes the logo).
func (c *Conn) SetStoreLogo(ctx context.Context, id, imageID string, now time.Time) error {
	c.touchStore(ctx, id)
	return notFound(c.execOne(ctx, `UPDATE stores SET logo_image_id = ?, updated_at = ? WHERE id = ?`, nullString(imageID), micros(now), id), "store")
}

// DeleteStore deletes a store and its store memberships.
func (c *Conn) DeleteStore(ctx context.Context, id string) error {
	c.touchStore(ctx, id)
	return notFound(c.execOne(ctx, `DELETE FROM stores WHERE id = ?`, id), "store")
}

// ListStores lists an organization's stores by name, in the order of the selector
// (roster.SortByName); status "" lists them all.
func (c *Conn) ListStores(ctx context.Context, orgID string, status roster.StoreStatus) ([]roster.Store, error) {
	q := `SELECT ` + storeColumns + ` FROM stores s WHERE s.org_id = ?`
	args := []any{orgID}
	if status != "" {
		q += ` AND s.status = ?`
		args = append(args, status)
	}
	rows, err := c.query(ctx, q, args...)
	stores, err := scanAll(rows, err, scanStoreRows)
	roster.SortByName(stores, func(s roster.Store) string { return s.Name }, func(s roster.Store) string { return s.ID })
	return stores, err
}

// CountStores counts an organization's stores with a status.
func (c *Conn) CountStores(ctx context.Context, orgID string, status roster.StoreStatus) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM stores WHERE org_id = ? AND status = ?`, orgID, status).Scan(&n)
	return n, mapError(err)
}

// AdminStores returns the active stores a user reaches in each of their organizations where
// they are owner or admin (every store), keyed by organization.
func (c *Conn) AdminStores(ctx context.Context, userID string) (map[string][]roster.Store, error) {
	rows, err := c.query(ctx, `SELECT `+storeColumns+` FROM stores s JOIN org_members m ON m.org_id = s.org_id
		WHERE m.user_id = ? AND m.role IN `+reachEveryStore+` AND m.status = 'active' AND s.status = 'active'
		ORDER BY lower(s.name), s.id`, userID)
	stores, err := scanAll(rows, err, scanStoreRows)
	out := map[string][]roster.Store{}
	for _, s := range stores {
		out[s.OrgID] = append(out[s.OrgID], s)
	}
	return out, err
}

// StoreMembershipsOfUser returns every store membership of a user with its store, in store
// name order.
func (c *Conn) StoreMembershipsOfUser(ctx context.Context, userID string) ([]roster.StoreAccess, error) {
	rows, err := c.query(ctx, `SELECT `+storeColumns+`, sm.role_id FROM store_members sm JOIN stores s ON s.id = sm.store_id
		WHERE sm.user_id = ? ORDER BY lower(s.name), s.id`, userID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.StoreAccess, error) {
		var a roster.StoreAccess
		s, err := scanStore(r, &a.Grant.RoleID)
		a.Store, a.Grant.StoreID, a.Grant.Via = s, s.ID, roster.ViaStoreRole
		return a, err
	})
}

const storeMemberColumns = `sm.store_id, sm.org_id, sm.user_id, sm.role_id, sm.created_at, sm.updated_at`

func scanStoreMember(r rowScanner) (roster.StoreMembership, error) {
	var m roster.StoreMembership
	var created, updated int64
	err := r.Scan(&m.StoreID, &m.OrgID, &m.UserID, &m.RoleID, &created, &updated)
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return m, err
}

// PutStoreMember gives a member a role in a store, replacing any role they had there. It
// fails with a foreign-key violation unless they are a member of the store's organization.
func (c *Conn) PutStoreMember(ctx context.Context, m roster.StoreMembership) error {
	c.touch("m:" + m.OrgID + ":" + m.UserID)
	_, err := c.exec(ctx, `INSERT INTO store_members (store_id, org_id, user_id, role_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (store_id, user_id) DO UPDATE SET role_id = excluded.role_id, updated_at = excluded.updated_at`,
		m.StoreID, m.OrgID, m.UserID, m.RoleID, micros(m.CreatedAt), micros(m.UpdatedAt))
	if IsViolation(err, violationForeignKey) {
		return roster.Errorf(roster.ENotMember, "only members of the organization can be given a store role")
	}
	return err
}

// StoreMember returns a user's membership of a store.
func (c *Conn) StoreMember(ctx context.Context, storeID, userID string) (roster.StoreMembership, error) {
	m, err := scanStoreMember(c.queryRow(ctx, `SELECT `+storeMemberColumns+` FROM store_members sm WHERE sm.store_id = ? AND sm.user_id = ?`, storeID, userID))
	return m, notFound(err, "store member")
}

// RemoveStoreMember removes a user from a store.
func (c *Conn) RemoveStoreMember(ctx context.Context, storeID, userID string) error {
	c.touchStoreMember(ctx, storeID, userID)
	return notFound(c.execOne(ctx, `DELETE FROM store_members WHERE store_id = ? AND user_id = ?`, storeID, userID), "store member")
}

// MemberStores returns a member's store memberships in one organization.
func (c *Conn) MemberStores(ctx context.Context, orgID, userID string) ([]roster.StoreMembership, error) {
	rows, err := c.query(ctx, `SELECT `+storeMemberColumns+` FROM store_members sm WHERE sm.org_id = ? AND sm.user_id = ? ORDER BY sm.store_id`, orgID, userID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.StoreMembership, error) { return scanStoreMember(r) })
}

// StoreTeam lists who reaches a store: the organization's owner and admins (via their
// organization role) and the store's direct members, by name.
func (c *Conn) StoreTeam(ctx context.Context, orgID, storeID string) ([]roster.TeamMember, error) {
	rows, err := c.query(ctx, `SELECT `+userColumns+`, m.role, m.status, COALESCE(sm.role_id, ''), CASE WHEN m.role IN `+reachEveryStore+` THEN 1 ELSE 0 END
		FROM org_members m JOIN users u ON u.id = m.user_id
		LEFT JOIN store_members sm ON sm.store_id = ? AND sm.user_id = m.user_id
		WHERE m.org_id = ? AND (m.role IN `+reachEveryStore+` OR sm.user_id IS NOT NULL)
		ORDER BY lower(u.name), u.id`, storeID, orgID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.TeamMember, error) {
		var t roster.TeamMember
		var us userScan
		var viaOrg int
		err := r.Scan(append(us.dest(), &t.OrgRole, &t.Status, &t.RoleID, &viaOrg)...)
		t.User = us.user()
		t.Via = roster.ViaStoreRole
		if viaOrg == 1 {
			t.RoleID, t.Via = roster.StoreRoleAdmin, roster.ViaOrganizationRole
		}
		return t, err
	})
}

// reachEveryStore is the SQL list of the organization roles that act as store admin in every
// store (roster.RolesReachingEveryStore), for "m.role IN " + reachEveryStore.
var reachEveryStore = func() string {
	quoted := make([]string, len(roster.RolesReachingEveryStore))
	for i, r := range roster.RolesReachingEveryStore {
		quoted[i] = "'" + string(r) + "'"
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}()
