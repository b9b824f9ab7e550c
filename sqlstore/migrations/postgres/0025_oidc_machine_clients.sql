-- +goose Up
-- Machine clients (the client-credentials grant): a confidential client bound to one
-- organization acts there on its own, with the permissions chosen when it was registered
-- (a JSON array of catalog keys). A client goes with its organization: deleting the
-- organization deletes it, and with it every token it holds.
ALTER TABLE oidc_clients ADD COLUMN org_id TEXT REFERENCES organizations (id) ON DELETE CASCADE;
ALTER TABLE oidc_clients ADD COLUMN permissions TEXT NOT NULL DEFAULT '[]';
CREATE INDEX oidc_clients_org ON oidc_clients (org_id) WHERE org_id IS NOT NULL;

-- The access tokens issued to machine clients (by their "jti"): no user, no refresh token;
-- permissions are those the token was asked for (a subset of the client's, JSON array).
-- Deleting the client (or its organization) deletes them, so they stop working at once.
CREATE TABLE oidc_client_tokens (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    permissions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oidc_client_tokens_client ON oidc_client_tokens (client_id);
CREATE INDEX oidc_client_tokens_expiry ON oidc_client_tokens (expires_at);

-- +goose Down
DROP TABLE oidc_client_tokens;
DROP INDEX oidc_clients_org;
ALTER TABLE oidc_clients DROP COLUMN permissions;
ALTER TABLE oidc_clients DROP COLUMN org_id;
