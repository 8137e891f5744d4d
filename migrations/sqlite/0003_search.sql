-- Free-text search (`q=`): an FTS5 index over each event's searchable text, in the field order of
-- `app::filters::search::search_text` (name, description, actor name, email and id, target name).
--
-- Contentless (content=''): the text is not stored a second time, only the index; events are
-- append-only, so the index never needs a row deleted. rowid = events.id. The writer inserts the
-- FTS rows in the same transaction as their events; this back-fills the rows stored before.
-- unicode61 with remove_diacritics 2: words are runs of letters and digits, case-folded, accents
-- removed (see the search module's doc for the semantics both stores share).
CREATE VIRTUAL TABLE events_fts USING fts5(
    text,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO events_fts (rowid, text)
SELECT id,
       event || char(10) || COALESCE(description, '') || char(10) || actor_name || char(10) ||
       COALESCE(actor_email, '') || char(10) || actor_id || char(10) || COALESCE(target_name, '')
FROM events;
