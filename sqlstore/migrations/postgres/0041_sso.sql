-- +goose Up
-- An organization's single sign-on (README, "Enterprise SSO"): one connection at most per
-- organization, OpenID Connect or SAML 2.0. client_secret_sealed and sp_key_sealed are sealed
-- with ROSTER_ENCRYPTION_KEY (AES-GCM, the connection's ID as associated data); scopes is a
-- space-separated list; role_mappings is JSON ([{group, org_role, stores: {store: role}}]).
CREATE TABLE sso_connections (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    protocol             TEXT NOT NULL,
    enabled              BOOLEAN NOT NULL DEFAULT FALSE,
    issuer               TEXT NOT NULL DEFAULT '',
    client_id            TEXT NOT NULL DEFAULT '',
    client_secret_sealed TEXT NOT NULL DEFAULT '',
    scopes               TEXT NOT NULL DEFAULT '',
    email_claim          TEXT NOT NULL DEFAULT '',
    name_claim           TEXT NOT NULL DEFAULT '',
    groups_claim         TEXT NOT NULL DEFAULT '',
    idp_metadata_url     TEXT NOT NULL DEFAULT '',
    idp_metadata_xml     TEXT NOT NULL DEFAULT '',
    sp_key_sealed        TEXT NOT NULL DEFAULT '',
    sp_certificate       TEXT NOT NULL DEFAULT '',
    jit                  BOOLEAN NOT NULL DEFAULT TRUE,
    default_role         TEXT NOT NULL DEFAULT 'member',
    role_mappings        TEXT NOT NULL DEFAULT '[]',
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE UNIQUE INDEX sso_connections_org ON sso_connections (org_id);

-- Who signed in through a connection: the provider's subject (OIDC sub, SAML NameID) linked
-- to a Roster user, so that a changed address at the provider still finds the same account.
CREATE TABLE sso_identities (
    connection_id TEXT NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (connection_id, subject)
);
CREATE INDEX sso_identities_user ON sso_identities (user_id);

-- Sign-ins on their way to the identity provider: the SHA-256 of the state (OIDC) or
-- RelayState (SAML) given to the browser, the OIDC nonce, the PKCE verifier (sealed), the SAML
-- request ID, where to go after. Used once, dead after ten minutes.
CREATE TABLE sso_logins (
    state_hash      TEXT PRIMARY KEY,
    connection_id   TEXT NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    nonce           TEXT NOT NULL DEFAULT '',
    verifier_sealed TEXT NOT NULL DEFAULT '',
    request_id      TEXT NOT NULL DEFAULT '',
    next            TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX sso_logins_expires ON sso_logins (expires_at);

-- SAML assertions already accepted, kept until they expire (NotOnOrAfter): a replayed
-- assertion is refused.
CREATE TABLE sso_assertions (
    connection_id TEXT NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    assertion_id  TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (connection_id, assertion_id)
);
CREATE INDEX sso_assertions_expires ON sso_assertions (expires_at);

-- +goose Down
DROP TABLE sso_assertions;
DROP TABLE sso_logins;
DROP TABLE sso_identities;
DROP TABLE sso_connections;
