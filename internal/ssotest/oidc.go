// Package ssotest runs identity providers that Roster did not write, in the test's process:
// zitadel/oidc's example OpenID provider and crewjam/saml's identity provider, each with its
// own keys, for the tests of single sign-on.
package ssotest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"
)

// Person is someone the identity providers know.
type Person struct {
	ID       string
	Username string
	Password string
	Email    string
	Name     string
	Groups   []string
}

// OP is zitadel/oidc's example OpenID provider, started for a test.
type OP struct {
	Issuer  string
	Storage *storage.Storage
	Server  *httptest.Server
	// Wrap, when set, wraps the provider's handler (a test that tampers with its answers).
	Wrap func(http.Handler) http.Handler
}

type people map[string]*Person

func (p people) GetUserByID(id string) *storage.User {
	if x, ok := p[id]; ok {
		return x.user()
	}
	return nil
}

func (p people) GetUserByUsername(name string) *storage.User {
	for _, x := range p {
		if x.Username == name {
			return x.user()
		}
	}
	return nil
}

func (p people) ExampleClientID() string { return "service" }

func (x *Person) user() *storage.User {
	return &storage.User{ID: x.ID, Username: x.Username, Password: x.Password, FirstName: x.Name, Email: x.Email, EmailVerified: true,
		PreferredLanguage: language.English}
}

// groupsStorage adds a "groups" claim to the userinfo answer, as identity providers that
// hand groups to applications do; everything else is the example's.
type groupsStorage struct {
	*storage.Storage
	people people
}

func (s groupsStorage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	if p, ok := s.people[ui.Subject]; ok && len(p.Groups) > 0 {
		ui.AppendClaims("groups", p.Groups)
	}
	return nil
}

// StartOP starts the example provider with one web client (client ID and secret, redirect
// URI) and the people given.
func StartOP(t testing.TB, clientID, secret, redirectURI string, persons ...*Person) *OP {
	t.Helper()
	ps := people{}
	for _, p := range persons {
		ps[p.ID] = p
	}
	st := storage.NewStorageWithClients(ps, map[string]*storage.Client{clientID: storage.WebClient(clientID, secret, redirectURI)})
	op := &OP{Storage: st}
	srv := httptest.NewUnstartedServer(nil)
	op.Issuer = "http://" + srv.Listener.Addr().String()
	h := exampleop.SetupServer(op.Issuer, groupsStorage{st, ps}, nil, false)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if op.Wrap != nil {
			op.Wrap(h).ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	op.Server = srv
	return op
}
