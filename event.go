package roster

import "time"

// EventVersion is the version of the event payload described in the README ("Events") and
// in the OpenAPI document's webhooks section. A change that removes or renames a field makes
// a new version; adding a field does not.
const EventVersion = 1

// Event is a change for host applications: derived from the audit entry that records it, in
// the same transaction, so an event exists exactly when its change committed. Its ID is the
// audit entry's. Seq numbers an organization's events 1, 2, 3… in commit order (instance-level
// events, OrgID "", have their own sequence).
type Event struct {
	ID          string
	Type        string // "member.added", … (EventTypes)
	Version     int
	OrgID       string // "" for an instance-level event (user.*)
	StoreID     string
	Seq         int64
	ActorKind   ActorKind
	ActorID     string
	SubjectType string
	SubjectID   string
	Before      map[string]any // the audit entry's values before and after; never a secret
	After       map[string]any
	CreatedAt   time.Time
}

// EventType is one entry of the event catalog.
type EventType struct {
	Type        string
	Description string
}

// EventTypes is the event catalog, in the order the README lists it.
var EventTypes = []EventType{
	{"organization.created", "An organization was created."},
	{"organization.updated", "An organization's name, slug, logo or store credits changed."},
	{"organization.ownership_transferred", "An organization has a new owner."},
	{"organization.deleted", "An organization was deleted."},
	{"policy.updated", "An organization's policies changed."},
	{"store.created", "A store was created."},
	{"store.updated", "A store's name, slug or logo changed."},
	{"store.archived", "A store was archived."},
	{"store.restored", "An archived store is active again."},
	{"store.deleted", "A store was deleted."},
	{"member.added", "A user became a member of the organization."},
	{"member.role_changed", "A member's organization role changed."},
	{"member.store_role_changed", "A member's role in a store was set or removed (after.role is absent when removed)."},
	{"member.suspended", "A member was suspended."},
	{"member.reactivated", "A suspended member is active again."},
	{"member.removed", "A member was removed or left (after.reason is \"removed\" or \"left\")."},
	{"invitation.created", "An invitation was sent."},
	{"invitation.resent", "An invitation was sent again."},
	{"invitation.accepted", "An invitation was accepted."},
	{"invitation.declined", "An invitation was declined."},
	{"invitation.revoked", "An invitation was revoked."},
	{"invitation.expired", "An invitation passed its expiry without an answer (emitted once per expiry, within a minute)."},
	{"domain.added", "An email domain was added to the organization, waiting for its DNS record."},
	{"domain.verified", "An email domain was verified through its DNS TXT record."},
	{"domain.lapsed", "A verified domain's DNS record was missing at two re-checks in a row: the domain is no longer verified."},
	{"domain.updated", "A verified domain's join policy, or whether it requires single sign-on, changed."},
	{"domain.removed", "An email domain was removed from the organization."},
	{"role.created", "A custom role was created."},
	{"role.updated", "A custom role's name or permissions changed."},
	{"role.deleted", "A custom role was deleted."},
	{"api_key.created", "An API key was created (or cloned: after.source names the original)."},
	{"api_key.revoked", "An API key was revoked."},
	{"user.deactivated", "A user account was deactivated (instance-level)."},
	{"user.reactivated", "A user account is active again (instance-level)."},
	{"user.email_changed", "A user's email address changed (instance-level)."},
}

// eventOfAction maps the audit actions that become events to their event type; actions not
// listed (sign-ins, refusals, exports, …) are audit-only.
var eventOfAction = map[string]string{
	"organization.logo_changed":      "organization.updated",
	"organization.store_credits_set": "organization.updated",
	"organization.policy_changed":    "policy.updated",
	"store.unarchived":               "store.restored",
	"store.logo_changed":             "store.updated",
	"store_member.role_set":          "member.store_role_changed",
	"store_member.removed":           "member.store_role_changed",
	"member.left":                    "member.removed",
	"role.permission_removed":        "role.updated",
	"api_key.cloned":                 "api_key.created",
	"domain.join_policy_changed":     "domain.updated",
	"domain.sso_required_changed":    "domain.updated",
}

func init() {
	for _, t := range EventTypes {
		if _, ok := eventOfAction[t.Type]; !ok {
			eventOfAction[t.Type] = t.Type
		}
	}
}

