package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// statusReceiver answers every delivery with a fixed status and keeps what it received.
type statusReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []roster.EventPayload
	ids  []string
	sigs []string
}

func newStatusReceiver(t *testing.T, status int) *statusReceiver {
	r := &statusReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p roster.EventPayload
		_ = json.NewDecoder(req.Body).Decode(&p)
		r.mu.Lock()
		r.got = append(r.got, p)
		r.ids = append(r.ids, req.Header.Get("webhook-id"))
		r.sigs = append(r.sigs, req.Header.Get("webhook-signature"))
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *statusReceiver) url() string {
	u, _ := url.Parse(r.srv.URL)
	return "http://receiver.internal:" + u.Port() + "/hooks"
}

func (r *statusReceiver) received() []roster.EventPayload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]roster.EventPayload(nil), r.got...)
}

func pendingDeliveries(t *testing.T, env *testenv.Env, endpointID string) int {
	return env.Int(t, `SELECT COUNT(*) FROM outbox WHERE endpoint_id = ? AND status = 'pending'`, endpointID)
}

// TestWebhookDisabledEmailsAdmins: an endpoint that fails every attempt of the three-day
// schedule is disabled, its waiting deliveries dropped, and its organization's owner and
// admins (not its members) are emailed, each in their language; a 410 disables at once.
func TestWebhookDisabledEmailsAdmins(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := webhookEnv(t, e)
		out := env.Outbox(t)
		owner, ownerU := verified(t, env, out, "Olivia")
		org := env.Org(t, owner, "Acme")
		_, adminU := verified(t, env, out, "Adam")
		env.Join(t, owner, org.ID, adminU, roster.OrgAdmin)
		admin, _ := env.Login(t, adminU.Email)
		fr := "fr"
		_, err := env.App.Accounts.Update(ctx, admin, app.ProfileInput{Locale: &fr})
		want(t, err, "", "admin speaks French")
		_, memberU := verified(t, env, out, "Mia")
		env.Join(t, owner, org.ID, memberU, roster.OrgMember)
		out.Deliver(t)

		failing := newStatusReceiver(t, 503)
		c, err := env.App.Webhooks.Create(ctx, owner, org.ID, app.WebhookInput{URL: failing.url(), EventTypes: []string{"organization.updated"}, Enabled: true})
		want(t, err, "", "create endpoint")
		w := c.Endpoint
		_, err = env.App.Organizations.Update(ctx, owner, org.ID, app.OrganizationInput{Name: "Acme 1"})
		want(t, err, "", "rename")
		out.Deliver(t)
		_, err = env.App.Organizations.Update(ctx, owner, org.ID, app.OrganizationInput{Name: "Acme 2"})
		want(t, err, "", "rename again") // waits behind the first
		for i, wait := range app.WebhookRetries {
			env.Clock.Advance(wait + wait/9) // past the wait and its jitter
			out.Deliver(t)
			if i < len(app.WebhookRetries)-1 {
				if got, _ := env.App.Webhooks.Get(ctx, owner, org.ID, w.ID); !got.Enabled {
					t.Fatalf("disabled after %d retries", i+1)
				}
			}
		}
		if n := len(failing.received()); n != len(app.WebhookRetries)+1 {
			t.Fatalf("%d attempts, want %d (the first event only: the second waits behind it)", n, len(app.WebhookRetries)+1)
		}
		got, err := env.App.Webhooks.Get(ctx, owner, org.ID, w.ID)
		want(t, err, "", "read endpoint")
		if got.Enabled || got.DisabledReason != "failing" || pendingDeliveries(t, env, w.ID) != 0 {
			t.Fatalf("after the schedule: %+v, %d pending", got, pendingDeliveries(t, env, w.ID))
		}
		msgs := out.Deliver(t)
		notices := map[string]string{}
		for _, m := range msgs {
			if m.Template == "webhook_disabled" {
				notices[m.To] = m.Subject + "\n" + m.Text
			}
		}
		if len(notices) != 2 || !strings.Contains(notices[ownerU.Email], "was disabled") || !strings.Contains(notices[ownerU.Email], failing.url()) ||
			!strings.Contains(notices[ownerU.Email], "3 days") || !strings.Contains(notices[adminU.Email], "a été désactivé") {
			t.Fatalf("notices %v", notices)
		}

		// 410 Gone: disabled after one attempt, and the same email says so.
		gone := newStatusReceiver(t, http.StatusGone)
		c, err = env.App.Webhooks.Create(ctx, owner, org.ID, app.WebhookInput{URL: gone.url(), EventTypes: []string{"organization.updated"}, Enabled: true})
		want(t, err, "", "create endpoint")
		_, err = env.App.Organizations.Update(ctx, owner, org.ID, app.OrganizationInput{Name: "Acme 3"})
		want(t, err, "", "rename")
		_, err = env.App.Organizations.Update(ctx, owner, org.ID, app.OrganizationInput{Name: "Acme 4"})
		want(t, err, "", "rename")
		out.Deliver(t)
		got, _ = env.App.Webhooks.Get(ctx, owner, org.ID, c.Endpoint.ID)
		if n := len(gone.received()); n != 1 || got.Enabled || got.DisabledReason != "gone" || pendingDeliveries(t, env, c.Endpoint.ID) != 0 {
			t.Fatalf("after 410: %d attempts, %+v", n, got)
		}
		if out.Count(t, ownerU.Email, "webhook_disabled") != 2 || out.Count(t, memberU.Email, "webhook_disabled") != 0 {
			t.Fatal("the owner was not told of the 410, or a member was")
		}
	})
}

