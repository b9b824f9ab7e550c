package console

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Pages of custom roles, API keys and usage.

// permGroup is one area of the permission picker.
type permGroup struct {
	Area  string
	Perms []roster.PermissionInfo
}

// rolesPage is the data of the roles tab and its pop-ups.
type rolesPage struct {
	Role    *app.RoleView // the role a pop-up is about (nil for a new one)
	Groups  []permGroup
	Checked map[string]bool
	Holders []roster.RoleHolder
}

// storeRoles lists the store roles of an organization (built-in and custom) to those who may
// list them. Others get the built-in ones and the custom roles they hold themselves, whose
// names their access carries: pages name roles from this list, and a custom role must show
// its own name, never a generic one. Pickers are offered only to those who may list roles.
func (s *Server) storeRoles(r *http.Request, rq *request, org app.OrganizationView) ([]app.RoleView, error) {
	if org.Access.MayListRoles() {
		return s.app.Roles.List(r.Context(), rq.id.actor, org.ID)
	}
	var out []app.RoleView
	for _, id := range roster.BuiltinStoreRoles {
		out = append(out, app.RoleView{Role: roster.Role{ID: id, Builtin: true}})
	}
	seen := map[string]bool{}
	for _, id := range org.Access.StoreIDs() {
		g, ok := org.Access.Store(id)
		if ok && !roster.IsBuiltinStoreRole(g.RoleID) && g.RoleName != "" && !seen[g.RoleID] {
			seen[g.RoleID] = true
			out = append(out, app.RoleView{Role: roster.Role{ID: g.RoleID, Name: g.RoleName}})
		}
	}
	return out, nil
}

// permissionGroups groups the store permissions of the catalog by area, for the picker.
func (s *Server) permissionGroups(r *http.Request, rq *request) ([]permGroup, error) {
	all, err := s.app.Roles.Permissions(r.Context(), rq.id.actor)
	if err != nil {
		return nil, err
	}
	byArea := map[string]*permGroup{}
	var order []string
	for _, p := range all {
		if p.Scope != roster.ScopeStore {
			continue
		}
		g, ok := byArea[p.Area]
		if !ok {
			g = &permGroup{Area: p.Area}
			byArea[p.Area] = g
			order = append(order, p.Area)
		}
		g.Perms = append(g.Perms, p)
	}
	out := make([]permGroup, 0, len(order))
	for _, a := range order {
		out = append(out, *byArea[a])
	}
	return out, nil
}

// orgRoles shows the roles tab: built-in and custom store roles with their holders, and the
// pop-ups to create, edit and delete custom roles.
func (s *Server) orgRoles(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "roles")
	if err != nil {
		return err
	}
	return s.renderRoles(w, r, rq, v, p, http.StatusOK, nil)
}

func (s *Server) renderRoles(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int, holders []roster.RoleHolder) error {
	if err := requireSettings(p); err != nil {
		return err
	}
	rp := &rolesPage{Checked: map[string]bool{}, Holders: holders}
	p.Roles = rp
	var err error
	if p.StoreRoles, err = s.app.Roles.List(r.Context(), rq.id.actor, p.Org.ID); err != nil {
		return err
	}
	if id := r.PathValue("role"); id != "" {
		for i := range p.StoreRoles {
			if p.StoreRoles[i].ID == id && !p.StoreRoles[i].Builtin {
				rp.Role = &p.StoreRoles[i]
			}
		}
		if rp.Role == nil {
			return roster.NotFound("role")
		}
		for _, k := range rp.Role.Permissions {
			rp.Checked[string(k)] = true
		}
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/roles/new"), strings.HasSuffix(r.URL.Path, "/edit"):
		p.Dialog = "edit_role"
		if rp.Groups, err = s.permissionGroups(r, rq); err != nil {
			return err
		}
		if r.Method == http.MethodPost {
			rp.Checked = map[string]bool{}
			for _, k := range r.PostForm["perm"] {
				rp.Checked[k] = true
			}
		}
	case strings.HasSuffix(r.URL.Path, "/delete"):
		p.Dialog = "delete_role"
	}
	s.render(w, r, status, "org_roles", v)
	return nil
}

