-- +goose Up
-- The origins whose pages may call the OpenID endpoints a browser uses (token, userinfo,
-- revocation, introspection) and the switcher's /v1 reads with CORS: a JSON array of exact
-- origins (scheme://host[:port]), empty for a client that no page calls across origins.
ALTER TABLE oidc_clients ADD COLUMN cors_origins TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE oidc_clients DROP COLUMN cors_origins;
