package app

import (
	"context"
	"time"

	"github.com/rosterhq/roster"
)

// Audit reads the audit log, exports it (export.go) and serves the event feed derived from it
// (events.go). What an audit event is, and its actions, is the root's audit.go.
type Audit struct{ *core }

// AuditFilter narrows a listing of an organization's audit events.
type AuditFilter struct {
	StoreID  string
	ActorID  string
	Action   string // exact, or a prefix ending in "." such as "member."
	TargetID string
	Since    time.Time
	Until    time.Time
	Cursor   string
	Limit    int
}

// auditFilter checks a filter and narrows it to what the actor may read: everything for
// owner and admins, a store's events for that store's admins, else only the actor's own.
func (a *Audit) auditFilter(ctx context.Context, actor roster.Actor, orgID string, f AuditFilter) (roster.AuditFilter, error) {
	s, err := a.orgScope(ctx, a.read(), actor, orgID, false)
	if err != nil {
		return roster.AuditFilter{}, err
	}
	if f.Cursor != "" && !roster.ValidID(roster.PrefixEvent, f.Cursor) {
		return roster.AuditFilter{}, roster.Invalidf("cursor", "invalid cursor")
	}
	if f.StoreID != "" && !roster.ValidID(roster.PrefixStore, f.StoreID) {
		return roster.AuditFilter{}, roster.Invalidf("store_id", "invalid store ID")
	}
	// Text filters are checked like every text input: valid UTF-8, no control characters,
	// bounded (PostgreSQL refuses invalid UTF-8 in a parameter).
	for _, tf := range []struct {
		field string
		v     *string
		max   int
	}{{"action", &f.Action, roster.MaxSearchLength}, {"actor_id", &f.ActorID, roster.MaxIDLength}, {"target_id", &f.TargetID, roster.MaxIDLength}} {
		v, err := text(tf.field, *tf.v, false, tf.max)
		if err != nil {
			return roster.AuditFilter{}, err
		}
		*tf.v = v
	}
	out := roster.AuditFilter{OrgID: orgID, StoreID: f.StoreID, ActorID: f.ActorID, Action: f.Action, TargetID: f.TargetID,
		Since: f.Since, Until: f.Until, Cursor: f.Cursor, Limit: pageLimit(f.Limit)}
	switch {
	case s.acc.Can(roster.PermOrgAuditRead):
	case f.StoreID != "" && s.acc.CanInStore(f.StoreID, roster.PermStoreAuditRead):
	default:
		out.ActorID = actor.ID() // members see their own actions only (an API key: its own)
		if f.ActorID != "" && f.ActorID != out.ActorID {
			return roster.AuditFilter{}, deny(orgID, f.StoreID, roster.PermOrgAuditRead, "you can read your own actions only")
		}
	}
	return out, nil
}

// List lists an organization's audit events, newest first.
func (a *Audit) List(ctx context.Context, actor roster.Actor, orgID string, f AuditFilter) (Page[roster.AuditEvent], error) {
	rf, err := a.auditFilter(ctx, actor, orgID, f)
	if err != nil {
		return Page[roster.AuditEvent]{}, a.refused(ctx, actor, err)
	}
	limit := rf.Limit
	rf.Limit++
	events, err := a.read().ListAuditEvents(ctx, rf)
	if err != nil {
		return Page[roster.AuditEvent]{}, err
	}
	return page(events, limit, func(e roster.AuditEvent) string { return e.ID }), nil
}
