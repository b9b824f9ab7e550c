-- +goose Up
-- Searching an organization's members for part of a name or an address was a LIKE '%…%'
-- over every member: a full scan of a large organization. A trigram full-text index over
-- users answers the same substring question (three characters or more) from the index.
--
-- FTS5 keys rows by an integer, and users are keyed by text IDs; user rowids are not stable
-- (VACUUM may renumber them), so user_search_keys gives each user a stable integer key.
-- Triggers keep both in step with users; the name is indexed as written, the trigram
-- tokenizer folds case (Unicode-aware) itself.
CREATE TABLE user_search_keys (
    key     INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE user_search USING fts5(name, email, tokenize = 'trigram');

INSERT INTO user_search_keys (user_id) SELECT id FROM users ORDER BY id;
INSERT INTO user_search (rowid, name, email)
    SELECT k.key, u.name, u.email FROM users u JOIN user_search_keys k ON k.user_id = u.id;

-- +goose StatementBegin
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_search_keys (user_id) VALUES (new.id);
    INSERT INTO user_search (rowid, name, email)
        VALUES ((SELECT key FROM user_search_keys WHERE user_id = new.id), new.name, new.email);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER users_search_update AFTER UPDATE OF name, email ON users BEGIN
    UPDATE user_search SET name = new.name, email = new.email
        WHERE rowid = (SELECT key FROM user_search_keys WHERE user_id = new.id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM user_search WHERE rowid = (SELECT key FROM user_search_keys WHERE user_id = old.id);
    DELETE FROM user_search_keys WHERE user_id = old.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER users_search_delete;
DROP TRIGGER users_search_update;
DROP TRIGGER users_search_insert;
DROP TABLE user_search;
DROP TABLE user_search_keys;
