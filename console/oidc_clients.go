package console

import (
	"net/http"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// The operator's page of applications that sign in with Roster.

type clientsPage struct {
	Issuer      string
	Clients     []roster.OIDCClient
	Created     *roster.OIDCClient
	Secret      string                  // a new confidential client's secret, shown this once
	Permissions []roster.PermissionInfo // the catalog, for a machine client's permissions
}

func (s *Server) operatorClients(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderClients(w, r, rq, nil, nil, "")
}

func (s *Server) renderClients(w http.ResponseWriter, r *http.Request, rq *request, failed error, created *roster.OIDCClient, secret string) error {
	list, err := s.app.Clients.List(r.Context(), rq.id.actor)
	if err != nil {
		return err
	}
	perms, err := s.app.Roles.Permissions(r.Context(), rq.id.actor)
	if err != nil {
		return err
	}
	v := s.view(w, r, rq, "clients.title")
	v.D = &clientsPage{Issuer: s.app.OIDC.Issuer(), Clients: list, Created: created, Secret: secret, Permissions: perms}
	status := http.StatusOK
	if failed != nil {
		status = s.setError(r, v, failed)
	} else if created != nil {
		v.Form = nil
	}
	s.render(w, r, status, "operator_clients", v)
	return nil
}

func (s *Server) operatorCreateClient(w http.ResponseWriter, r *http.Request, rq *request) error {
	in := app.ClientInput{Name: r.PostFormValue("name"), Public: r.PostFormValue("type") == "public", FirstParty: r.PostFormValue("first_party") != "",
		RedirectURIs: strings.Fields(r.PostFormValue("redirect_uris")), SigningAlg: r.PostFormValue("signing_alg"),
		CORSOrigins: strings.Fields(r.PostFormValue("cors_origins"))}
	if r.PostFormValue("type") == "machine" {
		in.Machine, in.OrgID, in.Permissions = true, strings.TrimSpace(r.PostFormValue("organization_id")), roster.Permissions(r.PostForm["permissions"]...)
	}
	c, secret, err := s.app.Clients.Create(r.Context(), rq.id.actor, in)
	if err != nil {
		return s.renderClients(w, r, rq, err, nil, "")
	}
	// The secret is shown in this answer only: no redirect, and the page is never cached.
	return s.renderClients(w, r, rq, nil, &c, secret)
}

func (s *Server) operatorDeleteClient(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.Clients.Delete(r.Context(), rq.id.actor, r.PathValue("id")); err != nil {
		return err
	}
	redirect(w, r, "/operator/clients", "client_deleted")
	return nil
}
