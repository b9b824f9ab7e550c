package console

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

// orgPage is the data of the organization settings pages.
type orgPage struct {
	Org    app.OrganizationView
	Tab    string
	Dialog string // the pop-up open over the tab, if any
	Base   string // the address the tab's links are under: /orgs/{org}, or a setup link's pages

	Stores      []app.StoreView
	ActiveCount int
	CreditsLeft int
	Target      *app.StoreView // the store a pop-up is about

	Members    app.Page[roster.Member]
	Filter     app.MemberFilter
	Member     *roster.Member    // the member a pop-up is about
	MemberRole map[string]string // store ID → the member's store role
	NewRole    roster.OrgRole    // the organization role a pop-up asks to confirm
	StoreRoles []app.RoleView    // the store roles one may grant

	Events app.Page[roster.AuditEvent]
	Audit  app.AuditFilter
	Names  map[string]string // user ID → name, to show who acted

	Admins []roster.Member

	Invitations app.Page[roster.Invitation]
	InvFilter   app.InvitationFilter
	Invitation  *roster.Invitation // the invitation a pop-up is about
	Now         time.Time

	Policy roster.Policy

	SSO *app.SSOSettings // the single sign-on tab (sso.go)

	Roles        *rolesPage
	Keys         *keysPage
	Hooks        *hooksPage
	Domains      []roster.Domain
	Domain       *roster.Domain // the domain a pop-up is about
	JoinRequests []roster.JoinRequest
	SCIM         *scimPage
	SetupLinks   *setupLinksPage
	Usage        *roster.Usage
}

// orgPage loads an organization the user belongs to, for one tab of its settings.
func (s *Server) orgPage(w http.ResponseWriter, r *http.Request, rq *request, tab string) (*view, *orgPage, error) {
	var org app.OrganizationView
	if l := rq.link; l != nil { // a setup link's page: what the link shows of its organization
		org = app.OrganizationView{Organization: roster.Organization{ID: l.portal.OrgID, Name: l.portal.OrgName}, Access: l.portal.Access}
	} else {
		var err error
		if org, err = s.organization(r, rq, r.PathValue("org")); err != nil {
			return nil, nil, err
		}
	}
	v := s.view(w, r, rq, "org."+tab)
	p := &orgPage{Org: org, Tab: tab, Base: rq.orgBase(r)}
	v.D = p
	return v, p, nil
}

func (s *Server) orgIndex(w http.ResponseWriter, r *http.Request, rq *request) error {
	org, err := s.organization(r, rq, r.PathValue("org"))
	if err != nil {
		return err
	}
	if org.Access.Can(roster.PermOrgSettingsRead) {
		http.Redirect(w, r, "/orgs/"+org.ID+"/details", http.StatusSeeOther)
	} else {
		http.Redirect(w, r, "/orgs/"+org.ID+"/usage", http.StatusSeeOther)
	}
	return nil
}

// requireSettings refuses the settings tabs to those who may not view them; the app
// refuses the data behind them too.
func requireSettings(p *orgPage) error {
	if !p.Org.Access.Can(roster.PermOrgSettingsRead) {
		return roster.Forbidden("your role in this organization does not show its settings")
	}
	return nil
}

func (s *Server) orgDetails(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "details")
	if err != nil {
		return err
	}
	if err := requireSettings(p); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "org_details", v)
	return nil
}

func (s *Server) orgDetailsSave(w http.ResponseWriter, r *http.Request, rq *request) error {
	f := r.PostFormValue
	in := app.OrganizationInput{Name: f("name"), Details: roster.OrganizationDetails{LegalName: f("legal_name"), Website: f("website"),
		Phone: f("phone"), AddressLine1: f("address_line1"), AddressLine2: f("address_line2"), City: f("city"),
		PostalCode: f("postal_code"), Region: f("region"), Country: f("country")}}
	org, err := s.app.Organizations.Update(r.Context(), rq.id.actor, r.PathValue("org"), in)
	if err != nil {
		v, _, perr := s.orgPage(w, r, rq, "details")
		if perr != nil {
			return perr
		}
		s.render(w, r, s.setError(r, v, err), "org_details", v)
		return nil
	}
	redirect(w, r, "/orgs/"+org.ID+"/details", "org_saved")
	return nil
}

