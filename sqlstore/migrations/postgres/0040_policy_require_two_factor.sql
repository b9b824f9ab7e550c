-- +goose Up
-- The policy switch that requires members to have a second factor (an authenticator app or
-- a passkey) to open the organization with a session or a Roster access token.
ALTER TABLE organizations ADD COLUMN policy_require_two_factor BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE organizations DROP COLUMN policy_require_two_factor;
