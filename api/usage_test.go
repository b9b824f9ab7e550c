package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

func TestUsage(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := newKeysEnv(t, e)
		owner, admin, member, away := env.person("Olivia"), env.person("Adam"), env.person("Marc"), env.person("Sam")
		org := env.Org(t, owner.actor, "Acme")
		s1 := env.Store(t, owner.actor, org.ID, "One")
		env.Store(t, owner.actor, org.ID, "Two")
		old := env.Store(t, owner.actor, org.ID, "Old")
		if _, err := env.App.Stores.Archive(testenv.Ctx, owner.actor, old.ID); err != nil {
			t.Fatal(err)
		}
		env.Join(t, owner.actor, org.ID, admin.user, roster.OrgAdmin)
		env.Join(t, owner.actor, org.ID, member.user, roster.OrgMember, app.StoreGrantInput{StoreID: s1.ID, RoleID: roster.StoreRoleViewer})
		env.Join(t, owner.actor, org.ID, away.user, roster.OrgMember)
		if err := env.App.Members.Suspend(testenv.Ctx, owner.actor, org.ID, away.user.ID); err != nil {
			t.Fatal(err)
		}
		usage := "/v1/organizations/" + org.ID + "/usage"
		for _, addr := range []string{"ana@example.com", "ben@example.com"} {
			env.must(http.StatusCreated, owner.token, http.MethodPost, "/v1/organizations/"+org.ID+"/invitations", map[string]any{"email": addr})
		}
		if r := env.must(http.StatusOK, owner.token, http.MethodGet, usage, nil); r.body["emails_sent"].(map[string]any)["this_month"].(float64) != 0 {
			t.Fatalf("emails counted before they are sent: %s", r.raw)
		}
		env.Outbox(t).Deliver(t)

		_, key := env.createKey(owner.token, map[string]any{"org": org.ID, "name": "K", "role_id": "viewer"})
		for range 3 {
			env.must(http.StatusOK, key, http.MethodGet, "/v1/stores/"+s1.ID, nil)
		}
		env.refused(http.StatusForbidden, "", key, http.MethodPatch, "/v1/stores/"+s1.ID, map[string]any{"name": "X"}) // refused requests count too

		// Every member sees it, a suspended one does not, outsiders do not know the organization.
		r := env.must(http.StatusOK, member.token, http.MethodGet, usage, nil)
		members := r.body["members"].(map[string]any)
		stores := r.body["stores"].(map[string]any)
		api := r.body["api_requests"].(map[string]any)
		if members["owner"].(float64) != 1 || members["admin"].(float64) != 1 || members["member"].(float64) != 1 || members["suspended"].(float64) != 1 {
			t.Fatalf("members: %v", members)
		}
		if stores["active"].(float64) != 2 || stores["archived"].(float64) != 1 || stores["credits"].(float64) != 3 {
			t.Fatalf("stores: %v", stores)
		}
		if api["this_month"].(float64) != 4 || api["last_month"].(float64) != 0 {
			t.Fatalf("API requests: %v", api)
		}
		if r.body["emails_sent"].(map[string]any)["this_month"].(float64) != 2 || r.body["pending_invitations"].(float64) != 2 {
			t.Fatalf("emails and invitations: %s", r.raw)
		}
		env.refused(http.StatusForbidden, roster.EMembershipSuspended, away.token, http.MethodGet, usage, nil)
		env.refused(http.StatusNotFound, roster.ENotFound, env.person("Otto").token, http.MethodGet, usage, nil)

		// Next month, this month's requests become last month's.
		now := env.Clock.Now()
		env.Clock.Advance(time.Date(now.Year(), now.Month()+1, 2, 0, 0, 0, 0, time.UTC).Sub(now))
		env.must(http.StatusOK, key, http.MethodGet, "/v1/stores/"+s1.ID, nil)
		// The member's session ended while idle: they log in again.
		member2 := env.person2(member.user.Email)
		r = env.must(http.StatusOK, member2.token, http.MethodGet, usage, nil)
		api = r.body["api_requests"].(map[string]any)
		if api["this_month"].(float64) != 1 || api["last_month"].(float64) != 4 {
			t.Fatalf("API requests next month: %v", api)
		}
		emails := r.body["emails_sent"].(map[string]any)
		if emails["this_month"].(float64) != 0 || emails["last_month"].(float64) != 2 || r.body["pending_invitations"].(float64) != 0 {
			t.Fatalf("next month, emails and expired invitations: %s", r.raw)
		}
	})
}
