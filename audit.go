package roster

import "time"

// AuditEvent records one change, or one refused attempt, in the append-only audit log.
type AuditEvent struct {
	ID         string
	OrgID      string // "" for instance-level events
	StoreID    string
	ActorKind  ActorKind
	ActorID    string
	Action     string // "store.created", "member.removed", "access.denied", …
	TargetType string // "user", "store", "organization", "invitation", …
	TargetID   string
	Before     map[string]any // values before the change; never a secret
	After      map[string]any
	IP         string
	UserAgent  string
	CreatedAt  time.Time
}

// AuditFilter narrows a listing of audit events.
type AuditFilter struct {
	OrgID    string
	StoreID  string
	ActorID  string // only this actor's events
	Action   string // exact action, or a prefix ending in "." such as "member."
	TargetID string
	Since    time.Time
	Until    time.Time
	Cursor   string // the ID of the last event of the previous page
	Limit    int
}

// Email is a message to send, as the use case decides it: the template, its recipient and
// data. It is written to the outbox in the use case's transaction; the outbox worker renders
// and delivers it. Data never holds a secret: a message with a one-time link names what the
// link is for (LinkKind, LinkRef) and the worker mints the token when it sends.
type Email struct {
	ID       string
	Template string // "invitation", "password_reset", "access_removed", …
	To       string
	Locale   string
	Data     map[string]any
	LinkKind string // "", "invitation" or "user_token"
	LinkRef  string // the invitation or user token the link is for
	OrgID    string
}
