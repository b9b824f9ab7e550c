package console

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Single sign-on: the "Sign in with SSO" step of the login page (home-realm discovery by the
// address's verified domain), the protocol endpoints the identity providers send the browser
// back to, and the organization's Single sign-on tab.

// ssoCookie holds the state of a sign-in sent to an identity provider: the answer is taken
// only in the browser that started it.
const ssoCookie = "roster_sso"

// ssoCookiePath limits the state cookie to the protocol endpoints.
const ssoCookiePath = "/sso/"

func (s *Server) setSSOState(w http.ResponseWriter, state string) {
	c := &http.Cookie{Name: ssoCookie, Value: state, Path: ssoCookiePath, HttpOnly: true, Secure: s.https, SameSite: http.SameSiteLaxMode,
		MaxAge: int(app.SSOLoginLifetime / time.Second)}
	if s.https {
		// A SAML identity provider posts its answer from its own site: Lax would leave the
		// cookie behind. None is allowed only with Secure.
		c.SameSite = http.SameSiteNoneMode
	}
	http.SetCookie(w, c)
}

func (s *Server) clearSSOState(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Path: ssoCookiePath, MaxAge: -1, HttpOnly: true, Secure: s.https})
}

func ssoState(r *http.Request) string {
	if c, err := r.Cookie(ssoCookie); err == nil {
		return c.Value
	}
	return ""
}

// loginSSO sends the browser to the identity provider of the address's organization, or shows
// the login page again saying why not.
func (s *Server) loginSSO(w http.ResponseWriter, r *http.Request, rq *request) error {
	start, err := s.app.SSO.Start(r.Context(), rq.actor(r), r.PostFormValue("email"), safeNext(r.PostFormValue("next")))
	if err != nil {
		v := s.view(w, r, rq, "login.title")
		retryAfter(w, err)
		s.render(w, r, s.setError(r, v, err), "login", v)
		return nil
	}
	s.setSSOState(w, start.State)
	if r.Header.Get("HX-Request") != "" {
		// A boosted form follows redirects with fetch, which cannot leave for the provider.
		w.Header().Set("HX-Redirect", start.RedirectURL)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	// Without script, a redirect would be part of the login form's submission, which the login
	// page's form-action 'self' keeps on this site: a link leaves instead.
	v := s.view(w, r, rq, "sso.continue_title")
	v.D = start.RedirectURL
	s.render(w, r, http.StatusOK, "sso_continue", v)
	return nil
}

// ssoCallback is the OpenID Connect redirect URI.
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	res, err := s.app.SSO.FinishOIDC(r.Context(), rq.actor(r), q.Get("state"), ssoState(r), q.Get("code"), q.Get("error"))
	return s.ssoDone(w, r, rq, res, err)
}

// ssoDone ends a sign-in through a provider: signed in and on to the page asked for, or the
// login page with the reason.
func (s *Server) ssoDone(w http.ResponseWriter, r *http.Request, rq *request, res app.SSOResult, err error) error {
	s.clearSSOState(w)
	if err != nil {
		v := s.view(w, r, rq, "login.title")
		v.PageURL = "/login"
		retryAfter(w, err)
		s.render(w, r, s.setError(r, v, err), "login", v)
		return nil
	}
	s.loggedInTo(w, r, rq, res.LoginResult, res.Next)
	return nil
}

// ssoACS is a SAML connection's assertion consumer service: the identity provider's page
// posts the response here from its own origin, so neither the cross-origin check nor the
// form token of a signed-in identity applies (the state cookie binds the answer instead).
func (s *Server) ssoACS(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	rq := s.identify(w, r)
	r = r.WithContext(app.PerRequest(context.WithValue(r.Context(), keyRequest, rq)))
	r.Body = http.MaxBytesReader(w, r.Body, roster.MaxSSOMetadataBytes*2)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, rq, roster.Invalidf("", "the form could not be read"))
		return
	}
	res, err := s.app.SSO.FinishSAML(r.Context(), rq.actor(r), r.PathValue("conn"), r.PostFormValue("RelayState"), ssoState(r), r.PostFormValue("SAMLResponse"))
	if err := s.ssoDone(w, r, rq, res, err); err != nil {
		s.fail(w, r, rq, err)
	}
}

