-- +goose Up
-- The policy switch that refuses invitations to addresses outside the organization's
-- verified domains.
ALTER TABLE organizations ADD COLUMN policy_verified_domains_only BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE organizations DROP COLUMN policy_verified_domains_only;
