package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

const invitationColumns = `i.id, i.org_id, i.email, i.role, i.message, i.locale, i.invited_by, i.inviter_name, i.status,
	i.created_at, i.expires_at, i.last_sent_at, i.send_count, i.responded_at, i.accepted_by, i.delivery_error`

func scanInvitation(r rowScanner) (roster.Invitation, error) {
	var i roster.Invitation
	var by, acceptedBy sql.NullString
	var created, expires, sent int64
	var responded sql.NullInt64
	err := r.Scan(&i.ID, &i.OrgID, &i.Email, &i.Role, &i.Message, &i.Locale, &by, &i.InviterName, &i.Status,
		&created, &expires, &sent, &i.SendCount, &responded, &acceptedBy, &i.DeliveryError)
	i.InvitedBy, i.AcceptedBy = by.String, acceptedBy.String
	i.CreatedAt, i.ExpiresAt, i.LastSentAt, i.RespondedAt = fromMicros(created), fromMicros(expires), fromMicros(sent), fromNullMicros(responded)
	return i, err
}

// CreateInvitation inserts a pending invitation with its store roles. It has no usable link
// until the outbox worker mints one. A pending invitation to the same address gives
// EInvitationPending.
func (c *Conn) CreateInvitation(ctx context.Context, i roster.Invitation) error {
	_, err := c.exec(ctx, `INSERT INTO invitations (id, org_id, email, role, message, locale, invited_by, inviter_name, status,
		created_at, expires_at, last_sent_at, send_count, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, 1, ?)`,
		i.ID, i.OrgID, i.Email, i.Role, i.Message, i.Locale, nullString(i.InvitedBy), i.InviterName,
		micros(i.CreatedAt), micros(i.ExpiresAt), micros(i.CreatedAt), micros(i.CreatedAt))
	if IsUniqueViolation(err) {
		return roster.Errorf(roster.EInvitationPending, "a pending invitation to this address already exists")
	}
	if err != nil {
		return err
	}
	for _, s := range i.Stores {
		if _, err := c.exec(ctx, `INSERT INTO invitation_stores (invitation_id, store_id, org_id, role_id) VALUES (?, ?, ?, ?)`,
			i.ID, s.StoreID, i.OrgID, s.RoleID); err != nil {
			return err
		}
	}
	return nil
}

// Invitation returns an invitation with its store roles.
func (c *Conn) Invitation(ctx context.Context, id string) (roster.Invitation, error) {
	i, err := scanInvitation(c.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations i WHERE i.id = ?`, id))
	if err != nil {
		return i, notFound(err, "invitation")
	}
	return c.withStores(ctx, i)
}

// LockInvitation reads an invitation and, on PostgreSQL, locks its row until the transaction ends.
func (c *Conn) LockInvitation(ctx context.Context, id string) (roster.Invitation, error) {
	i, err := scanInvitation(c.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations i WHERE i.id = ?`+c.forUpdate(), id))
	if err != nil {
		return i, notFound(err, "invitation")
	}
	return c.withStores(ctx, i)
}

// InvitationByTokenHash returns the invitation whose live link has this hash.
func (c *Conn) InvitationByTokenHash(ctx context.Context, hash string) (roster.Invitation, error) {
	i, err := scanInvitation(c.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations i WHERE i.token_hash = ?`, hash))
	if err != nil {
		return i, notFound(err, "invitation")
	}
	return c.withStores(ctx, i)
}

// PendingInvitation returns the pending invitation of an organization to an address, if any.
func (c *Conn) PendingInvitation(ctx context.Context, orgID, email string) (roster.Invitation, error) {
	i, err := scanInvitation(c.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations i WHERE i.org_id = ? AND i.email = ? AND i.status = 'pending'`, orgID, email))
	return i, notFound(err, "invitation")
}

// PendingInvitationsBy returns the pending invitations a user sent in an organization.
func (c *Conn) PendingInvitationsBy(ctx context.Context, orgID, userID string) ([]roster.Invitation, error) {
	rows, err := c.query(ctx, `SELECT `+invitationColumns+` FROM invitations i WHERE i.org_id = ? AND i.invited_by = ? AND i.status = 'pending' ORDER BY i.id`, orgID, userID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.Invitation, error) { return scanInvitation(r) })
}

func (c *Conn) withStores(ctx context.Context, i roster.Invitation) (roster.Invitation, error) {
	m, err := c.invitationStores(ctx, []string{i.ID})
	i.Stores = m[i.ID]
	return i, err
}

