-- Free text on SQLite indexes the words exactly as the search module defines them
-- (app/src/filters/search.rs `words`: lower-cased, accents of Latin-1 folded, split on everything
-- that is not a letter or digit), and keeps its own vocabulary.
--
-- Until now FTS5's unicode61 tokenizer cut the words, and a searched prefix was spelled out into
-- indexed words through the fts5vocab table of migration 0006. That table counts every entry of
-- each word it returns: 4-6 ms per prefix at a million events, 30-40 ms at ten million, most of
-- the time of a free-text page. Now the writer cuts the words in Rust and gives FTS5 only those
-- words separated by spaces; the `ascii` tokenizer splits on ASCII punctuation and spaces only
-- and keeps every other character, so FTS5's words are exactly the writer's. The writer also adds
-- each new word to `search_terms` in the same transaction, so a prefix is spelled out with one
-- B-tree range read. (A purge leaves the words of removed events here: a word that no longer
-- occurs finds nothing, which costs one empty index seek.)
DROP TABLE events_fts_terms;
DROP TABLE events_fts;

CREATE VIRTUAL TABLE events_fts USING fts5(
    text,
    content = '',
    tokenize = 'ascii'
);

CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;

-- Events stored before this migration are indexed again by the server when it opens the store,
-- in Rust, in search-key order from `after_key` on (the row goes when that is done).
CREATE TABLE search_reindex (after_key INTEGER NOT NULL);
INSERT INTO search_reindex (after_key) SELECT -1 WHERE EXISTS (SELECT 1 FROM events);
