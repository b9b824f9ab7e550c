package console

import (
	"net/http"
	"strconv"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// operatorPage is the data of the operator pages.
type operatorPage struct {
	Orgs   app.Page[roster.OrganizationSummary]
	Users  app.Page[roster.User]
	Query  string
	Status string
	Owners map[string]bool // users of the page who own an organization
	Target *roster.User    // the user whose deactivation is being confirmed
	// Factors are the users of the page with a second factor; ResetTarget is the one whose
	// factors' reset is being confirmed.
	Factors     map[string]bool
	ResetTarget *roster.User
}

// operatorOrgs lists every organization with its store credits, which operators edit.
func (s *Server) operatorOrgs(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderOperatorOrgs(w, r, rq, nil)
}

func (s *Server) renderOperatorOrgs(w http.ResponseWriter, r *http.Request, rq *request, failed error) error {
	q := r.URL.Query()
	p := &operatorPage{Query: q.Get("q")}
	var err error
	if p.Orgs, err = s.app.Operator.Organizations(r.Context(), rq.id.actor, p.Query, q.Get("cursor"), 50); err != nil {
		return err
	}
	v := s.view(w, r, rq, "operator.orgs_title")
	v.D = p
	status := http.StatusOK
	if failed != nil {
		status = s.setError(r, v, failed)
	}
	s.render(w, r, status, "operator_orgs", v)
	return nil
}

func (s *Server) operatorCredits(w http.ResponseWriter, r *http.Request, rq *request) error {
	n, err := strconv.Atoi(r.PostFormValue("credits"))
	if err != nil {
		err = roster.Invalidf("store_credits", "store credits must be a whole number")
	} else {
		_, err = s.app.Operator.SetStoreCredits(r.Context(), rq.id.actor, r.PathValue("org"), n)
	}
	if err != nil {
		r.URL.RawQuery = ""
		return s.renderOperatorOrgs(w, r, rq, err)
	}
	redirect(w, r, "/operator/organizations", "credits_saved")
	return nil
}

// operatorUsers lists every user; operators deactivate and reactivate them.
func (s *Server) operatorUsers(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderOperatorUsers(w, r, rq, nil)
}

func (s *Server) renderOperatorUsers(w http.ResponseWriter, r *http.Request, rq *request, failed error) error {
	q := r.URL.Query()
	p := &operatorPage{Query: q.Get("q"), Status: q.Get("status")}
	var err error
	if p.Users, err = s.app.Operator.Users(r.Context(), rq.id.actor, p.Query, roster.UserStatus(p.Status), q.Get("cursor"), 50); err != nil {
		return err
	}
	ids := make([]string, len(p.Users.Items))
	for i, u := range p.Users.Items {
		ids[i] = u.ID
		if u.ID == q.Get("deactivate") {
			p.Target = &p.Users.Items[i]
		}
		if u.ID == q.Get("reset") {
			p.ResetTarget = &p.Users.Items[i]
		}
	}
	if p.Owners, err = s.app.Operator.OwnersAmong(r.Context(), rq.id.actor, ids); err != nil {
		return err
	}
	if p.Factors, err = s.app.Operator.SecondFactorAmong(r.Context(), rq.id.actor, ids); err != nil {
		return err
	}
	v := s.view(w, r, rq, "operator.users_title")
	v.D = p
	status := http.StatusOK
	if failed != nil {
		status = s.setError(r, v, failed)
	}
	s.render(w, r, status, "operator_users", v)
	return nil
}

func (s *Server) operatorDeactivate(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := s.app.Operator.DeactivateUser(r.Context(), rq.id.actor, r.PathValue("user")); err != nil {
		r.URL.RawQuery = ""
		return s.renderOperatorUsers(w, r, rq, err)
	}
	redirect(w, r, "/operator/users", "user_deactivated")
	return nil
}

// operatorResetFactors removes a user's second factors, for someone who lost them.
func (s *Server) operatorResetFactors(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := s.app.Operator.ResetFactors(r.Context(), rq.id.actor, r.PathValue("user")); err != nil {
		r.URL.RawQuery = ""
		return s.renderOperatorUsers(w, r, rq, err)
	}
	redirect(w, r, "/operator/users", "operator_factors_reset")
	return nil
}

func (s *Server) operatorReactivate(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := s.app.Operator.ReactivateUser(r.Context(), rq.id.actor, r.PathValue("user")); err != nil {
		r.URL.RawQuery = ""
		return s.renderOperatorUsers(w, r, rq, err)
	}
	redirect(w, r, "/operator/users", "user_reactivated")
	return nil
}
