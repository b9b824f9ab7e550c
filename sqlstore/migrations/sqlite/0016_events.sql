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

-- +goose Down
DROP TABLE event_sequences;
DROP TABLE events;
