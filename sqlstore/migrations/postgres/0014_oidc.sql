-- +goose Up
-- Sign in with Roster (the OpenID provider, oidc/). Signing keys are shared by every node
-- through this table; their private half is sealed with AES-256-GCM under the instance's
-- encryption key (ROSTER_ENCRYPTION_KEY) and never stored in clear.
CREATE TABLE oidc_keys (
    id             TEXT PRIMARY KEY,       -- the JWK "kid"
    alg            TEXT NOT NULL,
    public_jwk     TEXT NOT NULL,          -- JSON
    private_sealed TEXT NOT NULL,          -- base64(nonce || AES-GCM(PKCS#8 DER))
    created_at     BIGINT NOT NULL,
    retired_at     BIGINT,                 -- signs no more from then; still published
    expires_at     BIGINT                  -- dropped from the key set after then
);

-- Applications registered by the operator. Only the SHA-256 of a confidential client's
-- secret is kept; a public client has none and must use PKCE.
CREATE TABLE oidc_clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    secret_hash               TEXT,
    redirect_uris             TEXT NOT NULL, -- JSON array, matched exactly
    post_logout_redirect_uris TEXT NOT NULL, -- JSON array
    scopes                    TEXT NOT NULL, -- JSON array of allowed scopes
    access_ttl                BIGINT NOT NULL, -- seconds
    refresh_ttl               BIGINT NOT NULL, -- seconds
    first_party               INTEGER NOT NULL,
    backchannel_logout_uri    TEXT,          -- where logout tokens are posted, if anywhere
    created_by                TEXT NOT NULL DEFAULT '',
    created_at                BIGINT NOT NULL
);

-- Authorization requests between /oidc/authorize and the token endpoint. The row outlives
-- its code's use until it expires, so that a replayed code is recognised and the tokens it
-- issued (the family named by the request's ID) are revoked.
CREATE TABLE oidc_auth_requests (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    request      TEXT NOT NULL,            -- JSON of the validated request parameters
    user_id      TEXT,                     -- set when the user completed sign-in
    org_id       TEXT,
    store_id     TEXT,
    auth_time    BIGINT,
    code_hash    TEXT UNIQUE,
    code_expires BIGINT,
    code_used_at BIGINT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests (expires_at);

-- Access tokens (by their "jti") and refresh tokens (by the SHA-256 of their secret) issued
-- to clients. A family is every token descending from one authorization code; a refresh
-- token used twice revokes its whole family.
CREATE TABLE oidc_tokens (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    token_hash TEXT UNIQUE,
    family_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id     TEXT,
    store_id   TEXT,
    scopes     TEXT NOT NULL,              -- JSON array
    audience   TEXT NOT NULL,              -- JSON array
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,                     -- a refresh token, when it was exchanged
    revoked_at BIGINT
);
CREATE INDEX oidc_tokens_family ON oidc_tokens (family_id);
CREATE INDEX oidc_tokens_user ON oidc_tokens (user_id, org_id);
CREATE INDEX oidc_tokens_expiry ON oidc_tokens (expires_at);

-- +goose Down
DROP TABLE oidc_tokens;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_clients;
DROP TABLE oidc_keys;