// upload reads an uploaded image of a form, refusing one over the app's limit.
func upload(r *http.Request, field string) ([]byte, error) {
	f, _, err := r.FormFile(field)
	if err != nil {
		return nil, &roster.Error{Code: roster.EInvalidImage, Field: field, Message: "choose an image"}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, roster.MaxImageBytes+1))
	if err != nil {
		return nil, err
	}
	return data, nil
}

func (s *Server) orgLogoSave(w http.ResponseWriter, r *http.Request, rq *request) error {
	data, err := upload(r, "logo")
	if err == nil {
		_, err = s.app.Organizations.SetLogo(r.Context(), rq.id.actor, r.PathValue("org"), data)
	}
	if err != nil {
		v, _, perr := s.orgPage(w, r, rq, "details")
		if perr != nil {
			return perr
		}
		s.render(w, r, s.setError(r, v, err), "org_details", v)
		return nil
	}
	redirect(w, r, "/orgs/"+r.PathValue("org")+"/details", "logo_saved")
	return nil
}

// serveImage writes a logo; logos change rarely and their URLs carry the image ID.
func serveImage(w http.ResponseWriter, img roster.Image) {
	w.Header().Set("Content-Type", img.ContentType)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	_, _ = w.Write(img.Data)
}

// publicLogo serves an organization's current logo to anyone who has its address: emails and
// the invitation page show it (app.PublicOrganizationLogo). The address changes with the
// logo, so caches keep it for good.
func (s *Server) publicLogo(w http.ResponseWriter, r *http.Request) {
	img, err := s.app.Organizations.PublicLogo(r.Context(), r.PathValue("org"), r.PathValue("image"))
	if err != nil {
		status := roster.HTTPStatus(roster.ErrorCode(err))
		if status >= http.StatusInternalServerError {
			s.log.ErrorContext(r.Context(), "public logo", "err", err, "request_id", httpserver.RequestID(r.Context()))
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.Header().Set("Content-Type", img.ContentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin") // a webmail page shows it
	_, _ = w.Write(img.Data)
}

func (s *Server) orgLogo(w http.ResponseWriter, r *http.Request, rq *request) error {
	img, err := s.app.Organizations.Logo(r.Context(), rq.id.actor, r.PathValue("org"))
	if err != nil {
		return err
	}
	serveImage(w, img)
	return nil
}

// loadStores fills the stores tab: every store, the active count and the credits left.
func (s *Server) loadStores(r *http.Request, rq *request, p *orgPage) error {
	stores, err := s.app.Stores.List(r.Context(), rq.id.actor, p.Org.ID, "")
	if err != nil {
		return err
	}
	p.Stores = stores
	for _, st := range stores {
		if st.Status == roster.StoreActive {
			p.ActiveCount++
		}
	}
	p.CreditsLeft = max(p.Org.StoreCredits-p.ActiveCount, 0)
	return nil
}

// orgStores shows the stores tab, with the "new store" or "archive" pop-up open when the
// path asks for one.
func (s *Server) orgStores(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "stores")
	if err != nil {
		return err
	}
	if err := requireSettings(p); err != nil {
		return err
	}
	return s.renderStores(w, r, rq, v, p, http.StatusOK)
}

func (s *Server) renderStores(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int) error {
	if err := s.loadStores(r, rq, p); err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/stores/new"):
		p.Dialog = "new_store"
	case strings.HasSuffix(r.URL.Path, "/archive"), strings.HasSuffix(r.URL.Path, "/delete"):
		for i := range p.Stores {
			if p.Stores[i].ID == r.PathValue("store") {
				p.Target = &p.Stores[i]
			}
		}
		if p.Target == nil {
			return roster.NotFound("store")
		}
		p.Dialog = "archive_store"
		if strings.HasSuffix(r.URL.Path, "/delete") {
			p.Dialog = "delete_store"
		}
	}
	s.render(w, r, status, "org_stores", v)
	return nil
}

func (s *Server) storeCreate(w http.ResponseWriter, r *http.Request, rq *request) error {
	f := r.PostFormValue
	st, err := s.app.Stores.Create(r.Context(), rq.id.actor, r.PathValue("org"),
		app.StoreInput{Name: f("name"), Website: f("website"), Currency: f("currency"), TimeZone: f("time_zone")})
	if err != nil {
		v, p, perr := s.orgPage(w, r, rq, "stores")
		if perr != nil {
			return perr
		}
		return s.renderStores(w, r, rq, v, p, s.setError(r, v, err))
	}
	redirect(w, r, "/orgs/"+st.OrgID+"/stores", "store_created")
	return nil
}

func (s *Server) storeArchive(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.storeStatus(w, r, rq, s.app.Stores.Archive, "store_archived")
}

func (s *Server) storeUnarchive(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.storeStatus(w, r, rq, s.app.Stores.Unarchive, "store_unarchived")
}

func (s *Server) storeStatus(w http.ResponseWriter, r *http.Request, rq *request,
	change func(ctx context.Context, actor roster.Actor, storeID string) (roster.Store, error), flash string) error {
	if _, err := change(r.Context(), rq.id.actor, r.PathValue("store")); err != nil {
		v, p, perr := s.orgPage(w, r, rq, "stores")
		if perr != nil {
			return perr
		}
		status := s.setError(r, v, err)
		if err := s.loadStores(r, rq, p); err != nil {
			return err
		}
		s.render(w, r, status, "org_stores", v)
		return nil
	}
	redirect(w, r, "/orgs/"+r.PathValue("org")+"/stores", flash)
	return nil
}

func (s *Server) storeDelete(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.storeStatus(w, r, rq, func(ctx context.Context, actor roster.Actor, storeID string) (roster.Store, error) {
		return roster.Store{}, s.app.Stores.Delete(ctx, actor, storeID)
	}, "store_deleted")
}

// orgMembers shows the members tab: search, role filter and paging, with the pop-up to
// manage a member's stores or to confirm a removal open when the path asks for one.
func (s *Server) orgMembers(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "members")
	if err != nil {
		return err
	}
	return s.renderMembers(w, r, rq, v, p, http.StatusOK)
}