// roleInput reads the role editor's form.
func roleInput(r *http.Request) (name, description string, perms []roster.Permission) {
	for _, k := range r.PostForm["perm"] {
		perms = append(perms, roster.Permission(k))
	}
	sort.Slice(perms, func(i, j int) bool { return perms[i] < perms[j] })
	return r.PostFormValue("name"), r.PostFormValue("description"), perms
}

func (s *Server) roleCreate(w http.ResponseWriter, r *http.Request, rq *request) error {
	name, desc, perms := roleInput(r)
	_, err := s.app.Roles.Create(r.Context(), rq.id.actor, r.PathValue("org"), app.RoleInput{Name: name, Description: desc, Permissions: perms})
	return s.roleDone(w, r, rq, err, "role_created")
}

func (s *Server) roleUpdate(w http.ResponseWriter, r *http.Request, rq *request) error {
	name, desc, perms := roleInput(r)
	_, err := s.app.Roles.Update(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("role"),
		app.RoleUpdate{Name: &name, Description: &desc, Permissions: &perms})
	return s.roleDone(w, r, rq, err, "role_saved")
}

func (s *Server) roleDelete(w http.ResponseWriter, r *http.Request, rq *request) error {
	err := s.app.Roles.Delete(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("role"), r.PostFormValue("replacement"))
	return s.roleDone(w, r, rq, err, "role_deleted")
}

// roleDone comes back to the roles tab, or shows the pop-up again with the app's refusal
// (for a role still in use, with who holds it).
func (s *Server) roleDone(w http.ResponseWriter, r *http.Request, rq *request, err error, flash string) error {
	if err == nil {
		redirect(w, r, "/orgs/"+r.PathValue("org")+"/roles", flash)
		return nil
	}
	v, p, perr := s.orgPage(w, r, rq, "roles")
	if perr != nil {
		return perr
	}
	status := s.setError(r, v, err)
	var holders []roster.RoleHolder
	if roster.ErrorCode(err) == roster.ERoleInUse {
		holders, _ = s.app.Roles.Holders(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("role"))
	}
	return s.renderRoles(w, r, rq, v, p, status, holders)
}

// keysPage is the data of the API keys tab and its pop-ups.
type keysPage struct {
	Keys      app.Page[roster.APIKey]
	Key       *roster.APIKey
	Secret    string // a new key's secret, shown once
	Requests  app.Page[roster.APIKeyRequest]
	OrgWide   bool            // may create keys for every store
	Manages   []app.StoreView // stores whose keys the actor manages
	Members   []roster.Member
	StoreName map[string]string
}

// orgKeys shows the API keys tab: the keys the actor sees, and the pop-ups to create, clone,
// revoke a key and read its request log.
func (s *Server) orgKeys(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "api_keys")
	if err != nil {
		return err
	}
	return s.renderKeys(w, r, rq, v, p, http.StatusOK)
}

func (s *Server) renderKeys(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int) error {
	kp, err := s.loadKeys(r, rq, p)
	if err != nil {
		return err
	}
	if id := r.PathValue("key"); id != "" {
		k, err := s.app.APIKeys.Get(r.Context(), rq.id.actor, p.Org.ID, id)
		if err != nil {
			return err
		}
		kp.Key = &k
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/api-keys/new"):
		p.Dialog = "new_key"
	case strings.HasSuffix(r.URL.Path, "/clone"):
		p.Dialog = "clone_key"
	case strings.HasSuffix(r.URL.Path, "/revoke"):
		p.Dialog = "revoke_key"
	case strings.HasSuffix(r.URL.Path, "/requests"):
		p.Dialog = "key_requests"
		if kp.Requests, err = s.app.APIKeys.Requests(r.Context(), rq.id.actor, p.Org.ID, kp.Key.ID, r.URL.Query().Get("cursor"), 50); err != nil {
			return err
		}
	}
	if p.Dialog == "new_key" || p.Dialog == "clone_key" || r.Method == http.MethodPost {
		if err := s.withStepUp(r, rq, v); err != nil {
			return err
		}
	}
	s.render(w, r, status, "org_keys", v)
	return nil
}

