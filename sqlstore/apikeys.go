package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

const apiKeyColumns = `k.id, k.org_id, k.user_id, k.store_id, k.role_id, k.org_role, k.name, k.created_by, k.created_at, k.expires_at, k.last_used_at, k.revoked_at` // #nosec G101 -- column names, no secret

func scanAPIKey(r rowScanner, extra ...any) (roster.APIKey, error) {
	var k roster.APIKey
	var store sql.NullString
	var created int64
	var expires, used, revoked sql.NullInt64
	err := r.Scan(append([]any{&k.ID, &k.OrgID, &k.UserID, &store, &k.RoleID, &k.OrgRole, &k.Name, &k.CreatedBy, &created, &expires, &used, &revoked}, extra...)...)
	k.StoreID, k.CreatedAt = store.String, fromMicros(created)
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromNullMicros(expires), fromNullMicros(used), fromNullMicros(revoked)
	return k, err
}

// CreateAPIKey stores an API key under the hash of its secret. It fails with ENotMember when
// its owner is not a member of the organization, and ENotFound when the store is not one of
// the organization's.
func (c *Conn) CreateAPIKey(ctx context.Context, k roster.APIKey, secretHash string) error {
	c.touch("k:" + k.ID)
	_, err := c.exec(ctx, `INSERT INTO api_keys (id, org_id, user_id, store_id, role_id, org_role, name, secret_hash, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.OrgID, k.UserID, nullString(k.StoreID), k.RoleID, k.OrgRole, k.Name, secretHash, k.CreatedBy, micros(k.CreatedAt), nullMicros(k.ExpiresAt))
	if IsViolation(err, violationForeignKey) {
		return roster.Errorf(roster.ENotMember, "an API key belongs to a member of the organization, in one of its stores")
	}
	return err
}

// APIKey returns one API key of an organization.
func (c *Conn) APIKey(ctx context.Context, orgID, id string) (roster.APIKey, error) {
	k, err := scanAPIKey(c.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys k WHERE k.org_id = ? AND k.id = ?`, orgID, id))
	return k, notFound(err, "API key")
}

// APIKeyByID returns an API key with the hash of its secret, for authentication.
func (c *Conn) APIKeyByID(ctx context.Context, id string) (roster.APIKey, string, error) {
	var hash string
	k, err := scanAPIKey(c.queryRow(ctx, `SELECT `+apiKeyColumns+`, k.secret_hash FROM api_keys k WHERE k.id = ?`, id), &hash)
	return k, hash, notFound(err, "API key")
}

// APIKeyFilter narrows a listing of an organization's API keys.
type APIKeyFilter struct {
	OrgID string
	// Visible, when not nil, keeps only keys of these stores or owned by OwnerID: what a
	// store admin sees. Nil lists every key of the organization.
	Visible *APIKeyVisibility
	Cursor  string // ID of the last key of the previous page
	Limit   int
}

// APIKeyVisibility is the part of an organization's keys that an actor without the
// organization-wide right sees: the keys of the stores they manage, and their own (OwnerID,
// "" for none).
type APIKeyVisibility struct {
	StoreIDs []string
	OwnerID  string
}

// ListAPIKeys lists an organization's API keys, newest first, a page at a time.
func (c *Conn) ListAPIKeys(ctx context.Context, f APIKeyFilter) ([]roster.APIKey, error) {
	q := `SELECT ` + apiKeyColumns + ` FROM api_keys k WHERE k.org_id = ?`
	args := []any{f.OrgID}
	if f.Cursor != "" {
		q += ` AND k.id < ?`
		args = append(args, f.Cursor)
	}
	if v := f.Visible; v != nil {
		q += ` AND (1 = 0`
		if v.OwnerID != "" {
			q += ` OR k.user_id = ?`
			args = append(args, v.OwnerID)
		}
		if len(v.StoreIDs) > 0 {
			q += ` OR k.store_id IN (` + placeholders(len(v.StoreIDs)) + `)`
			for _, id := range v.StoreIDs {
				args = append(args, id)
			}
		}
		q += `)`
	}
	q += ` ORDER BY k.id DESC LIMIT ?`
	rows, err := c.query(ctx, q, append(args, f.Limit)...)
	return scanAll(rows, err, func(r *sql.Rows) (roster.APIKey, error) { return scanAPIKey(r) })
}

