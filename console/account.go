package console

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// accountPage is the data of the account page.
type accountPage struct {
	Sessions  []app.SessionInfo
	Leave     *roster.Affiliation // the organization a "leave" confirmation is about
	TwoFactor app.TwoFactor
	Passkeys  []app.Passkey
	Setup     *totpSetup // an authenticator app being set up
	Codes     []string   // recovery codes, shown once
	CodesFile template.URL
	Flash     string // a notice's catalog key (flash.…), for a page rendered in answer to a post
}

// accountPage shows the profile and language, the password, the sessions, the
// organizations with "leave", and the accounts signed in in this browser.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderAccount(w, r, rq, nil)
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, rq *request, failed error) error {
	return s.renderAccountWith(w, r, rq, failed, &accountPage{})
}

// renderAccountWith renders the account page with what a post put in p (a set-up, codes).
func (s *Server) renderAccountWith(w http.ResponseWriter, r *http.Request, rq *request, failed error, p *accountPage) error {
	v := s.view(w, r, rq, "account.title")
	v.D = p
	if failed == nil {
		v.Form = url.Values{} // a success shown in answer to a post (new codes): no form is refilled with what was posted
	}
	if p.Flash != "" {
		v.Flash = s.cat().text(v.L, "flash."+p.Flash)
	}
	var err error
	if p.Sessions, err = s.app.Auth.Sessions(r.Context(), rq.id.actor); err != nil {
		return err
	}
	if p.TwoFactor, err = s.app.MFA.Status(r.Context(), rq.id.actor); err != nil {
		return err
	}
	if p.Passkeys, err = s.app.Passkeys.List(r.Context(), rq.id.actor); err != nil {
		return err
	}
	if err := s.withStepUp(r, rq, v); err != nil {
		return err
	}
	if org := r.PathValue("org"); org != "" && failed == nil {
		for i := range v.Orgs {
			if v.Orgs[i].Organization.ID == org {
				p.Leave = &v.Orgs[i]
			}
		}
		if p.Leave == nil {
			return roster.NotFound("organization")
		}
	}
	status := http.StatusOK
	if failed != nil {
		status = s.setError(r, v, failed)
	}
	s.render(w, r, status, "account", v)
	return nil
}

func (s *Server) accountProfile(w http.ResponseWriter, r *http.Request, rq *request) error {
	name, loc := r.PostFormValue("name"), r.PostFormValue("locale")
	u, err := s.app.Accounts.Update(r.Context(), rq.id.actor, app.ProfileInput{Name: &name, Locale: &loc})
	if err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	rq.id.user, rq.loc = u, u.Locale
	redirect(w, r, "/account", "profile_saved")
	return nil
}

func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request, rq *request) error {
	next := r.PostFormValue("new_password")
	var err error
	if next != r.PostFormValue("new_password2") {
		err = &roster.Error{Code: "password_mismatch", Field: "new_password2"}
	} else {
		err = s.app.Accounts.ChangePassword(r.Context(), rq.id.actor, r.PostFormValue("current_password"), next)
	}
	if err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	redirect(w, r, "/account", "password_changed")
	return nil
}

func (s *Server) accountRevokeSession(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.Auth.RevokeSession(r.Context(), rq.id.actor, r.PostFormValue("session")); err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	redirect(w, r, "/account", "session_revoked")
	return nil
}

func (s *Server) accountRevokeOthers(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := s.app.Auth.RevokeOtherSessions(r.Context(), rq.id.actor); err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	redirect(w, r, "/account", "sessions_revoked")
	return nil
}

func (s *Server) accountLeave(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.Members.Leave(r.Context(), rq.id.actor, r.PathValue("org")); err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	redirect(w, r, "/account", "left_org")
	return nil
}

func (p *accountPage) dialogName() string {
	if p.Leave != nil {
		return "leave"
	}
	return ""
}
