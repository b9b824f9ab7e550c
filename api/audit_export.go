package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rosterhq/roster/api/auditexport"
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
			x, err := s.app.Audit.Export(ctx, actor(ctx), in.Org, app.AuditFilter{StoreID: in.StoreID, ActorID: in.ActorID, Action: in.Action,
				TargetID: in.TargetID, Since: in.Since, Until: in.Until})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				hctx.SetHeader("Content-Type", auditexport.ContentType(in.Format))
				hctx.SetHeader("Content-Disposition", `attachment; filename="`+auditexport.FileName(x.OrgID(), in.Format, s.app.Now())+`"`)
				hctx.SetStatus(http.StatusOK)
				if err := auditexport.Write(hctx.Context(), hctx.BodyWriter(), x, in.Format); err != nil {
					// The status is sent already: cut the connection so that the client sees a
					// broken download rather than a complete-looking, truncated file.
					s.log.WarnContext(hctx.Context(), "audit export interrupted", "err", err)
					panic(http.ErrAbortHandler)
				}
			}}, nil
		}, withDescription("Streams the events matching the filters, oldest first, as JSON lines or CSV, with the visibility of the listing: "+
			"owner and admins everything, store admins a store's events (store_id), members their own actions. The export itself is recorded in the audit log."))
}
