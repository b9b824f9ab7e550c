-- +goose Up
-- A user's authenticator app (TOTP, RFC 6238). The secret is sealed with AES-256-GCM under
-- ROSTER_ENCRYPTION_KEY (the user's ID is the additional data). A row without confirmed_at is
-- an enrollment begun and not yet confirmed with a first code: it protects nothing.
-- last_step is the last time step whose code was accepted: a code is never accepted twice.
CREATE TABLE user_totp (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0
);

-- Single-use recovery codes, made when TOTP is confirmed and when regenerated: only the
-- SHA-256 of each code is kept (80 random bits each).
CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE user_totp;
