package console

import (
	"net/http"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/scim"
)

// The organization's SCIM directories: create one (its token shown once), give it a new
// token, delete it, and map the groups it pushed to roles.

// scimPage is the data of the SCIM tab.
type scimPage struct {
	BaseURL     string
	Directories []scimDirectory
	Directory   *roster.Directory // the directory a pop-up is about
	Token       string            // a token just made, shown once
	Mappings    []scimMapping     // what a group may map to
}

// scimDirectory is a directory with the groups it pushed.
type scimDirectory struct {
	roster.Directory
	Groups []scimGroup
}

// scimGroup is a group with the value of its mapping in the mapping select.
type scimGroup struct {
	roster.SCIMGroup
	Mapping string
}

// scimMapping is one choice of the mapping select: "" (none), "org:admin", "org:member" or
// "store:<store>:<role>".
type scimMapping struct {
	Value    string
	OrgRole  string
	Store    string
	RoleName string
	RoleID   string
}

func mappingValue(g roster.SCIMGroup) string {
	switch {
	case g.OrgRole != "":
		return "org:" + string(g.OrgRole)
	case g.StoreID != "":
		return "store:" + g.StoreID + ":" + g.RoleID
	}
	return ""
}

func parseMapping(v string) app.GroupMapping {
	kind, rest, _ := strings.Cut(v, ":")
	switch kind {
	case "org":
		return app.GroupMapping{OrgRole: roster.OrgRole(rest)}
	case "store":
		store, role, _ := strings.Cut(rest, ":")
		return app.GroupMapping{StoreID: store, RoleID: role}
	}
	return app.GroupMapping{}
}

func (s *Server) orgSCIM(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "scim")
	if err != nil {
		return err
	}
	return s.renderSCIM(w, r, rq, v, p, http.StatusOK, app.CreatedDirectory{})
}

func (s *Server) renderSCIM(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int, made app.CreatedDirectory) error {
	dirs, err := s.app.Directories.List(r.Context(), rq.acting(), p.Org.ID)
	if err != nil {
		return err
	}
	sp := &scimPage{BaseURL: strings.TrimSuffix(s.app.Config().BaseURL.String(), "/") + scim.Prefix}
	grouped := false // some directory shows groups: the mapping select needs the stores and roles
	for _, d := range dirs {
		groups, err := s.app.Directories.Groups(r.Context(), rq.acting(), p.Org.ID, d.ID)
		if err != nil {
			return err
		}
		sd := scimDirectory{Directory: d}
		for _, g := range groups {
			sd.Groups = append(sd.Groups, scimGroup{SCIMGroup: g, Mapping: mappingValue(g)})
		}
		grouped = grouped || len(groups) > 0
		sp.Directories = append(sp.Directories, sd)
		if r.PathValue("dir") == d.ID {
			sp.Directory = &d
		}
	}
	if made.Token != "" {
		sp.Directory, sp.Token, p.Dialog = &made.Directory, made.Token, "scim_token"
	} else if strings.HasSuffix(r.URL.Path, "/delete") && r.Method == http.MethodGet {
		if sp.Directory == nil {
			return roster.NotFound("directory")
		}
		p.Dialog = "delete_directory"
	}
	p.SCIM = sp
	if !grouped {
		s.render(w, r, status, "org_scim", v)
		return nil
	}
	sp.Mappings = []scimMapping{{Value: "org:admin", OrgRole: "admin"}, {Value: "org:member", OrgRole: "member"}}
	stores, err := s.app.Stores.List(r.Context(), rq.acting(), p.Org.ID, roster.StoreActive)
	if err != nil {
		return err
	}
	roles, err := s.storeRoles(r, rq, p.Org)
	if err != nil {
		return err
	}
	for _, st := range stores {
		for _, role := range roles {
			sp.Mappings = append(sp.Mappings, scimMapping{Value: "store:" + st.ID + ":" + role.ID, Store: st.Name, RoleID: role.ID, RoleName: role.Name})
		}
	}
	s.render(w, r, status, "org_scim", v)
	return nil
}

// scimAction runs one change and goes back to the tab with a notice, or shows the tab again
// with the app's refusal; a change that makes a token shows it, this once.
func (s *Server) scimAction(w http.ResponseWriter, r *http.Request, rq *request, flash string, do func() (app.CreatedDirectory, error)) error {
	made, err := do()
	if err == nil && made.Token == "" {
		redirect(w, r, rq.orgBase(r)+"/scim", flash)
		return nil
	}
	v, p, perr := s.orgPage(w, r, rq, "scim")
	if perr != nil {
		return perr
	}
	status := http.StatusOK
	if err != nil {
		status = s.setError(r, v, err)
	}
	return s.renderSCIM(w, r, rq, v, p, status, made)
}

func (s *Server) scimCreate(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.scimAction(w, r, rq, "", func() (app.CreatedDirectory, error) {
		return s.app.Directories.Create(r.Context(), rq.acting(), rq.orgID(r), r.PostFormValue("name"))
	})
}

func (s *Server) scimRotate(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.scimAction(w, r, rq, "", func() (app.CreatedDirectory, error) {
		return s.app.Directories.RotateToken(r.Context(), rq.acting(), rq.orgID(r), r.PathValue("dir"))
	})
}

func (s *Server) scimDelete(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.scimAction(w, r, rq, "scim_deleted", func() (app.CreatedDirectory, error) {
		return app.CreatedDirectory{}, s.app.Directories.Delete(r.Context(), rq.acting(), rq.orgID(r), r.PathValue("dir"))
	})
}

func (s *Server) scimMap(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.scimAction(w, r, rq, "scim_mapped", func() (app.CreatedDirectory, error) {
		_, err := s.app.Directories.MapGroup(r.Context(), rq.acting(), rq.orgID(r), r.PathValue("dir"), r.PathValue("group"),
			parseMapping(r.PostFormValue("mapping")))
		return app.CreatedDirectory{}, err
	})
}
