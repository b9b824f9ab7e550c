package app

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/webhook"
)

// Webhooks is the endpoints that receive Roster's events (an organization's, or the operator's
// instance-wide ones) and the delivery of each event to them, which the outbox worker drives.
type Webhooks struct{ *core }

// KindWebhook is the outbox kind of a webhook delivery: one event to one endpoint.
const KindWebhook = "webhook"

// WebhookRetries is the delivery schedule after a failed attempt (README, "Webhooks"): the
// wait before each retry, each with ±10 % jitter; about three days in all. After the last
// one fails the endpoint, failing all that time, is disabled.
var WebhookRetries = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}

// MaxWebhookEndpoints bounds the endpoints of an organization (and of the instance).
const MaxWebhookEndpoints = 100

// WebhookInput is an endpoint as an administrator describes it.
type WebhookInput struct {
	URL         string
	Description string
	EventTypes  []string // empty for every type
	Enabled     bool
}

// webhookScope checks that the actor manages the webhooks of an organization (orgID "": the
// instance's, operators only).
func (a *Webhooks) webhookScope(ctx context.Context, c *sqlstore.Conn, actor roster.Actor, orgID string, lock bool) error {
	if orgID == "" {
		return requireOperator(actor)
	}
	s, err := a.orgScope(ctx, c, actor, orgID, lock)
	if err != nil {
		return err
	}
	return s.require(roster.PermOrgWebhooksManage)
}

// checkWebhook validates an endpoint's fields; the URL is resolved (webhook.Client.CheckURL).
func (a *Webhooks) checkWebhook(ctx context.Context, in WebhookInput) (WebhookInput, error) {
	if len(in.URL) > roster.MaxURILength {
		return in, roster.Invalidf("url", "the URL must be at most %d characters", roster.MaxURILength)
	}
	if err := a.hooks.CheckURL(ctx, in.URL); err != nil {
		return in, err
	}
	d, err := text("description", in.Description, false, roster.MaxDescriptionLength)
	if err != nil {
		return in, err
	}
	in.Description = d
	seen := map[string]bool{}
	types := []string{}
	for _, t := range in.EventTypes {
		if !roster.EventTypeKnown(t) {
			return in, roster.Invalidf("event_types", "%q is not an event type", truncate(t, 60))
		}
		if !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	in.EventTypes = types
	return in, nil
}

// CreatedWebhook is a new endpoint with its secret, shown this once.
type CreatedWebhook struct {
	Endpoint roster.WebhookEndpoint
	Secret   string
}

// Create adds an endpoint to an organization (orgID "": to the instance).
func (a *Webhooks) Create(ctx context.Context, actor roster.Actor, orgID string, in WebhookInput) (CreatedWebhook, error) {
	in, err := a.checkWebhook(ctx, in)
	if err != nil {
		return CreatedWebhook{}, err
	}
	secret := webhook.NewSecret()
	id := roster.NewID(roster.PrefixWebhook)
	sealed, err := a.seal(id, []byte(secret))
	if err != nil {
		return CreatedWebhook{}, err
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (CreatedWebhook, error) {
		if err := a.webhookScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return CreatedWebhook{}, err
		}
		existing, err := t.ListWebhookEndpoints(t.ctx, orgID)
		if err != nil {
			return CreatedWebhook{}, err
		}
		if len(existing) >= MaxWebhookEndpoints {
			return CreatedWebhook{}, roster.Invalidf("url", "at most %d webhook endpoints", MaxWebhookEndpoints)
		}
		w := roster.WebhookEndpoint{ID: id, OrgID: orgID, URL: in.URL, Description: in.Description, EventTypes: in.EventTypes,
			Enabled: in.Enabled, Secret: sealed, CreatedAt: t.now, UpdatedAt: t.now}
		if err := t.InsertWebhookEndpoint(t.ctx, w); err != nil {
			return CreatedWebhook{}, err
		}
		return CreatedWebhook{Endpoint: w, Secret: secret}, t.audit(roster.AuditEvent{OrgID: orgID, Action: "webhook.created",
			TargetType: "webhook", TargetID: id, After: webhookMap(w)})
	})
}

func webhookMap(w roster.WebhookEndpoint) map[string]any {
	return map[string]any{"url": w.URL, "description": w.Description, "event_types": w.EventTypes, "enabled": w.Enabled}
}