// EventOf returns the event an audit entry becomes, without its sequence number, and false
// when the entry's action is audit-only.
func EventOf(e AuditEvent) (Event, bool) {
	typ, ok := eventOfAction[e.Action]
	if !ok {
		return Event{}, false
	}
	after := e.After
	switch e.Action {
	case "member.removed", "member.left":
		after = with(after, "reason", map[string]string{"member.removed": "removed", "member.left": "left"}[e.Action])
	}
	return Event{ID: e.ID, Type: typ, Version: EventVersion, OrgID: e.OrgID, StoreID: e.StoreID,
		ActorKind: e.ActorKind, ActorID: e.ActorID, SubjectType: e.TargetType, SubjectID: e.TargetID,
		Before: e.Before, After: after, CreatedAt: e.CreatedAt}, true
}

// with returns a copy of m with k set to v.
func with(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for mk, mv := range m {
		out[mk] = mv
	}
	out[k] = v
	return out
}

// EventTypeKnown reports whether t is in the catalog.
func EventTypeKnown(t string) bool {
	for _, et := range EventTypes {
		if et.Type == t {
			return true
		}
	}
	return false
}

// WebhookEndpoint is where an organization's events (or, for an instance-wide endpoint,
// OrgID "", every event) are delivered, signed with its secret.
type WebhookEndpoint struct {
	ID             string
	OrgID          string // "" for an instance-wide endpoint (the operator's)
	URL            string
	Description    string
	EventTypes     []string // the types delivered; empty for all
	Enabled        bool
	DisabledReason string // why Roster disabled it: "gone" (410), "failing"; "" when an admin did
	Secret         string // sealed
	PreviousSecret string // sealed; signs too until PreviousUntil
	PreviousUntil  time.Time
	FailingSince   time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Wants reports whether the endpoint receives events of a type.
func (w WebhookEndpoint) Wants(eventType string) bool {
	if len(w.EventTypes) == 0 {
		return true
	}
	for _, t := range w.EventTypes {
		if t == eventType {
			return true
		}
	}
	return false
}

// WebhookDelivery is one attempt in an endpoint's delivery log.
type WebhookDelivery struct {
	ID         string
	EndpointID string
	EventID    string
	EventType  string // the event's type ("webhook.test" for a test event); "" when recorded before it was kept
	Attempt    int
	Status     int // the receiver's HTTP status; 0 when it did not answer
	Latency    time.Duration
	Response   string // its first kilobyte
	Error      string
	CreatedAt  time.Time
}

// EventPayload is an event as host applications receive it, in the feed and as a webhook
// body: payload version 1 (EventVersion; README, "Events").
type EventPayload struct {
	ID             string       `json:"id" doc:"The event's ID, also its audit entry's, and the webhook-id of its deliveries"`
	Type           string       `json:"type" doc:"The event type (README, Events)"`
	Version        int          `json:"version" doc:"The payload version"`
	Timestamp      time.Time    `json:"timestamp"`
	OrganizationID string       `json:"organization_id,omitempty" doc:"Absent for an instance-level event"`
	StoreID        string       `json:"store_id,omitempty"`
	Sequence       int64        `json:"sequence" doc:"The event's number in its organization: 1, 2, 3… in commit order"`
	Actor          EventRef     `json:"actor" doc:"Who made the change: type is user, api_key, service_token, system or anonymous"`
	Subject        EventRef     `json:"subject" doc:"What changed"`
	Data           EventChanges `json:"data"`
}

// EventRef names an actor or a subject.
type EventRef struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
}

// EventChanges holds the values before and after the change; never a secret.
type EventChanges struct {
	Before map[string]any `json:"before,omitempty"`
	After  map[string]any `json:"after,omitempty"`
}

// Payload returns the event as host applications receive it.
func (e Event) Payload() EventPayload {
	return EventPayload{ID: e.ID, Type: e.Type, Version: e.Version, Timestamp: e.CreatedAt.UTC(), OrganizationID: e.OrgID,
		StoreID: e.StoreID, Sequence: e.Seq, Actor: EventRef{Type: string(e.ActorKind), ID: e.ActorID},
		Subject: EventRef{Type: e.SubjectType, ID: e.SubjectID}, Data: EventChanges{Before: e.Before, After: e.After}}
}
