package app

import (
	"context"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// AuditExport is an export of an organization's audit log, checked and ready to stream.
type AuditExport struct {
	db *sqlstore.DB
	f  roster.AuditFilter
}

// Export prepares an export of an organization's audit log with the filters and
// visibility of Audit.List (the cursor and limit aside): everything for owner and admins, a
// store's events for that store's admins, one's own actions for members. The export is
// recorded in the audit log. Each then streams the events, oldest first, without ever holding
// more than one batch in memory; the doors encode them (api.WriteAuditExport).
func (a *Audit) Export(ctx context.Context, actor roster.Actor, orgID string, f AuditFilter) (*AuditExport, error) {
	f.Cursor, f.Limit = "", 0
	rf, err := a.auditFilter(ctx, actor, orgID, f)
	if err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	err = a.write(ctx, actor, func(t *txn) error {
		after := map[string]any{}
		for k, v := range map[string]string{"store_id": rf.StoreID, "actor_id": rf.ActorID, "action": rf.Action, "target_id": rf.TargetID} {
			if v != "" {
				after[k] = v
			}
		}
		if !rf.Since.IsZero() {
			after["since"] = rf.Since.Format(time.RFC3339)
		}
		if !rf.Until.IsZero() {
			after["until"] = rf.Until.Format(time.RFC3339)
		}
		return t.audit(roster.AuditEvent{OrgID: orgID, StoreID: rf.StoreID, Action: "audit.exported", TargetType: "organization", TargetID: orgID, After: after})
	})
	if err != nil {
		return nil, err
	}
	return &AuditExport{db: a.db, f: rf}, nil
}

// OrgID is the organization whose log is exported.
func (x *AuditExport) OrgID() string { return x.f.OrgID }

// Each calls fn for every exported event, oldest first, stopping at fn's first error.
func (x *AuditExport) Each(ctx context.Context, fn func(roster.AuditEvent) error) error {
	return x.db.Read().EachAuditEvent(ctx, x.f, fn)
}

// pruneBatch bounds the rows one pruning statement deletes, so that no statement holds the
// database for long.
const pruneBatch = 5000

// Prune deletes what has outlived its retention: API key request log entries older than
// Config.APIKeyLogRetention, and audit events (with the events for host applications derived
// from them) older than Config.AuditRetention when it is set (by default the audit log is kept
// forever). Serve runs it periodically; it returns how many
// rows of each went.
func (a *App) Prune(ctx context.Context) (requests, events int64, err error) {
	now := a.clock.Now()
	del := func(fn func(tx *sqlstore.Tx) (int64, error)) (int64, error) {
		var total int64
		for {
			n, err := txValue(ctx, a.db, fn)
			if err != nil {
				return total, err
			}
			total += n
			if n < pruneBatch {
				return total, nil
			}
		}
	}
	if a.cfg.APIKeyLogRetention > 0 {
		before := now.Add(-a.cfg.APIKeyLogRetention)
		if requests, err = del(func(tx *sqlstore.Tx) (int64, error) { return tx.DeleteAPIKeyRequestsBefore(ctx, before, pruneBatch) }); err != nil {
			return requests, 0, err
		}
	}
	if a.cfg.AuditRetention > 0 {
		before := now.Add(-a.cfg.AuditRetention)
		if events, err = del(func(tx *sqlstore.Tx) (int64, error) { return tx.DeleteAuditEventsBatch(ctx, before, pruneBatch) }); err != nil {
			return requests, events, err
		}
		// The events for host applications are derived from audit entries and kept as long.
		if _, err = del(func(tx *sqlstore.Tx) (int64, error) { return tx.DeleteEventsBatch(ctx, before, pruneBatch) }); err != nil {
			return requests, events, err
		}
	}
	if requests+events > 0 {
		a.log.Info("pruned old records", "api_key_requests", requests, "audit_events", events)
	}
	return requests, events, nil
}