func (s *Server) renderMembers(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int) error {
	q := r.URL.Query()
	p.Filter = app.MemberFilter{Query: q.Get("q"), Role: roster.OrgRole(q.Get("role")), Cursor: q.Get("cursor"), Limit: 25}
	members, err := s.app.Members.List(r.Context(), rq.id.actor, p.Org.ID, p.Filter)
	if err != nil {
		return err
	}
	p.Members = members
	switch {
	case strings.HasSuffix(r.URL.Path, "/members/new"):
		p.Dialog = "add_member"
	case strings.HasSuffix(r.URL.Path, "/members/create"):
		p.Dialog = "create_user"
	}
	if p.Dialog != "" {
		if err := s.loadStores(r, rq, p); err != nil {
			return err
		}
	}
	if p.StoreRoles, err = s.storeRoles(r, rq, p.Org); err != nil {
		return err
	}
	if uid := r.PathValue("user"); uid != "" {
		m, err := s.app.Members.Get(r.Context(), rq.id.actor, p.Org.ID, uid)
		if err != nil {
			return err
		}
		p.Member = &m
		p.MemberRole = map[string]string{}
		for _, sm := range m.Stores {
			p.MemberRole[sm.StoreID] = sm.RoleID
		}
		switch {
		case r.PathValue("store") != "":
			if err := s.loadStores(r, rq, p); err != nil {
				return err
			}
			for i := range p.Stores {
				if p.Stores[i].ID == r.PathValue("store") && p.MemberRole[p.Stores[i].ID] != "" {
					p.Target = &p.Stores[i]
				}
			}
			if p.Target == nil {
				return roster.NotFound("store access")
			}
			p.Dialog = "remove_store_access"
		case strings.HasSuffix(r.URL.Path, "/remove"):
			p.Dialog = "remove_member"
		case strings.HasSuffix(r.URL.Path, "/role"):
			// A role change waits for confirmation: making someone admin hands them the
			// organization, making an admin a member takes it away (from oneself too).
			// Nothing to confirm (the same role, an owner, no role): the members page alone.
			p.NewRole = roster.OrgRole(r.URL.Query().Get("role"))
			switch {
			case !m.Role.Removable() || p.NewRole == m.Role || (p.NewRole != roster.OrgAdmin && p.NewRole != roster.OrgMember):
			case uid == rq.id.user.ID:
				p.Dialog = "demote_self"
			default:
				p.Dialog = "change_role"
			}
		case strings.HasSuffix(r.URL.Path, "/password-reset"):
			p.Dialog = "send_reset"
		case strings.HasSuffix(r.URL.Path, "/two-factor-reset"):
			p.Dialog = "reset_factors"
		default:
			p.Dialog = "member_stores"
			if err := s.loadStores(r, rq, p); err != nil {
				return err
			}
		}
	}
	s.render(w, r, status, "org_members", v)
	return nil
}

