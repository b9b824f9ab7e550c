package console

import (
	"net/http"
	"net/url"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/api/auditexport"
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

// auditExport downloads the audit log with the tab's filters, as CSV or JSON lines: the
// app's export written by the API's encoder (auditexport.Write), so the same files and the same visibility (owner and admins everything, members their own
// actions) and the same record of the export in the log as the API's
// GET /v1/organizations/{org}/audit-events/export. The API takes bearer tokens only, never
// the console's cookie, so the console serves the download itself, to its session.
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request, rq *request) error {
	format := r.URL.Query().Get("format")
	if format != auditexport.ExportCSV && format != auditexport.ExportJSONLines {
		return roster.Invalidf("format", "the format is csv or jsonl")
	}
	orgID := r.PathValue("org")
	x, err := s.app.Audit.Export(r.Context(), rq.id.actor, orgID, auditFilter(r.URL.Query()))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", auditexport.ContentType(format))
	w.Header().Set("Content-Disposition", `attachment; filename="`+auditexport.FileName(orgID, format, s.app.Now())+`"`)
	w.WriteHeader(http.StatusOK)
	if err := auditexport.Write(r.Context(), w, x, format); err != nil {
		// The status is sent already: cut the connection, so that the browser reports a failed
		// download rather than keeping a complete-looking, truncated file.
		s.log.WarnContext(r.Context(), "audit export interrupted", "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
