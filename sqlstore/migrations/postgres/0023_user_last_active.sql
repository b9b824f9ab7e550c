-- +goose Up
-- When a user last signed in or used a session: the members table's "last active". Written by
-- CreateSession and TouchSession (at most once every few minutes per session); NULL if never.
ALTER TABLE users ADD COLUMN last_active_at BIGINT;

-- +goose Down
ALTER TABLE users DROP COLUMN last_active_at;
