package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/internal/testserver"
	"github.com/rosterhq/roster/sqlstore"
)

var ctx = testenv.Ctx

// live starts Roster as serve wires it over a fresh database.
func live(t *testing.T, e sqlstore.Engine) (*testenv.Env, string) {
	t.Helper()
	s := testserver.Start(t, e, roster.SystemClock{})
	return s.Env, s.URL
}

// TestClientAgainstRoster: a host application's day through the client, against a live
// Roster on each engine — an owner sets up an organization, a store, invites; the host's
// service token checks permissions and lists stores; refusals come back typed, with their
// code; listings follow their cursors.
func TestClientAgainstRoster(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env, base := live(t, e)
		_, ou := env.User(t, "Olivia")
		login, err := env.App.Auth.Login(ctx, roster.Actor{Kind: roster.ActorAnonymous, IP: "192.0.2.1"}, app.LoginInput{Email: ou.Email, Password: testenv.Password})
		if err != nil {
			t.Fatal(err)
		}
		owner, err := client.New(base, login.Token, client.WithUserAgent("client-test"))
		if err != nil {
			t.Fatal(err)
		}
		me, err := owner.Me(ctx)
		if err != nil || me.ID != ou.ID || me.Email != ou.Email {
			t.Fatalf("Me: %+v %v", me, err)
		}
		org, err := owner.CreateOrganization(ctx, "Acme Shops", client.OrganizationDetails{City: "Lyon", Country: "FR"})
		if err != nil || org.MyRole != "owner" || org.Details.City != "Lyon" {
			t.Fatalf("CreateOrganization: %+v %v", org, err)
		}
		shop, err := owner.CreateStore(ctx, org.ID, client.StoreInput{Name: "Lyon", Currency: "EUR", TimeZone: "Europe/Paris"})
		if err != nil || shop.OrgID != org.ID || shop.Currency != "EUR" {
			t.Fatalf("CreateStore: %+v %v", shop, err)
		}
		affs, err := owner.MyOrganizations(ctx)
		if err != nil || len(affs) != 1 || len(affs[0].Stores) != 1 || affs[0].Stores[0].MyRole == nil || affs[0].Stores[0].MyRole.Via != "organization_role" {
			t.Fatalf("MyOrganizations: %+v %v", affs, err)
		}

		// Members and invitations, followed page by page (a page of 2).
		for _, name := range []string{"Ann", "Bob", "Cid", "Dee"} {
			_, u := env.User(t, name)
			env.Join(t, roster.Actor{Kind: roster.ActorUser, UserID: ou.ID}, org.ID, u, roster.OrgMember,
				app.StoreGrantInput{StoreID: shop.ID, RoleID: roster.StoreRoleMember})
		}
		var names []string
		inShop := 0
		for m, err := range owner.Members(ctx, org.ID, client.MemberFilter{Limit: 2}) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, m.User.Name)
			if slices.Equal(m.StoreNames, []string{shop.Name}) {
				inShop++
			}
		}
		if inShop != 4 {
			t.Errorf("%d members listed with the store by name, want 4", inShop)
		}
		if len(names) != 5 {
			t.Errorf("members over pages of 2: %v", names)
		}
		for i, addr := range []string{"eve@acme-shops.com", "fay@acme-shops.com", "gus@acme-shops.com"} {
			if _, err := owner.Invite(ctx, org.ID, client.InvitationInput{Email: addr, Stores: []client.StoreMembership{{StoreID: shop.ID, RoleID: "viewer"}}}); err != nil {
				t.Fatalf("invite %d: %v", i, err)
			}
		}
		n := 0
		for inv, err := range owner.Invitations(ctx, org.ID, "pending") {
			if err != nil || inv.Status != "pending" || len(inv.Stores) != 1 {
				t.Fatalf("invitation %+v %v", inv, err)
			}
			n++
		}
		if n != 3 {
			t.Errorf("%d pending invitations, want 3", n)
		}
		var inStore []string
		for inv, err := range owner.StoreInvitations(ctx, shop.ID, 2) {
			if err != nil {
				t.Fatal(err)
			}
			inStore = append(inStore, inv.Email)
		}
		if !slices.Equal(inStore, []string{"gus@acme-shops.com", "fay@acme-shops.com", "eve@acme-shops.com"}) {
			t.Errorf("the store's pending invitations over pages of 2: %v", inStore)
		}

		// A refusal is typed, with its stable code and field.
		_, err = owner.Invite(ctx, org.ID, client.InvitationInput{Email: "eve@acme-shops.com"})
		var rerr *client.Error
		if !errors.As(err, &rerr) || rerr.Code != roster.EInvitationPending || rerr.Status != http.StatusConflict || rerr.Field != "email" {
			t.Fatalf("a duplicate invitation: %#v", err)
		}
		if _, err := owner.Organization(ctx, "org_00000000000000000000000000"); !client.IsCode(err, roster.ENotFound) {
			t.Errorf("an unknown organization: %v", err)
		}
		actions := 0
		for ev, err := range owner.AuditEvents(ctx, org.ID, "invitation.") {
			if err != nil || !strings.HasPrefix(ev.Action, "invitation.") {
				t.Fatalf("audit %+v %v", ev, err)
			}
			actions++
		}
		if actions != 3 {
			t.Errorf("%d invitation events, want 3", actions)
		}

		// The host application's questions, with a service token.
		svc, err := env.App.Operator.CreateServiceToken(ctx, roster.System(), "host")
		if err != nil {
			t.Fatal(err)
		}
		host, err := client.New(base, svc.Secret)
		if err != nil {
			t.Fatal(err)
		}
		var ann string
		for m, err := range owner.Members(ctx, org.ID, client.MemberFilter{Query: "Ann"}) {
			if err != nil {
				t.Fatal(err)
			}
			ann = m.User.ID
		}
		res, err := host.Check(ctx, client.CheckRequest{UserID: ann, Permission: string(roster.PermStoreRead), StoreID: shop.ID})
		if err != nil || !res.Allowed || res.StoreRole != "member" {
			t.Fatalf("Check: %+v %v", res, err)
		}
		batch, err := host.CheckBatch(ctx, []client.CheckRequest{
			{UserID: ann, Permission: string(roster.PermStoreRead), StoreID: shop.ID},
			{UserID: ann, Permission: string(roster.PermStoreUpdate), StoreID: shop.ID},
		})
		if err != nil || len(batch) != 2 || !batch[0].Allowed || batch[1].Allowed {
			t.Fatalf("CheckBatch: %+v %v", batch, err)
		}
		stores, err := host.UserStores(ctx, ann, string(roster.PermStoreRead))
		if err != nil || len(stores) != 1 || stores[0].ID != shop.ID {
			t.Fatalf("UserStores: %+v %v", stores, err)
		}
		if _, err := host.Check(ctx, client.CheckRequest{UserID: ann, Permission: "no.such", StoreID: shop.ID}); !errors.As(err, &rerr) ||
			rerr.Code != roster.EUnknownPermission || rerr.Field != "permission" || rerr.Status != http.StatusUnprocessableEntity {
			t.Errorf("a check of an unknown permission: %v", err)
		}
	})
}

