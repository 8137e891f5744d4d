-- The event log, API keys and request-level idempotency records (SQLite).
-- Times are epoch milliseconds (UTC). Migrations only move forward.

CREATE TABLE events (
    -- The sequence number ("Seq"). AUTOINCREMENT: a number is never reused, even after the newest
    -- rows are gone, so ids stay monotonic for cursors, the live tail and the hash chain.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at     INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    event           TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    outcome         TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
    actor_id        TEXT    NOT NULL,
    actor_name      TEXT    NOT NULL,
    actor_type      TEXT    NOT NULL CHECK (actor_type IN ('user', 'app', 'system')),
    actor_email     TEXT,
    target_type     TEXT,
    target_id       TEXT,
    target_name     TEXT,
    ip              TEXT,
    user_agent      TEXT,
    source          TEXT,
    description     TEXT,
    metadata        TEXT    NOT NULL DEFAULT '{}',  -- JSON object
    changes         TEXT,                           -- JSON object or NULL
    -- Per-event retry key, scoped to the API key that sent it.
    idem_scope      TEXT,
    idem_key        TEXT
);

-- Serves the default list: newest first within a time range, keyset on (occurred_at, id).
CREATE INDEX events_time ON events (occurred_at DESC, id DESC);

-- Serves "event name is X" within a time range, same keyset order.
CREATE INDEX events_event_time ON events (event, occurred_at DESC, id DESC);

-- Serves "events performed by actor X" (the Member role's own-events view and the user filter).
CREATE INDEX events_actor_time ON events (actor_id, occurred_at DESC, id DESC);

-- Serves the per-event idempotency lookup on ingest, and makes a duplicate impossible.
CREATE UNIQUE INDEX events_idempotency ON events (idem_scope, idem_key) WHERE idem_key IS NOT NULL;

-- Distinct event names, kept by the writer, for the filter's suggestions without scanning events.
CREATE TABLE event_names (
    name     TEXT PRIMARY KEY,
    category TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    -- SHA-256 of the secret: keys are 256 random bits, so a fast hash is enough and the secret
    -- itself is never stored.
    secret_hash TEXT    NOT NULL UNIQUE,
    prefix      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- Whole-request retries (Idempotency-Key header): the original response, replayed verbatim.
CREATE TABLE idempotency_keys (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    response     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;

-- Serves the purge of records older than the retention window.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