// memberAction runs one change on a member and comes back to the members tab, showing an
// error in place when the app refuses it.
func (s *Server) memberAction(w http.ResponseWriter, r *http.Request, rq *request, flash, back string, do func() error) error {
	if err := do(); err != nil {
		v, p, perr := s.orgPage(w, r, rq, "members")
		if perr != nil {
			return perr
		}
		status := s.setError(r, v, err)
		r.URL.RawQuery = ""
		return s.renderMembers(w, r, rq, v, p, status)
	}
	redirect(w, r, back, flash)
	return nil
}

func (s *Server) membersPath(r *http.Request) string {
	return "/orgs/" + r.PathValue("org") + "/members"
}

func (s *Server) memberStoreSave(w http.ResponseWriter, r *http.Request, rq *request) error {
	back := s.membersPath(r) + "/" + r.PathValue("user") + "/stores"
	return s.memberAction(w, r, rq, "store_role_saved", back, func() error {
		return s.app.Members.SetStoreRole(r.Context(), rq.id.actor, r.PostFormValue("store"), r.PathValue("user"), r.PostFormValue("role"))
	})
}

func (s *Server) memberStoreRemove(w http.ResponseWriter, r *http.Request, rq *request) error {
	back := s.membersPath(r) + "/" + r.PathValue("user") + "/stores"
	return s.memberAction(w, r, rq, "removed_from_store", back, func() error {
		return s.app.Members.RemoveFromStore(r.Context(), rq.id.actor, r.PostFormValue("store"), r.PathValue("user"))
	})
}

// memberRole sets a member's organization role. An admin making themselves a member first
// confirms on the demote page (they lose the members page with it), then lands on home,
// which every role sees, with one notice.
func (s *Server) memberRole(w http.ResponseWriter, r *http.Request, rq *request) error {
	role := roster.OrgRole(r.PostFormValue("role"))
	self := r.PathValue("user") == rq.id.user.ID && role == roster.OrgMember
	back := s.membersPath(r)
	if r.PostFormValue("confirm") != "yes" {
		redirect(w, r, back+"/"+r.PathValue("user")+"/role?"+url.Values{"role": {string(role)}}.Encode(), "")
		return nil
	}
	if self {
		back = "/" // a page the member role may see
	}
	return s.memberAction(w, r, rq, map[bool]string{false: "member_role_saved", true: "self_demoted"}[self], back, func() error {
		return s.app.Members.ChangeRole(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("user"), role)
	})
}

func (s *Server) memberSuspend(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.memberAction(w, r, rq, "member_suspended", s.membersPath(r), func() error {
		return s.app.Members.Suspend(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("user"))
	})
}

func (s *Server) memberReactivate(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.memberAction(w, r, rq, "member_reactivated", s.membersPath(r), func() error {
		return s.app.Members.Reactivate(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("user"))
	})
}

func (s *Server) memberRemove(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.memberAction(w, r, rq, "member_removed", s.membersPath(r), func() error {
		return s.app.Members.Remove(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("user"))
	})
}

// orgAudit shows the audit log: everything to owner and admins, one's own actions to members.
func (s *Server) orgAudit(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "audit")
	if err != nil {
		return err
	}
	p.Audit = auditFilter(r.URL.Query())
	p.Audit.Cursor, p.Audit.Limit = r.URL.Query().Get("cursor"), 50
	events, err := s.app.Audit.List(r.Context(), rq.id.actor, p.Org.ID, p.Audit)
	if err != nil {
		return err
	}
	p.Events = events
	p.Names = map[string]string{rq.id.user.ID: rq.id.user.Name}
	if p.Org.Access.Can(roster.PermOrgSettingsRead) {
		if ms, err := s.app.Members.List(r.Context(), rq.id.actor, p.Org.ID, app.MemberFilter{Limit: 200}); err == nil {
			for _, m := range ms.Items {
				p.Names[m.UserID] = m.User.Name
			}
		}
		if err := s.loadStores(r, rq, p); err != nil {
			return err
		}
	}
	if p.Org.Access.MayManageDirectories() { // SCIM directories act too: shown by name
		if dirs, err := s.app.Directories.List(r.Context(), rq.id.actor, p.Org.ID); err == nil {
			for _, d := range dirs {
				p.Names[d.ID] = d.Name + " (SCIM)"
			}
		}
	}
	s.render(w, r, http.StatusOK, "org_audit", v)
	return nil
}

