-- +goose Up
-- Events for host applications (README, "Events"): derived from an audit entry in the same
-- transaction and sharing its ID. seq numbers an organization's events in commit order; the
-- org_id '' holds instance-level events. event_sequences holds each organization's last
-- number: incrementing it locks the row, so concurrent transactions of one organization take
-- their numbers in commit order.
CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    type         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    store_id     TEXT NOT NULL DEFAULT '',
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT NOT NULL DEFAULT '',
    subject_type TEXT NOT NULL DEFAULT '',
    subject_id   TEXT NOT NULL DEFAULT '',
    before_json  TEXT,
    after_json   TEXT,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX events_org_seq ON events (org_id, seq);
CREATE INDEX events_created ON events (created_at);
CREATE TABLE event_sequences (
    org_id TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL
);

-- Webhook endpoints (README, "Webhooks"): an organization's, or the instance's (org_id '').
-- secret and previous_secret are sealed with ROSTER_ENCRYPTION_KEY; previous_secret also
-- signs until previous_until (a rotation's overlap). failing_since is when the endpoint last
-- started failing (0 while it answers).
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    event_types     TEXT NOT NULL DEFAULT '',
    enabled         BOOLEAN NOT NULL,
    disabled_reason TEXT NOT NULL DEFAULT '',
    secret          TEXT NOT NULL,
    previous_secret TEXT NOT NULL DEFAULT '',
    previous_until  BIGINT NOT NULL DEFAULT 0,
    failing_since   BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, id);
-- One row per delivery attempt: the endpoint's delivery log.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    latency_ms  BIGINT NOT NULL,
    response    TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE event_sequences;
DROP TABLE events;
