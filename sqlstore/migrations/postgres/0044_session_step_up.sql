-- +goose Up
-- When the person of a session last gave the strongest proof their account has (a second
-- factor, or the password for an account without one): the dangerous actions (transferring
-- ownership, deleting an organization, making an API key, changing the policy, turning off
-- two-factor authentication) ask for none again for ten minutes after it. 0: never.
ALTER TABLE sessions ADD COLUMN step_up_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sessions DROP COLUMN step_up_at;