// transferPage lets the owner choose an admin to hand the organization to.
func (s *Server) transferPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "transfer")
	if err != nil {
		return err
	}
	return s.renderTransfer(w, r, rq, v, p, http.StatusOK)
}

func (s *Server) renderTransfer(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int) error {
	if !p.Org.Access.Can(roster.PermOrgTransfer) {
		return roster.Forbidden("only the owner transfers ownership")
	}
	admins, err := s.app.Members.List(r.Context(), rq.id.actor, p.Org.ID, app.MemberFilter{Role: roster.OrgAdmin, Status: roster.MembershipActive, Limit: 200})
	if err != nil {
		return err
	}
	p.Admins = admins.Items
	if err := s.withStepUp(r, rq, v); err != nil {
		return err
	}
	s.render(w, r, status, "org_transfer", v)
	return nil
}

// transfer hands the organization to an admin, after the owner typed the organization's
// name (a confirmation of the console's own) and their password (checked by the app).
func (s *Server) transfer(w http.ResponseWriter, r *http.Request, rq *request) error {
	org, err := s.confirmedByName(r, rq, func(orgID string) error {
		return s.app.Organizations.TransferOwnership(r.Context(), rq.id.actor, orgID, r.PostFormValue("user"), ownerProof(r))
	})
	if org.ID == "" {
		return err // the organization itself is out of reach
	}
	if err != nil {
		v, p, perr := s.orgPage(w, r, rq, "transfer")
		if perr != nil {
			return perr
		}
		return s.renderTransfer(w, r, rq, v, p, s.setError(r, v, err))
	}
	redirect(w, r, "/orgs/"+org.ID+"/members", "ownership_transferred")
	return nil
}

func (p *orgPage) dialogName() string { return p.Dialog }

// deletePage asks the owner to confirm the deletion of the organization.
func (s *Server) deletePage(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "delete")
	if err != nil {
		return err
	}
	if !p.Org.Access.Can(roster.PermOrgDelete) {
		return roster.Forbidden("only the owner deletes the organization")
	}
	if err := s.withStepUp(r, rq, v); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "org_delete", v)
	return nil
}

// confirmedByName runs a sensitive action on the organization of the path once the form's
// confirm_name repeats the organization's name (the console's own confirmation; the app
// checks the password). Without the organization, org is empty.
func (s *Server) confirmedByName(r *http.Request, rq *request, do func(orgID string) error) (app.OrganizationView, error) {
	org, err := s.organization(r, rq, r.PathValue("org"))
	if err != nil {
		return app.OrganizationView{}, err
	}
	if strings.TrimSpace(r.PostFormValue("confirm_name")) != org.Name {
		return org, &roster.Error{Code: "confirm_name_mismatch", Field: "confirm_name"}
	}
	return org, do(org.ID)
}

// deleteOrg deletes the organization, after the owner typed its name (the console's own
// confirmation) and their password (checked by the app).
func (s *Server) deleteOrg(w http.ResponseWriter, r *http.Request, rq *request) error {
	org, err := s.confirmedByName(r, rq, func(orgID string) error {
		return s.app.Organizations.Delete(r.Context(), rq.id.actor, orgID, ownerProof(r))
	})
	if org.ID == "" {
		return err // the organization itself is out of reach
	}
	if err != nil {
		v, p, perr := s.orgPage(w, r, rq, "delete")
		if perr != nil {
			return perr
		}
		_ = p
		status := s.setError(r, v, err)
		if err := s.withStepUp(r, rq, v); err != nil {
			return err
		}
		s.render(w, r, status, "org_delete", v)
		return nil
	}
	redirect(w, r, "/", "org_deleted")
	return nil
}
