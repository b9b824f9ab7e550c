-- +goose Up
-- The transactional outbox: every email is a row written in the same transaction as the
-- change that causes it, delivered at least once by the outbox worker.
-- A message never holds a secret. A message that carries a one-time link names what the link
-- is for (link_kind, link_ref); the worker mints the token when it sends, stores only its
-- hash on that row, and puts the token in the email alone.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL DEFAULT 'email',
    template        TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    locale          TEXT NOT NULL,
    data            TEXT NOT NULL DEFAULT '{}',
    link_kind       TEXT NOT NULL DEFAULT '',
    link_ref        TEXT NOT NULL DEFAULT '',
    org_id          TEXT,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_org ON outbox (org_id, created_at);

-- +goose Down
DROP TABLE outbox;