// TestClientRetriesHonourRetryAfter: 503 and 429 are retried after Retry-After, a bounded
// number of times; other refusals are not retried.
func TestClientRetriesHonourRetryAfter(t *testing.T) {
	var calls atomic.Int32
	fail := atomic.Int32{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if fail.Add(-1) >= 0 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"title":"Service Unavailable","status":503,"code":"unavailable","detail":"the database is unavailable"}`))
			return
		}
		_, _ = w.Write([]byte(`{"allowed":true,"reason":"store_role"}`))
	}))
	defer ts.Close()
	c, err := client.New(ts.URL, "t", client.WithRetries(2), client.WithMaxRetryWait(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	fail.Store(2)
	if r, err := c.Check(ctx, client.CheckRequest{UserID: "u", Permission: "p"}); err != nil || !r.Allowed || calls.Load() != 3 {
		t.Fatalf("two 503s then an answer: %+v %v after %d calls", r, err, calls.Load())
	}
	calls.Store(0)
	fail.Store(5)
	_, err = c.Check(ctx, client.CheckRequest{UserID: "u", Permission: "p"})
	if !client.IsCode(err, "unavailable") || calls.Load() != 3 {
		t.Fatalf("503 every time: %v after %d calls, want the refusal after 3", err, calls.Load())
	}
	// A cancelled context stops the retries with the last refusal.
	calls.Store(0)
	fail.Store(5)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Check(cctx, client.CheckRequest{UserID: "u", Permission: "p"}); err == nil || calls.Load() > 1 {
		t.Fatalf("a cancelled context: %v after %d calls", err, calls.Load())
	}
}

// TestShapesMatchTheSchema: each type of the client names the fields of its schema in the
// API's OpenAPI document, no more and no fewer, so that the client cannot drift from the API.
func TestShapesMatchTheSchema(t *testing.T) {
	_, base := live(t, sqlstore.SQLite)
	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for schema, v := range map[string]any{
		"User": client.User{}, "Organization": client.Organization{}, "OrganizationDetails": client.OrganizationDetails{},
		"Store": client.Store{}, "StoreRole": client.StoreRole{}, "Affiliation": client.Affiliation{},
		"StoreMembership": client.StoreMembership{}, "Member": client.Member{}, "Invitation": client.Invitation{},
		"AuditEvent": client.AuditEvent{}, "Check": client.CheckRequest{}, "CheckResult": client.CheckResult{},
		"InvitationRequest": client.InvitationInput{}, "StoreBody": client.StoreInput{},
	} {
		s, ok := doc.Components.Schemas[schema]
		if !ok {
			t.Errorf("no schema %s in the OpenAPI document", schema)
			continue
		}
		fields := map[string]bool{}
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			fields[name] = true
			if _, ok := s.Properties[name]; !ok {
				t.Errorf("%s: the client's field %q is not in the API's schema", schema, name)
			}
		}
		for p := range s.Properties {
			if !fields[p] {
				t.Errorf("%s: the API's field %q is missing from client.%s", schema, p, typ.Name())
			}
		}
	}
}