// Webhooks lists an organization's endpoints (orgID "": the instance's).
func (a *Webhooks) List(ctx context.Context, actor roster.Actor, orgID string) ([]roster.WebhookEndpoint, error) {
	if err := a.webhookScope(ctx, a.read(), actor, orgID, false); err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	return a.read().ListWebhookEndpoints(ctx, orgID)
}

// ownWebhook reads an endpoint of the organization, or not_found.
func ownWebhook(ctx context.Context, c *sqlstore.Conn, orgID, id string) (roster.WebhookEndpoint, error) {
	if !roster.ValidID(roster.PrefixWebhook, id) {
		return roster.WebhookEndpoint{}, roster.NotFound("webhook endpoint")
	}
	w, err := c.WebhookEndpoint(ctx, id)
	if err == nil && w.OrgID != orgID {
		return roster.WebhookEndpoint{}, roster.NotFound("webhook endpoint")
	}
	return w, err
}

// Webhook reads one endpoint.
func (a *Webhooks) Get(ctx context.Context, actor roster.Actor, orgID, id string) (roster.WebhookEndpoint, error) {
	if err := a.webhookScope(ctx, a.read(), actor, orgID, false); err != nil {
		return roster.WebhookEndpoint{}, a.refused(ctx, actor, err)
	}
	return ownWebhook(ctx, a.read(), orgID, id)
}

// changeWebhook runs fn on an endpoint of the organization in a write transaction, saves it
// and audits the change as action.
func (a *Webhooks) changeWebhook(ctx context.Context, actor roster.Actor, orgID, id, action string, fn func(t *txn, w *roster.WebhookEndpoint) error) (roster.WebhookEndpoint, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (roster.WebhookEndpoint, error) {
		if err := a.webhookScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return roster.WebhookEndpoint{}, err
		}
		w, err := ownWebhook(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return w, err
		}
		before := webhookMap(w)
		if err := fn(t, &w); err != nil {
			return w, err
		}
		w.UpdatedAt = t.now
		if err := t.UpdateWebhookEndpoint(t.ctx, w); err != nil {
			return w, err
		}
		return w, t.audit(roster.AuditEvent{OrgID: orgID, Action: action, TargetType: "webhook", TargetID: id, Before: before, After: webhookMap(w)})
	})
}

// Update changes an endpoint's URL, description, event types and enabled flag.
// Enabling an endpoint Roster disabled clears its failure record.
func (a *Webhooks) Update(ctx context.Context, actor roster.Actor, orgID, id string, in WebhookInput) (roster.WebhookEndpoint, error) {
	in, err := a.checkWebhook(ctx, in)
	if err != nil {
		return roster.WebhookEndpoint{}, err
	}
	return a.changeWebhook(ctx, actor, orgID, id, "webhook.updated", func(t *txn, w *roster.WebhookEndpoint) error {
		if in.Enabled && !w.Enabled {
			w.DisabledReason, w.FailingSince = "", time.Time{}
		}
		w.URL, w.Description, w.EventTypes, w.Enabled = in.URL, in.Description, in.EventTypes, in.Enabled
		return nil
	})
}

// RotateSecret gives an endpoint a new secret, returned this once; the old one keeps
// signing too (both signatures are sent) for overlap, at most a week.
func (a *Webhooks) RotateSecret(ctx context.Context, actor roster.Actor, orgID, id string, overlap time.Duration) (string, error) {
	if overlap < 0 || overlap > 7*24*time.Hour {
		return "", roster.Invalidf("overlap_seconds", "the overlap must be between 0 and 7 days")
	}
	secret := webhook.NewSecret()
	_, err := a.changeWebhook(ctx, actor, orgID, id, "webhook.secret_rotated", func(t *txn, w *roster.WebhookEndpoint) error {
		sealed, err := a.seal(id, []byte(secret))
		if err != nil {
			return err
		}
		w.PreviousSecret, w.PreviousUntil = w.Secret, t.now.Add(overlap)
		if overlap == 0 {
			w.PreviousSecret, w.PreviousUntil = "", time.Time{}
		}
		w.Secret = sealed
		return nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Delete deletes an endpoint and its delivery log; its pending deliveries are dropped.
func (a *Webhooks) Delete(ctx context.Context, actor roster.Actor, orgID, id string) error {
	return a.write(ctx, actor, func(t *txn) error {
		if err := a.webhookScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return err
		}
		w, err := ownWebhook(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return err
		}
		if _, err := t.CancelEndpointDeliveries(t.ctx, id, "the endpoint is deleted"); err != nil {
			return err
		}
		if err := t.DeleteWebhookEndpoint(t.ctx, id); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: orgID, Action: "webhook.deleted", TargetType: "webhook", TargetID: id, Before: webhookMap(w)})
	})
}

