package console

import (
	"net/http"
	"net/url"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Setup links (app/setuplinks.go): the owner's list of them on the Security tab, and the
// pages their holder — the customer's IT administrator, who needs no account — opens under
// /it-setup: the organization's domains, single sign-on and SCIM directories, served by the
// same handlers and templates as the Security tab (orgPage gives them the link's organization,
// acting and orgBase the link's actor and addresses), and nothing else.

// setupCookie holds the secret of the setup link this browser opened, for the pages under
// Pages.ITSetup only, until the browser closes (the link's own expiry is the server's to
// check); the address with the secret is left at once for one without it.
const setupCookie = "roster_it_setup"

// setupSession is the setup link a request of its pages comes with.
type setupSession struct {
	token  string
	actor  roster.Actor
	portal app.SetupPortal
}

// acting returns who acts on the Security pages: the holder of the setup link on its pages,
// else the signed-in identity.
func (rq *request) acting() roster.Actor {
	if rq.link != nil {
		return rq.link.actor
	}
	return rq.id.actor
}

// orgID returns the organization a Security page is about: the setup link's on its pages,
// else the one in the address.
func (rq *request) orgID(r *http.Request) string {
	if rq.link != nil {
		return rq.link.portal.OrgID
	}
	return r.PathValue("org")
}

// orgBase returns the address under which a Security page's tabs are: the setup link's
// pages, or the organization's.
func (rq *request) orgBase(r *http.Request) string {
	if rq.link != nil {
		return Pages.ITSetup
	}
	return "/orgs/" + r.PathValue("org")
}

// setSetupCookie keeps (or, with "", forgets) the secret of a setup link. SameSite=Lax: the
// link arrives from an email or a chat, another site, and its redirect to the first page
// must carry the cookie; posts are same-site and carry the link's form token.
func (s *Server) setSetupCookie(w http.ResponseWriter, secret string) {
	c := &http.Cookie{Name: setupCookie, Value: secret, Path: Pages.ITSetup, HttpOnly: true, Secure: s.https, SameSite: http.SameSiteLaxMode}
	if secret == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// openSetupLink authenticates the setup link a request of its pages comes with.
func (s *Server) openSetupLink(r *http.Request, rq *request) error {
	c, err := r.Cookie(setupCookie)
	if err != nil || c.Value == "" {
		return roster.Errorf(roster.ETokenInvalid, "open the setup link you were given")
	}
	return s.useSetupLink(r, rq, c.Value)
}

func (s *Server) useSetupLink(r *http.Request, rq *request, secret string) error {
	actor, err := s.app.SetupLinks.Authenticate(r.Context(), rq.actor(r), secret)
	if err != nil {
		return err
	}
	portal, err := s.app.SetupLinks.Portal(r.Context(), actor)
	if err != nil {
		return err
	}
	rq.link = &setupSession{token: secret, actor: actor, portal: portal}
	return nil
}

// itSetupOpen opens a setup link: the secret moves from the address to the cookie, and the
// first page (the domains) opens. Without a secret, the link this browser opened last.
func (s *Server) itSetupOpen(w http.ResponseWriter, r *http.Request, rq *request) error {
	secret := r.URL.Query().Get("token")
	if secret == "" {
		if err := s.openSetupLink(r, rq); err != nil {
			return err
		}
		http.Redirect(w, r, Pages.ITSetup+"/domains", http.StatusSeeOther)
		return nil
	}
	if err := s.useSetupLink(r, rq, secret); err != nil {
		s.setSetupCookie(w, "")
		return err
	}
	s.setSetupCookie(w, secret)
	http.Redirect(w, r, Pages.ITSetup+"/domains", http.StatusSeeOther)
	return nil
}

// itSetupLeave forgets the setup link in this browser (the link itself stays open).
func (s *Server) itSetupLeave(w http.ResponseWriter, r *http.Request, rq *request) error {
	s.setSetupCookie(w, "")
	redirect(w, r, "/login", "setup_left")
	return nil
}

// The owner's page of setup links, on the Security tab.

// setupLinksPage is the data of the setup links page.
type setupLinksPage struct {
	Links []roster.SetupLink
	Made  *app.CreatedSetupLink // a link just made, its address shown once
}

func (s *Server) orgSetupLinks(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "setup_links")
	if err != nil {
		return err
	}
	return s.renderSetupLinks(w, r, rq, v, p, http.StatusOK, nil)
}

func (s *Server) renderSetupLinks(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int, made *app.CreatedSetupLink) error {
	links, err := s.app.SetupLinks.List(r.Context(), rq.id.actor, p.Org.ID)
	if err != nil {
		return err
	}
	if err := s.withStepUp(r, rq, v); err != nil {
		return err
	}
	p.SetupLinks = &setupLinksPage{Links: links, Made: made}
	if made != nil {
		p.Dialog = "setup_link"
	}
	s.render(w, r, status, "org_setup_links", v)
	return nil
}

func (s *Server) setupLinkCreate(w http.ResponseWriter, r *http.Request, rq *request) error {
	made, err := s.app.SetupLinks.Create(r.Context(), rq.id.actor, r.PathValue("org"), ownerProof(r))
	v, p, perr := s.orgPage(w, r, rq, "setup_links")
	if perr != nil {
		return perr
	}
	if err != nil {
		return s.renderSetupLinks(w, r, rq, v, p, s.setError(r, v, err), nil)
	}
	v.Form = url.Values{} // the proof is not shown again
	return s.renderSetupLinks(w, r, rq, v, p, http.StatusOK, &made)
}

func (s *Server) setupLinkRevoke(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.SetupLinks.Revoke(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("link")); err != nil {
		v, p, perr := s.orgPage(w, r, rq, "setup_links")
		if perr != nil {
			return perr
		}
		return s.renderSetupLinks(w, r, rq, v, p, s.setError(r, v, err), nil)
	}
	redirect(w, r, "/orgs/"+r.PathValue("org")+"/setup-links", "setup_link_revoked")
	return nil
}
