-- Free-text search (`q=`): a tsvector over each event's searchable text (name, description, actor
-- name, email and id, target name; see `app::filters::search`), with the `simple` configuration
-- (no stemming, no stop words) and a GIN index.
--
-- The text is normalised before PostgreSQL's parser sees it, so its words are those of the Rust
-- reference and of SQLite's unicode61 tokenizer rather than the parser's own (which would keep
-- `alice@example.com` or `v2.1` as one word): the Latin-1 accented letters are folded with
-- `translate` (the table of `search::FOLD`, upper case first), the text lower-cased, and every run
-- of non-alphanumerics replaced by a space.
--
-- A stored generated column on the partitioned parent: each partition (present and future) gets
-- it, computed on insert, and the index declared on the parent is created per partition. Adding it
-- rewrites existing partitions once, which also back-fills them.
ALTER TABLE events ADD COLUMN search_vec tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig, regexp_replace(lower(translate(
        event || ' ' || COALESCE(description, '') || ' ' || actor_name || ' ' ||
        COALESCE(actor_email, '') || ' ' || actor_id || ' ' || COALESCE(target_name, ''),
        'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸàáâãäåçèéêëìíîïñòóôõöùúûüýÿ',
        'aaaaaaceeeeiiiinooooouuuuyyaaaaaaceeeeiiiinooooouuuuyy')),
        '[^[:alnum:]]+', ' ', 'g'))
) STORED;

CREATE INDEX events_search ON events USING gin (search_vec);
