-- Tamper evidence, checkpoints, append-only and settings (PostgreSQL; see the SQLite migration
-- 0013_chain.sql for the meaning of each part). The writers of every node compute the chain under
-- their advisory lock, so several nodes still make one chain.
ALTER TABLE events ADD COLUMN chain BYTEA;

CREATE TABLE chain_head (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    last_id BIGINT  NOT NULL,
    chain   BYTEA   NOT NULL
);

CREATE TABLE checkpoints (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   BIGINT NOT NULL,
    chain      BYTEA  NOT NULL,
    kind       TEXT   NOT NULL CHECK (kind IN ('periodic', 'purge', 'manual')),
    created_at BIGINT NOT NULL,
    public_key BYTEA  NOT NULL,
    signature  BYTEA  NOT NULL
);

CREATE INDEX checkpoints_event ON checkpoints (event_id);

-- Append-only: UPDATE, DELETE and TRUNCATE of events fail unless the transaction set
-- `auditlog.maintenance` (SET LOCAL, the purge path only). Dropping a whole partition of expired
-- events is the purge's other tool; it does not run row triggers.
CREATE FUNCTION auditlog_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'checkpoints'
       OR current_setting('auditlog.maintenance', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION '% are append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION auditlog_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION auditlog_append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION auditlog_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION auditlog_append_only();

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
