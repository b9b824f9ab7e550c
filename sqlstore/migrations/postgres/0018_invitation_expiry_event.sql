-- +goose Up
-- invitation.expired is emitted once per expiry (app.ExpireInvitations): expiry_event_at is
-- the expiry the event was emitted for (0: none). A resend moves expires_at past it, so the
-- invitation's next expiry is told too. Invitations already expired when this migration runs
-- are counted as told: no flood of stale events.
ALTER TABLE invitations ADD COLUMN expiry_event_at BIGINT NOT NULL DEFAULT 0;
UPDATE invitations SET expiry_event_at = expires_at WHERE expires_at <= (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT;
CREATE INDEX invitations_expiry_due ON invitations (expires_at) WHERE status IN ('pending', 'expired') AND expiry_event_at < expires_at;

-- +goose Down
DROP INDEX invitations_expiry_due;
ALTER TABLE invitations DROP COLUMN expiry_event_at;
