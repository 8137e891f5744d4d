-- Column sorts break ties by time: every sorted list is now
-- `ORDER BY <expr> <dir>, occurred_at <dir>, id <dir>` with the cursor condition
-- `(<expr>, occurred_at, id) < (?, ?, ?)` (or `>`), and each sort index of 0004_sort.sql becomes
-- `(<expr>, occurred_at, id)`.
--
-- Why: the same index now also serves "<column> is X, newest first". That is a click on a facet
-- or on a value in the table (outcome, category, user, target, IP) with the default sort. With
-- `(<expr>, id)` SQLite served it from that index and then sorted every matching row for each
-- page (`USE TEMP B-TREE FOR ORDER BY`): a full sort of the successful events, page after page,
-- for "outcome is success" (table statistics do not change that choice on SQLite 3.46). Now the
-- plan is `SEARCH events USING INDEX events_sort_outcome (outcome=?)` with no sort, a page reads
-- one page of index entries, and a time range narrows the seek as well (`outcome=? AND
-- occurred_at>? AND occurred_at<?`). Deep pages of a column sort gain too: the row-value seek
-- now extends past the first column (occurred_at is a real index column, unlike the rowid), so
-- a page starts at the cursor instead of at the start of its value's rows.
--
-- The cost: eight more bytes per index entry, and rebuilding six indexes once on upgrade. It pays
-- for itself: `events_sort_event` is now `events_event_time` over again (the direction an index
-- is declared in does not matter to SQLite, which walks it either way), so that one goes, and the
-- writer keeps one index fewer per event than before.
DROP INDEX events_event_time;
DROP INDEX events_sort_event;
DROP INDEX events_sort_category;
DROP INDEX events_sort_user;
DROP INDEX events_sort_outcome;
DROP INDEX events_sort_target;
DROP INDEX events_sort_ip;
CREATE INDEX events_sort_event    ON events (event, occurred_at, id);
CREATE INDEX events_sort_category ON events (category, occurred_at, id);
CREATE INDEX events_sort_user     ON events (actor_name, occurred_at, id);
CREATE INDEX events_sort_outcome  ON events (outcome, occurred_at, id);
CREATE INDEX events_sort_target   ON events (COALESCE(target_name, ''), occurred_at, id);
CREATE INDEX events_sort_ip       ON events (COALESCE(ip, ''), occurred_at, id);
