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
