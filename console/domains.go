package console

import (
	"net/http"
	"strings"

	"github.com/rosterhq/roster"
)

// The organization's email domains: add one, read the TXT record to publish, verify it, set
// who joins through it, remove it.

func (s *Server) orgDomains(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "domains")
	if err != nil {
		return err
	}
	return s.renderDomains(w, r, rq, v, p, http.StatusOK)
}

func (s *Server) renderDomains(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int) error {
	list, err := s.app.Domains.List(r.Context(), rq.acting(), p.Org.ID)
	if err != nil {
		return err
	}
	p.Domains = list
	if strings.HasSuffix(r.URL.Path, "/delete") {
		for i := range list {
			if list[i].ID == r.PathValue("domain") {
				p.Domain, p.Dialog = &list[i], "remove_domain"
			}
		}
		if p.Domain == nil {
			return roster.NotFound("domain")
		}
	}
	if p.JoinRequests, err = s.app.Domains.JoinRequests(r.Context(), rq.acting(), p.Org.ID); err != nil {
		return err
	}
	s.render(w, r, status, "org_domains", v)
	return nil
}

// domainAction runs one change and goes back to the tab with a notice, or shows the tab again
// with the app's refusal. A refusal about one row (its verification, its join policy) is shown
// above the list, not beside the field that adds a domain.
func (s *Server) domainAction(w http.ResponseWriter, r *http.Request, rq *request, flash string, row bool, do func() error) error {
	err := do()
	if err == nil {
		redirect(w, r, rq.orgBase(r)+"/domains", flash)
		return nil
	}
	v, p, perr := s.orgPage(w, r, rq, "domains")
	if perr != nil {
		return perr
	}
	if e := roster.AsError(err); e != nil && row {
		c := *e
		c.Field = ""
		err = &c
	}
	return s.renderDomains(w, r, rq, v, p, s.setError(r, v, err))
}

func (s *Server) domainAdd(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.domainAction(w, r, rq, "domain_added", false, func() error {
		_, err := s.app.Domains.Add(r.Context(), rq.acting(), rq.orgID(r), strings.TrimSpace(r.PostFormValue("domain")))
		return err
	})
}

func (s *Server) domainVerify(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.domainAction(w, r, rq, "domain_verified", true, func() error {
		_, err := s.app.Domains.Verify(r.Context(), rq.acting(), rq.orgID(r), r.PathValue("domain"))
		return err
	})
}

func (s *Server) domainJoin(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.domainAction(w, r, rq, "domain_saved", true, func() error {
		_, err := s.app.Domains.SetJoin(r.Context(), rq.acting(), rq.orgID(r), r.PathValue("domain"),
			roster.JoinPolicy(r.PostFormValue("join_policy")), roster.OrgRole(r.PostFormValue("join_role")))
		return err
	})
}

func (s *Server) domainRemove(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.domainAction(w, r, rq, "domain_removed", true, func() error {
		return s.app.Domains.Remove(r.Context(), rq.acting(), rq.orgID(r), r.PathValue("domain"))
	})
}

func (s *Server) joinRequestAnswer(approve bool) handler {
	flash := map[bool]string{true: "join_approved", false: "join_declined"}[approve]
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		return s.domainAction(w, r, rq, flash, true, func() error {
			return s.app.Domains.AnswerJoinRequest(r.Context(), rq.acting(), rq.orgID(r), r.PathValue("request"), approve)
		})
	}
}

// joinRequest asks to join an organization the home page suggests; a refusal shows on the
// home page's address with its notice.
func (s *Server) joinRequest(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := s.app.Domains.RequestToJoin(r.Context(), rq.acting(), r.PostFormValue("org")); err != nil {
		return err
	}
	redirect(w, r, "/", "join_requested")
	return nil
}
