package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestWebhookDeliveryLog sends a test event and an event of a change to an endpoint, and reads
// the delivery log: each attempt names its event and the event's type.
func TestWebhookDeliveryLog(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		t.Cleanup(receiver.Close)
		s := newServer(t, e, func(c *app.Config) {
			c.EncryptionKey = make([]byte, app.EncryptionKeySize)
			c.WebhookAllowedHosts = []string{"hooks.test"}
			c.WebhookLookup = func(context.Context, string) ([]netip.Addr, error) {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
		})
		box := s.env.Outbox(t)
		owner, _ := s.signup(t, "Olivia")
		var org struct{ ID string }
		if r := s.do(t, "POST", "/v1/organizations", owner, map[string]string{"name": "Acme"}); r.status != 201 {
			t.Fatal(r)
		} else {
			r.json(t, &org)
		}
		hooks := "/v1/organizations/" + org.ID + "/webhooks"
		var hook struct{ ID string }
		url := "http://hooks.test:" + receiver.URL[strings.LastIndex(receiver.URL, ":")+1:] + "/hooks"
		if r := s.do(t, "POST", hooks, owner, map[string]any{"url": url, "event_types": []string{"organization.updated"}}); r.status != 201 {
			t.Fatal(r)
		} else {
			r.json(t, &hook)
		}
		var sent struct {
			EventID string `json:"event_id"`
		}
		if r := s.do(t, "POST", hooks+"/"+hook.ID+"/test", owner, nil); r.status != 202 && r.status != 200 {
			t.Fatal(r)
		} else {
			r.json(t, &sent)
		}
		if r := s.do(t, "PATCH", "/v1/organizations/"+org.ID, owner, map[string]string{"name": "Acme Renamed"}); r.status != 200 {
			t.Fatal(r)
		}
		if _, err := box.Worker.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		var log struct {
			Deliveries []struct {
				EventID   string `json:"event_id"`
				EventType string `json:"event_type"`
				Status    int    `json:"status"`
			} `json:"deliveries"`
		}
		r := s.do(t, "GET", hooks+"/"+hook.ID+"/deliveries", owner, nil)
		if r.status != 200 {
			t.Fatal(r)
		}
		r.json(t, &log)
		types := map[string]string{}
		for _, d := range log.Deliveries {
			if d.Status != http.StatusNoContent {
				t.Errorf("delivery of %s: status %d", d.EventID, d.Status)
			}
			types[d.EventID] = d.EventType
		}
		if len(types) != 2 || types[sent.EventID] != "webhook.test" {
			t.Fatalf("delivery log: %+v (test event %s)", log.Deliveries, sent.EventID)
		}
		for id, typ := range types {
			if id != sent.EventID && typ != "organization.updated" {
				t.Errorf("event %s delivered as %q", id, typ)
			}
		}
	})
}
