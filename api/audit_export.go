package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
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

// csvHeader names the columns of a CSV export.
var csvHeader = []string{"id", "created_at", "organization_id", "store_id", "actor_kind", "actor_id", "action", "target_type", "target_id",
	"ip", "user_agent", "before", "after"}

// csvCell neutralizes a cell that a spreadsheet would read as a formula (OWASP CSV injection)
// by prefixing it with a quote.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func jsonCell(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
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
				name := "audit-" + in.Org + "-" + time.Now().UTC().Format("20060102T150405Z")
				var write func(roster.AuditEvent) error
				var flush func() error
				if in.Format == "csv" {
					hctx.SetHeader("Content-Type", "text/csv; charset=utf-8")
					hctx.SetHeader("Content-Disposition", `attachment; filename="`+name+`.csv"`)
					w := csv.NewWriter(hctx.BodyWriter())
					_ = w.Write(csvHeader)
					write = func(e roster.AuditEvent) error {
						return w.Write([]string{e.ID, e.CreatedAt.Format(time.RFC3339Nano), e.OrgID, e.StoreID, string(e.ActorKind), csvCell(e.ActorID),
							csvCell(e.Action), csvCell(e.TargetType), csvCell(e.TargetID), csvCell(e.IP), csvCell(e.UserAgent), jsonCell(e.Before), jsonCell(e.After)})
					}
					flush = func() error { w.Flush(); return w.Error() }
				} else {
					hctx.SetHeader("Content-Type", "application/jsonl; charset=utf-8")
					hctx.SetHeader("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
					enc := json.NewEncoder(hctx.BodyWriter())
					write = func(e roster.AuditEvent) error { return enc.Encode(auditJSON(e)) }
					flush = func() error { return nil }
				}
				hctx.SetStatus(http.StatusOK)
				err := x.Each(hctx.Context(), write)
				if err == nil {
					err = flush()
				}
				if err != nil {
					// The status is sent already: cut the connection so that the client sees a
					// broken download rather than a complete-looking, truncated file.
					s.log.WarnContext(hctx.Context(), "audit export interrupted", "err", err)
					panic(http.ErrAbortHandler)
				}
			}}, nil
		}, withDescription("Streams the events matching the filters, oldest first, as JSON lines or CSV, with the visibility of the listing: "+
			"owner and admins everything, store admins a store's events (store_id), members their own actions. The export itself is recorded in the audit log."))
}
