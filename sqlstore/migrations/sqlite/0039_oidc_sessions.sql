-- +goose Up
-- The Roster session a sign-in at an application came from ("sid"), kept with the request and
-- every token of its family: signing out of Roster, or ending that session from the account
-- page, sends a back-channel logout to the applications whose sessions began in it and revokes
-- their tokens, and no other session's.
ALTER TABLE oidc_auth_requests ADD COLUMN session_id TEXT;
ALTER TABLE oidc_tokens ADD COLUMN session_id TEXT;
CREATE INDEX oidc_tokens_session ON oidc_tokens (session_id);

-- +goose Down
DROP INDEX oidc_tokens_session;
ALTER TABLE oidc_tokens DROP COLUMN session_id;
ALTER TABLE oidc_auth_requests DROP COLUMN session_id;
