package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

const userColumns = `u.id, u.email, u.name, u.locale, u.status, u.is_operator, u.email_verified_at, u.password_hash IS NOT NULL, u.created_at, u.updated_at, u.last_active_at`

type rowScanner interface{ Scan(dest ...any) error }

// userScan receives the userColumns of a row, among other columns: every reading of a user
// scans through it, so a new column is added in one place.
type userScan struct {
	u                roster.User
	verified, active sql.NullInt64
	created, updated int64
}

// dest is where the userColumns go, in their order.
func (s *userScan) dest() []any {
	u := &s.u
	return []any{&u.ID, &u.Email, &u.Name, &u.Locale, &u.Status, &u.Operator, &s.verified, &u.HasPassword, &s.created, &s.updated, &s.active}
}

// user is the user scanned.
func (s *userScan) user() roster.User {
	u := s.u
	u.EmailVerifiedAt, u.CreatedAt, u.UpdatedAt, u.LastActiveAt = fromNullMicros(s.verified), fromMicros(s.created), fromMicros(s.updated), fromNullMicros(s.active)
	return u
}

func scanUser(r rowScanner) (roster.User, error) {
	var s userScan
	err := r.Scan(s.dest()...)
	return s.user(), err
}

func scanUserRows(rows *sql.Rows) (roster.User, error) { return scanUser(rows) }

// CreateUser inserts a user; passwordHash may be "" for a user who has not chosen one yet.
// An address already taken gives EUserExists.
func (c *Conn) CreateUser(ctx context.Context, u roster.User, passwordHash string) error {
	c.touch("u:" + u.ID)
	_, err := c.exec(ctx, `INSERT INTO users (id, email, name, password_hash, locale, status, is_operator, email_verified_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, nullString(passwordHash), u.Locale, u.Status, u.Operator, nullMicros(u.EmailVerifiedAt), micros(u.CreatedAt), micros(u.UpdatedAt))
	if IsUniqueViolation(err) {
		return roster.Errorf(roster.EUserExists, "an account with this email address already exists")
	}
	return err
}

// User returns a user by ID.
func (c *Conn) User(ctx context.Context, id string) (roster.User, error) {
	u, err := scanUser(c.queryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id))
	return u, notFound(err, "user")
}

// LockUser reads a user and, on PostgreSQL, locks their row until the transaction ends.
// Deactivating a user and making a user an owner both take this lock, so that a
// deactivated user never ends up owning an organization.
func (c *Conn) LockUser(ctx context.Context, id string) (roster.User, error) {
	u, err := scanUser(c.queryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`+c.forUpdate(), id))
	return u, notFound(err, "user")
}

