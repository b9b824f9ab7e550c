-- +goose Up
-- The store memberships of an organization, and of one member in it, read from the index
-- alone: the access index loads an organization whole with every store membership in it
-- (app/index_whole.go), and fills one member's access with theirs. Rows of one organization
-- lie scattered through the table, so that reading them from the table touched nearly one
-- page per row (8,000 pages for an organization of 3,000 members on the 1,000,000-user
-- benchmark's dataset); the index holds them together. It replaces store_members_member,
-- which it starts with.
CREATE INDEX store_members_access ON store_members (org_id, user_id, store_id, role_id);
DROP INDEX store_members_member;

-- +goose Down
CREATE INDEX store_members_member ON store_members (org_id, user_id);
DROP INDEX store_members_access;
