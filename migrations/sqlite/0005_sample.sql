-- A 1-in-64 sample of the events, for the statistics of large views (app/src/store/stats.rs).
--
-- Count, facets and histogram of a view must read every row of its time range: Last 30 Days of a
-- store of 10 million events is about 750,000 rows, far too many to answer beside the table in
-- well under a second. Over this many rows a systematic sample answers the same questions within
-- a few per cent, and the page labels those answers as estimates.
--
-- The sample is every event whose id is a multiple of 64. Ids are handed out in commit order
-- whatever an event holds, so the sample is spread evenly over time, services and users. The index
-- is partial: it holds 1/64 of the rows, so writing it costs little, and it covers the columns the
-- facets and the histogram read (no table lookups unless the view filters on other fields).
-- A query uses it by repeating the predicate exactly: `id % 64 = 0` (stats.rs, SAMPLE_EVERY).
CREATE INDEX events_sample ON events (occurred_at, event, category, outcome, actor_name)
    WHERE id % 64 = 0;
