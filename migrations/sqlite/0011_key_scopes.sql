-- What an API key may do, when it stops working, and when it was last used.
-- scope_ingest: may send events (POST /api/v1/events).
-- scope_read:   may read, tail and export events (every other /api/v1 route).
-- Keys made before scopes existed keep both. expires_at / last_used_at are epoch milliseconds;
-- last_used_at is written at most once a minute per key, so busy keys do not write per request.
ALTER TABLE api_keys ADD COLUMN scope_ingest INTEGER NOT NULL DEFAULT 1;
ALTER TABLE api_keys ADD COLUMN scope_read   INTEGER NOT NULL DEFAULT 1;
ALTER TABLE api_keys ADD COLUMN expires_at   INTEGER;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