// Deliveries reads an endpoint's delivery log, newest first.
func (a *Webhooks) Deliveries(ctx context.Context, actor roster.Actor, orgID, id string, limit int) ([]roster.WebhookDelivery, error) {
	if _, err := a.Get(ctx, actor, orgID, id); err != nil {
		return nil, err
	}
	return a.read().ListWebhookDeliveries(ctx, id, pageLimit(limit))
}

// LastDeliveries returns the latest delivery of each of an organization's endpoints
// (orgID "": the instance's) that has one, by endpoint ID.
func (a *Webhooks) LastDeliveries(ctx context.Context, actor roster.Actor, orgID string) (map[string]roster.WebhookDelivery, error) {
	if err := a.webhookScope(ctx, a.read(), actor, orgID, false); err != nil {
		return nil, a.refused(ctx, actor, err)
	}
	return a.read().LastWebhookDeliveries(ctx, orgID)
}

// Redeliver queues one event again for an endpoint, with the same webhook-id.
func (a *Webhooks) Redeliver(ctx context.Context, actor roster.Actor, orgID, id, eventID string) error {
	return a.write(ctx, actor, func(t *txn) error {
		if err := a.webhookScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return err
		}
		w, err := ownWebhook(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return err
		}
		if !roster.ValidID(roster.PrefixEvent, eventID) {
			return roster.Invalidf("event_id", "invalid event ID")
		}
		ev, err := t.Event(t.ctx, eventID)
		if err != nil || (orgID != "" && ev.OrgID != orgID) {
			return roster.Invalidf("event_id", "no such event")
		}
		return t.enqueueWebhook(w, ev)
	})
}

// Replay queues again, in order, every event since a time that the endpoint receives
// (at most 10,000), and returns how many.
func (a *Webhooks) Replay(ctx context.Context, actor roster.Actor, orgID, id string, since time.Time) (int, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (int, error) {
		if err := a.webhookScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return 0, err
		}
		w, err := ownWebhook(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return 0, err
		}
		if since.IsZero() || since.After(t.now) {
			return 0, roster.Invalidf("since", "give a time in the past")
		}
		events, err := t.EventsSince(t.ctx, orgID, since, 10000)
		if err != nil {
			return 0, err
		}
		n := 0
		for _, ev := range events {
			if w.Wants(ev.Type) {
				if err := t.enqueueWebhook(w, ev); err != nil {
					return 0, err
				}
				n++
			}
		}
		return n, t.audit(roster.AuditEvent{OrgID: orgID, Action: "webhook.replayed", TargetType: "webhook", TargetID: id,
			After: map[string]any{"since": since.UTC().Format(time.RFC3339), "events": n}})
	})
}

// WebhookTestEvent is the type of the event "send test event" delivers.
const WebhookTestEvent = "webhook.test"

// SendTestEvent queues a webhook.test event for one endpoint (enabled or not), signed like
// every delivery, and returns its ID (the webhook-id). It is tried once: its outcome is in the
// delivery log and changes nothing of the endpoint's failure record.
func (a *Webhooks) SendTestEvent(ctx context.Context, actor roster.Actor, orgID, id string) (string, error) {
	return writeValue(ctx, a.core, actor, func(t *txn) (string, error) {
		if err := a.webhookScope(t.ctx, &t.Conn, actor, orgID, true); err != nil {
			return "", err
		}
		w, err := ownWebhook(t.ctx, &t.Conn, orgID, id)
		if err != nil {
			return "", err
		}
		ev := roster.Event{ID: roster.NewID(roster.PrefixEvent), Type: WebhookTestEvent, Version: roster.EventVersion, OrgID: orgID,
			ActorKind: t.actor.Kind, ActorID: t.actor.ID(), SubjectType: "webhook", SubjectID: w.ID,
			After: map[string]any{"message": "This is a test event sent from Roster."}, CreatedAt: t.now}
		b, err := json.Marshal(ev.Payload())
		if err != nil {
			return "", err
		}
		var payload map[string]any
		if err := json.Unmarshal(b, &payload); err != nil {
			return "", err
		}
		if err := t.EnqueueTestWebhook(t.ctx, KindWebhook, roster.NewID(roster.PrefixMessage), w.ID, payload, t.now); err != nil {
			return "", err
		}
		return ev.ID, t.audit(roster.AuditEvent{OrgID: orgID, Action: "webhook.test_sent", TargetType: "webhook", TargetID: w.ID,
			After: map[string]any{"event_id": ev.ID}})
	})
}

