-- Column sorts break ties by time (see migrations/sqlite/0014_sort_time.sql for why): every
-- sorted list is `ORDER BY <expr> <dir>, occurred_at <dir>, id <dir>` with the cursor condition
-- `(<expr>, occurred_at, id) < ($1, $2, $3)` (or `>`), so each sort index of 0004_sort.sql
-- becomes `(<expr>, occurred_at, id)`, declared on the partitioned parent as before.
DROP INDEX events_sort_event;
DROP INDEX events_sort_category;
DROP INDEX events_sort_user;
DROP INDEX events_sort_outcome;
DROP INDEX events_sort_target;
DROP INDEX events_sort_ip;
CREATE INDEX events_sort_event    ON events ((event COLLATE "C"), occurred_at, id);
CREATE INDEX events_sort_category ON events ((category COLLATE "C"), occurred_at, id);
CREATE INDEX events_sort_user     ON events ((actor_name COLLATE "C"), occurred_at, id);
CREATE INDEX events_sort_outcome  ON events ((outcome COLLATE "C"), occurred_at, id);
CREATE INDEX events_sort_target   ON events ((COALESCE(target_name, '') COLLATE "C"), occurred_at, id);
CREATE INDEX events_sort_ip       ON events ((COALESCE(ip, '') COLLATE "C"), occurred_at, id);