// loadKeys fills the keys tab: the keys the actor sees, the stores whose keys they manage,
// the members a key may be cloned for, and the roles a key may carry.
func (s *Server) loadKeys(r *http.Request, rq *request, p *orgPage) (*keysPage, error) {
	kp := &keysPage{StoreName: map[string]string{}}
	p.Keys = kp
	p.Now = s.app.Now()
	var err error
	if kp.Keys, err = s.app.APIKeys.List(r.Context(), rq.id.actor, p.Org.ID, r.URL.Query().Get("cursor"), 50); err != nil {
		return nil, err
	}
	stores, err := s.app.Stores.List(r.Context(), rq.id.actor, p.Org.ID, roster.StoreActive)
	if err != nil {
		return nil, err
	}
	kp.OrgWide = p.Org.Access.MayManageAPIKeys("")
	for _, st := range stores {
		kp.StoreName[st.ID] = st.Name
		if p.Org.Access.MayManageAPIKeys(st.ID) {
			kp.Manages = append(kp.Manages, st)
		}
	}
	p.Names = map[string]string{rq.id.user.ID: rq.id.user.Name}
	if p.Org.Access.Can(roster.PermOrgSettingsRead) {
		ms, err := s.app.Members.List(r.Context(), rq.id.actor, p.Org.ID, app.MemberFilter{Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, m := range ms.Items {
			p.Names[m.UserID] = m.User.Name
		}
		kp.Members = ms.Items
	}
	if kp.OrgWide || len(kp.Manages) > 0 {
		if p.StoreRoles, err = s.storeRoles(r, rq, p.Org); err != nil {
			return nil, err
		}
	}
	return kp, nil
}

// expiry reads an optional expiry date (the end of that day, UTC).
func expiry(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, roster.Invalidf("expires_at", "give a date")
	}
	d = d.Add(24*time.Hour - time.Second)
	return &d, nil
}

// keyCreated shows the tab with the new key's secret in a pop-up: shown once, never stored.
func (s *Server) keyCreated(w http.ResponseWriter, r *http.Request, rq *request, created app.CreatedAPIKey, err error) error {
	v, p, perr := s.orgPage(w, r, rq, "api_keys")
	if perr != nil {
		return perr
	}
	if err != nil {
		return s.renderKeys(w, r, rq, v, p, s.setError(r, v, err))
	}
	kp, err := s.loadKeys(r, rq, p)
	if err != nil {
		return err
	}
	kp.Key, kp.Secret, p.Dialog = &created.Key, created.Secret, "key_secret"
	s.render(w, r, http.StatusOK, "org_keys", v)
	return nil
}

func (s *Server) keyCreate(w http.ResponseWriter, r *http.Request, rq *request) error {
	exp, err := expiry(r.PostFormValue("expires"))
	var created app.CreatedAPIKey
	if err == nil {
		created, err = s.app.APIKeys.Create(r.Context(), rq.id.actor, r.PathValue("org"), app.APIKeyInput{Name: r.PostFormValue("name"),
			StoreID: r.PostFormValue("store"), RoleID: r.PostFormValue("role"), OrgRole: roster.OrgRole(r.PostFormValue("org_role")),
			ExpiresAt: exp, Proof: ownerProof(r)})
	}
	return s.keyCreated(w, r, rq, created, err)
}

func (s *Server) keyClone(w http.ResponseWriter, r *http.Request, rq *request) error {
	exp, err := expiry(r.PostFormValue("expires"))
	var created app.CreatedAPIKey
	if err == nil {
		created, err = s.app.APIKeys.Clone(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("key"), app.CloneInput{
			UserID: r.PostFormValue("user"), Name: r.PostFormValue("name"), ExpiresAt: exp, Proof: ownerProof(r)})
	}
	return s.keyCreated(w, r, rq, created, err)
}

func (s *Server) keyRevoke(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.APIKeys.Revoke(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("key")); err != nil {
		v, p, perr := s.orgPage(w, r, rq, "api_keys")
		if perr != nil {
			return perr
		}
		return s.renderKeys(w, r, rq, v, p, s.setError(r, v, err))
	}
	redirect(w, r, "/orgs/"+r.PathValue("org")+"/api-keys", "key_revoked")
	return nil
}

// orgUsage shows what the organization consumes, to every member.
func (s *Server) orgUsage(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "usage")
	if err != nil {
		return err
	}
	u, err := s.app.Organizations.Usage(r.Context(), rq.id.actor, p.Org.ID)
	if err != nil {
		return err
	}
	p.Usage = &u
	s.render(w, r, http.StatusOK, "org_usage", v)
	return nil
}
