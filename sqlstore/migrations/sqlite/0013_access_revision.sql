-- +goose Up
-- The access revision: bumped, in the same transaction, by every transaction that changes who
-- may do what (memberships, store roles, custom roles, stores, organizations, user status, API
-- keys, service tokens, host permissions). Nodes compare it with what their in-memory access
-- index has applied, so they never answer from a state older than a write that has returned
-- (ARCHITECTURE.md, "The access index").
CREATE TABLE access_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO access_revision (id, revision) VALUES (1, 1);

-- +goose Down
DROP TABLE access_revision;
