package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/rosterhq/roster"
)

const domainColumns = `id, org_id, domain, token, status, join_policy, join_role, verified_at, checked_at, failures, created_at, updated_at`

func scanDomain(r rowScanner) (roster.Domain, error) {
	var d roster.Domain
	var verified, checked, created, updated int64
	if err := r.Scan(&d.ID, &d.OrgID, &d.Domain, &d.Token, &d.Status, &d.JoinPolicy, &d.JoinRole, &verified, &checked, &d.Failures,
		&created, &updated); err != nil {
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
	_, err := c.exec(ctx, `INSERT INTO domains (`+domainColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.OrgID, d.Domain, d.Token, d.Status, d.JoinPolicy, d.JoinRole, zeroMicros(d.VerifiedAt), zeroMicros(d.CheckedAt), d.Failures,
		micros(d.CreatedAt), micros(d.UpdatedAt))
	return domainConflict(err, false)
}

// UpdateDomain writes a domain's status, join policy and check record. Verifying a domain
// another organization has verified gives EDomainClaimed.
func (c *Conn) UpdateDomain(ctx context.Context, d roster.Domain) error {
	err := c.execOne(ctx, `UPDATE domains SET status = ?, join_policy = ?, join_role = ?, verified_at = ?, checked_at = ?, failures = ?, updated_at = ?
		WHERE id = ?`, d.Status, d.JoinPolicy, d.JoinRole, zeroMicros(d.VerifiedAt), zeroMicros(d.CheckedAt), d.Failures, micros(d.UpdatedAt), d.ID)
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
