package app

import (
	"context"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
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
func (a *Audit) Events(ctx context.Context, actor roster.Actor, orgID string, after int64, limit int) (EventPage, error) {
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

// expireBatch bounds the invitations one transaction of Invitations.Expire takes.
const expireBatch = 100

// Expire emits invitation.expired, once, for every invitation that passed its
// expiry without an answer, and returns how many. Serve runs it every minute; several
// processes may, each expiry is taken by one.
func (a *Invitations) Expire(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := writeValue(ctx, a.core, roster.System(), func(t *txn) (int, error) {
			expired, err := t.TakeExpiredInvitations(t.ctx, t.now, expireBatch)
			if err != nil {
				return 0, err
			}
			for _, inv := range expired {
				if err := t.audit(roster.AuditEvent{OrgID: inv.OrgID, Action: "invitation.expired", TargetType: "invitation", TargetID: inv.ID,
					After: map[string]any{"email": inv.Email, "expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339)}}); err != nil {
					return 0, err
				}
			}
			return len(expired), nil
		})
		total += n
		if err != nil || n < expireBatch {
			return total, err
		}
	}
}

// MaxEventWait bounds how long a reader of the feed waits for an event (long polling).
const MaxEventWait = 60 * time.Second

// WaitEvents is Events that waits, when no event follows the cursor, until one is committed
// (in this process, or on PostgreSQL in any: Outbox.Wake) or wait has passed, or ctx ends; it
// then answers the empty page, the cursor unchanged.
func (a *Audit) WaitEvents(ctx context.Context, actor roster.Actor, orgID string, after int64, limit int, wait time.Duration) (EventPage, error) {
	if wait < 0 || wait > MaxEventWait {
		return EventPage{}, roster.Invalidf("wait", "wait at most %d seconds", int(MaxEventWait/time.Second))
	}
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		woken := a.app.Outbox.Wake(sqlstore.WakeEvent) // before reading: a commit from now on closes it
		p, err := a.Events(ctx, actor, orgID, after, limit)
		if err != nil || len(p.Events) > 0 || timeout == nil {
			return p, err
		}
		select {
		case <-woken:
		case <-timeout:
			return p, nil
		case <-ctx.Done():
			return p, nil
		}
	}
}
