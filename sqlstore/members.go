package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
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
	c.touch("m:" + m.OrgID + ":" + m.UserID)
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
	c.touch("m:" + orgID + ":" + userID)
	return notFound(c.execOne(ctx, `UPDATE org_members SET role = ?, updated_at = ? WHERE org_id = ? AND user_id = ?`, role, micros(now), orgID, userID), "member")
}

// SetMemberStatus suspends or reactivates a membership.
func (c *Conn) SetMemberStatus(ctx context.Context, orgID, userID string, status roster.MembershipStatus, now time.Time) error {
	c.touch("m:" + orgID + ":" + userID)
	return notFound(c.execOne(ctx, `UPDATE org_members SET status = ?, updated_at = ? WHERE org_id = ? AND user_id = ?`, status, micros(now), orgID, userID), "member")
}

// RemoveMember deletes a membership; the member's store memberships, API keys and other
// belongings in the organization go with it (foreign keys cascade).
func (c *Conn) RemoveMember(ctx context.Context, orgID, userID string) error {
	c.touch("m:" + orgID + ":" + userID)
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
	// Details fills each member's StoreNames and TwoFactor — the members table's "stores"
	// and "2FA" columns — with one more query for the page (memberDetails).
	Details bool
}

// ListMembers lists an organization's members with their users, ordered by user ID (that is,
// by when the account was created), a page at a time.
func (c *Conn) ListMembers(ctx context.Context, f MemberFilter) ([]roster.Member, error) {
	members, err := c.listMembers(ctx, f)
	if err != nil || !f.Details {
		return members, err
	}
	return members, c.memberDetails(ctx, f.OrgID, members)
}

func (c *Conn) listMembers(ctx context.Context, f MemberFilter) ([]roster.Member, error) {
	cols, scan := memberColumns+`, `+userColumns, newMemberScan().scan
	if c.indexedSearch(f.Query) {
		return windowedSearch(ctx, c, userSearch{cols: cols, table: "org_members", alias: "m",
			join: ` JOIN users u ON u.id = m.user_id`, key: "m.user_id",
			where: func(cursor string) (string, []any) { g := f; g.Cursor = cursor; return memberWhere(g) },
		}, f.Query, f.Cursor, f.Limit, scan)
	}
	where, args := memberWhere(f)
	if f.Query == "" {
		// The page of memberships is read first and joined to users after: joined from the
		// start, PostgreSQL merged the users' primary key from its first row to the cursor
		// (275 ms for page 1,000 of a 100,000-member organization; BENCHMARKS.md).
		rows, err := c.query(ctx, `SELECT `+cols+` FROM (SELECT * FROM org_members m WHERE `+where+`
			ORDER BY m.user_id LIMIT ?) m JOIN users u ON u.id = m.user_id ORDER BY m.user_id`, append(args, f.Limit)...)
		return scanAllN(rows, err, f.Limit, scan)
	}
	if f.Query != "" {
		// On PostgreSQL the pg_trgm indexes of migration 0010 serve this LIKE, when the plan
		// knows the pattern (planEach): a cached generic plan scanned the organization.
		like, likeArgs := c.userLike(f.Query)
		where += ` AND ` + like
		args = c.planEach(append(args, likeArgs...))
	}
	rows, err := c.query(ctx, `SELECT `+cols+` FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE `+where+` ORDER BY m.user_id LIMIT ?`, append(args, f.Limit)...)
	return scanAllN(rows, err, f.Limit, scan)
}

