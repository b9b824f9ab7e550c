-- +goose Up
-- Passkeys (WebAuthn credentials, go-webauthn). Each user who registers one gets a user
-- handle: 32 random bytes (base64url), the same for all their passkeys, which discoverable
-- sign-in returns to name the account. It is not the user's ID, so authenticators learn
-- nothing about the account from it.
CREATE TABLE passkey_users (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX passkey_users_handle ON passkey_users (handle);

-- A user's passkeys. credential is the library's Credential as JSON (public key, flags,
-- counter, attestation): nothing secret. rp_id is the relying party it was registered for
-- (the host of ROSTER_BASE_URL): a passkey works only for the one it names. sign_count and
-- the backup flags are copied out to be read without decoding it; they are written back at
-- every use.
CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rp_id           TEXT NOT NULL,
    credential_id   TEXT NOT NULL,
    name            TEXT NOT NULL,
    credential      TEXT NOT NULL,
    sign_count      BIGINT NOT NULL DEFAULT 0,
    backup_eligible BOOLEAN NOT NULL DEFAULT FALSE,
    backup_state    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT
);
CREATE UNIQUE INDEX passkeys_credential ON passkeys (rp_id, credential_id);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- WebAuthn ceremonies under way: what go-webauthn's Begin step returns (SessionData, JSON),
-- kept on the server, found again by the SHA-256 of its challenge (which the browser's
-- answer carries, signed), used once and dead after five minutes. kind is register,
-- second_factor or passwordless; a ceremony is bound to its user and the session that began
-- it (register), or to the login challenge it completes (second_factor).
CREATE TABLE webauthn_ceremonies (
    challenge_hash  TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    user_id         TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id      TEXT,
    login_challenge TEXT,
    session_data    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);

-- +goose Down
DROP TABLE webauthn_ceremonies;
DROP TABLE passkeys;
DROP TABLE passkey_users;