// RevokeAPIKey stops an API key at once. A key already revoked gives EConflict.
func (c *Conn) RevokeAPIKey(ctx context.Context, orgID, id string, now time.Time) error {
	c.touch("k:" + id)
	err := c.execOne(ctx, `UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL`, micros(now), orgID, id)
	if IsNotFound(err) {
		if _, err := c.APIKey(ctx, orgID, id); err != nil {
			return err
		}
		return roster.Errorf(roster.EConflict, "this API key is already revoked")
	}
	return err
}

// RevokeUserAPIKeys revokes every live (neither revoked nor expired) API key of a user, in
// every organization, and returns them.
func (c *Conn) RevokeUserAPIKeys(ctx context.Context, userID string, now time.Time) ([]roster.APIKey, error) {
	rows, err := c.query(ctx, `UPDATE api_keys SET revoked_at = ?
		WHERE user_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
		RETURNING `+strings.ReplaceAll(apiKeyColumns, "k.", ""), micros(now), userID, micros(now))
	return scanAll(rows, err, func(r *sql.Rows) (roster.APIKey, error) { return scanAPIKey(r) })
}

// RecordAPIKeyRequest appends a request to a key's log, counts it in the organization's
// monthly usage and records when the key was last used, in one statement batch.
func (c *Conn) RecordAPIKeyRequest(ctx context.Context, r roster.APIKeyRequest) error {
	if _, err := c.exec(ctx, `INSERT INTO api_key_requests (id, key_id, org_id, at, method, path, status, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.KeyID, r.OrgID, micros(r.At), r.Method, r.Path, r.Status, r.IP); err != nil {
		return err
	}
	if _, err := c.exec(ctx, `INSERT INTO api_usage (org_id, month, requests) VALUES (?, ?, 1)
		ON CONFLICT (org_id, month) DO UPDATE SET requests = api_usage.requests + 1`, r.OrgID, Month(r.At)); err != nil {
		return err
	}
	c.touchNothing()
	_, err := c.exec(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, micros(r.At), r.KeyID)
	return err
}

// Month returns the calendar month of t in UTC as YYYYMM, the key of monthly counters.
func Month(t time.Time) int {
	t = t.UTC()
	return t.Year()*100 + int(t.Month())
}

// APIKeyRequests lists a key's requests, newest first, a page at a time.
func (c *Conn) APIKeyRequests(ctx context.Context, keyID, cursor string, limit int) ([]roster.APIKeyRequest, error) {
	q := `SELECT id, key_id, org_id, at, method, path, status, ip FROM api_key_requests WHERE key_id = ?`
	args := []any{keyID}
	if cursor != "" {
		q += ` AND id < ?`
		args = append(args, cursor)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	rows, err := c.query(ctx, q, append(args, limit)...)
	return scanAll(rows, err, func(r *sql.Rows) (roster.APIKeyRequest, error) {
		var q roster.APIKeyRequest
		var at int64
		err := r.Scan(&q.ID, &q.KeyID, &q.OrgID, &at, &q.Method, &q.Path, &q.Status, &q.IP)
		q.At = fromMicros(at)
		return q, err
	})
}

// DeleteAPIKeyRequestsBefore prunes up to limit log entries older than a time and returns how
// many went; callers repeat until fewer than limit go, so no single statement runs long.
func (c *Conn) DeleteAPIKeyRequestsBefore(ctx context.Context, before time.Time, limit int) (int64, error) {
	res, err := c.exec(ctx, `DELETE FROM api_key_requests WHERE id IN (SELECT id FROM api_key_requests WHERE at < ? LIMIT ?)`, micros(before), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}

// APIRequestsInMonth returns the requests made with an organization's keys in a month (YYYYMM).
func (c *Conn) APIRequestsInMonth(ctx context.Context, orgID string, month int) (int64, error) {
	var n int64
	err := c.queryRow(ctx, `SELECT COALESCE(SUM(requests), 0) FROM api_usage WHERE org_id = ? AND month = ?`, orgID, month).Scan(&n)
	return n, mapError(err)
}

// CountPendingInvitations counts an organization's pending invitations not yet expired.
func (c *Conn) CountPendingInvitations(ctx context.Context, orgID string, now time.Time) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM invitations WHERE org_id = ? AND status = 'pending' AND expires_at > ?`, orgID, micros(now)).Scan(&n)
	return n, mapError(err)
}