// TestSendTestEvent: a webhook.test event goes to one endpoint only, signed, once; it is in
// the delivery log, not in the feed, and another organization cannot send it.
func TestSendTestEvent(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := webhookEnv(t, e)
		out := env.Outbox(t)
		tm, other := newTeam(t, env), newTeam(t, env)
		recv := testenv.WebhookReceiver(t)
		c, err := env.App.Webhooks.Create(ctx, tm.admin, tm.org.ID, app.WebhookInput{URL: recv.URL("receiver.internal"), EventTypes: []string{"store.created"}})
		want(t, err, "", "create a disabled endpoint")
		bystander := newStatusReceiver(t, 200)
		_, err = env.App.Webhooks.Create(ctx, tm.admin, tm.org.ID, app.WebhookInput{URL: bystander.url(), Enabled: true})
		want(t, err, "", "another endpoint")
		recv.SetSecrets(t, c.Secret)
		out.Deliver(t)
		before, err := env.App.Audit.Events(ctx, tm.owner, tm.org.ID, 0, 200)
		want(t, err, "", "feed")

		_, err = env.App.Webhooks.SendTestEvent(ctx, other.owner, tm.org.ID, c.Endpoint.ID)
		want(t, err, roster.ENotFound, "another organization's owner")
		_, err = env.App.Webhooks.SendTestEvent(ctx, other.owner, other.org.ID, c.Endpoint.ID)
		want(t, err, roster.ENotFound, "through another organization")
		_, err = env.App.Webhooks.SendTestEvent(ctx, tm.member, tm.org.ID, c.Endpoint.ID)
		want(t, err, roster.EForbidden, "a member")
		id, err := env.App.Webhooks.SendTestEvent(ctx, tm.admin, tm.org.ID, c.Endpoint.ID)
		want(t, err, "", "send test event")
		out.Deliver(t)
		got := recv.Next(t)
		var body roster.EventPayload
		if err := json.Unmarshal([]byte(got.Body), &body); err != nil {
			t.Fatal(err)
		}
		if got.ID != id || !got.Verified[0] || got.Status != 200 || body.Type != app.WebhookTestEvent || body.Subject.ID != c.Endpoint.ID ||
			body.OrganizationID != tm.org.ID || body.Actor.ID != tm.adminU.ID {
			t.Fatalf("test delivery %+v, body %+v", got, body)
		}
		if len(bystander.received()) != 0 {
			t.Fatal("the test event went to another endpoint")
		}
		log, err := env.App.Webhooks.Deliveries(ctx, tm.admin, tm.org.ID, c.Endpoint.ID, 10)
		want(t, err, "", "delivery log")
		if len(log) != 1 || log[0].EventID != id || log[0].EventType != app.WebhookTestEvent || log[0].Status != 200 {
			t.Fatalf("delivery log %+v", log)
		}
		after, err := env.App.Audit.Events(ctx, tm.owner, tm.org.ID, before.Cursor, 200)
		want(t, err, "", "feed")
		for _, ev := range after.Events {
			if ev.Type == app.WebhookTestEvent || ev.ID == id {
				t.Fatalf("the test event is in the feed: %+v", ev)
			}
		}

		// A failing test changes nothing of the endpoint, and is not retried.
		_, err = env.App.Webhooks.Update(ctx, tm.admin, tm.org.ID, c.Endpoint.ID, app.WebhookInput{URL: recv.URL("receiver.internal") + "?status=500"})
		want(t, err, "", "failing URL")
		_, err = env.App.Webhooks.SendTestEvent(ctx, tm.admin, tm.org.ID, c.Endpoint.ID)
		want(t, err, "", "send test event")
		out.Deliver(t)
		if r := recv.Next(t); r.Status != 500 {
			t.Fatalf("failing test %+v", r)
		}
		env.Clock.Advance(time.Hour)
		out.Deliver(t)
		w, _ := env.App.Webhooks.Get(ctx, tm.admin, tm.org.ID, c.Endpoint.ID)
		if recv.Pending() != 0 || !w.FailingSince.IsZero() || w.DisabledReason != "" {
			t.Fatalf("after a failed test: %+v, %d more deliveries", w, recv.Pending())
		}
	})
}

