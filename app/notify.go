package app

import (
	"github.com/rosterhq/roster"
)

// email writes a message to the outbox in the transaction: it goes out if and only if the
// change that causes it commits.
func (t *txn) email(e roster.Email) error {
	e.ID = roster.NewID(roster.PrefixMessage)
	if e.Locale == "" {
		e.Locale = roster.Locales[0]
	}
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return t.Enqueue(t.ctx, KindEmail, e, t.now) // wakes the email loops once committed (Outbox.Wake)
}

// notifyUser writes a notification to a user's current address, if they have proved it;
// notifications never go to an address nobody verified.
func (t *txn) notifyUser(u roster.User, template, orgID string, data map[string]any) error {
	if !u.Verified() {
		return nil
	}
	if data == nil {
		data = map[string]any{}
	}
	data["name"] = u.Name
	return t.email(roster.Email{Template: template, To: u.Email, Locale: u.Locale, Data: data, OrgID: orgID})
}

// notifyPasswordChanged tells a user their password changed, so that a change they did not
// make does not go unnoticed.
func (a *Accounts) notifyPasswordChanged(t *txn, u roster.User) error {
	return t.notifyUser(u, "password_changed", "", nil)
}
