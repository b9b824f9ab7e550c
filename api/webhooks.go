package api

import (
	"context"
	"net/http"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Webhook is a webhook endpoint. Secret is set only in the answer that makes it (creation,
// rotation): Roster keeps it sealed and shows it once.
type Webhook struct {
	ID             string   `json:"id"`
	OrganizationID string   `json:"organization_id,omitempty" doc:"Absent for an instance-wide endpoint"`
	URL            string   `json:"url"`
	Description    string   `json:"description"`
	EventTypes     []string `json:"event_types" doc:"The event types delivered; empty for all"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabled_reason,omitempty" enum:"gone,failing" doc:"Why Roster disabled it: gone (the receiver answered 410), failing (every attempt of the retry schedule failed)"`
	FailingSince   *Time    `json:"failing_since,omitempty"`
	Secret         string   `json:"secret,omitempty" doc:"whsec_…: shown once"`
	PreviousUntil  *Time    `json:"previous_secret_until,omitempty" doc:"Until then the previous secret signs too"`
	CreatedAt      Time     `json:"created_at"`
	UpdatedAt      Time     `json:"updated_at"`
}

func webhookJSON(w roster.WebhookEndpoint, secret string) Webhook {
	types := w.EventTypes
	if types == nil {
		types = []string{}
	}
	out := Webhook{ID: w.ID, OrganizationID: w.OrgID, URL: w.URL, Description: w.Description, EventTypes: types, Enabled: w.Enabled,
		DisabledReason: w.DisabledReason, FailingSince: optTime(w.FailingSince), Secret: secret, CreatedAt: Time(w.CreatedAt), UpdatedAt: Time(w.UpdatedAt)}
	if w.PreviousSecret != "" {
		out.PreviousUntil = optTime(w.PreviousUntil)
	}
	return out
}

// WebhookBody is an endpoint as an administrator writes it.
type WebhookBody struct {
	URL         string   `json:"url" doc:"https (http only for a host in ROSTER_WEBHOOK_ALLOWED_HOSTS); its host must not resolve to a loopback, private, link-local or metadata address"`
	Description string   `json:"description,omitempty" maxLength:"300"`
	EventTypes  []string `json:"event_types,omitempty" doc:"Event types to deliver; none for all"`
	Enabled     *bool    `json:"enabled,omitempty" doc:"true when omitted"`
}

func (b WebhookBody) input() app.WebhookInput {
	return app.WebhookInput{URL: b.URL, Description: b.Description, EventTypes: b.EventTypes, Enabled: b.Enabled == nil || *b.Enabled}
}

// WebhookDelivery is one attempt in an endpoint's delivery log.
type WebhookDelivery struct {
	ID        string `json:"id"`
	EventID   string `json:"event_id" doc:"Also the webhook-id header of the delivery"`
	EventType string `json:"event_type" doc:"The event's type (webhook.test for a test event); empty for deliveries recorded before types were kept"`
	Attempt   int    `json:"attempt"`
	Status    int    `json:"status" doc:"The receiver's HTTP status; 0 when it did not answer"`
	LatencyMS int64  `json:"latency_ms"`
	Response  string `json:"response" doc:"The first kilobyte of the receiver's answer"`
	Error     string `json:"error,omitempty"`
	CreatedAt Time   `json:"created_at"`
}

type webhookOut struct{ Body Webhook }

type webhooksOut struct {
	Body struct {
		Webhooks []Webhook `json:"webhooks"`
	}
}

type deliveriesOut struct {
	Body struct {
		Deliveries []WebhookDelivery `json:"deliveries"`
	}
}

type secretOut struct {
	Body struct {
		Secret string `json:"secret" doc:"whsec_…: shown once"`
	}
}

type replayOut struct {
	Body struct {
		Queued int `json:"queued" doc:"How many events were queued again"`
	}
}

type rotateBody struct {
	OverlapSeconds int64 `json:"overlap_seconds,omitempty" minimum:"0" doc:"How long the previous secret signs too (both signatures are sent), at most 7 days; 0 ends it now"`
}

type redeliverBody struct {
	EventID string `json:"event_id" maxLength:"40"`
}

type replayBody struct {
	Since Time `json:"since" doc:"Every event the endpoint receives from this time on is queued again, in order"`
}

// Paths: an organization's endpoints, and the instance's.
type orgWebhookPath struct {
	OrgPath
	ID string `path:"id" maxLength:"40"`
}

type instWebhookPath struct {
	ID string `path:"id" maxLength:"40"`
}

type (
	orgWebhookCreateIn struct {
		OrgPath
		Body WebhookBody
	}
	instWebhookCreateIn struct{ Body WebhookBody }
	orgWebhookUpdateIn  struct {
		OrgPath
		ID   string `path:"id" maxLength:"40"`
		Body WebhookBody
	}
	instWebhookUpdateIn struct {
		ID   string `path:"id" maxLength:"40"`
		Body WebhookBody
	}
	orgRotateIn struct {
		OrgPath
		ID   string `path:"id" maxLength:"40"`
		Body rotateBody
	}
	instRotateIn struct {
		ID   string `path:"id" maxLength:"40"`
		Body rotateBody
	}
	orgRedeliverIn struct {
		OrgPath
		ID   string `path:"id" maxLength:"40"`
		Body redeliverBody
	}
	instRedeliverIn struct {
		ID   string `path:"id" maxLength:"40"`
		Body redeliverBody
	}
	orgReplayIn struct {
		OrgPath
		ID   string `path:"id" maxLength:"40"`
		Body replayBody
	}
	instReplayIn struct {
		ID   string `path:"id" maxLength:"40"`
		Body replayBody
	}
	orgDeliveriesIn struct {
		OrgPath
		ID    string `path:"id" maxLength:"40"`
		Limit int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
	}
	instDeliveriesIn struct {
		ID    string `path:"id" maxLength:"40"`
		Limit int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
	}
)

// webhookHandlers are the operations on endpoints, for an organization (orgID) or the
// instance (orgID "").
type webhookHandlers struct{ s *Server }

func (h webhookHandlers) create(ctx context.Context, orgID string, b WebhookBody) (*webhookOut, error) {
	c, err := h.s.app.Webhooks.Create(ctx, actor(ctx), orgID, b.input())
	if err != nil {
		return nil, h.s.fail(ctx, err)
	}
	return &webhookOut{Body: webhookJSON(c.Endpoint, c.Secret)}, nil
}

func (h webhookHandlers) list(ctx context.Context, orgID string) (*webhooksOut, error) {
	list, err := h.s.app.Webhooks.List(ctx, actor(ctx), orgID)
	if err != nil {
		return nil, h.s.fail(ctx, err)
	}
	out := &webhooksOut{}
	out.Body.Webhooks = mapSlice(list, func(w roster.WebhookEndpoint) Webhook { return webhookJSON(w, "") })
	return out, nil
}

func (h webhookHandlers) get(ctx context.Context, orgID, id string) (*webhookOut, error) {
	w, err := h.s.app.Webhooks.Get(ctx, actor(ctx), orgID, id)
	if err != nil {
		return nil, h.s.fail(ctx, err)
	}
	return &webhookOut{Body: webhookJSON(w, "")}, nil
}

func (h webhookHandlers) update(ctx context.Context, orgID, id string, b WebhookBody) (*webhookOut, error) {
	w, err := h.s.app.Webhooks.Update(ctx, actor(ctx), orgID, id, b.input())
	if err != nil {
		return nil, h.s.fail(ctx, err)
	}
	return &webhookOut{Body: webhookJSON(w, "")}, nil
}

func (h webhookHandlers) delete(ctx context.Context, orgID, id string) (*struct{}, error) {
	if err := h.s.app.Webhooks.Delete(ctx, actor(ctx), orgID, id); err != nil {
		return nil, h.s.fail(ctx, err)
	}
	return nil, nil
}

func (h webhookHandlers) rotate(ctx context.Context, orgID, id string, b rotateBody) (*secretOut, error) {
	secret, err := h.s.app.Webhooks.RotateSecret(ctx, actor(ctx), orgID, id, time.Duration(b.OverlapSeconds)*time.Second)
	if err != nil {
		return nil, h.s.fail(ctx, err)
	}
	out := &secretOut{}
	out.Body.Secret = secret
	return out, nil
}

func (h webhookHandlers) deliveries(ctx context.Context, orgID, id string, limit int) (*deliveriesOut, error) {
	list, err := h.s.app.Webhooks.Deliveries(ctx, actor(ctx), orgID, id, limit)
	if err != nil {
		return nil, h.s.fail(ctx, err)
	}
	out := &deliveriesOut{}
	out.Body.Deliveries = mapSlice(list, func(d roster.WebhookDelivery) WebhookDelivery {
		return WebhookDelivery{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Attempt: d.Attempt, Status: d.Status, LatencyMS: d.Latency.Milliseconds(),
			Response: d.Response, Error: d.Error, CreatedAt: Time(d.CreatedAt)}
	})
	return out, nil
}

func (h webhookHandlers) redeliver(ctx context.Context, orgID, id string, b redeliverBody) (*struct{}, error) {
	if err := h.s.app.Webhooks.Redeliver(ctx, actor(ctx), orgID, id, b.EventID); err != nil {
		return nil, h.s.fail(ctx, err)
	}
	return nil, nil
}

func (h webhookHandlers) replay(ctx context.Context, orgID, id string, b replayBody) (*replayOut, error) {
	n, err := h.s.app.Webhooks.Replay(ctx, actor(ctx), orgID, id, time.Time(b.Since))
	if err != nil {
		return nil, h.s.fail(ctx, err)
	}
	out := &replayOut{}
	out.Body.Queued = n
	return out, nil
}

type testEventOut struct {
	Body struct {
		EventID string `json:"event_id" doc:"The test event's ID: the webhook-id of its delivery, in the delivery log"`
	}
}

func (h webhookHandlers) test(ctx context.Context, orgID, id string) (*testEventOut, error) {
	eventID, err := h.s.app.Webhooks.SendTestEvent(ctx, actor(ctx), orgID, id)
	if err != nil {
		return nil, h.s.fail(ctx, err)
	}
	out := &testEventOut{}
	out.Body.EventID = eventID
	return out, nil
}

const testEventDoc = "Sends a webhook.test event to this endpoint only, enabled or not, signed like every delivery. It is tried once; " +
	"its outcome is in the delivery log and does not count towards disabling the endpoint."

func (s *Server) registerWebhooks() {
	h := webhookHandlers{s}
	const tag = "Webhooks"
	const org, inst = "/v1/organizations/{org}/webhooks", "/v1/webhooks"
	const orgWho, instWho = " Owner and admins (org.webhooks.manage).", " Operators: instance-wide endpoints receive every event."

	register(s.api, op("create-webhook", http.MethodPost, org, "Add a webhook endpoint", tag),
		func(ctx context.Context, in *orgWebhookCreateIn) (*webhookOut, error) {
			return h.create(ctx, in.Org, in.Body)
		},
		withStatus(http.StatusCreated), withDescription("The secret is in the answer, once."+orgWho))
	register(s.api, op("list-webhooks", http.MethodGet, org, "List the webhook endpoints", tag),
		func(ctx context.Context, in *OrgPath) (*webhooksOut, error) { return h.list(ctx, in.Org) }, withDescription(orgWho))
	register(s.api, op("get-webhook", http.MethodGet, org+"/{id}", "Show a webhook endpoint", tag),
		func(ctx context.Context, in *orgWebhookPath) (*webhookOut, error) { return h.get(ctx, in.Org, in.ID) }, withDescription(orgWho))
	register(s.api, op("update-webhook", http.MethodPut, org+"/{id}", "Change a webhook endpoint", tag),
		func(ctx context.Context, in *orgWebhookUpdateIn) (*webhookOut, error) {
			return h.update(ctx, in.Org, in.ID, in.Body)
		},
		withDescription("Enabling an endpoint Roster disabled clears its failure record."+orgWho))
	register(s.api, op("delete-webhook", http.MethodDelete, org+"/{id}", "Delete a webhook endpoint", tag),
		func(ctx context.Context, in *orgWebhookPath) (*struct{}, error) { return h.delete(ctx, in.Org, in.ID) },
		withStatus(http.StatusNoContent), withDescription(orgWho))
	register(s.api, op("rotate-webhook-secret", http.MethodPost, org+"/{id}/rotate-secret", "Rotate a webhook endpoint's secret", tag),
		func(ctx context.Context, in *orgRotateIn) (*secretOut, error) {
			return h.rotate(ctx, in.Org, in.ID, in.Body)
		},
		withDescription("The new secret is in the answer, once."+orgWho))
	register(s.api, op("list-webhook-deliveries", http.MethodGet, org+"/{id}/deliveries", "Read a webhook endpoint's delivery log", tag),
		func(ctx context.Context, in *orgDeliveriesIn) (*deliveriesOut, error) {
			return h.deliveries(ctx, in.Org, in.ID, in.Limit)
		},
		withDescription("Newest first."+orgWho))
	register(s.api, op("redeliver-webhook", http.MethodPost, org+"/{id}/redeliver", "Deliver one event again", tag),
		func(ctx context.Context, in *orgRedeliverIn) (*struct{}, error) {
			return h.redeliver(ctx, in.Org, in.ID, in.Body)
		},
		withStatus(http.StatusAccepted), withDescription("With the same webhook-id."+orgWho))
	register(s.api, op("replay-webhook", http.MethodPost, org+"/{id}/replay", "Deliver every event since a time again", tag),
		func(ctx context.Context, in *orgReplayIn) (*replayOut, error) {
			return h.replay(ctx, in.Org, in.ID, in.Body)
		},
		withStatus(http.StatusAccepted), withDescription("At most 10,000 events, in order, with their webhook-ids."+orgWho))
	register(s.api, op("test-webhook", http.MethodPost, org+"/{id}/test", "Send a test event", tag),
		func(ctx context.Context, in *orgWebhookPath) (*testEventOut, error) {
			return h.test(ctx, in.Org, in.ID)
		},
		withStatus(http.StatusAccepted), withDescription(testEventDoc+orgWho))

	register(s.api, op("create-instance-webhook", http.MethodPost, inst, "Add an instance-wide webhook endpoint", tag),
		func(ctx context.Context, in *instWebhookCreateIn) (*webhookOut, error) {
			return h.create(ctx, "", in.Body)
		},
		withStatus(http.StatusCreated), withDescription("The secret is in the answer, once."+instWho))
	register(s.api, op("list-instance-webhooks", http.MethodGet, inst, "List the instance-wide webhook endpoints", tag),
		func(ctx context.Context, _ *struct{}) (*webhooksOut, error) { return h.list(ctx, "") }, withDescription(instWho))
	register(s.api, op("get-instance-webhook", http.MethodGet, inst+"/{id}", "Show an instance-wide webhook endpoint", tag),
		func(ctx context.Context, in *instWebhookPath) (*webhookOut, error) { return h.get(ctx, "", in.ID) }, withDescription(instWho))
	register(s.api, op("update-instance-webhook", http.MethodPut, inst+"/{id}", "Change an instance-wide webhook endpoint", tag),
		func(ctx context.Context, in *instWebhookUpdateIn) (*webhookOut, error) {
			return h.update(ctx, "", in.ID, in.Body)
		},
		withDescription(instWho))
	register(s.api, op("delete-instance-webhook", http.MethodDelete, inst+"/{id}", "Delete an instance-wide webhook endpoint", tag),
		func(ctx context.Context, in *instWebhookPath) (*struct{}, error) { return h.delete(ctx, "", in.ID) },
		withStatus(http.StatusNoContent), withDescription(instWho))
	register(s.api, op("rotate-instance-webhook-secret", http.MethodPost, inst+"/{id}/rotate-secret", "Rotate an instance-wide endpoint's secret", tag),
		func(ctx context.Context, in *instRotateIn) (*secretOut, error) {
			return h.rotate(ctx, "", in.ID, in.Body)
		},
		withDescription("The new secret is in the answer, once."+instWho))
	register(s.api, op("list-instance-webhook-deliveries", http.MethodGet, inst+"/{id}/deliveries", "Read an instance-wide endpoint's delivery log", tag),
		func(ctx context.Context, in *instDeliveriesIn) (*deliveriesOut, error) {
			return h.deliveries(ctx, "", in.ID, in.Limit)
		},
		withDescription("Newest first."+instWho))
	register(s.api, op("redeliver-instance-webhook", http.MethodPost, inst+"/{id}/redeliver", "Deliver one event again (instance-wide endpoint)", tag),
		func(ctx context.Context, in *instRedeliverIn) (*struct{}, error) {
			return h.redeliver(ctx, "", in.ID, in.Body)
		},
		withStatus(http.StatusAccepted), withDescription("With the same webhook-id."+instWho))
	register(s.api, op("replay-instance-webhook", http.MethodPost, inst+"/{id}/replay", "Deliver every event since a time again (instance-wide endpoint)", tag),
		func(ctx context.Context, in *instReplayIn) (*replayOut, error) {
			return h.replay(ctx, "", in.ID, in.Body)
		},
		withStatus(http.StatusAccepted), withDescription("At most 10,000 events, in order, with their webhook-ids."+instWho))
	register(s.api, op("test-instance-webhook", http.MethodPost, inst+"/{id}/test", "Send a test event (instance-wide endpoint)", tag),
		func(ctx context.Context, in *instWebhookPath) (*testEventOut, error) { return h.test(ctx, "", in.ID) },
		withStatus(http.StatusAccepted), withDescription(testEventDoc+instWho))
}
