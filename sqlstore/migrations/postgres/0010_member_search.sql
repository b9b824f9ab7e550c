-- +goose Up
-- Searching an organization's members for part of a name or an address was a LIKE '%…%'
-- over every member: a full scan of a large organization. pg_trgm's GIN indexes answer the
-- same LIKE from the index. pg_trgm ships with PostgreSQL (contrib) and is a trusted
-- extension: the database owner may create it without being a superuser. Where it cannot be
-- created, the migration still succeeds and searches scan as before (the README says so).
-- +goose StatementBegin
DO $$
DECLARE
    trgm_schema name;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available (%): member search will scan', SQLERRM;
    END;
    SELECT n.nspname INTO trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX users_name_trgm ON users USING gin (lower(name) %I.gin_trgm_ops)', trgm_schema);
        EXECUTE format('CREATE INDEX users_email_trgm ON users USING gin (email %I.gin_trgm_ops)', trgm_schema);
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS users_email_trgm;
DROP INDEX IF EXISTS users_name_trgm;
