package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/rosterhq/roster"
)

const orgColumns = `o.id, o.name, o.legal_name, o.website, o.phone, o.address_line1, o.address_line2, o.city, o.postal_code,
	o.region, o.country, o.logo_image_id, o.store_credits, o.policy_allowed_domains, o.policy_block_free, o.policy_invitation_ttl,
	o.policy_verified_domains_only, o.policy_require_two_factor, o.created_at, o.updated_at`

func scanOrg(r rowScanner, extra ...any) (roster.Organization, error) {
	var o roster.Organization
	var logo sql.NullString
	var domains string
	var ttl, created, updated int64
	d := &o.Details
	dest := append([]any{&o.ID, &o.Name, &d.LegalName, &d.Website, &d.Phone, &d.AddressLine1, &d.AddressLine2, &d.City, &d.PostalCode,
		&d.Region, &d.Country, &logo, &o.StoreCredits, &domains, &o.Policy.BlockFreeProviders, &ttl,
		&o.Policy.VerifiedDomainsOnly, &o.Policy.RequireTwoFactor, &created, &updated}, extra...)
	if err := r.Scan(dest...); err != nil {
		return o, err
	}
	o.LogoID, o.CreatedAt, o.UpdatedAt = logo.String, fromMicros(created), fromMicros(updated)
	o.Policy.InvitationTTL = time.Duration(ttl) * time.Second
	if err := json.Unmarshal([]byte(domains), &o.Policy.AllowedDomains); err != nil {
		return o, err
	}
	return o, nil
}

