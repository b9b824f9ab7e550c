package app

import (
	"context"

	"github.com/rosterhq/roster"
)

// EventPage is a page of an organization's event feed: its events in sequence order and the
// cursor (the last sequence number) to ask for the next ones with.
type EventPage struct {
	Events []roster.Event
	Cursor int64
}

// Events lists an organization's events numbered after the cursor, oldest first; a reader
// resumes from any cursor within the audit retention. Readable by those who read the whole
// audit log (PermOrgAuditRead).
func (a *App) Events(ctx context.Context, actor roster.Actor, orgID string, after int64, limit int) (EventPage, error) {
	s, err := a.orgScope(ctx, a.read(), actor, orgID, false)
	if err != nil {
		return EventPage{}, a.refused(ctx, actor, err)
	}
	if !s.acc.Can(roster.PermOrgAuditRead) {
		return EventPage{}, a.refused(ctx, actor, deny(orgID, "", roster.PermOrgAuditRead, "you cannot read this organization's events"))
	}
	if after < 0 {
		return EventPage{}, roster.Invalidf("after", "invalid cursor")
	}
	events, err := a.read().ListEvents(ctx, orgID, after, pageLimit(limit))
	if err != nil {
		return EventPage{}, err
	}
	out := EventPage{Events: events, Cursor: after}
	if n := len(events); n > 0 {
		out.Cursor = events[n-1].Seq
	}
	return out, nil
}
