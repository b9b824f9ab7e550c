package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// SCIM directories, what they said about users, and their groups (migration 0043). None of
// these tables is an access table: memberships and roles change through org_members and
// store_members, by the same methods the console's changes use.

const directoryColumns = `id, org_id, name, created_by, token_created_at, last_used_at, created_at, updated_at`

func scanDirectory(r rowScanner, extra ...any) (roster.Directory, error) {
	var d roster.Directory
	var tokenAt, used, created, updated int64
	err := r.Scan(append([]any{&d.ID, &d.OrgID, &d.Name, &d.CreatedBy, &tokenAt, &used, &created, &updated}, extra...)...)
	d.TokenCreatedAt, d.CreatedAt, d.UpdatedAt = fromMicros(tokenAt), fromMicros(created), fromMicros(updated)
	if used != 0 {
		t := fromMicros(used)
		d.LastUsedAt = &t
	}
	return d, err
}

// InsertDirectory adds a SCIM directory with the hash of its token.
func (c *Conn) InsertDirectory(ctx context.Context, d roster.Directory, tokenHash string) error {
	_, err := c.exec(ctx, `INSERT INTO scim_directories (id, org_id, name, token_hash, created_by, token_created_at, last_used_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`, d.ID, d.OrgID, d.Name, tokenHash, d.CreatedBy, micros(d.TokenCreatedAt), micros(d.CreatedAt), micros(d.UpdatedAt))
	return mapError(err)
}

// Directory reads a SCIM directory.
func (c *Conn) Directory(ctx context.Context, id string) (roster.Directory, error) {
	d, err := scanDirectory(c.queryRow(ctx, `SELECT `+directoryColumns+` FROM scim_directories WHERE id = ?`, id))
	return d, notFound(err, "directory")
}

// DirectoryByToken reads the directory whose token has this SHA-256, with the stored hash
// (for a constant-time comparison).
func (c *Conn) DirectoryByToken(ctx context.Context, tokenHash string) (roster.Directory, string, error) {
	var hash string
	d, err := scanDirectory(c.queryRow(ctx, `SELECT `+directoryColumns+`, token_hash FROM scim_directories WHERE token_hash = ?`, tokenHash), &hash)
	return d, hash, notFound(err, "directory")
}

// ListDirectories lists an organization's directories, oldest first.
func (c *Conn) ListDirectories(ctx context.Context, orgID string) ([]roster.Directory, error) {
	rows, err := c.query(ctx, `SELECT `+directoryColumns+` FROM scim_directories WHERE org_id = ? ORDER BY id`, orgID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.Directory, error) { return scanDirectory(r) })
}

// SetDirectoryToken replaces a directory's token: the old one stops working at commit.
func (c *Conn) SetDirectoryToken(ctx context.Context, id, tokenHash string, now time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE scim_directories SET token_hash = ?, token_created_at = ?, updated_at = ? WHERE id = ?`,
		tokenHash, micros(now), micros(now), id), "directory")
}

// DeleteDirectory deletes a directory with what it said about users and its groups; the
// memberships it made stay.
func (c *Conn) DeleteDirectory(ctx context.Context, id string) error {
	return notFound(c.execOne(ctx, `DELETE FROM scim_directories WHERE id = ?`, id), "directory")
}

// MarkDirectoryUsed records that a directory's token was used, at most once a minute.
func (c *Conn) MarkDirectoryUsed(ctx context.Context, id string, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE scim_directories SET last_used_at = ? WHERE id = ? AND last_used_at < ?`,
		micros(now), id, micros(now.Add(-time.Minute)))
	return mapError(err)
}

// SCIMMember is a member of an organization as a directory sees it: the membership and user,
// and what the directory said about them (Link, nil when it said nothing).
type SCIMMember struct {
	roster.Member
	Link *roster.SCIMUser
}

const scimUserColumns = `su.user_name, su.external_id, su.attributes, su.created_account, su.created_at, su.updated_at, su.user_id IS NOT NULL`

func scanSCIMMember(dirID string) func(r *sql.Rows) (SCIMMember, error) {
	return func(r *sql.Rows) (SCIMMember, error) {
		var us userScan
		var name, ext, attrs sql.NullString
		var created sql.NullBool
		var at, up sql.NullInt64
		var linked bool
		m, err := scanMembership(r, append(us.dest(), &name, &ext, &attrs, &created, &at, &up, &linked)...)
		out := SCIMMember{Member: roster.Member{Membership: m, User: us.user()}}
		if linked {
			out.Link = &roster.SCIMUser{DirectoryID: dirID, OrgID: m.OrgID, UserID: m.UserID, UserName: name.String, ExternalID: ext.String,
				Attributes: attrs.String, CreatedAccount: created.Bool, CreatedAt: fromMicros(at.Int64), UpdatedAt: fromMicros(up.Int64)}
		}
		return out, err
	}
}