// EmailsSentBetween counts an organization's emails that the outbox worker sent in [from, to).
func (c *Conn) EmailsSentBetween(ctx context.Context, orgID string, from, to time.Time) (int64, error) {
	var n int64
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE org_id = ? AND status = 'sent' AND sent_at >= ? AND sent_at < ?`,
		orgID, micros(from), micros(to)).Scan(&n)
	return n, mapError(err)
}

// RoleHolders lists what holds a store role in an organization: store memberships, live
// API keys and pending invitations (expired or not: a resend renews them), by kind.
func (c *Conn) RoleHolders(ctx context.Context, orgID, roleID string) ([]roster.RoleHolder, error) {
	rows, err := c.query(ctx, `SELECT 'store_member', user_id, store_id, '', '' FROM store_members WHERE org_id = ? AND role_id = ?
		UNION ALL
		SELECT 'api_key', user_id, COALESCE(store_id, ''), id, '' FROM api_keys WHERE org_id = ? AND role_id = ? AND revoked_at IS NULL
		UNION ALL
		SELECT 'invitation', '', s.store_id, '', s.invitation_id FROM invitation_stores s JOIN invitations i ON i.id = s.invitation_id
			WHERE s.org_id = ? AND s.role_id = ? AND i.status = 'pending'
		ORDER BY 1 DESC, 2, 3, 4, 5`, orgID, roleID, orgID, roleID, orgID, roleID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.RoleHolder, error) {
		var h roster.RoleHolder
		return h, r.Scan(&h.Kind, &h.UserID, &h.StoreID, &h.APIKeyID, &h.InvitationID)
	})
}

// ReplaceRole gives every store membership, API key and invitation holding a store role
// another role, and returns how many changed.
func (c *Conn) ReplaceRole(ctx context.Context, orgID, roleID, replacementID string, now time.Time) (int64, error) {
	c.touch("o:" + orgID)
	res, err := c.exec(ctx, `UPDATE store_members SET role_id = ?, updated_at = ? WHERE org_id = ? AND role_id = ?`, replacementID, micros(now), orgID, roleID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapError(err)
	}
	c.touch("o:" + orgID)
	res, err = c.exec(ctx, `UPDATE api_keys SET role_id = ? WHERE org_id = ? AND role_id = ?`, replacementID, orgID, roleID)
	if err != nil {
		return 0, err
	}
	m, err := res.RowsAffected()
	if err != nil {
		return 0, mapError(err)
	}
	res, err = c.exec(ctx, `UPDATE invitation_stores SET role_id = ? WHERE org_id = ? AND role_id = ?`, replacementID, orgID, roleID)
	if err != nil {
		return 0, err
	}
	i, err := res.RowsAffected()
	return n + m + i, mapError(err)
}

// AlreadyInOrganization returns, of the given addresses, those of members of an organization
// (with "member") and those with a pending, unexpired invitation there (with "invitation"):
// what a bulk import skips, found in two statements for a whole batch.
func (c *Conn) AlreadyInOrganization(ctx context.Context, orgID string, emails []string, now time.Time) (map[string]string, error) {
	out := map[string]string{}
	if len(emails) == 0 {
		return out, nil
	}
	args := []any{orgID}
	for _, e := range emails {
		args = append(args, e)
	}
	in := placeholders(len(emails))
	collect := func(kind string, rows *queryRows, err error) error {
		found, err := scanAll(rows, err, func(r *sql.Rows) (string, error) {
			var e string
			return e, r.Scan(&e)
		})
		for _, e := range found {
			if _, ok := out[e]; !ok {
				out[e] = kind
			}
		}
		return err
	}
	rows, err := c.query(ctx, `SELECT u.email FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND u.email IN (`+in+`)`, args...)
	if err := collect("member", rows, err); err != nil {
		return nil, err
	}
	rows, err = c.query(ctx, `SELECT email FROM invitations WHERE org_id = ? AND email IN (`+in+`) AND status = 'pending' AND expires_at > ?`,
		append(args, micros(now))...)
	if err := collect("invitation", rows, err); err != nil {
		return nil, err
	}
	return out, nil
}
