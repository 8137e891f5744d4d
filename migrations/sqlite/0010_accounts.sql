-- People who sign in to the viewer, and their sessions (SQLite).
--
-- role: owner (everything), auditor (all events and exports, no management), member (only the
-- events they performed, matched on actor_id, plus events of system actors), none (no access to
-- Audit Logs). password_hash is an Argon2id PHC string; the password itself is never stored.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'auditor', 'member', 'none')),
    actor_id      TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- A signed-in browser. The cookie holds 256 random bits; only their SHA-256 is stored, so a copy
-- of the database signs nobody in. Expiry (idle and absolute) is the server's setting, checked on
-- every request against these two times.
CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id);
