package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// AuditExport is an export of an organization's audit log, checked and ready to stream.
type AuditExport struct {
	db *sqlstore.DB
	f  roster.AuditFilter
}

// ExportAuditEvents prepares an export of an organization's audit log with the filters and
// visibility of AuditEvents (the cursor and limit aside): everything for owner and admins, a
// store's events for that store's admins, one's own actions for members. The export is
// recorded in the audit log. Each then streams the events, oldest first, without ever holding
// more than one batch in memory.
func (a *App) ExportAuditEvents(ctx context.Context, actor roster.Actor, orgID string, f AuditFilter) (*AuditExport, error) {
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

// Each calls fn for every exported event, oldest first, stopping at fn's first error.
func (x *AuditExport) Each(ctx context.Context, fn func(roster.AuditEvent) error) error {
	return x.db.Read().EachAuditEvent(ctx, x.f, fn)
}

// The formats of an export: one JSON object per line, or CSV with a header row.
const (
	ExportJSONLines = "jsonl"
	ExportCSV       = "csv"
)

// ExportContentType is the media type of an export format.
func ExportContentType(format string) string {
	if format == ExportCSV {
		return "text/csv; charset=utf-8"
	}
	return "application/jsonl; charset=utf-8"
}

// FileName names a download of the export, by organization and time.
func (x *AuditExport) FileName(format string) string {
	return "audit-" + x.f.OrgID + "-" + time.Now().UTC().Format("20060102T150405Z") + "." + format
}

// exportCSVHeader names the columns of a CSV export.
var exportCSVHeader = []string{"id", "created_at", "organization_id", "store_id", "actor_kind", "actor_id", "action", "target_type", "target_id",
	"ip", "user_agent", "before", "after"}

// exportLine is one event of a JSON lines export, with the fields and names of an event in
// the API's listing (GET /v1/organizations/{org}/audit-events).
type exportLine struct {
	ID         string         `json:"id"`
	OrgID      string         `json:"organization_id,omitempty"`
	StoreID    string         `json:"store_id,omitempty"`
	ActorKind  string         `json:"actor_kind"`
	ActorID    string         `json:"actor_id,omitempty"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type,omitempty"`
	TargetID   string         `json:"target_id,omitempty"`
	Before     map[string]any `json:"before,omitempty"`
	After      map[string]any `json:"after,omitempty"`
	IP         string         `json:"ip,omitempty"`
	UserAgent  string         `json:"user_agent,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
}

// Write streams the export to w in a format (ExportJSONLines or ExportCSV), event by event.
// The REST API and the console's download both write exports with it.
func (x *AuditExport) Write(ctx context.Context, w io.Writer, format string) error {
	if format == ExportCSV {
		cw := csv.NewWriter(w)
		if err := cw.Write(exportCSVHeader); err != nil {
			return err
		}
		err := x.Each(ctx, func(e roster.AuditEvent) error {
			return cw.Write([]string{e.ID, e.CreatedAt.Format(time.RFC3339Nano), e.OrgID, e.StoreID, string(e.ActorKind), csvCell(e.ActorID),
				csvCell(e.Action), csvCell(e.TargetType), csvCell(e.TargetID), csvCell(e.IP), csvCell(e.UserAgent), jsonCell(e.Before), jsonCell(e.After)})
		})
		if err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	}
	enc := json.NewEncoder(w)
	return x.Each(ctx, func(e roster.AuditEvent) error {
		return enc.Encode(exportLine{ID: e.ID, OrgID: e.OrgID, StoreID: e.StoreID, ActorKind: string(e.ActorKind), ActorID: e.ActorID,
			Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Before: e.Before, After: e.After, IP: e.IP,
			UserAgent: e.UserAgent, CreatedAt: e.CreatedAt})
	})
}

// csvCell neutralizes a cell that a spreadsheet would read as a formula (OWASP CSV
// injection) by prefixing it with a quote.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// jsonCell is a before/after map in one CSV cell.
func jsonCell(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m) // maps of JSON values read from the database always marshal
	return string(b)
}

// pruneBatch bounds the rows one pruning statement deletes, so that no statement holds the
// database for long.
const pruneBatch = 5000

// Prune deletes what has outlived its retention: API key request log entries older than
// Config.APIKeyLogRetention, and audit events older than Config.AuditRetention when it is set
// (by default the audit log is kept forever). Serve runs it periodically; it returns how many
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
	}
	if requests+events > 0 {
		a.log.Info("pruned old records", "api_key_requests", requests, "audit_events", events)
	}
	return requests, events, nil
}
