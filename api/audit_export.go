package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

type auditExportInput struct {
	OrgPath
	Format   string    `query:"format" enum:"jsonl,csv" default:"jsonl" doc:"JSON lines (one event per line) or CSV"`
	StoreID  string    `query:"store_id" maxLength:"40"`
	ActorID  string    `query:"actor_id" maxLength:"40"`
	Action   string    `query:"action" maxLength:"100" doc:"An action, or a prefix ending in a dot such as member."`
	TargetID string    `query:"target_id" maxLength:"40"`
	Since    time.Time `query:"since" doc:"RFC 3339 time"`
	Until    time.Time `query:"until" doc:"RFC 3339 time"`
}

func (s *Server) registerAuditExport() {
	register(s.api, op("export-audit-events", http.MethodGet, "/v1/organizations/{org}/audit-events/export", "Export the audit log", "Audit log"),
		func(ctx context.Context, in *auditExportInput) (*huma.StreamResponse, error) {
			x, err := s.app.ExportAuditEvents(ctx, actor(ctx), in.Org, app.AuditFilter{StoreID: in.StoreID, ActorID: in.ActorID, Action: in.Action,
				TargetID: in.TargetID, Since: in.Since, Until: in.Until})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				hctx.SetHeader("Content-Type", AuditExportContentType(in.Format))
				hctx.SetHeader("Content-Disposition", `attachment; filename="`+AuditExportFileName(x.OrgID(), in.Format, s.app.Now())+`"`)
				hctx.SetStatus(http.StatusOK)
				if err := WriteAuditExport(hctx.Context(), hctx.BodyWriter(), x, in.Format); err != nil {
					// The status is sent already: cut the connection so that the client sees a
					// broken download rather than a complete-looking, truncated file.
					s.log.WarnContext(hctx.Context(), "audit export interrupted", "err", err)
					panic(http.ErrAbortHandler)
				}
			}}, nil
		}, withDescription("Streams the events matching the filters, oldest first, as JSON lines or CSV, with the visibility of the listing: "+
			"owner and admins everything, store admins a store's events (store_id), members their own actions. The export itself is recorded in the audit log."))
}

// The formats of an export of the audit log: one JSON object per line (each shaped as an event
// of the listing, AuditEvent), or CSV with a header row. The console's download writes the
// same files with these functions.
const (
	ExportJSONLines = "jsonl"
	ExportCSV       = "csv"
)

// AuditExportContentType is the media type of an export format.
func AuditExportContentType(format string) string {
	if format == ExportCSV {
		return "text/csv; charset=utf-8"
	}
	return "application/jsonl; charset=utf-8"
}

// AuditExportFileName names a download of an organization's audit log made at now.
func AuditExportFileName(orgID, format string, now time.Time) string {
	return "audit-" + orgID + "-" + now.UTC().Format("20060102T150405Z") + "." + format
}

// exportCSVHeader names the columns of a CSV export.
var exportCSVHeader = []string{"id", "created_at", "organization_id", "store_id", "actor_kind", "actor_id", "action", "target_type", "target_id",
	"ip", "user_agent", "before", "after"}

// WriteAuditExport streams an export to w in a format (ExportJSONLines or ExportCSV), event by
// event.
func WriteAuditExport(ctx context.Context, w io.Writer, x *app.AuditExport, format string) error {
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
	return x.Each(ctx, func(e roster.AuditEvent) error { return enc.Encode(auditJSON(e)) })
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
