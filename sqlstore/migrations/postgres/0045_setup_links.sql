-- +goose Up
-- Setup links (README, "A setup link for your IT administrator"): an organization's owner
-- gives one to the customer's IT administrator, who verifies domains, configures single
-- sign-on and creates SCIM directories of that organization through it, for seven days or
-- until the owner revokes it. The secret is kept only as its SHA-256 (token_hash).
-- revoked_at and last_used_at are 0 until the link is revoked or first used.
CREATE TABLE setup_links (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL DEFAULT 0,
    last_used_at BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX setup_links_token ON setup_links (token_hash);
CREATE INDEX setup_links_org ON setup_links (org_id, expires_at);

-- +goose Down
DROP TABLE setup_links;