// TestInvitationExpiredEvent: invitation.expired is emitted once per expiry, to the feed and
// the endpoints, and again after a resend lets it expire a second time.
func TestInvitationExpiredEvent(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := webhookEnv(t, e)
		out := env.Outbox(t)
		tm := newTeam(t, env)
		recv := newStatusReceiver(t, 200)
		_, err := env.App.Webhooks.Create(ctx, tm.admin, tm.org.ID, app.WebhookInput{URL: recv.url(), EventTypes: []string{"invitation.expired"}, Enabled: true})
		want(t, err, "", "endpoint")
		inv, err := env.App.Invitations.Create(ctx, tm.owner, tm.org.ID, app.InvitationInput{Email: "late@example.com"})
		want(t, err, "", "invite")
		_, err = env.App.Invitations.Create(ctx, tm.owner, tm.org.ID, app.InvitationInput{Email: "early@example.com"})
		want(t, err, "", "invite")
		out.Deliver(t)
		if n, err := env.App.Invitations.Expire(ctx); n != 0 || err != nil {
			t.Fatalf("before the expiry: %d, %v", n, err)
		}
		env.Clock.Advance(roster.DefaultInvitationTTL + time.Minute)
		for i := range 2 {
			n, err := env.App.Invitations.Expire(ctx)
			if err != nil || n != 2-2*i {
				t.Fatalf("run %d: %d expired, %v", i, n, err)
			}
		}
		out.Deliver(t)
		if got := recv.received(); len(got) != 2 || got[0].Type != "invitation.expired" || got[1].Type != "invitation.expired" ||
			(got[0].Subject.ID != inv.ID && got[1].Subject.ID != inv.ID) {
			t.Fatalf("delivered %+v", got)
		}
		if events(t, env, tm.org.ID, "invitation.expired") != 2 {
			t.Fatal("not in the audit log")
		}
		// Resent, it expires again: a second event for it.
		_, err = env.App.Invitations.Resend(ctx, tm.owner, inv.ID)
		want(t, err, "", "resend")
		env.Clock.Advance(roster.DefaultInvitationTTL + time.Minute)
		if n, err := env.App.Invitations.Expire(ctx); n != 1 || err != nil {
			t.Fatalf("after the resend: %d, %v", n, err)
		}
		// Accepted or revoked invitations never expire.
		inv2, err := env.App.Invitations.Create(ctx, tm.owner, tm.org.ID, app.InvitationInput{Email: "revoked@example.com"})
		want(t, err, "", "invite")
		want(t, env.App.Invitations.Cancel(ctx, tm.owner, inv2.ID), "", "revoke")
		env.Clock.Advance(roster.DefaultInvitationTTL + time.Minute)
		if n, err := env.App.Invitations.Expire(ctx); n != 0 || err != nil {
			t.Fatalf("a revoked invitation expired: %d, %v", n, err)
		}
	})
}

// TestDeletedOrganizationGetsNothing: deleting an organization deletes its endpoints and
// drops their waiting deliveries; an instance-wide endpoint still hears of the deletion.
func TestDeletedOrganizationGetsNothing(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := webhookEnv(t, e)
		out := env.Outbox(t)
		tm := newTeam(t, env)
		recv := newStatusReceiver(t, 200)
		c, err := env.App.Webhooks.Create(ctx, tm.admin, tm.org.ID, app.WebhookInput{URL: recv.url(), Enabled: true})
		want(t, err, "", "endpoint")
		op := roster.System()
		op.Operator = true
		inst := newStatusReceiver(t, 200)
		_, err = env.App.Webhooks.Create(ctx, op, "", app.WebhookInput{URL: inst.url(), EventTypes: []string{"organization.deleted"}, Enabled: true})
		want(t, err, "", "instance endpoint")
		_, err = env.App.Stores.Update(ctx, tm.owner, tm.store.ID, app.StoreInput{Name: "Queued"})
		want(t, err, "", "update store")
		if pendingDeliveries(t, env, c.Endpoint.ID) != 1 {
			t.Fatal("nothing queued")
		}
		want(t, env.App.Organizations.Delete(ctx, tm.owner, tm.org.ID, app.OwnerProof{Password: testenv.Password}), "", "delete organization")
		out.Deliver(t)
		if n := len(recv.received()); n != 0 {
			t.Fatalf("%d deliveries for a deleted organization", n)
		}
		if env.Int(t, `SELECT COUNT(*) FROM webhook_endpoints WHERE org_id = ?`, tm.org.ID) != 0 || pendingDeliveries(t, env, c.Endpoint.ID) != 0 {
			t.Fatal("the organization's endpoints or deliveries remain")
		}
		if got := inst.received(); len(got) != 1 || got[0].Type != "organization.deleted" || got[0].OrganizationID != tm.org.ID {
			t.Fatalf("instance endpoint got %+v", got)
		}
	})
}
