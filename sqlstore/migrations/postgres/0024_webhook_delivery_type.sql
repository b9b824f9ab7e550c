-- +goose Up
-- The type of the event a delivery carried, so that the delivery log names it (the console's
-- delivery table): a test event is in no table, and an event pruned by the audit retention is
-- gone while its deliveries are still listed. '' for deliveries recorded before this column.
ALTER TABLE webhook_deliveries ADD COLUMN event_type TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE webhook_deliveries DROP COLUMN event_type;
