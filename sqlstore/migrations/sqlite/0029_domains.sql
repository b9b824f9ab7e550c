-- +goose Up
-- An organization's email domains (README, "Verified domains"). token is the random part of
-- the TXT value the organization publishes at _roster-verification.<domain>; it is not a
-- secret. A domain is verified by one organization at most (domains_verified); pending and
-- lapsed claims of the same domain by several organizations may coexist, and the first to
-- verify wins. failures counts the re-checks in a row that missed the record; checked_at is
-- the last verification or re-check (0 never). join_policy: off, suggest or automatic, with join_role.
CREATE TABLE domains (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    domain      TEXT NOT NULL,
    token       TEXT NOT NULL,
    status      TEXT NOT NULL,
    join_policy TEXT NOT NULL DEFAULT 'off',
    join_role   TEXT NOT NULL DEFAULT 'member',
    verified_at BIGINT NOT NULL DEFAULT 0,
    checked_at  BIGINT NOT NULL DEFAULT 0,
    failures    INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX domains_org_domain ON domains (org_id, domain);
CREATE UNIQUE INDEX domains_verified ON domains (domain) WHERE status = 'verified';
CREATE INDEX domains_recheck ON domains (checked_at) WHERE status = 'verified';

-- Requests to join through a verified domain whose join policy is suggest, until an owner or
-- admin approves or declines them (the audit log keeps the outcome; the row goes).
CREATE TABLE join_requests (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    domain_id  TEXT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX join_requests_org_user ON join_requests (org_id, user_id);
CREATE INDEX join_requests_user ON join_requests (user_id);
CREATE INDEX join_requests_domain ON join_requests (domain_id);

-- +goose Down
DROP TABLE join_requests;
DROP TABLE domains;