// SCIMMembers lists every member of an organization with what a directory said about them,
// by user ID.
func (c *Conn) SCIMMembers(ctx context.Context, orgID, dirID string) ([]SCIMMember, error) {
	rows, err := c.query(ctx, `SELECT `+memberColumns+`, `+userColumns+`, `+scimUserColumns+` FROM org_members m JOIN users u ON u.id = m.user_id
		LEFT JOIN scim_users su ON su.directory_id = ? AND su.user_id = m.user_id WHERE m.org_id = ? ORDER BY m.user_id`, dirID, orgID)
	return scanAll(rows, err, scanSCIMMember(dirID))
}

// SCIMMembersNamed lists the members a directory may know by a userName: those it gave that
// userName (in any case), and the one whose address it is (email, normalized; "" for none).
// The look-ups of identity providers (filter userName eq …) read these, not every member.
func (c *Conn) SCIMMembersNamed(ctx context.Context, orgID, dirID, userName, email string) ([]SCIMMember, error) {
	rows, err := c.query(ctx, `SELECT `+memberColumns+`, `+userColumns+`, `+scimUserColumns+` FROM org_members m JOIN users u ON u.id = m.user_id
		LEFT JOIN scim_users su ON su.directory_id = ? AND su.user_id = m.user_id
		WHERE m.org_id = ? AND m.user_id IN (SELECT k.user_id FROM scim_users k WHERE k.directory_id = ? AND k.user_name_key = ?
			UNION SELECT e.id FROM users e WHERE e.email = ?) ORDER BY m.user_id`, dirID, orgID, dirID, strings.ToLower(userName), email)
	return scanAll(rows, err, scanSCIMMember(dirID))
}

// SCIMMemberOf reads one member of an organization with what a directory said about them.
func (c *Conn) SCIMMemberOf(ctx context.Context, orgID, dirID, userID string) (SCIMMember, error) {
	rows, err := c.query(ctx, `SELECT `+memberColumns+`, `+userColumns+`, `+scimUserColumns+` FROM org_members m JOIN users u ON u.id = m.user_id
		LEFT JOIN scim_users su ON su.directory_id = ? AND su.user_id = m.user_id WHERE m.org_id = ? AND m.user_id = ?`, dirID, orgID, userID)
	all, err := scanAll(rows, err, scanSCIMMember(dirID))
	if err != nil {
		return SCIMMember{}, err
	}
	if len(all) == 0 {
		return SCIMMember{}, roster.NotFound("user")
	}
	return all[0], nil
}

// PutSCIMUser writes what a directory says about a user, replacing what it said before. A
// userName another member of the directory has gives a conflict.
func (c *Conn) PutSCIMUser(ctx context.Context, su roster.SCIMUser) error {
	_, err := c.exec(ctx, `INSERT INTO scim_users (directory_id, user_id, org_id, user_name, user_name_key, external_id, attributes, created_account, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (directory_id, user_id) DO UPDATE SET user_name = excluded.user_name,
		user_name_key = excluded.user_name_key, external_id = excluded.external_id, attributes = excluded.attributes,
		created_account = excluded.created_account, updated_at = excluded.updated_at`,
		su.DirectoryID, su.UserID, su.OrgID, su.UserName, strings.ToLower(su.UserName), su.ExternalID, su.Attributes, su.CreatedAccount,
		micros(su.CreatedAt), micros(su.UpdatedAt))
	if IsUniqueViolation(err) {
		return (&roster.Error{Code: roster.EConflict, Field: "userName", Message: "another user of this directory has this userName"})
	}
	return mapError(err)
}

// DeleteSCIMUser forgets what a directory said about a user, and their groups of it.
func (c *Conn) DeleteSCIMUser(ctx context.Context, dirID, userID string) error {
	if _, err := c.exec(ctx, `DELETE FROM scim_group_members WHERE user_id = ? AND group_id IN (SELECT id FROM scim_groups WHERE directory_id = ?)`,
		userID, dirID); err != nil {
		return mapError(err)
	}
	_, err := c.exec(ctx, `DELETE FROM scim_users WHERE directory_id = ? AND user_id = ?`, dirID, userID)
	return mapError(err)
}

