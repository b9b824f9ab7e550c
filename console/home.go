package console

import (
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// home is the active store's page: its details, my role and what it lets me do, the team.
func (s *Server) home(w http.ResponseWriter, r *http.Request, rq *request) error {
	v := s.view(w, r, rq, "home.title")
	d := map[string]any{}
	v.D = d
	suggestions, err := s.app.Domains.JoinSuggestions(r.Context(), rq.id.actor)
	if err != nil {
		return err
	}
	d["Suggestions"] = suggestions
	if v.Store != nil {
		st, err := s.app.Stores.Get(r.Context(), rq.id.actor, v.Store.Store.ID)
		if err != nil {
			return err
		}
		d["StoreView"] = st
		d["Perms"] = st.Grant.Perms.Sorted()
		team, err := s.app.Members.StoreTeam(r.Context(), rq.id.actor, st.ID)
		if err == nil {
			d["Team"] = team
		} else if c := roster.ErrorCode(err); c != roster.EForbidden {
			return err
		}
	}
	if v.Org != nil {
		org, err := s.organization(r, rq, v.Org.Organization.ID)
		if err != nil {
			return err
		}
		d["OrgView"] = org
	}
	s.render(w, r, http.StatusOK, "home", v)
	return nil
}

// selectStore switches the active organization or store: one click in the selector,
// remembered for the user.
func (s *Server) selectStore(w http.ResponseWriter, r *http.Request, rq *request) error {
	sel := app.Selection{OrgID: r.PostFormValue("org"), StoreID: r.PostFormValue("store")}
	if err := s.app.Accounts.Select(r.Context(), rq.id.actor, sel); err != nil {
		return err
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
	return nil
}

func (s *Server) orgNewPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	s.render(w, r, http.StatusOK, "org_new", s.view(w, r, rq, "org_new.title"))
	return nil
}

// orgCreate creates an organization owned by the user and makes it the active one.
func (s *Server) orgCreate(w http.ResponseWriter, r *http.Request, rq *request) error {
	org, err := s.app.Organizations.Create(r.Context(), rq.id.actor, app.OrganizationInput{Name: r.PostFormValue("name")})
	if err != nil {
		v := s.view(w, r, rq, "org_new.title")
		s.render(w, r, s.setError(r, v, err), "org_new", v)
		return nil
	}
	if err := s.app.Accounts.Select(r.Context(), rq.id.actor, app.Selection{OrgID: org.ID}); err != nil {
		return err
	}
	redirect(w, r, "/orgs/"+org.ID+"/details", "org_created")
	return nil
}
