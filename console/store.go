package console

import (
	"net/http"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// storePage is the data of the store manager.
type storePage struct {
	Store       app.StoreView
	Org         app.OrganizationView
	Team        []roster.TeamMember
	Invitations []roster.Invitation // pending, granting a role in this store
	StoreRoles  []app.RoleView
	Dialog      string
	Target      *roster.TeamMember // the team member a pop-up is about
}

// storePage shows the store manager: details and logo, the team with store roles.
func (s *Server) storePage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderStore(w, r, rq, nil)
}

func (s *Server) renderStore(w http.ResponseWriter, r *http.Request, rq *request, failed error) error {
	st, err := s.app.Stores.Get(r.Context(), rq.id.actor, r.PathValue("store"))
	if err != nil {
		return err
	}
	org, err := s.organization(r, rq, st.OrgID)
	if err != nil {
		return err
	}
	p := &storePage{Store: st, Org: org}
	if p.StoreRoles, err = s.storeRoles(r, rq, org); err != nil {
		return err
	}
	if p.Team, err = s.app.Members.StoreTeam(r.Context(), rq.id.actor, st.ID); err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return err
	}
	invs, err := s.app.Invitations.ListForStore(r.Context(), rq.id.actor, st.ID, "", 0)
	if err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return err
	}
	p.Invitations = invs.Items
	if strings.HasSuffix(r.URL.Path, "/invite") {
		p.Dialog = "invite"
	}
	if uid := r.PathValue("user"); uid != "" && strings.HasSuffix(r.URL.Path, "/remove") && failed == nil {
		for i := range p.Team {
			if p.Team[i].User.ID == uid {
				p.Dialog, p.Target = "remove_from_store", &p.Team[i]
			}
		}
		if p.Target == nil {
			return roster.NotFound("store member")
		}
	}
	v := s.view(w, r, rq, "store.title")
	v.D = p
	status := http.StatusOK
	if failed != nil {
		status = s.setError(r, v, failed)
	}
	s.render(w, r, status, "store", v)
	return nil
}

func (s *Server) storeSave(w http.ResponseWriter, r *http.Request, rq *request) error {
	f := r.PostFormValue
	_, err := s.app.Stores.Update(r.Context(), rq.id.actor, r.PathValue("store"),
		app.StoreInput{Name: f("name"), Website: f("website"), Currency: f("currency"), TimeZone: f("time_zone")})
	if err != nil {
		return s.renderStore(w, r, rq, err)
	}
	redirect(w, r, "/stores/"+r.PathValue("store"), "store_saved")
	return nil
}

func (s *Server) storeLogoSave(w http.ResponseWriter, r *http.Request, rq *request) error {
	data, err := upload(r, "logo")
	if err == nil {
		_, err = s.app.Stores.SetLogo(r.Context(), rq.id.actor, r.PathValue("store"), data)
	}
	if err != nil {
		return s.renderStore(w, r, rq, err)
	}
	redirect(w, r, "/stores/"+r.PathValue("store"), "logo_saved")
	return nil
}

func (s *Server) storeLogo(w http.ResponseWriter, r *http.Request, rq *request) error {
	img, err := s.app.Stores.Logo(r.Context(), rq.id.actor, r.PathValue("store"))
	if err != nil {
		return err
	}
	serveImage(w, img)
	return nil
}

func (s *Server) teamRole(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.Members.SetStoreRole(r.Context(), rq.id.actor, r.PathValue("store"), r.PathValue("user"), r.PostFormValue("role")); err != nil {
		return s.renderStore(w, r, rq, err)
	}
	redirect(w, r, "/stores/"+r.PathValue("store"), "store_role_saved")
	return nil
}

func (s *Server) teamRemove(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.Members.RemoveFromStore(r.Context(), rq.id.actor, r.PathValue("store"), r.PathValue("user")); err != nil {
		return s.renderStore(w, r, rq, err)
	}
	redirect(w, r, "/stores/"+r.PathValue("store"), "removed_from_store")
	return nil
}

func (p *storePage) dialogName() string { return p.Dialog }
