-- The search index's vocabulary (one row per distinct indexed word), read-only: FTS5 computes it
-- from events_fts, nothing is stored twice.
--
-- Free text searches words as prefixes ("deploy" finds "deployed"). FTS5 answers a prefix by
-- merging the lists of every word that starts with it, in full, even when the query asks for a
-- narrow rowid range — about 12 ms for "deploy" at a million events, whatever the range. The list
-- sorted by time asks for many narrow ranges (app/src/store/sqlite_search.rs), so it first looks
-- the prefix up here (`term >= 'deploy' AND term < 'deploy' || char(1114111)`) and asks FTS5 for
-- those exact words instead, which it seeks to a rowid range directly.
CREATE VIRTUAL TABLE events_fts_terms USING fts5vocab(events_fts, row);
