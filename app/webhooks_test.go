package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// webhookEnv is an env whose webhooks may reach receiver.internal (127.0.0.1) and where
// loopback.example resolves to 127.0.0.1 without being allowed; its clock shows the real
// time less four minutes: the receiver's verifier accepts timestamps within five minutes of
// its own clock, and the test moves Roster's forward by less than nine.
func webhookEnv(t *testing.T, e sqlstore.Engine, more ...func(*app.Config)) *testenv.Env {
	env := testenv.NewEnv(t, e, append([]func(*app.Config){func(c *app.Config) {
		c.EncryptionKey = []byte("0123456789abcdef0123456789abcdef")
		c.WebhookAllowedHosts = []string{"receiver.internal"}
		c.WebhookLookup = func(_ context.Context, host string) ([]netip.Addr, error) {
			switch host {
			case "receiver.internal", "loopback.example":
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			case "public.example":
				return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
			}
			return nil, errors.New("no such host")
		}
	}}, more...)...)
	env.Clock.Advance(time.Until(env.Clock.Now())*-1 - 4*time.Minute)
	return env
}

// TestWebhooksDeliverSignedEvents follows events to a receiver that verifies them with the
// npm standardwebhooks library: the filter, the same webhook-id on every attempt, retries on
// the schedule, the delivery log, rotation with both signatures during the overlap,
// redelivery, replay, and a 410 that disables the endpoint.
func TestWebhooksDeliverSignedEvents(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := webhookEnv(t, e)
		ctx := testenv.Ctx
		tm := newTeam(t, env)
		out := env.Outbox(t)
		out.Deliver(t)
		recv := testenv.WebhookReceiver(t)
		created, err := env.App.Webhooks.Create(ctx, tm.admin, tm.org.ID, app.WebhookInput{URL: recv.URL("receiver.internal"),
			Description: "Provisioning", EventTypes: []string{"member.role_changed", "member.removed", "member.role_changed"}, Enabled: true})
		want(t, err, "", "create webhook")
		w := created.Endpoint
		if !strings.HasPrefix(created.Secret, "whsec_") || len(w.EventTypes) != 2 {
			t.Fatalf("created %+v", created)
		}
		if stored := env.Int(t, `SELECT COUNT(*) FROM webhook_endpoints WHERE secret = ? OR secret LIKE ?`, created.Secret, "%"+created.Secret[6:20]+"%"); stored != 0 {
			t.Error("the secret is stored in clear")
		}
		recv.SetSecrets(t, created.Secret)

		want(t, env.App.Members.ChangeRole(ctx, tm.owner, tm.org.ID, tm.memberU.ID, roster.OrgAdmin), "", "change role")
		_, err = env.App.Stores.Update(ctx, tm.owner, tm.store.ID, app.StoreInput{Name: "Not subscribed"})
		want(t, err, "", "update store")
		out.Deliver(t)
		got := recv.Next(t)
		var body roster.EventPayload
		if err := json.Unmarshal([]byte(got.Body), &body); err != nil {
			t.Fatal(err)
		}
		if !got.Verified[0] || got.Status != 200 || body.Type != "member.role_changed" || got.ID != body.ID ||
			body.Subject.ID != tm.memberU.ID || body.OrganizationID != tm.org.ID || body.Data.After["role"] != "admin" {
			t.Fatalf("delivery %+v, body %+v", got, body)
		}
		if n := recv.Pending(); n != 0 {
			t.Fatalf("%d more deliveries: the filter let store.updated through", n)
		}

		// A receiver failing: the same webhook-id is retried on the schedule.
		w, err = env.App.Webhooks.Update(ctx, tm.owner, tm.org.ID, w.ID, app.WebhookInput{URL: recv.URL("receiver.internal") + "?status=503",
			EventTypes: w.EventTypes, Enabled: true})
		want(t, err, "", "point at a failing URL")
		want(t, env.App.Members.Remove(ctx, tm.owner, tm.org.ID, tm.storeMemU.ID), "", "remove member")
		out.Deliver(t)
		first := recv.Next(t)
		if first.Status != 503 || !first.Verified[0] {
			t.Fatalf("failing delivery %+v", first)
		}
		out.Deliver(t)
		if recv.Pending() != 0 {
			t.Fatal("retried before its time")
		}
		env.Clock.Advance(6 * time.Second) // first retry after 5 s ± 10 %
		out.Deliver(t)
		if again := recv.Next(t); again.ID != first.ID || again.Status != 503 {
			t.Fatalf("retry %+v, first %+v", again, first)
		}
		_, err = env.App.Webhooks.Update(ctx, tm.owner, tm.org.ID, w.ID, app.WebhookInput{URL: recv.URL("receiver.internal"), EventTypes: w.EventTypes, Enabled: true})
		want(t, err, "", "receiver fixed")
		env.Clock.Advance(6 * time.Minute) // second retry after 5 min ± 10 %
		out.Deliver(t)
		if third := recv.Next(t); third.ID != first.ID || third.Status != 200 {
			t.Fatalf("third attempt %+v", third)
		}
		log, err := env.App.Webhooks.Deliveries(ctx, tm.admin, tm.org.ID, w.ID, 10)
		want(t, err, "", "delivery log")
		if len(log) != 4 || log[0].Status != 200 || log[0].Attempt != 3 || log[1].Status != 503 || log[1].Attempt != 2 ||
			log[0].EventID != first.ID || log[0].Response != "verified" || log[3].Attempt != 1 ||
			log[0].EventType != "member.removed" || log[3].EventType != "member.role_changed" {
			t.Fatalf("delivery log %+v", log)
		}
		last, err := env.App.Webhooks.LastDeliveries(ctx, tm.admin, tm.org.ID)
		want(t, err, "", "last deliveries")
		if len(last) != 1 || last[w.ID].ID != log[0].ID {
			t.Fatalf("last deliveries %+v, log %+v", last, log[0])
		}
		_, err = env.App.Webhooks.LastDeliveries(ctx, newTeam(t, env).owner, tm.org.ID)
		want(t, err, roster.ENotFound, "another organization's owner reads the last deliveries")

		// Rotation: during the overlap both secrets sign; after it, only the new one.
		newSecret, err := env.App.Webhooks.RotateSecret(ctx, tm.admin, tm.org.ID, w.ID, time.Minute)
		want(t, err, "", "rotate")
		recv.SetSecrets(t, created.Secret, newSecret)
		want(t, env.App.Webhooks.Redeliver(ctx, tm.admin, tm.org.ID, w.ID, first.ID), "", "redeliver")
		out.Deliver(t)
		if r := recv.Next(t); r.ID != first.ID || !r.Verified[0] || !r.Verified[1] {
			t.Fatalf("during the overlap %+v", r)
		}
		env.Clock.Advance(2 * time.Minute)
		want(t, env.App.Webhooks.Redeliver(ctx, tm.admin, tm.org.ID, w.ID, first.ID), "", "redeliver")
		out.Deliver(t)
		if r := recv.Next(t); r.Verified[0] || !r.Verified[1] {
			t.Fatalf("after the overlap %+v", r)
		}
		recv.SetSecrets(t, newSecret)

		// Replay since a time: the two subscribed events, in order. The redelivery just made
		// failed (400: the receiver no longer knew the old secret) and waits for its retry, so
		// the replay's copy of that same event waits behind it: the endpoint's order.
		n, err := env.App.Webhooks.Replay(ctx, tm.admin, tm.org.ID, w.ID, env.Clock.Now().Add(-24*time.Hour))
		want(t, err, "", "replay")
		out.Deliver(t)
		if a := recv.Next(t); n != 2 || a.ID != got.ID {
			t.Fatalf("replay of %d: %s first", n, a.ID)
		}
		if recv.Pending() != 0 {
			t.Fatal("a later delivery went out while an earlier one waits for its retry")
		}
		env.Clock.Advance(6 * time.Second)
		out.Deliver(t)
		if retried, replayed := recv.Next(t), recv.Next(t); retried.ID != first.ID || retried.Status != 200 || replayed.ID != first.ID || replayed.Status != 200 {
			t.Fatalf("after the retry: %+v then %+v", retried, replayed)
		}

		// 410 Gone disables the endpoint: later events are not queued for it.
		_, err = env.App.Webhooks.Update(ctx, tm.owner, tm.org.ID, w.ID, app.WebhookInput{URL: recv.URL("receiver.internal") + "?status=410", Enabled: true})
		want(t, err, "", "gone URL")
		want(t, env.App.Members.ChangeRole(ctx, tm.owner, tm.org.ID, tm.memberU.ID, roster.OrgMember), "", "change role")
		out.Deliver(t)
		if r := recv.Next(t); r.Status != 410 {
			t.Fatalf("gone %+v", r)
		}
		w, err = env.App.Webhooks.Get(ctx, tm.owner, tm.org.ID, w.ID)
		want(t, err, "", "read webhook")
		if w.Enabled || w.DisabledReason != "gone" {
			t.Fatalf("after 410: %+v", w)
		}
		want(t, env.App.Members.ChangeRole(ctx, tm.owner, tm.org.ID, tm.memberU.ID, roster.OrgAdmin), "", "change role")
		out.Deliver(t)
		if recv.Pending() != 0 || events(t, env, tm.org.ID, "webhook.disabled") != 1 {
			t.Fatal("a disabled endpoint still receives, or its disabling is not audited")
		}
	})
}

