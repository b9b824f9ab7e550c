-- +goose Up
-- A key made by scheduled rotation is published before it signs: it signs from activates_at
-- on (NULL: from its creation), so that clients caching the key set have fetched it first.
ALTER TABLE oidc_keys ADD COLUMN activates_at BIGINT;

-- +goose Down
ALTER TABLE oidc_keys DROP COLUMN activates_at;
