//! The ORDER BY and the keyset condition of the list query for every [`Sort`], on SQLite and
//! PostgreSQL.
//!
//! Every order is `(sort expression, occurred_at, id)` in one direction (`(occurred_at, id)` for
//! time, `id` for seq), so it is total and a cursor (the last row's value, time and id) names a
//! position in it. Ties in time order let each column's index `(expression, occurred_at, id)`
//! serve two things: the list sorted by that column, and "column is X" sorted by time (a facet
//! click), which reads one value's rows in time order instead of sorting all of them.
//!
//! Two rules make both stores return the same order, which `store::sort_tests` checks against a
//! Rust reference on both:
//! - NULL is the empty string: target and IP are sorted as `COALESCE(col, '')`, in ORDER BY and in
//!   the cursor comparison alike, so NULLS FIRST/LAST (which differ between the two) never arise.
//!   Ingest stores an empty string as NULL, so no stored value is confused with a missing one.
//! - Text compares bytewise: SQLite's default BINARY collation already does; on PostgreSQL every
//!   text expression carries `COLLATE "C"`, whatever the database's default collation. For UTF-8
//!   that is also Rust's `str` order.
//!
//! The expressions are spelled exactly as in the sort indexes (`0014_sort_time.sql` on SQLite,
//! `0011_sort_time.sql` on PostgreSQL), so the planners match them to an index and walk it in
//! order instead of sorting.

use sqlx::{Database, Encode, QueryBuilder, Type};

use super::filter_sql::Dialect;
use crate::events::query::{Cursor, Dir, Sort, SortKey, SortValue};

/// The SQL expression the list is sorted by under `key` (its whitelist: no input reaches it).
pub(super) fn expression(key: SortKey, d: Dialect) -> &'static str {
    match (key, d) {
        (SortKey::Time, _) => "occurred_at",
        (SortKey::Seq, _) => "id",
        (SortKey::Event, Dialect::Sqlite) => "event",
        (SortKey::Event, Dialect::Postgres) => "event COLLATE \"C\"",
        (SortKey::Category, Dialect::Sqlite) => "category",
        (SortKey::Category, Dialect::Postgres) => "category COLLATE \"C\"",
        (SortKey::User, Dialect::Sqlite) => "actor_name",
        (SortKey::User, Dialect::Postgres) => "actor_name COLLATE \"C\"",
        (SortKey::Outcome, Dialect::Sqlite) => "outcome",
        (SortKey::Outcome, Dialect::Postgres) => "outcome COLLATE \"C\"",
        (SortKey::Target, Dialect::Sqlite) => "COALESCE(target_name, '')",
        (SortKey::Target, Dialect::Postgres) => "COALESCE(target_name, '') COLLATE \"C\"",
        (SortKey::Ip, Dialect::Sqlite) => "COALESCE(ip, '')",
        (SortKey::Ip, Dialect::Postgres) => "COALESCE(ip, '') COLLATE \"C\"",
    }
}

/// The time column as the time range should name it under `sort`. On SQLite, for every order but
/// time, `+occurred_at`: the unary plus keeps the planner from serving the range with `events_time`
/// and then sorting the whole range on every page (its estimate for a two-sided range is far too
/// small); it walks the sort's index instead and checks the range per row, which is what makes a
/// deep page as cheap as the first. PostgreSQL's statistics make that choice well on their own.
pub(super) fn time_column(sort: Sort, d: Dialect) -> &'static str {
    match (sort.key, d) {
        (SortKey::Time, _) | (_, Dialect::Postgres) => "occurred_at",
        (_, Dialect::Sqlite) => "+occurred_at",
    }
}

/// Appends ` AND <the rows after the cursor>`: `(expr, occurred_at, id) < (value, time, id)` when
/// descending, `>` when ascending; `(occurred_at, id)` for time and `id` alone for seq. The caller
/// has checked that the cursor belongs to `sort`.
pub(super) fn push_after<'a, DB>(
    sql: &mut QueryBuilder<'a, DB>,
    sort: Sort,
    cursor: &Cursor,
    d: Dialect,
) where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
{
    let op = match sort.dir {
        Dir::Asc => " > ",
        Dir::Desc => " < ",
    };
    if sort.key == SortKey::Seq {
        sql.push(" AND id").push(op).push_bind(cursor.id);
        return;
    }
    if d == Dialect::Sqlite && sort.key != SortKey::Time {
        // SQLite seeks an expression index (target, IP) on a scalar bound only, never on the row
        // value below; the bound is implied by it, so it changes no result.
        sql.push(" AND ")
            .push(expression(sort.key, d))
            .push(match sort.dir {
                Dir::Asc => " >= ",
                Dir::Desc => " <= ",
            });
        push_value(sql, cursor.value.clone());
    }
    // A row-value comparison: both stores start their index scan at the cursor.
    sql.push(" AND (").push(expression(sort.key, d));
    if sort.key != SortKey::Time {
        sql.push(", occurred_at");
    }
    sql.push(", id)").push(op).push("(");
    push_value(sql, cursor.value.clone());
    if sort.key != SortKey::Time {
        sql.push(", ").push_bind(cursor.time);
    }
    sql.push(", ").push_bind(cursor.id).push(")");
}

fn push_value<'a, DB>(sql: &mut QueryBuilder<'a, DB>, value: SortValue)
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
{
    match value {
        SortValue::Int(n) => sql.push_bind(n),
        SortValue::Text(s) => sql.push_bind(s),
    };
}

/// Appends ` ORDER BY <expr> <dir>, occurred_at <dir>, id <dir>` (without the time for the time
/// and seq orders).
pub(super) fn push_order<DB: Database>(sql: &mut QueryBuilder<'_, DB>, sort: Sort, d: Dialect) {
    let dir = match sort.dir {
        Dir::Asc => "ASC",
        Dir::Desc => "DESC",
    };
    sql.push(" ORDER BY ");
    if sort.key != SortKey::Seq {
        sql.push(expression(sort.key, d))
            .push(" ")
            .push(dir)
            .push(", ");
    }
    if !matches!(sort.key, SortKey::Seq | SortKey::Time) {
        sql.push("occurred_at ").push(dir).push(", ");
    }
    sql.push("id ").push(dir);
}
