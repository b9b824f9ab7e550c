package console

import (
	"net/http"
	"net/url"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Sign in with Roster: the user signs in on the console's own login page (the existing
// session, or /login?next=… back here), then, when the application asked for the scope
// organization, chooses the organization and store its tokens will carry. The protocol is
// the oidc/ door's; it sends the browser here with the authorization request's ID, and this
// page sends it back to the door's callback once the request is complete.

// Paths shared with the oidc/ door.
const (
	oidcContinuePath = "/oidc/continue"
	oidcCallbackPath = "/oidc/authorize/callback"
)

// oidcChooser is the chooser page's data.
type oidcChooser struct {
	ID       string
	Client   string
	OrgScope bool
	Sign     app.OIDCSignIn
}

func (s *Server) oidcContinue(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.URL.Query().Get("id")
	if r.Method == http.MethodPost {
		id = r.PostFormValue("id")
	}
	if rq.id == nil {
		req, err := s.app.OIDC.AuthRequest(r.Context(), id)
		if err != nil {
			return err
		}
		if req.Silent() { // prompt=none: no login page
			s.oidcRefuse(w, r, rq, req.OIDCRequest, "login_required")
			return nil
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil
	}
	si, err := s.app.OIDC.SignInChoices(r.Context(), rq.id.actor, id)
	if err != nil {
		return err
	}
	if si.Reauthenticate {
		// prompt=login or max_age: the password again, then back here.
		if si.Request.Silent() {
			s.oidcRefuse(w, r, rq, si.Request.OIDCRequest, "login_required")
			return nil
		}
		next := "/oidc/continue?id=" + url.QueryEscape(id)
		if r.Header.Get("HX-Request") != "" {
			w.Header().Set("HX-Redirect", "/login?add=1&next="+url.QueryEscape(next))
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		http.Redirect(w, r, "/login?add=1&next="+url.QueryEscape(next), http.StatusSeeOther)
		return nil
	}
	if si.Request.Silent() && si.Chosen == nil {
		code := "interaction_required" // the chooser would be needed
		if si.Consent {
			code = "consent_required"
		}
		s.oidcRefuse(w, r, rq, si.Request.OIDCRequest, code)
		return nil
	}
	if r.Method == http.MethodPost && r.PostFormValue("deny") != "" {
		req, err := s.app.OIDC.DenySignIn(r.Context(), rq.id.actor, id)
		if err != nil {
			return err
		}
		s.oidcRefuse(w, r, rq, req.OIDCRequest, "access_denied")
		return nil
	}
	if r.Method == http.MethodPost {
		err := s.app.OIDC.CompleteSignIn(r.Context(), rq.id.actor, id, app.OIDCChoice{OrgID: r.PostFormValue("organization"), StoreID: r.PostFormValue("store")})
		if err == nil {
			s.toCallback(w, r, id)
			return nil
		}
		v := s.oidcChooserView(w, r, rq, si)
		s.render(w, r, s.setError(r, v, err), "oidc_choose", v)
		return nil
	}
	if si.Chosen != nil {
		if err := s.app.OIDC.CompleteSignIn(r.Context(), rq.id.actor, id, *si.Chosen); err != nil {
			if si.Request.Silent() && roster.ErrorCode(err) == roster.ETwoFactorRequired {
				s.oidcRefuse(w, r, rq, si.Request.OIDCRequest, "interaction_required") // setting up a factor needs the person
				return nil
			}
			return err // two_factor_required: to the account page, to set one up
		}
		s.toCallback(w, r, id)
		return nil
	}
	if r.Header.Get("HX-Request") != "" {
		// Reached by a boosted form (the login page): load the chooser as a page of its own,
		// so that its Content-Security-Policy, which lets its form lead to the application,
		// is the document's.
		w.Header().Set("HX-Redirect", r.URL.RequestURI())
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	v := s.oidcChooserView(w, r, rq, si)
	s.render(w, r, http.StatusOK, "oidc_choose", v)
	return nil
}

func (s *Server) oidcChooserView(w http.ResponseWriter, r *http.Request, rq *request, si app.OIDCSignIn) *view {
	// The chooser's answer ends in a redirect to the application: the form may lead there.
	if u, err := url.Parse(si.Request.RedirectURI); err == nil && u.Scheme != "" && u.Host != "" {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' "+u.Scheme+"://"+u.Host)
	}
	v := s.view(w, r, rq, "oidc.choose_title")
	v.D = oidcChooser{ID: si.Request.ID, Client: si.Client.Name, OrgScope: si.Request.HasScope(app.ScopeOrganization), Sign: si}
	return v
}

// oidcRefuse sends the browser back to the application's registered redirect URI with an
// OAuth error (RFC 6749 §4.1.2.1), its state and iss.
func (s *Server) oidcRefuse(w http.ResponseWriter, r *http.Request, rq *request, req app.OIDCRequest, code string) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		s.fail(w, r, rq, err)
		return
	}
	q := u.Query()
	q.Set("error", code)
	if req.State != "" {
		q.Set("state", req.State)
	}
	q.Set("iss", s.app.OIDC.Issuer())
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// toCallback sends the browser to the door, which redirects to the application: with htmx
// (a boosted login form), as a full navigation, so that the redirect leaves no XHR behind.
func (s *Server) toCallback(w http.ResponseWriter, r *http.Request, id string) {
	to := oidcCallbackPath + "?id=" + url.QueryEscape(id)
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// OIDCErrorPage shows the localized page for an authorization request the oidc/ door refused
// without redirecting (an unknown client or redirect URI: redirecting would be unsafe).
func (s *Server) OIDCErrorPage(w http.ResponseWriter, r *http.Request, status int) {
	rq := s.identify(w, r)
	v := s.view(w, r, rq, "error.title")
	v.Error = s.cat().text(rq.loc, "oidc.bad_request")
	s.render(w, r, status, "error", v)
}
