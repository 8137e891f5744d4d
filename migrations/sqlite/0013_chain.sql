-- Tamper evidence (app/src/store/chain.rs documents the encoding): each event's `chain` is the
-- SHA-256 over the previous event's chain and the event as stored, computed by the writer in the
-- transaction that stores it. `chain_head` holds the newest chain value (one row), so the writer
-- and a purge that removes every event still know where the chain stands. Events stored before
-- this migration are chained by the store when it opens, in id order.
ALTER TABLE events ADD COLUMN chain BLOB;

CREATE TABLE chain_head (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    last_id INTEGER NOT NULL,
    chain   BLOB    NOT NULL
);

-- Signed checkpoints: "the chain after event #event_id is `chain`", signed with the server's
-- Ed25519 key (a key file outside the database; `public_key` says which). `periodic` ones pin
-- the chain every N events or hour, so removing the newest events is seen; a `purge` one records
-- where the chain stood after the last event a retention purge removed, so it verifies from the
-- new oldest event.
CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   INTEGER NOT NULL,
    chain      BLOB    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('periodic', 'purge', 'manual')),
    created_at INTEGER NOT NULL,
    public_key BLOB    NOT NULL,
    signature  BLOB    NOT NULL
);

CREATE INDEX checkpoints_event ON checkpoints (event_id);

-- Append-only: the database refuses to change or remove an event or a checkpoint. The one path
-- that may (a retention purge, and chaining or indexing rows stored before a migration) adds a
-- row to `maintenance` inside its own transaction and removes it before committing, so no other
-- connection ever sees it.
CREATE TABLE maintenance (reason TEXT NOT NULL);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
WHEN NOT EXISTS (SELECT 1 FROM maintenance)
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE refused');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN NOT EXISTS (SELECT 1 FROM maintenance)
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE refused');
END;

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: UPDATE refused');
END;

CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: DELETE refused');
END;

-- Settings kept in the store (retention), changed through the audited command line.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
