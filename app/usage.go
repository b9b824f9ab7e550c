package app

import (
	"context"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// Usage returns what an organization consumes (every member: connector "see account usage"):
// members by role, pending invitations, active and archived stores against store credits,
// and the API requests made with its keys and the emails sent for it, this calendar month and
// last (UTC).
func (a *Organizations) Usage(ctx context.Context, actor roster.Actor, orgID string) (roster.Usage, error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err == nil {
		err = s.require(roster.PermOrgUsageRead)
	}
	if err != nil {
		return roster.Usage{}, a.refused(ctx, actor, err)
	}
	u := roster.Usage{StoreCredits: s.org.StoreCredits}
	if u.MembersByRole, err = c.CountMembersByRole(ctx, orgID); err != nil {
		return roster.Usage{}, err
	}
	for _, r := range []string{string(roster.OrgOwner), string(roster.OrgAdmin), string(roster.OrgMember), string(roster.MembershipSuspended)} {
		u.MembersByRole[r] += 0 // every key present, zero or not
	}
	if u.ActiveStores, err = c.CountStores(ctx, orgID, roster.StoreActive); err != nil {
		return roster.Usage{}, err
	}
	if u.ArchivedStores, err = c.CountStores(ctx, orgID, roster.StoreArchived); err != nil {
		return roster.Usage{}, err
	}
	now := a.clock.Now()
	if u.PendingInvitations, err = c.CountPendingInvitations(ctx, orgID, now); err != nil {
		return roster.Usage{}, err
	}
	this, last, next := monthBounds(now)
	if u.APIRequests.ThisMonth, err = c.APIRequestsInMonth(ctx, orgID, sqlstore.Month(this)); err != nil {
		return roster.Usage{}, err
	}
	if u.APIRequests.LastMonth, err = c.APIRequestsInMonth(ctx, orgID, sqlstore.Month(last)); err != nil {
		return roster.Usage{}, err
	}
	if u.EmailsSent.ThisMonth, err = c.EmailsSentBetween(ctx, orgID, this, next); err != nil {
		return roster.Usage{}, err
	}
	if u.EmailsSent.LastMonth, err = c.EmailsSentBetween(ctx, orgID, last, this); err != nil {
		return roster.Usage{}, err
	}
	return u, nil
}

// monthBounds returns the start of the current calendar month (UTC), of the previous one and
// of the next one.
func monthBounds(now time.Time) (this, last, next time.Time) {
	now = now.UTC()
	this = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return this, this.AddDate(0, -1, 0), this.AddDate(0, 1, 0)
}
