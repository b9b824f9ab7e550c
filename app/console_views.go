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
func (a *App) Select(ctx context.Context, actor roster.Actor, sel Selection) error {
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
// caller checks it against what the user reaches today (MyOrganizations).
func (a *App) Selected(ctx context.Context, actor roster.Actor) (Selection, error) {
	if err := requireUser(actor); err != nil {
		return Selection{}, err
	}
	orgID, storeID, err := a.read().ActiveSelection(ctx, actor.UserID)
	return Selection{OrgID: orgID, StoreID: storeID}, err
}
