-- What an API key may do, when it stops working, and when it was last used (see the SQLite
-- migration 0011_key_scopes.sql for the meaning of each column).
ALTER TABLE api_keys ADD COLUMN scope_ingest BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE api_keys ADD COLUMN scope_read   BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE api_keys ADD COLUMN expires_at   BIGINT;
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