// ssoMetadata serves a SAML connection's service provider metadata.
func (s *Server) ssoMetadata(w http.ResponseWriter, r *http.Request) {
	b, err := s.app.SSO.Metadata(r.Context(), r.PathValue("conn"))
	if err != nil {
		rq := s.identify(w, r)
		s.fail(w, r, rq, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Content-Disposition", `attachment; filename="roster-sp-metadata.xml"`)
	_, _ = w.Write(b)
}

func (s *Server) orgSSO(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "sso")
	if err != nil {
		return err
	}
	return s.renderSSO(w, r, rq, v, p, http.StatusOK)
}

func (s *Server) renderSSO(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int) error {
	set, err := s.app.SSO.Get(r.Context(), rq.acting(), p.Org.ID)
	if err != nil {
		return err
	}
	p.SSO = &set
	if p.Domains, err = s.app.Domains.List(r.Context(), rq.acting(), p.Org.ID); err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return err
	}
	s.render(w, r, status, "org_sso", v)
	return nil
}

func (s *Server) ssoAction(w http.ResponseWriter, r *http.Request, rq *request, flash string, do func() error) error {
	err := do()
	if err == nil {
		redirect(w, r, rq.orgBase(r)+"/sso", flash)
		return nil
	}
	v, p, perr := s.orgPage(w, r, rq, "sso")
	if perr != nil {
		return perr
	}
	return s.renderSSO(w, r, rq, v, p, s.setError(r, v, err))
}

func (s *Server) ssoSave(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.ssoAction(w, r, rq, "sso_saved", func() error {
		in, err := ssoForm(r)
		if err != nil {
			return err
		}
		_, err = s.app.SSO.Configure(r.Context(), rq.acting(), rq.orgID(r), in)
		return err
	})
}

func (s *Server) ssoRemove(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.ssoAction(w, r, rq, "sso_removed", func() error {
		return s.app.SSO.Remove(r.Context(), rq.acting(), rq.orgID(r))
	})
}

func (s *Server) ssoRequire(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.ssoAction(w, r, rq, "sso_saved", func() error {
		_, err := s.app.SSO.SetDomainRequired(r.Context(), rq.acting(), rq.orgID(r), r.PathValue("domain"), r.PostFormValue("require_sso") == "on")
		return err
	})
}

// ssoForm reads the single sign-on form. Role mappings are one per line:
// "group = role" or "group = role, store_id:store_role, …" (role "-" keeps the default).
func ssoForm(r *http.Request) (app.SSOInput, error) {
	f := r.PostForm
	in := app.SSOInput{Protocol: roster.SSOProtocol(f.Get("protocol")), Enabled: f.Get("enabled") == "on", Issuer: f.Get("issuer"),
		ClientID: f.Get("client_id"), ClientSecret: f.Get("client_secret"), Scopes: strings.Fields(f.Get("scopes")),
		EmailClaim: f.Get("email_claim"), NameClaim: f.Get("name_claim"), GroupsClaim: f.Get("groups_claim"),
		IdPMetadataURL: f.Get("idp_metadata_url"), IdPMetadataXML: f.Get("idp_metadata_xml"), JIT: f.Get("jit") == "on",
		DefaultRole: roster.OrgRole(f.Get("default_role"))}
	var err error
	in.RoleMappings, err = parseMappings(f.Get("role_mappings"))
	return in, err
}

func parseMappings(text string) ([]roster.SSORoleMapping, error) {
	var out []roster.SSORoleMapping
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		group, rest, ok := strings.Cut(line, "=")
		if !ok {
			return nil, roster.Invalidf("role_mappings", "write each mapping as: group = role, store_id:store_role")
		}
		m := roster.SSORoleMapping{Group: strings.TrimSpace(group)}
		for i, part := range strings.Split(rest, ",") {
			part = strings.TrimSpace(part)
			if i == 0 {
				if part != "-" {
					m.OrgRole = roster.OrgRole(part)
				}
				continue
			}
			store, role, ok := strings.Cut(part, ":")
			if !ok {
				return nil, roster.Invalidf("role_mappings", "write each store role as store_id:store_role")
			}
			if m.Stores == nil {
				m.Stores = map[string]string{}
			}
			m.Stores[strings.TrimSpace(store)] = strings.TrimSpace(role)
		}
		out = append(out, m)
	}
	return out, nil
}

// mappingsText writes role mappings back in the form's format.
func mappingsText(ms []roster.SSORoleMapping) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Group + " = ")
		if m.OrgRole == "" {
			b.WriteString("-")
		} else {
			b.WriteString(string(m.OrgRole))
		}
		for st, role := range m.Stores {
			b.WriteString(", " + st + ":" + role)
		}
		b.WriteString("\n")
	}
	return b.String()
}