// CreateOrganization inserts an organization.
func (c *Conn) CreateOrganization(ctx context.Context, o roster.Organization) error {
	domains, err := json.Marshal(nonNil(o.Policy.AllowedDomains))
	if err != nil {
		return err
	}
	d := o.Details
	c.touch("o:" + o.ID)
	_, err = c.exec(ctx, `INSERT INTO organizations (id, name, legal_name, website, phone, address_line1, address_line2, city, postal_code,
		region, country, store_credits, policy_allowed_domains, policy_block_free, policy_invitation_ttl, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.Name, d.LegalName, d.Website, d.Phone, d.AddressLine1, d.AddressLine2, d.City, d.PostalCode, d.Region, d.Country,
		o.StoreCredits, string(domains), o.Policy.BlockFreeProviders, int64(o.Policy.InvitationTTL/time.Second), micros(o.CreatedAt), micros(o.UpdatedAt))
	return err
}

// Organization returns an organization by ID.
func (c *Conn) Organization(ctx context.Context, id string) (roster.Organization, error) {
	o, err := scanOrg(c.queryRow(ctx, `SELECT `+orgColumns+` FROM organizations o WHERE o.id = ?`, id))
	return o, notFound(err, "organization")
}

// LockOrganization reads an organization and, on PostgreSQL, locks its row until the
// transaction ends. Every change to an organization's invariants (its owner, its active
// stores against its credits, its memberships) first takes this lock, so such changes
// happen one after another.
func (c *Conn) LockOrganization(ctx context.Context, id string) (roster.Organization, error) {
	o, err := scanOrg(c.queryRow(ctx, `SELECT `+orgColumns+` FROM organizations o WHERE o.id = ?`+c.forUpdate(), id))
	return o, notFound(err, "organization")
}

// UpdateOrganization saves an organization's name and details.
func (c *Conn) UpdateOrganization(ctx context.Context, o roster.Organization, now time.Time) error {
	d := o.Details
	c.touch("o:" + o.ID)
	return notFound(c.execOne(ctx, `UPDATE organizations SET name = ?, legal_name = ?, website = ?, phone = ?, address_line1 = ?,
		address_line2 = ?, city = ?, postal_code = ?, region = ?, country = ?, updated_at = ? WHERE id = ?`,
		o.Name, d.LegalName, d.Website, d.Phone, d.AddressLine1, d.AddressLine2, d.City, d.PostalCode, d.Region, d.Country, micros(now), o.ID), "organization")
}

// SetOrganizationLogo points an organization at an uploaded image ("" removes the logo).
func (c *Conn) SetOrganizationLogo(ctx context.Context, id, imageID string, now time.Time) error {
	c.touch("o:" + id)
	return notFound(c.execOne(ctx, `UPDATE organizations SET logo_image_id = ?, updated_at = ? WHERE id = ?`, nullString(imageID), micros(now), id), "organization")
}

// SetStoreCredits sets how many active stores an organization may have.
func (c *Conn) SetStoreCredits(ctx context.Context, id string, credits int, now time.Time) error {
	c.touch("o:" + id)
	return notFound(c.execOne(ctx, `UPDATE organizations SET store_credits = ?, updated_at = ? WHERE id = ?`, credits, micros(now), id), "organization")
}

// SetPolicy saves an organization's policy.
func (c *Conn) SetPolicy(ctx context.Context, id string, p roster.Policy, now time.Time) error {
	domains, err := json.Marshal(nonNil(p.AllowedDomains))
	if err != nil {
		return err
	}
	c.touch("o:" + id)
	return notFound(c.execOne(ctx, `UPDATE organizations SET policy_allowed_domains = ?, policy_block_free = ?, policy_invitation_ttl = ?,
		policy_verified_domains_only = ?, policy_require_two_factor = ?, updated_at = ? WHERE id = ?`,
		string(domains), p.BlockFreeProviders, int64(p.InvitationTTL/time.Second), p.VerifiedDomainsOnly, p.RequireTwoFactor, micros(now), id), "organization")
}

// DeleteOrganization deletes an organization; its stores, memberships, roles, images and
// everything else that belongs to it go with it (foreign keys cascade). The audit log stays.
func (c *Conn) DeleteOrganization(ctx context.Context, id string) error {
	c.touch("o:" + id)
	return notFound(c.execOne(ctx, `DELETE FROM organizations WHERE id = ?`, id), "organization")
}

// OrganizationFilter narrows the operator's listing of organizations.
type OrganizationFilter struct {
	Query  string
	Cursor string
	Limit  int
}

// ListOrganizations lists organizations in creation order with their counts, for operators.
func (c *Conn) ListOrganizations(ctx context.Context, f OrganizationFilter) ([]roster.OrganizationSummary, error) {
	q := `SELECT ` + orgColumns + `,
		(SELECT COUNT(*) FROM org_members m WHERE m.org_id = o.id),
		(SELECT COUNT(*) FROM stores s WHERE s.org_id = o.id AND s.status = 'active'),
		(SELECT COUNT(*) FROM stores s WHERE s.org_id = o.id AND s.status = 'archived'),
		COALESCE((SELECT u.email FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = o.id AND m.role = 'owner'), '')
		FROM organizations o WHERE o.id > ?`
	args := []any{f.Cursor}
	if f.Query != "" {
		q += ` AND ` + c.lower("o.name", f.Query) + ` LIKE ? ESCAPE '\'`
		args = append(args, likePattern(f.Query))
	}
	q += ` ORDER BY o.id LIMIT ?`
	args = append(args, f.Limit)
	rows, err := c.query(ctx, q, args...)
	return scanAll(rows, err, func(r *sql.Rows) (roster.OrganizationSummary, error) {
		var s roster.OrganizationSummary
		o, err := scanOrg(r, &s.Members, &s.ActiveStores, &s.ArchivedStores, &s.OwnerEmail)
		s.Organization = o
		return s, err
	})
}

// CreateImage stores an uploaded image of an organization.
func (c *Conn) CreateImage(ctx context.Context, img roster.Image) error {
	_, err := c.exec(ctx, `INSERT INTO images (id, org_id, content_type, data, created_at) VALUES (?, ?, ?, ?, ?)`,
		img.ID, img.OrgID, img.ContentType, img.Data, micros(img.CreatedAt))
	return err
}

// Image returns an image of an organization.
func (c *Conn) Image(ctx context.Context, orgID, id string) (roster.Image, error) {
	var img roster.Image
	var created int64
	err := c.queryRow(ctx, `SELECT id, org_id, content_type, data, created_at FROM images WHERE id = ? AND org_id = ?`, id, orgID).
		Scan(&img.ID, &img.OrgID, &img.ContentType, &img.Data, &created)
	img.CreatedAt = fromMicros(created)
	return img, notFound(err, "image")
}

// DeleteImage removes an image that nothing uses any more.
func (c *Conn) DeleteImage(ctx context.Context, orgID, id string) error {
	_, err := c.exec(ctx, `DELETE FROM images WHERE id = ? AND org_id = ?`, id, orgID)
	return err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
