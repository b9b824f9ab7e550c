// Package console is Roster's web console: server-rendered pages (html/template) over the
// same app methods as the REST API, progressively enhanced with htmx. Templates, styles,
// scripts and the texts of the three languages are embedded, so `go run` serves it all.
//
// Every decision about what to show comes from roster.Access (and the grants and roles the
// app returns); every action goes through one app method, which checks it again.
package console

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

// Options configure the console.
type Options struct {
	Log   *slog.Logger
	HTTPS bool // served over https: cookies are Secure
}

// Server serves the console's pages.
type Server struct {
	app   *app.App
	log   *slog.Logger
	https bool
	views func() (*views, error) // the catalogs and templates, read when the first page is served (loadViews)
	cop   *http.CrossOriginProtection
}

// Body limits of forms: small ones, and logo uploads (limits.go).
const (
	maxForm   = roster.MaxFormBody
	maxUpload = roster.MaxFormUpload
)

// New returns the console. Its catalogs and templates are read when it serves its first
// page, so a node that only answers the API never holds them (3.2 MB, most of an idle
// node's heap); they are embedded in the binary, and TestEveryRenderedPageIsParsed reads
// them all, so a broken one stops the tests rather than reaching a request.
func New(a *app.App, o Options) *Server {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &Server{app: a, log: o.Log, https: o.HTTPS, views: sync.OnceValues(loadViews), cop: http.NewCrossOriginProtection()}
	s.cop.SetDenyHandler(http.HandlerFunc(s.crossOrigin))
	return s
}

// Register adds the console's pages and its static files to mux.
func Register(mux *http.ServeMux, a *app.App, o Options) {
	New(a, o).routes(mux)
}

// Mount adds the console to mux like Register and returns it, for the doors that render
// their pages with it (oidc/).
func Mount(mux *http.ServeMux, a *app.App, o Options) *Server {
	s := New(a, o)
	s.routes(mux)
	return s
}

// ctxKey keys the console's values in a request's context.
type ctxKey int

const keyRequest ctxKey = iota

// request is what the console knows of one request: the visitor's language, and the
// identity they act as when signed in.
type request struct {
	loc      string
	id       *identity      // nil when signed out
	others   []identity     // the other identities signed in in this browser, still valid
	tokens   []string       // every signed-in identity's session token in this browser
	sawToken bool           // a session cookie came with the request (even if no longer valid)
	ws       *app.Workspace // the signed-in user's workspace, once read (Server.workspace)
	link     *setupSession  // the setup link the pages under Pages.ITSetup come with (setuplinks.go)
}

// handler serves one console page; an error it returns is shown as an error page.
type handler func(w http.ResponseWriter, r *http.Request, rq *request) error

// access levels of routes.
const (
	public    = iota // anyone
	signedIn         // a signed-in user
	operator         // an operator of the instance
	setupLink        // the holder of a setup link (setuplinks.go), signed in or not
)

// handle registers a console route: the identity and language are resolved, POSTs pass the
// cross-origin check and, for a signed-in visitor, the form token; pages are never cached.
func (s *Server) handle(mux *http.ServeMux, pattern string, level int, h handler) {
	mux.Handle(pattern, s.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("Referrer-Policy", "no-referrer") // links may carry one-time tokens
		hdr.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		rq := s.identify(w, r)
		r = r.WithContext(app.PerRequest(context.WithValue(r.Context(), keyRequest, rq)))
		if level == setupLink {
			if err := s.openSetupLink(r, rq); err != nil {
				s.fail(w, r, rq, err)
				return
			}
		}
		if r.Method == http.MethodPost {
			limit := int64(maxForm)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				limit = maxUpload
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				err = r.ParseMultipartForm(maxUpload)
			} else {
				err = r.ParseForm()
			}
			if err != nil {
				s.fail(w, r, rq, roster.Invalidf("", "the form could not be read"))
				return
			}
			if (rq.id != nil || rq.link != nil) && !s.validFormToken(rq, r.PostFormValue("csrf")) {
				s.refuseForm(w, r, rq)
				return
			}
		}
		switch {
		case (level == signedIn || level == operator) && rq.id == nil:
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			} else {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
			}
			return
		case level == operator && !rq.id.actor.Operator:
			s.fail(w, r, rq, roster.NotFound("page"))
			return
		}
		if err := h(w, r, rq); err != nil {
			s.fail(w, r, rq, err)
		}
	})))
}

