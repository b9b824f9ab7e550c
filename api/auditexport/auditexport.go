// Package auditexport is the wire shape of an audit event (the API's listing shows it, its
// export writes it one per line) and the files an export of the audit log is downloaded as,
// from the API and from the console alike.
package auditexport

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// AuditEvent is an audit event as the API shows it.
type AuditEvent struct {
	ID         string         `json:"id"`
	OrgID      string         `json:"organization_id,omitempty"`
	StoreID    string         `json:"store_id,omitempty"`
	ActorKind  string         `json:"actor_kind" enum:"anonymous,user,api_key,service,client,directory,system"`
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

// EventOf is the wire shape of an event.
func EventOf(e roster.AuditEvent) AuditEvent {
	return AuditEvent{ID: e.ID, OrgID: e.OrgID, StoreID: e.StoreID, ActorKind: string(e.ActorKind), ActorID: e.ActorID, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, Before: e.Before, After: e.After, IP: e.IP, UserAgent: e.UserAgent, CreatedAt: e.CreatedAt}
}

// The formats of an export: one JSON object per line (each shaped as an event of the API's
// listing, AuditEvent), or CSV with a header row.
const (
	ExportJSONLines = "jsonl"
	ExportCSV       = "csv"
)

// ContentType is the media type of an export format.
func ContentType(format string) string {
	if format == ExportCSV {
		return "text/csv; charset=utf-8"
	}
	return "application/jsonl; charset=utf-8"
}

// FileName names a download of an organization's audit log made at now.
func FileName(orgID, format string, now time.Time) string {
	return "audit-" + orgID + "-" + now.UTC().Format("20060102T150405Z") + "." + format
}

// exportCSVHeader names the columns of a CSV export.
var exportCSVHeader = []string{"id", "created_at", "organization_id", "store_id", "actor_kind", "actor_id", "action", "target_type", "target_id",
	"ip", "user_agent", "before", "after"}

// Write streams an export to w in a format (ExportJSONLines or ExportCSV), event by
// event.
func Write(ctx context.Context, w io.Writer, x *app.AuditExport, format string) error {
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
	return x.Each(ctx, func(e roster.AuditEvent) error { return enc.Encode(EventOf(e)) })
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
