-- +goose Up
-- Listing an organization's members by status (the suspended ones, say) walked every
-- membership of the organization in user order and filtered: a full scan of a large
-- organization for a rare status. This index serves the filter in order.
CREATE INDEX org_members_status ON org_members (org_id, status, user_id);

-- +goose Down
DROP INDEX org_members_status;
