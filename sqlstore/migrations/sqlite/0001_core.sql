-- +goose Up
-- Core of Roster: users and their sessions, organizations, stores, memberships, roles,
-- the host application's permissions, service tokens and the audit log.
-- Times are Unix microseconds (UTC) in BIGINT columns on both engines.

CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    password_hash     TEXT,
    locale            TEXT NOT NULL DEFAULT 'en',
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
    is_operator       BOOLEAN NOT NULL DEFAULT FALSE,
    email_verified_at BIGINT,
    active_org_id     TEXT,
    active_store_id   TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX users_created ON users (created_at, id);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    reauth_at    BIGINT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- One-time links sent to a user: set password, reset password, verify email, change email,
-- operator setup. Only the SHA-256 of the token is kept.
CREATE TABLE user_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    email      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

-- Failed logins per account key (a hash of the address, known or not).
CREATE TABLE login_throttle (
    account_key  TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE service_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE organizations (
    id                     TEXT PRIMARY KEY,
    name                   TEXT NOT NULL,
    legal_name             TEXT NOT NULL DEFAULT '',
    website                TEXT NOT NULL DEFAULT '',
    phone                  TEXT NOT NULL DEFAULT '',
    address_line1          TEXT NOT NULL DEFAULT '',
    address_line2          TEXT NOT NULL DEFAULT '',
    city                   TEXT NOT NULL DEFAULT '',
    postal_code            TEXT NOT NULL DEFAULT '',
    region                 TEXT NOT NULL DEFAULT '',
    country                TEXT NOT NULL DEFAULT '',
    logo_image_id          TEXT,
    store_credits          INTEGER NOT NULL CHECK (store_credits >= 0),
    policy_allowed_domains TEXT NOT NULL DEFAULT '[]',
    policy_block_free      BOOLEAN NOT NULL DEFAULT FALSE,
    policy_invitation_ttl  BIGINT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX organizations_name ON organizations (name, id);

CREATE TABLE images (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX images_org ON images (org_id);

CREATE TABLE org_members (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
-- Rule 1: at most one owner per organization, whatever the application does.
CREATE UNIQUE INDEX org_members_one_owner ON org_members (org_id) WHERE role = 'owner';
CREATE INDEX org_members_user ON org_members (user_id);
CREATE INDEX org_members_role ON org_members (org_id, role, user_id);

CREATE TABLE stores (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    website       TEXT NOT NULL DEFAULT '',
    currency      TEXT NOT NULL DEFAULT '',
    time_zone     TEXT NOT NULL DEFAULT '',
    logo_image_id TEXT,
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (id, org_id)
);
CREATE INDEX stores_org ON stores (org_id, status);

-- Rule 3: a store membership exists only alongside an organization membership in the
-- store's own organization; removing the member removes it.
CREATE TABLE store_members (
    store_id   TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    role_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (store_id, user_id),
    FOREIGN KEY (store_id, org_id) REFERENCES stores (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES org_members (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX store_members_member ON store_members (org_id, user_id);
CREATE INDEX store_members_role ON store_members (org_id, role_id);

-- Custom store roles of an organization. permissions is a JSON array of keys.
CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX roles_org_name ON roles (org_id, lower(name));

-- The host application's own permissions, added to Roster's catalog.
CREATE TABLE permissions (
    key            TEXT PRIMARY KEY,
    area           TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    member_default BOOLEAN NOT NULL DEFAULT FALSE,
    viewer_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- Append-only. No foreign keys: the history outlives what it speaks of.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    org_id      TEXT,
    store_id    TEXT,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    before_json TEXT,
    after_json  TEXT,
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, id);
CREATE INDEX audit_events_org_actor ON audit_events (org_id, actor_id, id);
CREATE INDEX audit_events_org_store ON audit_events (org_id, store_id, id);
CREATE INDEX audit_events_created ON audit_events (created_at);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE permissions;
DROP TABLE roles;
DROP TABLE store_members;
DROP TABLE stores;
DROP TABLE org_members;
DROP TABLE images;
DROP TABLE organizations;
DROP TABLE service_tokens;
DROP TABLE login_throttle;
DROP TABLE user_tokens;
DROP TABLE sessions;
DROP TABLE users;
