package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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

// clientInput reads the registration form of an application (creation and edit alike).
func clientInput(r *http.Request) app.ClientInput {
	seconds := func(name string) time.Duration {
		n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(name)))
		return time.Duration(n) * time.Second
	}
	in := app.ClientInput{Name: r.PostFormValue("name"), Public: r.PostFormValue("type") == "public", FirstParty: r.PostFormValue("first_party") != "",
		RedirectURIs: strings.Fields(r.PostFormValue("redirect_uris")), PostLogoutRedirectURIs: strings.Fields(r.PostFormValue("post_logout_redirect_uris")),
		BackChannelLogoutURI: strings.TrimSpace(r.PostFormValue("backchannel_logout_uri")), Scopes: r.PostForm["scopes"],
		AccessTokenTTL: seconds("access_token_ttl"), RefreshTokenTTL: seconds("refresh_token_ttl"),
		SigningAlg: r.PostFormValue("signing_alg"), CORSOrigins: strings.Fields(r.PostFormValue("cors_origins"))}
	if r.PostFormValue("type") == "machine" {
		in.Machine, in.OrgID, in.Permissions = true, strings.TrimSpace(r.PostFormValue("organization_id")), roster.Permissions(r.PostForm["permissions"]...)
	}
	return in
}

// clientForm is a registration as the form shows it.
func clientForm(c roster.OIDCClient) url.Values {
	typ := "confidential"
	switch {
	case c.Public:
		typ = "public"
	case c.Machine():
		typ = "machine"
	}
	f := url.Values{"name": {c.Name}, "type": {typ}, "redirect_uris": {strings.Join(c.RedirectURIs, "\n")},
		"post_logout_redirect_uris": {strings.Join(c.PostLogoutRedirectURIs, "\n")}, "backchannel_logout_uri": {c.BackChannelLogoutURI},
		"cors_origins": {strings.Join(c.CORSOrigins, "\n")}, "signing_alg": {c.SigningAlg}, "scopes": c.Scopes,
		"access_token_ttl": {strconv.Itoa(int(c.AccessTokenTTL / time.Second))}, "refresh_token_ttl": {strconv.Itoa(int(c.RefreshTokenTTL / time.Second))},
		"organization_id": {c.OrgID}, "permissions": roster.PermissionKeys(c.Permissions)}
	if c.FirstParty {
		f.Set("first_party", "1")
	}
	return f
}

func (s *Server) operatorCreateClient(w http.ResponseWriter, r *http.Request, rq *request) error {
	c, secret, err := s.app.Clients.Create(r.Context(), rq.id.actor, clientInput(r))
	if err != nil {
		return s.renderClients(w, r, rq, err, nil, "")
	}
	// The secret is shown in this answer only: no redirect, and the page is never cached.
	return s.renderClients(w, r, rq, nil, &c, secret)
}

// clientPage is the page of one application: its registration to change, and a new secret.
type clientPage struct {
	Client      roster.OIDCClient
	Scopes      []string
	Secret      string                  // a new secret, shown this once
	Permissions []roster.PermissionInfo // the catalog, for a machine client's permissions
}

func (s *Server) operatorClient(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderClient(w, r, rq, nil, "")
}

func (s *Server) renderClient(w http.ResponseWriter, r *http.Request, rq *request, failed error, secret string) error {
	c, err := s.app.Clients.Get(r.Context(), rq.id.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	perms, err := s.app.Roles.Permissions(r.Context(), rq.id.actor)
	if err != nil {
		return err
	}
	v := s.view(w, r, rq, "clients.edit_title")
	v.D = &clientPage{Client: c, Scopes: app.OIDCScopes, Secret: secret, Permissions: perms}
	status := http.StatusOK
	if failed != nil {
		status = s.setError(r, v, failed) // the form keeps what was typed
	} else {
		v.Form = clientForm(c)
	}
	s.render(w, r, status, "operator_client", v)
	return nil
}

func (s *Server) operatorUpdateClient(w http.ResponseWriter, r *http.Request, rq *request) error {
	in := clientInput(r)
	if _, err := s.app.Clients.Update(r.Context(), rq.id.actor, r.PathValue("id"), in); err != nil {
		if roster.ErrorCode(err) == roster.ENotFound {
			return err
		}
		return s.renderClient(w, r, rq, err, "")
	}
	redirect(w, r, "/operator/clients", "client_updated")
	return nil
}

func (s *Server) operatorRotateClientSecret(w http.ResponseWriter, r *http.Request, rq *request) error {
	secret, err := s.app.Clients.RotateSecret(r.Context(), rq.id.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	// Shown in this answer only, like a new client's.
	return s.renderClient(w, r, rq, nil, secret)
}

func (s *Server) operatorDeleteClient(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.Clients.Delete(r.Context(), rq.id.actor, r.PathValue("id")); err != nil {
		return err
	}
	redirect(w, r, "/operator/clients", "client_deleted")
	return nil
}
