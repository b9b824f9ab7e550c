-- +goose Up
-- The algorithm a client's ID and access tokens are signed with: ES256 by default, RS256 for
-- relying parties that only know RSA (OpenID Connect Dynamic Client Registration's
-- id_token_signed_response_alg). Each algorithm has its own keys in oidc_keys.
ALTER TABLE oidc_clients ADD COLUMN signing_alg TEXT NOT NULL DEFAULT 'ES256';

-- +goose Down
ALTER TABLE oidc_clients DROP COLUMN signing_alg;
