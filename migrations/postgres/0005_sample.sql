-- A 1-in-64 sample of the events, for the statistics of large views (app/src/store/stats.rs); see
-- migrations/sqlite/0005_sample.sql for why. Declared on the partitioned parent, so every monthly
-- partition (present and future) gets its own; a time range prunes to its months as for
-- `events_time`. A query uses it by repeating the predicate exactly: `id % 64 = 0`.
CREATE INDEX events_sample ON events (occurred_at, event, category, outcome, actor_name)
    WHERE id % 64 = 0;
