-- +goose Up
-- API keys of organization members, their request log and the monthly API usage counters.
-- A key belongs to its owner's organization membership: removing the member (or deleting the
-- organization) deletes their keys in the same statement. Only the SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    store_id     TEXT,
    role_id      TEXT NOT NULL,
    org_role     TEXT NOT NULL CHECK (org_role IN ('admin', 'member')),
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    FOREIGN KEY (org_id, user_id) REFERENCES org_members (org_id, user_id) ON DELETE CASCADE,
    FOREIGN KEY (store_id, org_id) REFERENCES stores (id, org_id) ON DELETE CASCADE
);
CREATE INDEX api_keys_org ON api_keys (org_id, id);
CREATE INDEX api_keys_role ON api_keys (org_id, role_id);
CREATE INDEX api_keys_member ON api_keys (org_id, user_id);
CREATE INDEX api_keys_store ON api_keys (store_id);

-- One row per request authenticated by a key; pruned after the retention period. No foreign
-- key to api_keys: the log outlives a removed member's keys until it is pruned.
CREATE TABLE api_key_requests (
    id     TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    at     BIGINT NOT NULL,
    method TEXT NOT NULL,
    path   TEXT NOT NULL,
    status INTEGER NOT NULL,
    ip     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_key_requests_key ON api_key_requests (key_id, id);
CREATE INDEX api_key_requests_at ON api_key_requests (at);

-- Requests made with an organization's keys per calendar month (UTC, as YYYYMM), kept
-- whatever the log's retention, for the usage page.
CREATE TABLE api_usage (
    org_id   TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    month    INTEGER NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, month)
);

-- +goose Down
DROP TABLE api_usage;
DROP TABLE api_key_requests;
DROP TABLE api_keys;
