package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rosterhq/roster"
)

const memberColumns = `m.org_id, m.user_id, m.role, m.status, m.created_at, m.updated_at`

func scanMembership(r rowScanner, extra ...any) (roster.Membership, error) {
	var m roster.Membership
	var created, updated int64
	err := r.Scan(append([]any{&m.OrgID, &m.UserID, &m.Role, &m.Status, &created, &updated}, extra...)...)
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return m, err
}

// AddMember inserts an organization membership; an existing one gives EAlreadyMember.
func (c *Conn) AddMember(ctx context.Context, m roster.Membership) error {
	_, err := c.exec(ctx, `INSERT INTO org_members (org_id, user_id, role, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		m.OrgID, m.UserID, m.Role, m.Status, micros(m.CreatedAt), micros(m.UpdatedAt))
	if IsUniqueViolation(err) {
		return roster.Errorf(roster.EAlreadyMember, "this person is already a member of the organization")
	}
	return err
}

// Membership returns a user's membership of an organization.
func (c *Conn) Membership(ctx context.Context, orgID, userID string) (roster.Membership, error) {
	m, err := scanMembership(c.queryRow(ctx, `SELECT `+memberColumns+` FROM org_members m WHERE m.org_id = ? AND m.user_id = ?`, orgID, userID))
	return m, notFound(err, "member")
}

// Owner returns the owner's membership of an organization.
func (c *Conn) Owner(ctx context.Context, orgID string) (roster.Membership, error) {
	m, err := scanMembership(c.queryRow(ctx, `SELECT `+memberColumns+` FROM org_members m WHERE m.org_id = ? AND m.role = 'owner'`, orgID))
	return m, notFound(err, "owner")
}

// SetMemberRole changes a member's organization role.
func (c *Conn) SetMemberRole(ctx context.Context, orgID, userID string, role roster.OrgRole, now time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE org_members SET role = ?, updated_at = ? WHERE org_id = ? AND user_id = ?`, role, micros(now), orgID, userID), "member")
}

// SetMemberStatus suspends or reactivates a membership.
func (c *Conn) SetMemberStatus(ctx context.Context, orgID, userID string, status roster.MembershipStatus, now time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE org_members SET status = ?, updated_at = ? WHERE org_id = ? AND user_id = ?`, status, micros(now), orgID, userID), "member")
}

// RemoveMember deletes a membership; the member's store memberships, API keys and other
// belongings in the organization go with it (foreign keys cascade).
func (c *Conn) RemoveMember(ctx context.Context, orgID, userID string) error {
	return notFound(c.execOne(ctx, `DELETE FROM org_members WHERE org_id = ? AND user_id = ?`, orgID, userID), "member")
}

// MemberFilter narrows a listing of an organization's members.
type MemberFilter struct {
	OrgID  string
	Query  string // part of a name or an address
	Role   roster.OrgRole
	Status roster.MembershipStatus
	Cursor string // user ID of the last member of the previous page
	Limit  int
}

// ListMembers lists an organization's members with their users, ordered by user ID (that is,
// by when the account was created), a page at a time.
func (c *Conn) ListMembers(ctx context.Context, f MemberFilter) ([]roster.Member, error) {
	q := `SELECT ` + memberColumns + `, ` + userColumns + ` FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? AND m.user_id > ?`
	args := []any{f.OrgID, f.Cursor}
	if f.Role != "" {
		q += ` AND m.role = ?`
		args = append(args, f.Role)
	}
	if f.Status != "" {
		q += ` AND m.status = ?`
		args = append(args, f.Status)
	}
	if f.Query != "" {
		q += ` AND (` + c.lower("u.name", f.Query) + ` LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\')`
		p := likePattern(f.Query)
		args = append(args, p, p)
	}
	q += ` ORDER BY m.user_id LIMIT ?`
	args = append(args, f.Limit)
	rows, err := c.query(ctx, q, args...)
	return scanAll(rows, err, scanMember)
}

func scanMember(r *sql.Rows) (roster.Member, error) {
	var mem roster.Member
	var verified sql.NullInt64
	var created, updated int64
	u := &mem.User
	m, err := scanMembership(r, &u.ID, &u.Email, &u.Name, &u.Locale, &u.Status, &u.Operator, &verified, &u.HasPassword, &created, &updated)
	u.EmailVerifiedAt, u.CreatedAt, u.UpdatedAt = fromNullMicros(verified), fromMicros(created), fromMicros(updated)
	mem.Membership = m
	return mem, err
}

// CountMembersByRole counts an organization's memberships by role; suspended ones are
// counted apart under the key "suspended".
func (c *Conn) CountMembersByRole(ctx context.Context, orgID string) (map[string]int, error) {
	rows, err := c.query(ctx, `SELECT CASE WHEN status = 'suspended' THEN 'suspended' ELSE role END, COUNT(*) FROM org_members WHERE org_id = ? GROUP BY 1`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, mapError(err)
		}
		out[k] = n
	}
	return out, mapError(rows.Err())
}

// Affiliations returns every organization a user belongs to, with their membership, in
// organization name order. Stores are not filled.
func (c *Conn) Affiliations(ctx context.Context, userID string) ([]roster.Affiliation, error) {
	rows, err := c.query(ctx, `SELECT `+orgColumns+`, `+memberColumns+` FROM org_members m JOIN organizations o ON o.id = m.org_id
		WHERE m.user_id = ? ORDER BY lower(o.name), o.id`, userID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.Affiliation, error) {
		var a roster.Affiliation
		var created, updated int64
		m := &a.Membership
		o, err := scanOrg(r, &m.OrgID, &m.UserID, &m.Role, &m.Status, &created, &updated)
		m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
		a.Organization = o
		return a, err
	})
}

// UserOwnedOrganizations returns the IDs of the organizations a user owns.
func (c *Conn) UserOwnedOrganizations(ctx context.Context, userID string) ([]string, error) {
	rows, err := c.query(ctx, `SELECT org_id FROM org_members WHERE user_id = ? AND role = 'owner' ORDER BY org_id`, userID)
	return scanAll(rows, err, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
}
