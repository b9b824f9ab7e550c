-- +goose Up
-- SCIM 2.0 directories (README, "SCIM provisioning"): an identity provider provisions one
-- organization with a bearer token of its own, kept only as its SHA-256 (token_hash).
-- last_used_at is 0 until the token is first used.
CREATE TABLE scim_directories (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    token_hash       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    token_created_at BIGINT NOT NULL,
    last_used_at     BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_directories_token ON scim_directories (token_hash);
CREATE INDEX scim_directories_org ON scim_directories (org_id);

-- What a directory said about a user: its userName, externalId and other attributes (JSON).
-- The membership itself is org_members; a row whose membership is gone is ignored and
-- replaced when the directory provisions the user again. created_account: the directory made
-- the Roster account (and may rename it). user_name_key is user_name in lower case: SCIM's
-- userName is not case-sensitive, so neither is its uniqueness nor its look-up.
CREATE TABLE scim_users (
    directory_id    TEXT NOT NULL REFERENCES scim_directories (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id          TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    user_name_key   TEXT NOT NULL,
    external_id     TEXT NOT NULL DEFAULT '',
    attributes      TEXT NOT NULL DEFAULT '{}',
    created_account BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (directory_id, user_id)
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (directory_id, user_name_key);
CREATE INDEX scim_users_external_id ON scim_users (directory_id, external_id);
CREATE INDEX scim_users_user ON scim_users (user_id);

-- Groups a directory pushed, each mapped by the organization's owner or admins to nothing,
-- an organization role (org_role) or a store role (store_id, role_id).
CREATE TABLE scim_groups (
    id           TEXT PRIMARY KEY,
    directory_id TEXT NOT NULL REFERENCES scim_directories (id) ON DELETE CASCADE,
    org_id       TEXT NOT NULL,
    display_name TEXT NOT NULL,
    external_id  TEXT NOT NULL DEFAULT '',
    org_role     TEXT NOT NULL DEFAULT '',
    store_id     TEXT NOT NULL DEFAULT '',
    role_id      TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (directory_id, display_name);

CREATE TABLE scim_group_members (
    group_id TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX scim_group_members_user ON scim_group_members (user_id);

-- +goose Down
DROP TABLE scim_group_members;
DROP TABLE scim_groups;
DROP TABLE scim_users;
DROP TABLE scim_directories;