// deliverTestEvent makes the one attempt of a test delivery and records it in the delivery log.
func (a *Webhooks) deliverTestEvent(ctx context.Context, m OutboundEmail, w roster.WebhookEndpoint) error {
	payload, _ := m.Data["test_event"].(map[string]any)
	eventID, _ := payload["id"].(string)
	eventType, _ := payload["type"].(string)
	now := a.clock.Now()
	res := webhook.Result{}
	secrets, err := a.webhookSecrets(w, now)
	if err != nil {
		res.Err = err
	} else {
		body, err := json.Marshal(payload)
		if err != nil {
			return err
		}
		h, err := webhook.Sign(eventID, now, body, secrets...)
		if err != nil {
			return err
		}
		res = a.hooks.Post(ctx, w.URL, h, body)
	}
	errText := ""
	if res.Err != nil {
		errText = truncate(res.Err.Error(), 500)
	} else if !res.OK() {
		errText = "HTTP " + http.StatusText(res.Status)
	}
	return a.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		now := a.clock.Now()
		if err := tx.InsertWebhookDelivery(ctx, roster.WebhookDelivery{ID: roster.NewID(roster.PrefixDelivery), EndpointID: w.ID, EventID: eventID, EventType: eventType,
			Attempt: m.Attempts, Status: res.Status, Latency: res.Latency, Response: res.Response, Error: errText, CreatedAt: now}); err != nil {
			return err
		}
		if res.OK() {
			return tx.MarkEmailSent(ctx, m.ID, now)
		}
		_, err := tx.EndEmail(ctx, m.ID, "failed", errText)
		return err
	})
}

