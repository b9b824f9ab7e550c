package app

import (
	"context"

	"github.com/rosterhq/roster"
)

// Organizations creates, edits, hands over and deletes organizations, and keeps their policy
// (policy.go), logo (images.go) and usage (usage.go).
type Organizations struct{ *core }

// OrganizationInput is an organization's name and details, as created or edited.
type OrganizationInput struct {
	Name    string
	Details roster.OrganizationDetails
}

func (in OrganizationInput) validate() (OrganizationInput, error) {
	var errs []error
	keep := func(s string, err error) string { errs = append(errs, err); return s }
	out := OrganizationInput{Name: keep(text("name", in.Name, true, roster.MaxNameLength))}
	d, o := in.Details, &out.Details
	fields := []struct {
		name string
		in   string
		out  *string
		max  int
	}{
		{"legal_name", d.LegalName, &o.LegalName, roster.MaxLegalNameLength}, {"phone", d.Phone, &o.Phone, roster.MaxPhoneLength},
		{"address_line1", d.AddressLine1, &o.AddressLine1, roster.MaxAddressLineLength}, {"address_line2", d.AddressLine2, &o.AddressLine2, roster.MaxAddressLineLength},
		{"city", d.City, &o.City, roster.MaxCityLength}, {"postal_code", d.PostalCode, &o.PostalCode, roster.MaxPostalCodeLength}, {"region", d.Region, &o.Region, roster.MaxRegionLength},
	}
	for _, f := range fields {
		*f.out = keep(text(f.name, f.in, false, f.max))
	}
	o.Website = keep(website("website", d.Website))
	o.Country = keep(countryCode("country", d.Country))
	return out, roster.Invalids(errs...) // every field at fault at once
}

func detailsMap(o roster.Organization) map[string]any {
	d := o.Details
	return map[string]any{"name": o.Name, "legal_name": d.LegalName, "website": d.Website, "phone": d.Phone,
		"address_line1": d.AddressLine1, "address_line2": d.AddressLine2, "city": d.City, "postal_code": d.PostalCode,
		"region": d.Region, "country": d.Country}
}

// Create creates an organization whose owner is the actor, with the instance's
// default store credits.
func (a *Organizations) Create(ctx context.Context, actor roster.Actor, in OrganizationInput) (roster.Organization, error) {
	if err := requireUser(actor); err != nil {
		return roster.Organization{}, err
	}
	in, err := in.validate()
	if err != nil {
		return roster.Organization{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.Organization, error) {
		if u, err := t.LockUser(t.ctx, actor.UserID); err != nil { // against a concurrent deactivation
			return roster.Organization{}, err
		} else if u.Status != roster.UserActive {
			return roster.Organization{}, roster.Errorf(roster.EUserDeactivated, "this account has been deactivated")
		}
		org := roster.Organization{ID: roster.NewID(roster.PrefixOrganization), Name: in.Name, Details: in.Details,
			StoreCredits: a.cfg.DefaultStoreCredits, Policy: roster.DefaultPolicy(), CreatedAt: t.now, UpdatedAt: t.now}
		if err := t.CreateOrganization(t.ctx, org); err != nil {
			return roster.Organization{}, err
		}
		if err := t.AddMember(t.ctx, roster.Membership{OrgID: org.ID, UserID: actor.UserID, Role: roster.CreatorRole,
			Status: roster.MembershipActive, CreatedAt: t.now, UpdatedAt: t.now}); err != nil {
			return roster.Organization{}, err
		}
		return org, t.audit(roster.AuditEvent{OrgID: org.ID, Action: "organization.created", TargetType: "organization", TargetID: org.ID,
			After: mergeMaps(detailsMap(org), map[string]any{"store_credits": org.StoreCredits})})
	})
}

// OrganizationView is an organization with the actor's access to it.
type OrganizationView struct {
	roster.Organization
	Access roster.Access
}

// Organization returns an organization the actor belongs to.
func (a *Organizations) Get(ctx context.Context, actor roster.Actor, orgID string) (OrganizationView, error) {
	s, err := a.orgScope(ctx, a.read(), actor, orgID, false)
	if err == nil {
		err = s.require(roster.PermOrgRead)
	}
	if err != nil {
		return OrganizationView{}, a.refused(ctx, actor, err)
	}
	return OrganizationView{Organization: s.org, Access: s.acc}, nil
}

// Update edits an organization's name and details (owner), and returns it with
// the actor's access.
func (a *Organizations) Update(ctx context.Context, actor roster.Actor, orgID string, in OrganizationInput) (OrganizationView, error) {
	in, err := in.validate()
	if err != nil {
		return OrganizationView{}, err
	}
	return orgWriteValue(ctx, a.core, actor, orgID, roster.PermOrgUpdate, func(t *txn, s scope) (OrganizationView, error) {
		org := s.org
		org.Name, org.Details, org.UpdatedAt = in.Name, in.Details, t.now
		if err := t.UpdateOrganization(t.ctx, org, t.now); err != nil {
			return OrganizationView{}, err
		}
		return OrganizationView{Organization: org, Access: s.acc}, t.audit(roster.AuditEvent{OrgID: org.ID, Action: "organization.updated",
			TargetType: "organization", TargetID: org.ID, Before: detailsMap(s.org), After: detailsMap(org)})
	})
}

