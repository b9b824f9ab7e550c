package app

import (
	"context"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// Selection is the organization and store a user last chose in the console's selector.
type Selection struct {
	OrgID   string
	StoreID string // "" when the organization itself was chosen
}

// Select remembers the organization and store the signed-in user works in, so that the
// console opens there next time, in any browser. The user must reach the store (or belong to
// the organization, when no store is given). It is a preference of the user's own, like the
// language, and changes nobody's access: it is not written to the audit log.
func (a *Accounts) Select(ctx context.Context, actor roster.Actor, sel Selection) error {
	if err := requireUser(actor); err != nil {
		return err
	}
	c := a.read()
	if sel.StoreID != "" {
		_, st, err := a.storeScope(ctx, c, actor, sel.StoreID, false)
		if err != nil {
			return err
		}
		sel.OrgID = st.OrgID
	} else if _, err := a.orgScope(ctx, c, actor, sel.OrgID, false); err != nil {
		return err
	}
	return a.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		return tx.SetActiveSelection(ctx, actor.UserID, sel.OrgID, sel.StoreID)
	})
}

// Selected returns what the signed-in user last chose in the selector, as remembered; the
// caller checks it against what the user reaches today (Accounts.Organizations).
func (a *Accounts) Selected(ctx context.Context, actor roster.Actor) (Selection, error) {
	if err := requireUser(actor); err != nil {
		return Selection{}, err
	}
	orgID, storeID, err := a.read().ActiveSelection(ctx, actor.UserID)
	return Selection{OrgID: orgID, StoreID: storeID}, err
}

// Workspace is what the console shows around every page of a signed-in user, read once per
// request: their organizations with the stores they reach (the selector, as Accounts.Organizations
// returns it), their access in each organization (as the use cases compute it), and their
// last selection (as Selected returns it).
type Workspace struct {
	Orgs      []roster.Affiliation
	Access    map[string]roster.Access // organization ID → the user's access there
	Selection Selection
}

// Workspace reads the signed-in user's workspace. In a context from PerRequest, the use
// cases the request calls next reuse the access it derived.
func (a *Accounts) Workspace(ctx context.Context, actor roster.Actor) (Workspace, error) {
	if err := requireUser(actor); err != nil {
		return Workspace{}, err
	}
	c := a.read()
	affs, acc, cat, err := a.affiliations(ctx, c, actor.UserID)
	if err != nil {
		return Workspace{}, err
	}
	for _, aff := range affs {
		shareScope(ctx, actor, scope{org: aff.Organization, acc: acc[aff.Organization.ID], cat: cat})
	}
	orgID, storeID, err := c.ActiveSelection(ctx, actor.UserID)
	if err != nil {
		return Workspace{}, err
	}
	return Workspace{Orgs: affs, Access: acc, Selection: Selection{OrgID: orgID, StoreID: storeID}}, nil
}

// Organization returns an organization of the workspace as Organization would: to anyone
// who is not a member it does not exist, and a suspended member is told so.
func (w Workspace) Organization(orgID string) (OrganizationView, error) {
	for _, aff := range w.Orgs {
		if aff.Organization.ID != orgID {
			continue
		}
		acc := w.Access[orgID]
		if err := memberOnly(acc); err != nil {
			return OrganizationView{}, err
		}
		if !acc.Can(roster.PermOrgRead) {
			return OrganizationView{}, roster.Forbidden("your role in this organization does not allow this")
		}
		return OrganizationView{Organization: aff.Organization, Access: acc}, nil
	}
	return OrganizationView{}, roster.NotFound("organization")
}
