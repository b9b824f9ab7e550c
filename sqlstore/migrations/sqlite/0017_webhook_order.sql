-- +goose Up
-- Webhook deliveries are made in order per endpoint (README, "Webhooks"): an endpoint's
-- deliveries of one organization's events go out in event-sequence order, one at a time, and
-- a later one waits while an earlier one waits for its retry. endpoint_id, event_org and
-- event_seq are the delivery's place in that order ('', '', 0 for emails).
ALTER TABLE outbox ADD COLUMN endpoint_id TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN event_org TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
UPDATE outbox SET endpoint_id = recipient, event_org = COALESCE(org_id, ''),
    event_seq = COALESCE((SELECT seq FROM events WHERE events.id = json_extract(outbox.data, '$.event_id')), 0)
    WHERE kind = 'webhook';
-- The delivery that comes before (a pending one of the same endpoint and organization), and
-- whether another delivery to the endpoint is in flight (a pending one under lease).
CREATE INDEX outbox_endpoint_order ON outbox (endpoint_id, event_org, event_seq, id) WHERE status = 'pending';
CREATE INDEX outbox_endpoint_lease ON outbox (endpoint_id, lease_until) WHERE status = 'pending';
-- Each loop claims its own kind: the email loop does not scan a webhook backlog.
CREATE INDEX outbox_kind_due ON outbox (kind, next_attempt_at) WHERE status = 'pending';

-- +goose Down
DROP INDEX outbox_kind_due;
DROP INDEX outbox_endpoint_lease;
DROP INDEX outbox_endpoint_order;
ALTER TABLE outbox DROP COLUMN event_seq;
ALTER TABLE outbox DROP COLUMN event_org;
ALTER TABLE outbox DROP COLUMN endpoint_id;
