-- +goose Up
-- The stores of a user across organizations (the check API's GET /v1/users/{id}/stores and
-- the selector) were found by reading every store membership: no index started with user_id,
-- so PostgreSQL scanned all of them (800,000 in the load benchmark's dataset, BENCHMARKS.md).
CREATE INDEX store_members_user ON store_members (user_id, store_id);

-- +goose Down
DROP INDEX store_members_user;