// memberDetails fills MemberFilter.Details of a page of members in one query: the names of
// the active stores of the organization in which each holds a store role of their own, in
// name order, and whether each has a second factor (secondFactorOf). As one query with a
// subquery per row, PostgreSQL spent twice the time on the page (BENCHMARKS.md).
func (c *Conn) memberDetails(ctx context.Context, orgID string, members []roster.Member) error {
	if len(members) == 0 {
		return nil
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	// The page's IDs are one argument, a JSON array: as an argument per ID to each IN, their
	// encoding was a third of the garbage a page made on PostgreSQL, and as a VALUES list
	// SQLite compiled the statement again for each page (its plans depend on the values
	// bound) at a fifth of the page's CPU.
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	page := `SELECT json_array_elements_text(?::json)`
	if c.engine == SQLite {
		page = `SELECT value FROM json_each(?)`
	}
	rows, err := c.query(ctx, `SELECT sm.user_id, s.name, lower(s.name), s.id FROM store_members sm JOIN stores s ON s.id = sm.store_id
		WHERE sm.org_id = ? AND s.status = 'active' AND sm.user_id IN (`+page+`)
		UNION ALL `+secondFactorOf(page, `NULL, NULL, NULL`)+`
		ORDER BY 1, 3, 4`, orgID, string(list), string(list), string(list))
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	at := make(map[string]*roster.Member, len(members))
	for i := range members {
		at[members[i].UserID] = &members[i]
	}
	for rows.Next() {
		var user string
		var name, key, id sql.NullString
		if err := rows.Scan(&user, &name, &key, &id); err != nil {
			return mapError(err)
		}
		m := at[user]
		switch {
		case m == nil:
		case name.Valid:
			m.StoreNames = append(m.StoreNames, name.String)
		default:
			m.TwoFactor = true
		}
	}
	return mapError(rows.Err())
}

// memberScan reads the rows of a listing of members into destinations made once for all of
// them (a page of 50 made 1 KB of garbage a row otherwise).
type memberScan struct {
	mem              roster.Membership
	created, updated int64
	us               userScan
	dest             []any
}

// newMemberScan reads memberColumns, then userColumns.
func newMemberScan() *memberScan {
	s := &memberScan{}
	m := &s.mem
	s.dest = append([]any{&m.OrgID, &m.UserID, &m.Role, &m.Status, &s.created, &s.updated}, s.us.dest()...)
	return s
}

// scan reads one row; every destination is written by each Scan.
func (s *memberScan) scan(r *sql.Rows) (roster.Member, error) {
	if err := r.Scan(s.dest...); err != nil {
		return roster.Member{}, err
	}
	mem := roster.Member{Membership: s.mem, User: s.us.user()}
	mem.CreatedAt, mem.UpdatedAt = fromMicros(s.created), fromMicros(s.updated)
	return mem, nil
}

// searchWindow is how many rows a search on SQLite reads in order before it turns to the
// trigram index. A text most people share (their company's domain, say) fills a page within
// the first few dozen, where the index would first gather every match in the instance; a
// rarer text is then found through the index instead of a scan.
const searchWindow = 1000

// userSearch is a listing of users, or of rows joined to their users, in the order of a key,
// as windowedSearch narrows it to those whose name or address holds a text.
type userSearch struct {
	cols  string                              // the columns selected
	table string                              // the table listed, "org_members" or "users"
	alias string                              // its alias, "m" or "u"
	join  string                              // the join to users (u), when the table is not users
	key   string                              // the column of the order and the cursor
	where func(cursor string) (string, []any) // the listing's own conditions after a cursor
}

// windowedSearch is a search on SQLite: a scan of the first searchWindow rows after the
// cursor, then, if the page is not full, the trigram index of migration 0010 for the rows
// after that window. Texts shorter than a trigram never come here.
func windowedSearch[T any](ctx context.Context, c *Conn, s userSearch, text, cursor string, limit int, scan func(*sql.Rows) (T, error)) ([]T, error) {
	where, args := s.where(cursor)
	like, likeArgs := c.userLike(text)
	rows, err := c.query(ctx, `SELECT `+s.cols+` FROM (SELECT * FROM `+s.table+` `+s.alias+` WHERE `+where+` ORDER BY `+s.key+` LIMIT ?) `+s.alias+s.join+`
		WHERE `+like+` ORDER BY `+s.key+` LIMIT ?`, append(append(append(args, searchWindow), likeArgs...), limit)...)
	found, err := scanAll(rows, err, scan)
	if err != nil || len(found) == limit {
		return found, err
	}
	var windowEnd string
	err = c.queryRow(ctx, `SELECT `+s.key+` FROM `+s.table+` `+s.alias+` WHERE `+where+` ORDER BY `+s.key+` LIMIT 1 OFFSET ?`,
		append(args, searchWindow-1)...).Scan(&windowEnd)
	if IsNotFound(err) {
		return found, nil // the window held every row left
	} else if err != nil {
		return nil, mapError(err)
	}
	where, args = s.where(windowEnd)
	// The trigram tokenizer folds case itself, Unicode included.
	rows, err = c.query(ctx, `SELECT `+s.cols+` FROM `+s.table+` `+s.alias+s.join+`
		WHERE `+where+` AND `+s.key+` IN (SELECT k.user_id FROM user_search s JOIN user_search_keys k ON k.key = s.rowid WHERE user_search MATCH ?)
		ORDER BY `+s.key+` LIMIT ?`, append(args, ftsPhrase(text), limit-len(found))...)
	more, err := scanAll(rows, err, scan)
	return append(found, more...), err
}

// indexedSearch reports whether a search goes through windowedSearch: on SQLite, for a text
// of a trigram or more.
func (c *Conn) indexedSearch(text string) bool {
	return c.engine == SQLite && utf8.RuneCountInString(text) >= 3
}

// memberWhere selects f's memberships after its cursor, whatever their search.
func memberWhere(f MemberFilter) (string, []any) {
	where := `m.org_id = ? AND m.user_id > ?`
	args := []any{f.OrgID, f.Cursor}
	if f.Role != "" {
		where += ` AND m.role = ?`
		args = append(args, f.Role)
	}
	if f.Status != "" {
		where += ` AND m.status = ?`
		args = append(args, f.Status)
	}
	return where, args
}

// planEach makes PostgreSQL plan a query with its arguments' values rather than reuse a
// cached generic plan: a LIKE pattern must be seen to pick a trigram index.
func (c *Conn) planEach(args []any) []any {
	if c.engine == Postgres {
		return append([]any{pgx.QueryExecModeExec}, args...)
	}
	return args
}

// userLike matches users (u) whose name or address holds the text, by a scan or, on
// PostgreSQL, the pg_trgm indexes.
func (c *Conn) userLike(text string) (string, []any) {
	p := likePattern(text)
	return `(` + c.lower("u.name", text) + ` LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\')`, []any{p, p}
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

// UserOrganizationIDs returns the IDs of the organizations a user is a member of, suspended or not.
func (c *Conn) UserOrganizationIDs(ctx context.Context, userID string) ([]string, error) {
	rows, err := c.query(ctx, `SELECT org_id FROM org_members WHERE user_id = ?`, userID)
	return scanAll(rows, err, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
}

// EveryUsersOrganizations returns, for every user who is a member of an organization,
// suspended or not, the IDs of those organizations: UserOrganizationIDs of everyone at once.
// Each organization ID is one string, shared by every list it is in.
func (c *Conn) EveryUsersOrganizations(ctx context.Context) (map[string][]string, error) {
	rows, err := c.query(ctx, `SELECT user_id, org_id FROM org_members`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out, orgs := map[string][]string{}, map[string]string{}
	for rows.Next() {
		var user, org string
		if err := rows.Scan(&user, &org); err != nil {
			return nil, mapError(err)
		}
		if o, ok := orgs[org]; ok {
			org = o
		} else {
			orgs[org] = org
		}
		out[user] = append(out[user], org)
	}
	return out, mapError(rows.Err())
}

// UserOwnedOrganizations returns the IDs of the organizations a user owns.
func (c *Conn) UserOwnedOrganizations(ctx context.Context, userID string) ([]string, error) {
	rows, err := c.query(ctx, `SELECT org_id FROM org_members WHERE user_id = ? AND role = 'owner' ORDER BY org_id`, userID)
	return scanAll(rows, err, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
}

// ftsPhrase quotes a search text as one FTS5 phrase: with the trigram tokenizer, a phrase
// matches where the text appears anywhere in a column, as LIKE '%text%' does.
func ftsPhrase(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// MemberAccess is a membership with what access needs of its user, as OrganizationAccess reads it.
type MemberAccess struct {
	roster.Membership
	UserStatus roster.UserStatus
	Operator   bool
}

// OrganizationAccess reads an organization's access at once, for the access index to hold it
// whole: every membership with its user's status, and every store membership (store, user and
// role only). When the organization has more than limit members it reads no further and
// whole is false.
func (c *Conn) OrganizationAccess(ctx context.Context, orgID string, limit int) (members []MemberAccess, stores []roster.StoreMembership, whole bool, err error) {
	rows, err := c.query(ctx, `SELECT `+memberColumns+`, u.status, u.is_operator FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? LIMIT ?`, orgID, limit+1)
	members, err = scanAll(rows, err, func(r *sql.Rows) (MemberAccess, error) {
		var m MemberAccess
		var err error
		m.Membership, err = scanMembership(r, &m.UserStatus, &m.Operator)
		return m, err
	})
	if err != nil || len(members) > limit {
		return nil, nil, false, err
	}
	rows, err = c.query(ctx, `SELECT sm.store_id, sm.user_id, sm.role_id FROM store_members sm WHERE sm.org_id = ?`, orgID)
	stores, err = scanAll(rows, err, func(r *sql.Rows) (roster.StoreMembership, error) {
		sm := roster.StoreMembership{OrgID: orgID}
		return sm, r.Scan(&sm.StoreID, &sm.UserID, &sm.RoleID)
	})
	return members, stores, err == nil, err
}

// MembershipCount is how many memberships all organizations have together.
func (c *Conn) MembershipCount(ctx context.Context) (int64, error) {
	var n int64
	err := c.queryRow(ctx, `SELECT count(*) FROM org_members`).Scan(&n)
	return n, err
}
