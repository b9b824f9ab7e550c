-- +goose Up
-- The operators, few among every user: whether the instance has one yet is asked at each
-- start (the first operator's setup link), on the console's sign-in page and when an operator
-- is created, and without this index each of those read the whole users table (on SQLite
-- 100,000 users' pages into a connection's cache at start; on 1,000,000 users ten times as many).
CREATE INDEX users_operators ON users (id) WHERE is_operator;

-- +goose Down
DROP INDEX users_operators;
