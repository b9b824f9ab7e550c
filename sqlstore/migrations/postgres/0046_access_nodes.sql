-- +goose Up
-- The nodes that answer reads from their access index without asking the database first
-- (ARCHITECTURE.md, "The access index"). Each node's listener holds a row: a lease, renewed on
-- its connection, and the access revision the node has applied. A transaction that changes
-- access returns only once every node whose lease is live has applied its revision, or the
-- lease has run out. expires_at is on the database's clock; a node stops trusting its lease
-- earlier, on its own clock, counted from when it sent the renewal. Unused on SQLite, where
-- one process serves the database; the table exists on both engines so that they keep one
-- schema.
CREATE TABLE access_nodes (
    id         TEXT PRIMARY KEY,
    applied    BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE access_nodes;