// actor returns who acts in a request: the signed-in identity, or an anonymous visitor.
func (rq *request) actor(r *http.Request) roster.Actor {
	if rq.id != nil {
		return rq.id.actor
	}
	return roster.Anonymous(httpserver.ClientIP(r.Context()), r.UserAgent())
}

// fail shows an error page for an error no form could show in place.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	code := roster.ErrorCode(err)
	if code == roster.EInternal {
		s.log.ErrorContext(r.Context(), "internal error", "err", err, "path", r.URL.Path, "request_id", httpserver.RequestID(r.Context()))
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = &roster.Error{Code: roster.EBodyTooLarge, Message: "the request is too large"}
		code = roster.EBodyTooLarge
	}
	if code == roster.ETwoFactorRequired && r.Method == http.MethodGet && rq.id != nil && rq.id.actor.SessionID != "" {
		// The organization requires a second factor: the account page sets one up.
		http.Redirect(w, r, "/account?ok=two_factor_required#two-factor", http.StatusSeeOther)
		return
	}
	status := roster.HTTPStatus(code)
	var wait time.Duration
	if e := roster.AsError(err); e != nil {
		wait = e.RetryAfter
	}
	if v := roster.RetryAfterHeader(status, wait); v != "" {
		w.Header().Set("Retry-After", v)
	}
	v := s.view(w, r, rq, "error.title")
	v.Error = s.cat().errorText(rq.loc, err, httpserver.RequestID(r.Context()))
	d := map[string]any{"Code": code, "Forbidden": status == http.StatusForbidden}
	if e := roster.AsError(err); e != nil && status == http.StatusForbidden {
		if p, ok := e.Details["permission"].(string); ok {
			d["WhoMay"] = s.whoMay(rq.loc, roster.Permission(p))
		}
	}
	v.D = d
	s.render(w, r, status, "error", v)
}

// whoMay tells someone refused which roles may do what they tried, in their language: "Owner,
// Admin of the organization; Admin of the store".
func (s *Server) whoMay(loc string, p roster.Permission) string {
	org, store := roster.NewCatalog(nil).Holders(p)
	var parts []string
	if len(org) > 0 {
		names := make([]string, len(org))
		for i, r := range org {
			names[i] = s.cat().text(loc, "orgrole."+string(r))
		}
		parts = append(parts, s.cat().text(loc, "error.who_may_org", "roles", strings.Join(names, ", ")))
	}
	if len(store) > 0 {
		names := make([]string, len(store))
		for i, r := range store {
			names[i] = s.cat().text(loc, "storerole."+r)
		}
		parts = append(parts, s.cat().text(loc, "error.who_may_store", "roles", strings.Join(names, ", ")))
	}
	if len(parts) == 0 {
		return ""
	}
	return s.cat().text(loc, "error.who_may", "roles", strings.Join(parts, "; "))
}

// crossOrigin answers a state-changing request sent from another site.
func (s *Server) crossOrigin(w http.ResponseWriter, r *http.Request) {
	rq := s.identify(w, r)
	v := s.view(w, r, rq, "error.title")
	v.Error = s.cat().text(rq.loc, "error.cross_origin")
	s.render(w, r, http.StatusForbidden, "error", v)
}

// refuseForm answers a form posted without the signed-in identity's form token: a forged
// request, or a page left open while the browser switched to another account.
func (s *Server) refuseForm(w http.ResponseWriter, r *http.Request, rq *request) {
	v := s.view(w, r, rq, "error.title")
	v.Error = s.cat().text(rq.loc, "error.form_token")
	s.render(w, r, http.StatusForbidden, "error", v)
}

// redirect sends the browser to a page after a change, with a message to show there.
func redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "ok=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// staticFiles serves the embedded styles, scripts and images, cached for a day.
func staticFiles() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.StripPrefix("/static", files).ServeHTTP(w, r)
	})
}
