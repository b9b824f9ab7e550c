package console

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// auditFilter reads the filters of the audit tab from its query string: the listing and
// its downloads use the same ones. Dates are whole days; until includes its day.
func auditFilter(q url.Values) app.AuditFilter {
	f := app.AuditFilter{Action: q.Get("action"), StoreID: q.Get("store"), ActorID: q.Get("actor")}
	if d, err := time.Parse("2006-01-02", q.Get("since")); err == nil {
		f.Since = d
	}
	if d, err := time.Parse("2006-01-02", q.Get("until")); err == nil {
		f.Until = d.Add(24 * time.Hour)
	}
	return f
}

// auditCSVHeader names the columns of a CSV download, those of the API's export.
var auditCSVHeader = []string{"id", "created_at", "organization_id", "store_id", "actor_kind", "actor_id", "action", "target_type", "target_id",
	"ip", "user_agent", "before", "after"}

// auditLine is one event of a JSON lines download, shaped as the API's export shapes it.
type auditLine struct {
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

// auditExport downloads the audit log with the tab's filters, as CSV or JSON lines: the
// app's export, so the same visibility (owner and admins everything, members their own
// actions) and the same record of the export in the log as the API's
// GET /v1/organizations/{org}/audit-events/export. The API takes bearer tokens only, never
// the console's cookie, so the console serves the download itself, to its session.
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request, rq *request) error {
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "jsonl" {
		return roster.Invalidf("format", "the format is csv or jsonl")
	}
	orgID := r.PathValue("org")
	x, err := s.app.ExportAuditEvents(r.Context(), rq.id.actor, orgID, auditFilter(r.URL.Query()))
	if err != nil {
		return err
	}
	name := "audit-" + orgID + "-" + time.Now().UTC().Format("20060102T150405Z") + "." + format
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	var write func(roster.AuditEvent) error
	flush := func() error { return nil }
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		cw := csv.NewWriter(w)
		_ = cw.Write(auditCSVHeader)
		write = func(e roster.AuditEvent) error {
			return cw.Write([]string{e.ID, e.CreatedAt.Format(time.RFC3339Nano), e.OrgID, e.StoreID, string(e.ActorKind), csvCell(e.ActorID),
				csvCell(e.Action), csvCell(e.TargetType), csvCell(e.TargetID), csvCell(e.IP), csvCell(e.UserAgent), jsonCell(e.Before), jsonCell(e.After)})
		}
		flush = func() error { cw.Flush(); return cw.Error() }
	} else {
		w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
		enc := json.NewEncoder(w)
		write = func(e roster.AuditEvent) error {
			return enc.Encode(auditLine{ID: e.ID, OrgID: e.OrgID, StoreID: e.StoreID, ActorKind: string(e.ActorKind), ActorID: e.ActorID,
				Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Before: e.Before, After: e.After, IP: e.IP,
				UserAgent: e.UserAgent, CreatedAt: e.CreatedAt})
		}
	}
	w.WriteHeader(http.StatusOK)
	err = x.Each(r.Context(), write)
	if err == nil {
		err = flush()
	}
	if err != nil {
		// The status is sent already: cut the connection, so that the browser reports a failed
		// download rather than keeping a complete-looking, truncated file.
		s.log.WarnContext(r.Context(), "audit export interrupted", "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// csvCell neutralizes a cell that a spreadsheet would read as a formula (OWASP CSV
// injection) by prefixing it with a quote, as the API's export does.
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