// TestWebhookRulesAndIsolation: who manages webhooks, where, and the URLs refused.
func TestWebhookRulesAndIsolation(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := webhookEnv(t, e)
		ctx := testenv.Ctx
		tm, other := newTeam(t, env), newTeam(t, env)
		in := app.WebhookInput{URL: "https://public.example/hooks", Enabled: true}
		_, err := env.App.Webhooks.Create(ctx, tm.member, tm.org.ID, in)
		want(t, err, roster.EForbidden, "member creates")
		_, err = env.App.Webhooks.Create(ctx, other.owner, tm.org.ID, in)
		want(t, err, roster.ENotFound, "other organization's owner creates")
		_, err = env.App.Webhooks.Create(ctx, tm.owner, "", in)
		want(t, err, roster.EForbidden, "owner creates an instance-wide endpoint")
		c, err := env.App.Webhooks.Create(ctx, tm.owner, tm.org.ID, in)
		want(t, err, "", "owner creates")
		_, err = env.App.Webhooks.Get(ctx, other.owner, other.org.ID, c.Endpoint.ID)
		want(t, err, roster.ENotFound, "read through another organization")
		want(t, env.App.Webhooks.Delete(ctx, other.owner, other.org.ID, c.Endpoint.ID), roster.ENotFound, "delete through another organization")
		want(t, env.App.Webhooks.Redeliver(ctx, tm.owner, tm.org.ID, c.Endpoint.ID, "evt_01jxxxxxxxxxxxxxxxxxxxxxxx"), roster.EInvalid, "redeliver unknown event")
		otherEvents, err := env.App.Audit.Events(ctx, other.owner, other.org.ID, 0, 1)
		want(t, err, "", "other events")
		want(t, env.App.Webhooks.Redeliver(ctx, tm.owner, tm.org.ID, c.Endpoint.ID, otherEvents.Events[0].ID), roster.EInvalid, "redeliver another organization's event")
		for _, bad := range []struct{ url, field string }{
			{"http://public.example/hooks", "url"}, {"https://loopback.example/", "url"}, {"https://169.254.169.254/latest", "url"},
			{"https://nowhere.example/", "url"}, {"not a url", "url"}, {"https://user:pw@public.example/", "url"},
		} {
			_, err := env.App.Webhooks.Create(ctx, tm.owner, tm.org.ID, app.WebhookInput{URL: bad.url})
			if testenv.Code(err) != roster.EInvalid || fieldOf(err) != bad.field {
				t.Errorf("%s: %v", bad.url, err)
			}
		}
		_, err = env.App.Webhooks.Create(ctx, tm.owner, tm.org.ID, app.WebhookInput{URL: in.URL, EventTypes: []string{"user.logged_in"}})
		if testenv.Code(err) != roster.EInvalid || fieldOf(err) != "event_types" {
			t.Errorf("unknown event type: %v", err)
		}
		_, err = env.App.Webhooks.RotateSecret(ctx, tm.owner, tm.org.ID, c.Endpoint.ID, 8*24*time.Hour)
		want(t, err, roster.EInvalid, "overlap too long")
		want(t, env.App.Webhooks.Delete(ctx, tm.admin, tm.org.ID, c.Endpoint.ID), "", "admin deletes")
		list, err := env.App.Webhooks.List(ctx, tm.owner, tm.org.ID)
		want(t, err, "", "list")
		if len(list) != 0 {
			t.Errorf("after delete: %+v", list)
		}
	})
}

func fieldOf(err error) string {
	var e *roster.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
