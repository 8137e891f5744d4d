-- Indexes for sorting the list by a column (app/src/store/sort_sql.rs), keyset-paged.
-- Numbered 0004, not 0003: the search branch is expected to add its own 0003.
--
-- Every sorted list is `ORDER BY <expr> <dir>, id <dir>` with the cursor condition
-- `(<expr>, id) < (?, ?)` (or `>`), inside a time range. Each index below is `(<expr>, id)`,
-- spelled exactly as the query spells the expression, so SQLite walks it in order (forwards or
-- backwards) from the cursor and stops after one page: page 500 reads as many index entries as
-- page 1, with no sort. The time range and filters are checked per row on that walk.
--
-- Why not `(<expr>, occurred_at, id)`: the order is by expr then id, so occurred_at in the middle
-- would break the order the query needs (a sort again). Why not rely on `events_time` plus a
-- sort: that reads and sorts the whole time range on every page. The trade-off of `(<expr>, id)`:
-- a narrow time range over a huge table may visit many rows outside the range before filling a
-- page; SQLite's planner then still has the choice of `events_time` plus a sort (it estimates the
-- range's rows), and `ANALYZE` helps it choose.
--
-- Time needs nothing new (`events_time` on (occurred_at, id), walked backwards for ascending);
-- Seq is the rowid (the primary key). Target and IP sort as '' when absent, hence the COALESCE
-- expression indexes. (Every SQLite index also ends in the rowid, so the explicit `id` is the
-- same order spelled out; it keeps the definitions identical to PostgreSQL's.)
--
-- EXPLAIN QUERY PLAN (SQLite 3.40, 20,000 rows, ANALYZE run), what was seen and what it changed:
-- - `occurred_at >= ? AND occurred_at < ? ... ORDER BY actor_name, id` chose
--   `SEARCH USING INDEX events_time` + `USE TEMP B-TREE FOR ORDER BY` (a sort of the whole range
--   on every page). Hence the list query writes the range as `+occurred_at` for every sort but
--   time (sort_sql::time_column), after which the plan is
--   `SEARCH events USING INDEX events_sort_user (actor_name<?)`, no temp B-tree.
-- - On the COALESCE indexes the row-value cursor condition alone gave `SCAN ... USING INDEX
--   events_sort_target` (ordered, but from the start: a deep page re-reads the earlier ones). The
--   query adds the implied scalar bound `COALESCE(target_name, '') <= ?`, giving
--   `SEARCH events USING INDEX events_sort_target (<expr><?)`.
-- - The row-value seek covers the first column only (`SeekLE` on one column in EXPLAIN): the
--   index's second column is the rowid, which SQLite's vector range does not extend to. Within
--   one value (e.g. outcome = 'success') a page therefore walks that value's rows from its start
--   to the cursor. Correct, but not constant-time for long runs of equal values; see docs/API.md.
-- - Seq: `SEARCH events USING INTEGER PRIMARY KEY (rowid>?)`; time:
--   `SEARCH events USING INDEX events_time (occurred_at>?)` for either direction.
CREATE INDEX events_sort_event    ON events (event, id);
CREATE INDEX events_sort_category ON events (category, id);
CREATE INDEX events_sort_user     ON events (actor_name, id);
CREATE INDEX events_sort_outcome  ON events (outcome, id);
CREATE INDEX events_sort_target   ON events (COALESCE(target_name, ''), id);
CREATE INDEX events_sort_ip       ON events (COALESCE(ip, ''), id);