// UserByEmail returns a user by normalized address, with their password hash ("" if none).
func (c *Conn) UserByEmail(ctx context.Context, email string) (roster.User, string, error) {
	var hash sql.NullString
	row := c.queryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.email = ?`, email)
	var us userScan
	err := row.Scan(append(us.dest(), &hash)...)
	return us.user(), hash.String, notFound(err, "user")
}

// PasswordHash returns a user's password hash, "" when they have none.
func (c *Conn) PasswordHash(ctx context.Context, userID string) (string, error) {
	var hash sql.NullString
	err := c.queryRow(ctx, `SELECT password_hash FROM users WHERE id = ?`, userID).Scan(&hash)
	return hash.String, notFound(mapError(err), "user")
}

// UpdateUserProfile sets a user's name and locale.
func (c *Conn) UpdateUserProfile(ctx context.Context, id, name, locale string, now time.Time) error {
	c.touchNothing()
	return notFound(c.execOne(ctx, `UPDATE users SET name = ?, locale = ?, updated_at = ? WHERE id = ?`, name, locale, micros(now), id), "user")
}

// SetPasswordHash replaces a user's password hash.
func (c *Conn) SetPasswordHash(ctx context.Context, id, hash string, now time.Time) error {
	c.touchNothing()
	return notFound(c.execOne(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, micros(now), id), "user")
}

// SetUserStatus activates or deactivates a user.
func (c *Conn) SetUserStatus(ctx context.Context, id string, status roster.UserStatus, now time.Time) error {
	c.touch("u:" + id)
	return notFound(c.execOne(ctx, `UPDATE users SET status = ?, updated_at = ? WHERE id = ?`, status, micros(now), id), "user")
}

// SetUserOperator grants or withdraws instance-wide rights.
func (c *Conn) SetUserOperator(ctx context.Context, id string, operator bool, now time.Time) error {
	c.touch("u:" + id)
	return notFound(c.execOne(ctx, `UPDATE users SET is_operator = ?, updated_at = ? WHERE id = ?`, operator, micros(now), id), "user")
}

// SetEmailVerified marks a user's current address as proved.
func (c *Conn) SetEmailVerified(ctx context.Context, id string, now time.Time) error {
	c.touchNothing()
	return notFound(c.execOne(ctx, `UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?), updated_at = ? WHERE id = ?`, micros(now), micros(now), id), "user")
}

// SetUserEmail changes a user's address, verified by the change itself. A taken address
// gives EUserExists.
func (c *Conn) SetUserEmail(ctx context.Context, id, email string, now time.Time) error {
	c.touchNothing()
	err := c.execOne(ctx, `UPDATE users SET email = ?, email_verified_at = ?, updated_at = ? WHERE id = ?`, email, micros(now), micros(now), id)
	if IsUniqueViolation(err) {
		return roster.Errorf(roster.EUserExists, "an account with this email address already exists")
	}
	return notFound(err, "user")
}

// SetActiveSelection remembers the organization and store a user last chose in the console.
func (c *Conn) SetActiveSelection(ctx context.Context, userID, orgID, storeID string) error {
	c.touchNothing()
	_, err := c.exec(ctx, `UPDATE users SET active_org_id = ?, active_store_id = ? WHERE id = ?`, nullString(orgID), nullString(storeID), userID)
	return err
}

// ActiveSelection returns the organization and store a user last chose ("" when none).
func (c *Conn) ActiveSelection(ctx context.Context, userID string) (orgID, storeID string, err error) {
	var o, s sql.NullString
	err = c.queryRow(ctx, `SELECT active_org_id, active_store_id FROM users WHERE id = ?`, userID).Scan(&o, &s)
	return o.String, s.String, notFound(mapError(err), "user")
}

// CountOperators returns how many users have instance-wide rights.
func (c *Conn) CountOperators(ctx context.Context) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE is_operator`).Scan(&n)
	return n, mapError(err)
}

// UserFilter narrows the operator's listing of users.
type UserFilter struct {
	Query  string // part of a name or address
	Status roster.UserStatus
	Cursor string // ID of the last user of the previous page
	Limit  int
}

// ListUsers lists users in creation order.
func (c *Conn) ListUsers(ctx context.Context, f UserFilter) ([]roster.User, error) {
	where := func(cursor string) (string, []any) {
		w, args := `u.id > ?`, []any{cursor}
		if f.Status != "" {
			w += ` AND u.status = ?`
			args = append(args, f.Status)
		}
		return w, args
	}
	if c.indexedSearch(f.Query) {
		return windowedSearch(ctx, c, userSearch{cols: userColumns, table: "users", alias: "u", key: "u.id", where: where},
			f.Query, f.Cursor, f.Limit, scanUserRows)
	}
	w, args := where(f.Cursor)
	if f.Query != "" {
		like, likeArgs := c.userLike(f.Query)
		w += ` AND ` + like
		args = c.planEach(append(args, likeArgs...))
	}
	rows, err := c.query(ctx, `SELECT `+userColumns+` FROM users u WHERE `+w+` ORDER BY u.id LIMIT ?`, append(args, f.Limit)...)
	return scanAll(rows, err, scanUserRows)
}

// lower returns the SQL that lower-cases a text column to search it for query. SQLite's own
// lower() knows only ASCII ("Élise" stays "Élise", and no search for "élise" finds her), so
// on SQLite a query with other letters uses roster_lower, which lower-cases as Go does
// (registered in db.go). It costs a Go call per row, so ASCII queries keep lower().
func (c *Conn) lower(column, query string) string {
	if c.engine == SQLite && !isASCII(query) {
		return "roster_lower(" + column + ")"
	}
	return "lower(" + column + ")"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// likePattern turns a search text into a lower-case LIKE pattern matching it anywhere.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// notFound turns "no rows" into the roster error for the named thing.
func notFound(err error, what string) error {
	if IsNotFound(err) {
		return roster.NotFound(what)
	}
	return mapError(err)
}