func (c *Conn) invitationStores(ctx context.Context, ids []string) (map[string][]roster.InvitationStore, error) {
	out := map[string][]roster.InvitationStore{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for k, id := range ids {
		args[k] = id
	}
	rows, err := c.query(ctx, `SELECT invitation_id, store_id, role_id FROM invitation_stores WHERE invitation_id IN (`+placeholders(len(ids))+`)
		ORDER BY invitation_id, store_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var s roster.InvitationStore
		if err := rows.Scan(&id, &s.StoreID, &s.RoleID); err != nil {
			return nil, mapError(err)
		}
		out[id] = append(out[id], s)
	}
	return out, mapError(rows.Err())
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// InvitationFilter narrows a listing of an organization's invitations.
type InvitationFilter struct {
	OrgID   string
	StoreID string                  // only invitations that grant a role in this store; "" for all
	Status  roster.InvitationStatus // "" for all
	Query   string                  // part of the address
	Cursor  string                  // ID of the last invitation of the previous page
	Limit   int
	Now     time.Time // decides which pending invitations are expired
}

// ListInvitations lists invitations newest first, with their store roles.
func (c *Conn) ListInvitations(ctx context.Context, f InvitationFilter) ([]roster.Invitation, error) {
	q := `SELECT ` + invitationColumns + ` FROM invitations i WHERE i.org_id = ?`
	args := []any{f.OrgID}
	if f.StoreID != "" {
		q += ` AND EXISTS (SELECT 1 FROM invitation_stores s WHERE s.invitation_id = i.id AND s.store_id = ?)`
		args = append(args, f.StoreID)
	}
	if f.Cursor != "" {
		q += ` AND i.id < ?`
		args = append(args, f.Cursor)
	}
	now := micros(f.Now)
	switch f.Status {
	case "":
	case roster.InvitationPending:
		q += ` AND i.status = 'pending' AND i.expires_at > ?`
		args = append(args, now)
	case roster.InvitationExpired:
		q += ` AND (i.status = 'expired' OR (i.status = 'pending' AND i.expires_at <= ?))`
		args = append(args, now)
	default:
		q += ` AND i.status = ?`
		args = append(args, f.Status)
	}
	if f.Query != "" {
		q += ` AND i.email LIKE ? ESCAPE '\'`
		args = append(args, likePattern(f.Query))
	}
	q += ` ORDER BY i.id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := c.query(ctx, q, args...)
	list, err := scanAll(rows, err, func(r *sql.Rows) (roster.Invitation, error) { return scanInvitation(r) })
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(list))
	for k, i := range list {
		ids[k] = i.ID
	}
	stores, err := c.invitationStores(ctx, ids)
	for k := range list {
		list[k].Stores = stores[list[k].ID]
	}
	return list, err
}

// ExpireStaleInvitation marks expired the pending invitation of an organization to an
// address whose link has expired, so that a new one can be made.
func (c *Conn) ExpireStaleInvitation(ctx context.Context, orgID, email string, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE invitations SET status = 'expired', updated_at = ?
		WHERE org_id = ? AND email = ? AND status = 'pending' AND expires_at <= ?`, micros(now), orgID, email, micros(now))
	return err
}

// RespondInvitation ends a pending invitation as accepted, declined or revoked, atomically:
// of concurrent attempts exactly one changes it, and only while it is pending and (unless
// revoked) unexpired. The others get ENotFound. The link's hash stays, so that the link
// still shows what became of the invitation; nothing can be done with it any more.
func (c *Conn) RespondInvitation(ctx context.Context, id string, status roster.InvitationStatus, userID string, now time.Time) error {
	q := `UPDATE invitations SET status = ?, responded_at = ?, accepted_by = ?, updated_at = ?
		WHERE id = ? AND status = 'pending'`
	args := []any{status, micros(now), nullString(userID), micros(now), id}
	if status != roster.InvitationRevoked {
		q += ` AND expires_at > ?`
		args = append(args, micros(now))
	}
	return notFound(c.execOne(ctx, q, args...), "invitation")
}

// RenewInvitation voids an invitation's link at once and restarts its expiry, for a resend:
// the outbox worker mints the new link.
func (c *Conn) RenewInvitation(ctx context.Context, id string, expires, now time.Time) error {
	return notFound(c.execOne(ctx, `UPDATE invitations SET token_hash = NULL, expires_at = ?, last_sent_at = ?, send_count = send_count + 1,
		delivery_error = '', updated_at = ? WHERE id = ? AND status = 'pending'`, micros(expires), micros(now), micros(now), id), "invitation")
}

// MintInvitationToken stores the hash of a new link of a pending, unexpired invitation,
// voiding any link before it. It reports false when the invitation is no longer usable.
func (c *Conn) MintInvitationToken(ctx context.Context, id, hash string, now time.Time) (bool, error) {
	err := c.execOne(ctx, `UPDATE invitations SET token_hash = ? WHERE id = ? AND status = 'pending' AND expires_at > ?`, hash, id, micros(now))
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// SetInvitationDeliveryError records that an invitation's email could not be delivered.
func (c *Conn) SetInvitationDeliveryError(ctx context.Context, id, msg string, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE invitations SET delivery_error = ?, updated_at = ? WHERE id = ?`, msg, micros(now), id)
	return err
}
