package api

import (
	"context"
	"net/http"
	"time"

	"github.com/rosterhq/roster/app"
)

type auditInput struct {
	OrgPath
	StoreID  string    `query:"store_id" maxLength:"40"`
	ActorID  string    `query:"actor_id" maxLength:"40"`
	Action   string    `query:"action" maxLength:"100" doc:"An action, or a prefix ending in a dot such as member."`
	TargetID string    `query:"target_id" maxLength:"40"`
	Since    time.Time `query:"since" doc:"RFC 3339 time"`
	Until    time.Time `query:"until" doc:"RFC 3339 time"`
	Cursor   string    `query:"cursor" maxLength:"40"`
	Limit    int       `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type auditOutput struct {
	Body struct {
		Events     []AuditEvent `json:"events"`
		NextCursor string       `json:"next_cursor,omitempty"`
	}
}

func (s *Server) registerAudit() {
	register(s.api, op("list-audit-events", http.MethodGet, "/v1/organizations/{org}/audit-events", "Read the audit log", "Audit log"),
		func(ctx context.Context, in *auditInput) (*auditOutput, error) {
			p, err := s.app.Audit.List(ctx, actor(ctx), in.Org, app.AuditFilter{StoreID: in.StoreID, ActorID: in.ActorID, Action: in.Action,
				TargetID: in.TargetID, Since: in.Since, Until: in.Until, Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &auditOutput{}
			out.Body.Events, out.Body.NextCursor = mapSlice(p.Items, auditJSON), p.Next
			return out, nil
		}, withDescription("Newest first. Owner and admins read every event; store admins a store's events (store_id); members their own actions."))
}
