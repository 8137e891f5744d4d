-- Server exports ("Export › New export…"): one row per export job, its view and, once it ran, the
-- file's size and SHA-256. The file itself lives in the exports folder (`export-<id>.<format>`),
-- written under a temporary name and renamed only when complete.
CREATE TABLE exports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    requested_by TEXT    NOT NULL,
    format       TEXT    NOT NULL,            -- csv | ndjson
    view         TEXT    NOT NULL,            -- the view as the API's query string
    summary      TEXT    NOT NULL,            -- the view in words, for the history
    range_start  INTEGER,                     -- epoch ms, inclusive
    range_end    INTEGER,                     -- epoch ms, exclusive
    status       TEXT    NOT NULL,            -- queued | running | completed | failed | expired
    rows         INTEGER,
    bytes        INTEGER,
    sha256       TEXT,
    error        TEXT,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    expires_at   INTEGER
);
-- The history, newest first.
CREATE INDEX exports_created ON exports (created_at DESC, id DESC);
