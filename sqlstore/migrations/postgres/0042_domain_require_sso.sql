-- +goose Up
-- A verified domain whose people sign in through their organization's single sign-on only
-- (the owner keeps a password sign-in as a break-glass).
ALTER TABLE domains ADD COLUMN require_sso BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE domains DROP COLUMN require_sso;
