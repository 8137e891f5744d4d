-- The event log, API keys and request-level idempotency records (PostgreSQL).
-- The same logical schema as migrations/sqlite: times are epoch milliseconds (UTC) in BIGINT and
-- JSON is kept as text, so both stores share one row type and one list query. Migrations only move
-- forward.

-- The sequence numbers ("Seq"). Only the writer draws from it, under its advisory lock, so numbers
-- are unique across every server process on this database and ordered by commit. A number is never
-- reused (a failed transaction leaves a gap), so ids stay monotonic for cursors, the live tail and
-- the hash chain.
CREATE SEQUENCE events_id_seq AS BIGINT;

-- Range-partitioned by month on occurred_at, so old months can later be detached or dropped whole.
-- Partitions are named events_pYYYYMM and created by the store, ahead of time and on demand; there
-- is deliberately no default partition (a row in it would block creating its month's partition).
CREATE TABLE events (
    id              BIGINT  NOT NULL,
    occurred_at     BIGINT  NOT NULL,
    received_at     BIGINT  NOT NULL,
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
    -- JSON as text rather than JSONB: the stored bytes are exactly what was serialized, which the
    -- hash chain will hash; JSONB would reorder keys and normalize numbers.
    metadata        TEXT    NOT NULL DEFAULT '{}',  -- JSON object
    changes         TEXT,                           -- JSON object or NULL
    -- Per-event retry key, scoped to the API key that sent it; uniqueness is enforced by
    -- event_idempotency, these columns only record it with the event.
    idem_scope      TEXT,
    idem_key        TEXT,
    -- A partitioned table's unique keys must contain the partition key; the sequence alone keeps
    -- id unique across partitions.
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

ALTER SEQUENCE events_id_seq OWNED BY events.id;

-- Serves the default list: newest first within a time range, keyset on (occurred_at, id).
-- Declared on the parent, so each partition has its own; a time range prunes to its months.
CREATE INDEX events_time ON events (occurred_at DESC, id DESC);

-- Serves "event name is X" within a time range, same keyset order (per partition).
CREATE INDEX events_event_time ON events (event, occurred_at DESC, id DESC);

-- Serves "events performed by actor X" (the Member role's own-events view and the user filter),
-- per partition.
CREATE INDEX events_actor_time ON events (actor_id, occurred_at DESC, id DESC);

-- Per-event idempotency, outside the partitioned table: a unique index on events would have to
-- include occurred_at, so the same key sent with another time would not be caught.
-- The primary key serves the lookup on ingest and makes a duplicate impossible.
CREATE TABLE event_idempotency (
    scope   TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    id      BIGINT  NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Distinct event names, kept by the writer, for the filter's suggestions without scanning events.
CREATE TABLE event_names (
    name     TEXT PRIMARY KEY,
    category TEXT NOT NULL
);

CREATE TABLE api_keys (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT    NOT NULL,
    -- SHA-256 of the secret: keys are 256 random bits, so a fast hash is enough and the secret
    -- itself is never stored. The unique constraint's index serves the lookup on every request.
    secret_hash TEXT    NOT NULL UNIQUE,
    prefix      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);

-- Whole-request retries (Idempotency-Key header): the original response, replayed verbatim.
-- The primary key serves the lookup on ingest.
CREATE TABLE idempotency_keys (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    response     TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Serves the purge of records older than the retention window.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