// SCIMUserByName returns the user a directory gave a userName, member or not any more.
func (c *Conn) SCIMUserByName(ctx context.Context, dirID, userName string) (string, error) {
	var id string
	err := c.queryRow(ctx, `SELECT user_id FROM scim_users WHERE directory_id = ? AND user_name_key = ?`, dirID, strings.ToLower(userName)).Scan(&id)
	return id, notFound(err, "user")
}

const scimGroupColumns = `id, directory_id, org_id, display_name, external_id, org_role, store_id, role_id, created_at, updated_at`

func scanSCIMGroup(r rowScanner) (roster.SCIMGroup, error) {
	var g roster.SCIMGroup
	var created, updated int64
	err := r.Scan(&g.ID, &g.DirectoryID, &g.OrgID, &g.DisplayName, &g.ExternalID, &g.OrgRole, &g.StoreID, &g.RoleID, &created, &updated)
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	return g, err
}

func groupConflict(err error) error {
	if IsUniqueViolation(err) {
		return (&roster.Error{Code: roster.EConflict, Field: "displayName", Message: "this directory has a group of this name already"})
	}
	return mapError(err)
}

// InsertSCIMGroup adds a group to a directory.
func (c *Conn) InsertSCIMGroup(ctx context.Context, g roster.SCIMGroup) error {
	_, err := c.exec(ctx, `INSERT INTO scim_groups (`+scimGroupColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ID, g.DirectoryID, g.OrgID, g.DisplayName, g.ExternalID, g.OrgRole, g.StoreID, g.RoleID, micros(g.CreatedAt), micros(g.UpdatedAt))
	return groupConflict(err)
}

// UpdateSCIMGroup writes a group's name, external ID and mapping.
func (c *Conn) UpdateSCIMGroup(ctx context.Context, g roster.SCIMGroup) error {
	err := c.execOne(ctx, `UPDATE scim_groups SET display_name = ?, external_id = ?, org_role = ?, store_id = ?, role_id = ?, updated_at = ? WHERE id = ?`,
		g.DisplayName, g.ExternalID, g.OrgRole, g.StoreID, g.RoleID, micros(g.UpdatedAt), g.ID)
	return notFound(groupConflict(err), "group")
}

// DeleteSCIMGroup deletes a group and its memberships.
func (c *Conn) DeleteSCIMGroup(ctx context.Context, id string) error {
	return notFound(c.execOne(ctx, `DELETE FROM scim_groups WHERE id = ?`, id), "group")
}

// SCIMGroup reads a group.
func (c *Conn) SCIMGroup(ctx context.Context, id string) (roster.SCIMGroup, error) {
	g, err := scanSCIMGroup(c.queryRow(ctx, `SELECT `+scimGroupColumns+` FROM scim_groups WHERE id = ?`, id))
	return g, notFound(err, "group")
}

// ListSCIMGroups lists a directory's groups by ID.
func (c *Conn) ListSCIMGroups(ctx context.Context, dirID string) ([]roster.SCIMGroup, error) {
	rows, err := c.query(ctx, `SELECT `+scimGroupColumns+` FROM scim_groups WHERE directory_id = ? ORDER BY id`, dirID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.SCIMGroup, error) { return scanSCIMGroup(r) })
}

// SCIMGroupMember is one membership of a directory's group.
type SCIMGroupMember struct{ GroupID, UserID string }

// SCIMGroupMembers lists the memberships of a directory's groups whose users are members of
// the organization, by group then user.
func (c *Conn) SCIMGroupMembers(ctx context.Context, orgID, dirID string) ([]SCIMGroupMember, error) {
	rows, err := c.query(ctx, `SELECT gm.group_id, gm.user_id FROM scim_group_members gm JOIN scim_groups g ON g.id = gm.group_id
		JOIN org_members m ON m.org_id = ? AND m.user_id = gm.user_id WHERE g.directory_id = ? ORDER BY gm.group_id, gm.user_id`, orgID, dirID)
	return scanAll(rows, err, func(r *sql.Rows) (SCIMGroupMember, error) {
		var m SCIMGroupMember
		return m, r.Scan(&m.GroupID, &m.UserID)
	})
}

// AddSCIMGroupMember puts a user in a group; already there is no change.
func (c *Conn) AddSCIMGroupMember(ctx context.Context, groupID, userID string) error {
	_, err := c.exec(ctx, `INSERT INTO scim_group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT (group_id, user_id) DO NOTHING`, groupID, userID)
	return mapError(err)
}

// RemoveSCIMGroupMember takes a user out of a group.
func (c *Conn) RemoveSCIMGroupMember(ctx context.Context, groupID, userID string) error {
	_, err := c.exec(ctx, `DELETE FROM scim_group_members WHERE group_id = ? AND user_id = ?`, groupID, userID)
	return mapError(err)
}
