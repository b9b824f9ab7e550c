-- +goose Up
-- An organization's email domains (README, "Verified domains"). token is the random part of
-- the TXT value the organization publishes at _roster-verification.<domain>; it is not a
-- secret. A domain is verified by one organization at most (domains_verified); pending and
-- lapsed claims of the same domain by several organizations may coexist, and the first to
-- verify wins. failures counts the re-checks in a row that missed the record; checked_at is
-- the last verification or re-check (0 never). join_policy: off or automatic, with join_role.
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

-- +goose Down
DROP TABLE domains;