// webhookEvents queues an event for every enabled endpoint that receives it, in the event's
// transaction (t.audit).
func (t *txn) webhookEvent(ev roster.Event) error {
	endpoints, err := t.WebhookEndpointsFor(t.ctx, ev.OrgID)
	if err != nil {
		return err
	}
	for _, w := range endpoints {
		if w.Wants(ev.Type) {
			if err := t.enqueueWebhook(w, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// enqueueWebhook writes one delivery to the outbox, which wakes the webhook loops once
// committed (Outbox.Wake).
func (t *txn) enqueueWebhook(w roster.WebhookEndpoint, ev roster.Event) error {
	return t.EnqueueWebhook(t.ctx, KindWebhook, roster.NewID(roster.PrefixMessage), w.ID, ev, t.now, t.now)
}

// Claim leases up to limit webhook deliveries for this worker, for OutboxLease: the
// head of each endpoint's order (sqlstore.ClaimWebhooks), so that an endpoint receives one
// delivery at a time, in the order of its organization's events.
func (a *Webhooks) Claim(ctx context.Context, limit int) ([]OutboundEmail, error) {
	now := a.clock.Now()
	lease := now.Add(OutboxLease)
	claimed, err := txValue(ctx, a.db, func(tx *sqlstore.Tx) ([]sqlstore.OutboxEmail, error) {
		return tx.ClaimWebhooks(ctx, now, lease, limit)
	})
	out := make([]OutboundEmail, len(claimed))
	for i, m := range claimed {
		out[i] = outboundWebhook(m, lease)
	}
	return out, err
}

func outboundWebhook(m sqlstore.OutboxEmail, lease time.Time) OutboundEmail {
	return OutboundEmail{Email: m.Email, Kind: m.Kind, Attempts: m.Attempts, CreatedAt: m.CreatedAt, LeaseUntil: lease,
		EndpointID: m.EndpointID, EventOrg: m.EventOrg}
}

// WebhookOutcome is one attempt at a webhook delivery, made and not yet recorded.
type WebhookOutcome struct {
	m    OutboundEmail
	w    roster.WebhookEndpoint
	ev   roster.Event
	res  webhook.Result
	more bool
}

// WebhookNext is what recording an outcome gives its worker: the delivery that comes next
// in the endpoint's order, claimed in the same transaction, when OK.
type WebhookNext struct {
	Next OutboundEmail
	OK   bool
}

// Deliver makes one attempt at a claimed webhook delivery and records it
// (Webhooks.Attempt, then Webhooks.Record).
func (a *Webhooks) Deliver(ctx context.Context, m OutboundEmail, more bool) (next OutboundEmail, ok bool, err error) {
	o, record, err := a.Attempt(ctx, m, more)
	if err != nil || !record {
		return OutboundEmail{}, false, err
	}
	n, err := a.Record(ctx, []WebhookOutcome{o})
	if err != nil {
		return OutboundEmail{}, false, err
	}
	return n[0].Next, n[0].OK, nil
}

// Attempt makes one attempt at a claimed webhook delivery and returns its outcome, for
// Webhooks.Record (record true). A delivery with nothing left to send (its endpoint deleted or
// disabled, its event pruned) and a test event are settled here (record false). When the
// attempt succeeds and more is true, recording it claims the delivery that comes next in the
// endpoint's order.
func (a *Webhooks) Attempt(ctx context.Context, m OutboundEmail, more bool) (WebhookOutcome, bool, error) {
	endpointID, _ := m.Data["endpoint_id"].(string)
	eventID, _ := m.Data["event_id"].(string)
	c := a.read()
	w, err := c.WebhookEndpoint(ctx, endpointID)
	if _, test := m.Data["test_event"]; test && err == nil {
		return WebhookOutcome{}, false, a.deliverTestEvent(ctx, m, w)
	}
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && !w.Enabled) {
		// Deleted or disabled: none of its deliveries goes out.
		err = a.db.InTx(ctx, func(tx *sqlstore.Tx) error {
			if _, err := tx.EndEmail(ctx, m.ID, "cancelled", "the endpoint is deleted or disabled"); err != nil {
				return err
			}
			_, err := tx.CancelEndpointDeliveries(ctx, endpointID, "the endpoint is deleted or disabled")
			return err
		})
		return WebhookOutcome{}, false, err
	}
	if err != nil {
		return WebhookOutcome{}, false, err
	}
	ev, err := c.Event(ctx, eventID)
	if err != nil { // pruned by the audit retention: nothing left to send
		if roster.ErrorCode(err) == roster.ENotFound {
			_, err = txValue(ctx, a.db, func(tx *sqlstore.Tx) (bool, error) { return tx.EndEmail(ctx, m.ID, "cancelled", "the event is pruned") })
		}
		return WebhookOutcome{}, false, err
	}
	o := WebhookOutcome{m: m, w: w, ev: ev, more: more}
	now := a.clock.Now()
	secrets, err := a.webhookSecrets(w, now)
	if err != nil { // an attempt that failed: retried on the schedule, then given up
		o.res, o.more = webhook.Result{Err: err}, false
		return o, true, nil
	}
	body, err := json.Marshal(ev.Payload())
	if err != nil {
		return o, false, err
	}
	h, err := webhook.Sign(ev.ID, now, body, secrets...)
	if err != nil {
		return o, false, err
	}
	o.res = a.hooks.Post(ctx, w.URL, h, body)
	return o, true, nil
}

// Record records the outcomes of attempts, several workers' at once, in one
// transaction (one commit, one fsync on SQLite, for all of them), and returns for each the
// delivery claimed next in its endpoint's order, if any.
func (a *Webhooks) Record(ctx context.Context, outcomes []WebhookOutcome) ([]WebhookNext, error) {
	return txValue(ctx, a.db, func(tx *sqlstore.Tx) ([]WebhookNext, error) {
		out := make([]WebhookNext, len(outcomes))
		// Successes to endpoints that were not failing, the common case, go in a few
		// statements for all: their log rows, their status, then each endpoint's next.
		var fast []int
		var endpoints []string
		for i, o := range outcomes {
			if o.res.OK() && o.w.FailingSince.IsZero() {
				fast = append(fast, i)
				endpoints = append(endpoints, o.w.ID)
				continue
			}
			n, err := a.recordWebhook(ctx, tx, o)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		if len(fast) == 0 {
			return out, nil
		}
		now := a.clock.Now()
		exists, err := tx.ExistingWebhookEndpoints(ctx, endpoints) // a deleted one has no log any more
		if err != nil {
			return nil, err
		}
		var logs []roster.WebhookDelivery
		var sent []string
		for _, i := range fast {
			o := outcomes[i]
			sent = append(sent, o.m.ID)
			if exists[o.w.ID] {
				logs = append(logs, roster.WebhookDelivery{ID: roster.NewID(roster.PrefixDelivery), EndpointID: o.w.ID, EventID: o.ev.ID, EventType: o.ev.Type,
					Attempt: o.m.Attempts, Status: o.res.Status, Latency: o.res.Latency, Response: o.res.Response, CreatedAt: now})
			}
		}
		if err := tx.InsertWebhookDeliveries(ctx, logs); err != nil {
			return nil, err
		}
		if err := tx.MarkOutboxSent(ctx, sent, now); err != nil {
			return nil, err
		}
		// If an endpoint was disabled meanwhile, the delivery claimed next is cancelled when
		// it is attempted.
		lease := now.Add(OutboxLease)
		for _, i := range fast {
			o := outcomes[i]
			if !o.more || !exists[o.w.ID] {
				continue
			}
			n, ok, err := tx.ClaimNextWebhook(ctx, o.m.EndpointID, o.m.EventOrg, now, lease)
			if err != nil {
				return nil, err
			}
			out[i] = WebhookNext{Next: outboundWebhook(n, lease), OK: ok}
		}
		return out, nil
	})
}

// webhookSecrets unseals the secrets that sign now: the current one, and the previous one
// during a rotation's overlap.
func (a *Webhooks) webhookSecrets(w roster.WebhookEndpoint, now time.Time) ([]string, error) {
	sealed := []string{w.Secret}
	if w.PreviousSecret != "" && now.Before(w.PreviousUntil) {
		sealed = append(sealed, w.PreviousSecret)
	}
	var out []string
	for _, s := range sealed {
		b, err := a.unseal(w.ID, s)
		if err != nil {
			return nil, errors.New("webhook: cannot unseal the endpoint's secret (was ROSTER_ENCRYPTION_KEY changed?)")
		}
		out = append(out, string(b))
	}
	return out, nil
}

// WebhookFailingDays is how long an endpoint fails every delivery before Roster gives up on
// a delivery for good and disables it: the retry schedule, about three days.
func WebhookFailingDays() int {
	var total time.Duration
	for _, d := range WebhookRetries {
		total += d
	}
	return int((total + 12*time.Hour) / (24 * time.Hour))
}

// recordWebhook records an attempt's outcome in tx, and claims the next delivery of the
// endpoint's order after a success when more is true.
func (a *Webhooks) recordWebhook(ctx context.Context, tx *sqlstore.Tx, o WebhookOutcome) (WebhookNext, error) {
	m, w, ev, res, more := o.m, o.w, o.ev, o.res, o.more
	errText := ""
	if res.Err != nil {
		errText = truncate(res.Err.Error(), 500)
	} else if !res.OK() {
		errText = "HTTP " + http.StatusText(res.Status)
	}
	type claimedNext = WebhookNext
	next, err := func() (claimedNext, error) {
		now := a.clock.Now()
		if err := tx.InsertWebhookDelivery(ctx, roster.WebhookDelivery{ID: roster.NewID(roster.PrefixDelivery), EndpointID: w.ID, EventID: ev.ID, EventType: ev.Type,
			Attempt: m.Attempts, Status: res.Status, Latency: res.Latency, Response: res.Response, Error: errText, CreatedAt: now}); err != nil {
			return claimedNext{}, err
		}
		cur, err := tx.WebhookEndpoint(ctx, w.ID)
		if roster.ErrorCode(err) == roster.ENotFound {
			_, err = tx.EndEmail(ctx, m.ID, "cancelled", "the endpoint is deleted")
			return claimedNext{}, err
		}
		if err != nil {
			return claimedNext{}, err
		}
		if res.OK() {
			if !cur.FailingSince.IsZero() {
				cur.FailingSince = time.Time{}
				if err := tx.UpdateWebhookEndpoint(ctx, cur); err != nil {
					return claimedNext{}, err
				}
			}
			if err := tx.MarkEmailSent(ctx, m.ID, now); err != nil || !more || !cur.Enabled {
				return claimedNext{}, err
			}
			lease := now.Add(OutboxLease)
			n, ok, err := tx.ClaimNextWebhook(ctx, m.EndpointID, m.EventOrg, now, lease)
			return claimedNext{Next: outboundWebhook(n, lease), OK: ok}, err
		}
		if cur.FailingSince.IsZero() {
			cur.FailingSince = now
		}
		gone := res.Status == http.StatusGone
		if !gone && m.Attempts <= len(WebhookRetries) {
			if err := tx.UpdateWebhookEndpoint(ctx, cur); err != nil {
				return claimedNext{}, err
			}
			wait := WebhookRetries[m.Attempts-1]
			wait += time.Duration((rand.Float64()*0.2 - 0.1) * float64(wait)) // #nosec G404 -- jitter, not a secret
			return claimedNext{}, tx.RetryEmail(ctx, m.ID, now.Add(wait), errText)
		}
		if _, err := tx.EndEmail(ctx, m.ID, "failed", errText); err != nil {
			return claimedNext{}, err
		}
		if !cur.Enabled {
			return claimedNext{}, nil
		}
		cur.Enabled, cur.DisabledReason, cur.UpdatedAt = false, "failing", now
		if gone {
			cur.DisabledReason = "gone"
		}
		if err := tx.UpdateWebhookEndpoint(ctx, cur); err != nil {
			return claimedNext{}, err
		}
		// Its deliveries still waiting are dropped: re-enabled, it receives new events, and a
		// replay sends the ones it missed.
		if _, err := tx.CancelEndpointDeliveries(ctx, cur.ID, "the endpoint is disabled"); err != nil {
			return claimedNext{}, err
		}
		t := &txn{Tx: tx, ctx: ctx, now: now, actor: roster.System()}
		if err := a.notifyWebhookDisabled(t, cur, gone, errText); err != nil {
			return claimedNext{}, err
		}
		return claimedNext{}, t.audit(roster.AuditEvent{OrgID: cur.OrgID, Action: "webhook.disabled", TargetType: "webhook", TargetID: cur.ID,
			After: map[string]any{"reason": cur.DisabledReason, "status": res.Status, "error": errText}})
	}()
	return next, err
}

// maxDisabledNotices bounds the administrators told that an endpoint was disabled.
const maxDisabledNotices = 100

// notifyWebhookDisabled tells the owner and the admins of the endpoint's organization (for an
// instance-wide endpoint, nobody: operators see it in the audit log) that Roster disabled it,
// each in their language.
func (a *Webhooks) notifyWebhookDisabled(t *txn, w roster.WebhookEndpoint, gone bool, lastError string) error {
	if w.OrgID == "" {
		return nil
	}
	org, err := t.Organization(t.ctx, w.OrgID)
	if roster.ErrorCode(err) == roster.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	for _, role := range []roster.OrgRole{roster.OrgOwner, roster.OrgAdmin} {
		members, err := t.ListMembers(t.ctx, sqlstore.MemberFilter{OrgID: w.OrgID, Role: role, Status: roster.MembershipActive, Limit: maxDisabledNotices})
		if err != nil {
			return err
		}
		for _, m := range members {
			if err := t.notifyUser(m.User, "webhook_disabled", w.OrgID, map[string]any{"org_name": org.Name, "endpoint_url": w.URL,
				"gone": gone, "days": WebhookFailingDays(), "last_error": lastError}); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropOrgWebhooks deletes an organization's endpoints, with their pending deliveries and
// logs, in the transaction that deletes the organization: nothing more is delivered for it.
// (Instance-wide endpoints still receive organization.deleted.)
func (t *txn) dropOrgWebhooks(orgID string) error {
	endpoints, err := t.ListWebhookEndpoints(t.ctx, orgID)
	if err != nil {
		return err
	}
	for _, w := range endpoints {
		if _, err := t.CancelEndpointDeliveries(t.ctx, w.ID, "the organization is deleted"); err != nil {
			return err
		}
		if err := t.DeleteWebhookEndpoint(t.ctx, w.ID); err != nil {
			return err
		}
	}
	return nil
}
