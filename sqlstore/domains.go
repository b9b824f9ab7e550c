package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rosterhq/roster"
)

const domainColumns = `id, org_id, domain, token, status, join_policy, join_role, verified_at, checked_at, failures, created_at, updated_at, require_sso`

func scanDomain(r rowScanner) (roster.Domain, error) {
	var d roster.Domain
	var verified, checked, created, updated int64
	if err := r.Scan(&d.ID, &d.OrgID, &d.Domain, &d.Token, &d.Status, &d.JoinPolicy, &d.JoinRole, &verified, &checked, &d.Failures,
		&created, &updated, &d.RequireSSO); err != nil {
		return d, err
	}
	d.VerifiedAt, d.CheckedAt, d.CreatedAt, d.UpdatedAt = fromZeroMicros(verified), fromZeroMicros(checked), fromMicros(created), fromMicros(updated)
	return d, nil
}

// domainConflict maps the unique indexes of domains to their codes: the organization has the
// domain already, or another organization has verified it.
func domainConflict(err error, verified bool) error {
	if !IsUniqueViolation(err) {
		return err
	}
	if verified {
		return roster.Errorf(roster.EDomainClaimed, "another organization has verified this domain")
	}
	return (&roster.Error{Code: roster.EConflict, Field: "domain", Message: "the organization has this domain already"})
}

// InsertDomain adds a domain to an organization.
func (c *Conn) InsertDomain(ctx context.Context, d roster.Domain) error {
	_, err := c.exec(ctx, `INSERT INTO domains (`+domainColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.OrgID, d.Domain, d.Token, d.Status, d.JoinPolicy, d.JoinRole, zeroMicros(d.VerifiedAt), zeroMicros(d.CheckedAt), d.Failures,
		micros(d.CreatedAt), micros(d.UpdatedAt), d.RequireSSO)
	return domainConflict(err, false)
}

// UpdateDomain writes a domain's status, join policy and check record. Verifying a domain
// another organization has verified gives EDomainClaimed.
func (c *Conn) UpdateDomain(ctx context.Context, d roster.Domain) error {
	err := c.execOne(ctx, `UPDATE domains SET status = ?, join_policy = ?, join_role = ?, verified_at = ?, checked_at = ?, failures = ?, updated_at = ?, require_sso = ?
		WHERE id = ?`, d.Status, d.JoinPolicy, d.JoinRole, zeroMicros(d.VerifiedAt), zeroMicros(d.CheckedAt), d.Failures, micros(d.UpdatedAt), d.RequireSSO, d.ID)
	return notFound(domainConflict(err, d.Status == roster.DomainVerified), "domain")
}

// DeleteDomain removes a domain.
func (c *Conn) DeleteDomain(ctx context.Context, id string) error {
	return notFound(c.execOne(ctx, `DELETE FROM domains WHERE id = ?`, id), "domain")
}

// Domain reads a domain.
func (c *Conn) Domain(ctx context.Context, id string) (roster.Domain, error) {
	d, err := scanDomain(c.queryRow(ctx, `SELECT `+domainColumns+` FROM domains WHERE id = ?`, id))
	return d, notFound(err, "domain")
}

// ListDomains lists an organization's domains by name.
func (c *Conn) ListDomains(ctx context.Context, orgID string) ([]roster.Domain, error) {
	rows, err := c.query(ctx, `SELECT `+domainColumns+` FROM domains WHERE org_id = ? ORDER BY domain`, orgID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.Domain, error) { return scanDomain(r) })
}

// VerifiedDomain reads the verified domain of that name, whichever organization holds it.
func (c *Conn) VerifiedDomain(ctx context.Context, domain string) (roster.Domain, error) {
	d, err := scanDomain(c.queryRow(ctx, `SELECT `+domainColumns+` FROM domains WHERE domain = ? AND status = 'verified'`, domain))
	return d, notFound(err, "domain")
}

// DomainsToRecheck lists up to limit verified domains last checked before a time, oldest
// check first.
func (c *Conn) DomainsToRecheck(ctx context.Context, before time.Time, limit int) ([]roster.Domain, error) {
	rows, err := c.query(ctx, `SELECT `+domainColumns+` FROM domains WHERE status = 'verified' AND checked_at < ? ORDER BY checked_at, id LIMIT ?`,
		micros(before), limit)
	return scanAll(rows, err, func(r *sql.Rows) (roster.Domain, error) { return scanDomain(r) })
}

// InsertJoinRequest records a request to join; a pending one of the same person gives EConflict.
func (c *Conn) InsertJoinRequest(ctx context.Context, r roster.JoinRequest) error {
	_, err := c.exec(ctx, `INSERT INTO join_requests (id, org_id, user_id, domain_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.OrgID, r.UserID, r.DomainID, micros(r.CreatedAt))
	if IsUniqueViolation(err) {
		return roster.Errorf(roster.EConflict, "you have asked to join this organization already")
	}
	return err
}

// DeleteJoinRequest removes a request (approved or declined).
func (c *Conn) DeleteJoinRequest(ctx context.Context, id string) error {
	return notFound(c.execOne(ctx, `DELETE FROM join_requests WHERE id = ?`, id), "join request")
}

const joinRequestSelect = `SELECT r.id, r.org_id, r.user_id, r.domain_id, r.created_at, u.name, u.email, d.domain
	FROM join_requests r JOIN users u ON u.id = r.user_id JOIN domains d ON d.id = r.domain_id`

func scanJoinRequest(r rowScanner) (roster.JoinRequest, error) {
	var j roster.JoinRequest
	var created int64
	err := r.Scan(&j.ID, &j.OrgID, &j.UserID, &j.DomainID, &created, &j.User.Name, &j.User.Email, &j.Domain)
	j.CreatedAt, j.User.ID = fromMicros(created), j.UserID
	return j, err
}

// JoinRequest reads a request with its person and domain.
func (c *Conn) JoinRequest(ctx context.Context, id string) (roster.JoinRequest, error) {
	j, err := scanJoinRequest(c.queryRow(ctx, joinRequestSelect+` WHERE r.id = ?`, id))
	return j, notFound(err, "join request")
}

// ListJoinRequests lists an organization's pending requests, oldest first.
func (c *Conn) ListJoinRequests(ctx context.Context, orgID string) ([]roster.JoinRequest, error) {
	rows, err := c.query(ctx, joinRequestSelect+` WHERE r.org_id = ? ORDER BY r.created_at, r.id`, orgID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.JoinRequest, error) { return scanJoinRequest(r) })
}

// JoinSuggestions lists the organizations that verified a domain with join policy suggest and
// that the user does not belong to, with the user's pending request to each, if any.
func (c *Conn) JoinSuggestions(ctx context.Context, domain, userID string) ([]roster.JoinSuggestion, error) {
	rows, err := c.query(ctx, `SELECT d.org_id, o.name, d.domain, COALESCE(r.id, '') FROM domains d
		JOIN organizations o ON o.id = d.org_id
		LEFT JOIN join_requests r ON r.org_id = d.org_id AND r.user_id = ?
		WHERE d.domain = ? AND d.status = 'verified' AND d.join_policy = 'suggest'
		AND NOT EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = d.org_id AND m.user_id = ?)`, userID, domain, userID)
	return scanAll(rows, err, func(r *sql.Rows) (roster.JoinSuggestion, error) {
		var s roster.JoinSuggestion
		return s, r.Scan(&s.OrgID, &s.OrgName, &s.Domain, &s.RequestID)
	})
}
