-- +goose Up
-- Invitations into an organization, with the store roles they grant on acceptance.
-- token_hash is the SHA-256 of the link's token, NULL until the outbox worker mints the
-- token as it sends the email; a resend clears it, so the old link dies at once. Once the
-- invitation is answered or revoked, its hash stays so the link shows what became of it.
-- status never holds 'expired': a pending invitation past expires_at is expired, except
-- that a newer invitation to the same address marks the old one expired.
CREATE TABLE invitations (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email          TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    message        TEXT NOT NULL DEFAULT '',
    locale         TEXT NOT NULL DEFAULT 'en',
    invited_by     TEXT REFERENCES users (id) ON DELETE SET NULL,
    inviter_name   TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    token_hash     TEXT UNIQUE,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    last_sent_at   BIGINT NOT NULL,
    send_count     INTEGER NOT NULL DEFAULT 1,
    responded_at   BIGINT,
    accepted_by    TEXT,
    delivery_error TEXT NOT NULL DEFAULT '',
    updated_at     BIGINT NOT NULL
);
-- Rule: one pending invitation per address and organization.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (org_id, email) WHERE status = 'pending';
CREATE INDEX invitations_org ON invitations (org_id, id);
CREATE INDEX invitations_email ON invitations (email);

-- The store roles an invitation grants. A store deleted meanwhile drops out of it.
CREATE TABLE invitation_stores (
    invitation_id TEXT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    store_id      TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    role_id       TEXT NOT NULL,
    PRIMARY KEY (invitation_id, store_id),
    FOREIGN KEY (store_id, org_id) REFERENCES stores (id, org_id) ON DELETE CASCADE
);
CREATE INDEX invitation_stores_role ON invitation_stores (org_id, role_id);

-- Per-recipient limits on mail look up recent messages by address.
CREATE INDEX outbox_recipient ON outbox (recipient, template, created_at);
-- Resending or cancelling an invitation cancels its messages still waiting.
CREATE INDEX outbox_link ON outbox (link_kind, link_ref);

-- +goose Down
DROP INDEX outbox_link;
DROP INDEX outbox_recipient;
DROP TABLE invitation_stores;
DROP TABLE invitations;
