-- The search index in time order: free text over a long history without reading every match.
--
-- Until now the search index's rowid was the event id, so a page of matches sorted by time had to
-- read every match of the words and sort them (1.4 s for a common word at ten million events whose
-- ids do not follow their times, as in a back-filled history). Now each event has a search key that
-- sorts exactly as the list does, by (occurred_at, id):
--
--     search_key = occurred_at * 2^20 + n
--
-- where n counts the events stored before it with the same occurred_at (ids follow commit order,
-- so n grows with id). occurred_at is epoch milliseconds between 1970 and now + 5 minutes (ingest
-- refuses the rest), so keys fit a signed 64-bit integer until the year 2248, with room for 2^20
-- events in one millisecond. The index's rowid is this key: FTS5 then returns the matches of the
-- words in the list's order, from a key range that is the time range, and stops after a page.
-- The writer assigns keys in the transaction that stores the events
-- (app/src/store/sqlite_search.rs); this assigns them to the events stored before.

ALTER TABLE events ADD COLUMN search_key INTEGER;

UPDATE events
SET search_key = k.search_key
FROM (
    SELECT id,
           occurred_at * 1048576 + row_number() OVER (PARTITION BY occurred_at ORDER BY id) - 1
               AS search_key
    FROM events
) AS k
WHERE events.id = k.id;

CREATE UNIQUE INDEX events_search_key ON events (search_key);

-- The index itself, rebuilt with the new rowids (same text and tokenizer as migration 0003; the
-- vocabulary table of migration 0006 reads whichever table is named events_fts).
DROP TABLE events_fts;

CREATE VIRTUAL TABLE events_fts USING fts5(
    text,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO events_fts (rowid, text)
SELECT search_key,
       event || char(10) || COALESCE(description, '') || char(10) || actor_name || char(10) ||
       COALESCE(actor_email, '') || char(10) || actor_id || char(10) || COALESCE(target_name, '')
FROM events;