// Delete deletes an organization (owner only, after a step-up): its stores,
// memberships, store memberships, invitations, roles, API keys and logos are deleted with
// it. User accounts stay, and so does the audit log.
func (a *Organizations) Delete(ctx context.Context, actor roster.Actor, orgID string, proof OwnerProof) error {
	if err := a.precheck(ctx, actor, orgID, roster.PermOrgDelete); err != nil {
		return err
	}
	if err := a.requireStepUp(ctx, actor, proof); err != nil {
		return err
	}
	return a.orgWrite(ctx, actor, orgID, roster.PermOrgDelete, func(t *txn, s scope) error {
		if err := t.DeleteOrganization(t.ctx, orgID); err != nil {
			return err
		}
		if err := t.dropOrgWebhooks(orgID); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: orgID, Action: "organization.deleted", TargetType: "organization", TargetID: orgID,
			Before: detailsMap(s.org)})
	})
}

// TransferOwnership hands an organization to one of its admins; the old owner becomes an
// admin. Only the owner may, after a step-up, and only to an active admin. Both changes
// happen in one transaction with the organization locked, so there is always exactly one owner.
func (a *Organizations) TransferOwnership(ctx context.Context, actor roster.Actor, orgID, newOwnerID string, proof OwnerProof) error {
	if err := a.precheck(ctx, actor, orgID, roster.PermOrgTransfer); err != nil {
		return err
	}
	if err := a.requireStepUp(ctx, actor, proof); err != nil {
		return err
	}
	return a.orgWrite(ctx, actor, orgID, roster.PermOrgTransfer, func(t *txn, s scope) error {
		if newOwnerID == actor.UserID {
			return roster.Invalidf("user_id", "you already own this organization")
		}
		target, err := a.member(t, orgID, newOwnerID)
		if err != nil {
			return err
		}
		to, err := t.LockUser(t.ctx, newOwnerID) // against a concurrent deactivation
		if err != nil {
			return err
		}
		if target.Role != roster.OrgAdmin || target.Status != roster.MembershipActive || to.Status != roster.UserActive {
			return &roster.Error{Code: roster.ETransferTarget, Field: "user_id", Message: "ownership can only go to an active admin of the organization"}
		}
		if err := t.SetMemberRole(t.ctx, orgID, actor.UserID, roster.OrgAdmin, t.now); err != nil {
			return err
		}
		if err := t.SetMemberRole(t.ctx, orgID, newOwnerID, roster.OrgOwner, t.now); err != nil {
			return err
		}
		if err := t.audit(roster.AuditEvent{OrgID: orgID, Action: "organization.ownership_transferred", TargetType: "user", TargetID: newOwnerID,
			Before: map[string]any{"owner": actor.UserID}, After: map[string]any{"owner": newOwnerID}}); err != nil {
			return err
		}
		return a.notifyOwnershipTransferred(t, s.org, actor.UserID, newOwnerID)
	})
}

// notifyOwnershipTransferred tells both people that ownership moved.
func (a *Organizations) notifyOwnershipTransferred(t *txn, org roster.Organization, fromID, toID string) error {
	from, err := t.User(t.ctx, fromID)
	if err != nil {
		return err
	}
	to, err := t.User(t.ctx, toID)
	if err != nil {
		return err
	}
	data := func() map[string]any {
		return map[string]any{"org_name": org.Name, "org_id": org.ID, "from_name": from.Name, "to_name": to.Name}
	}
	if err := t.notifyUser(from, "ownership_transferred_from", org.ID, data()); err != nil {
		return err
	}
	return t.notifyUser(to, "ownership_transferred_to", org.ID, data())
}

// member reads a membership inside a transaction; malformed IDs are simply not found.
func (a *core) member(t *txn, orgID, userID string) (roster.Membership, error) {
	if !roster.ValidID(roster.PrefixUser, userID) {
		return roster.Membership{}, roster.NotFound("member")
	}
	return t.Membership(t.ctx, orgID, userID)
}

func mergeMaps(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// precheck refuses, before any password is checked, an actor who may not act on the
// organization at all; the transaction checks again under lock.
func (a *Organizations) precheck(ctx context.Context, actor roster.Actor, orgID string, perm roster.Permission) error {
	if err := requireUser(actor); err != nil {
		return err
	}
	s, err := a.orgScope(ctx, a.read(), actor, orgID, false)
	if err == nil {
		err = s.require(perm)
	}
	return a.refused(ctx, actor, err)
}
