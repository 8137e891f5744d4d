-- Indexes for sorting the list by a column (app/src/store/sort_sql.rs), keyset-paged.
-- Numbered 0004, not 0003: the search branch is expected to add its own 0003.
--
-- Every sorted list is `ORDER BY <expr> <dir>, id <dir>` with the cursor condition
-- `(<expr>, id) < ($1, $2)` (or `>`), inside a time range. Each index below is `(<expr>, id)` with
-- the expression spelled exactly as the query spells it, `COLLATE "C"` included (bytewise text
-- order, the same as SQLite's BINARY; an index in the database's default collation would not serve
-- it). Declared on the partitioned parent, so each monthly partition has its own: the plan is a
-- Merge Append of per-partition index scans, each started at the cursor by the row comparison, and
-- the LIMIT stops it after one page — page 500 costs what page 1 costs, with no sort. A time
-- range prunes the partitions to its months; within them it is checked per row.
--
-- Why not `(<expr>, occurred_at, id)`: occurred_at in the middle would break the (expr, id) order
-- and force a sort. The trade-off of `(<expr>, id)`: a narrow range inside a month with many
-- rows may visit rows outside the range before filling a page; the planner may then prefer
-- `events_time` plus a top-N sort, which is right for small ranges.
--
-- Time needs nothing new (`events_time`, scanned backwards for ascending); Seq uses the primary
-- key (id, occurred_at). Target and IP sort as '' when absent, hence the COALESCE expressions.
--
-- Expected plan (not yet confirmed with EXPLAIN on a large table at the time of writing):
--   Limit -> Merge Append (Sort Key: (actor_name COLLATE "C"), id)
--            -> Index Scan using events_pYYYYMM_..._idx on events_pYYYYMM
--                 Index Cond: (ROW((actor_name COLLATE "C"), id) > ROW($1, $2))   [deep page]
CREATE INDEX events_sort_event    ON events ((event COLLATE "C"), id);
CREATE INDEX events_sort_category ON events ((category COLLATE "C"), id);
CREATE INDEX events_sort_user     ON events ((actor_name COLLATE "C"), id);
CREATE INDEX events_sort_outcome  ON events ((outcome COLLATE "C"), id);
CREATE INDEX events_sort_target   ON events ((COALESCE(target_name, '') COLLATE "C"), id);
CREATE INDEX events_sort_ip       ON events ((COALESCE(ip, '') COLLATE "C"), id);
