//! The live tail's reads, written once for both stores: the newest committed id, and the events of
//! a view within an id range in id order (and how many there are), over the list's own WHERE clause
//! ([`push_where_in`]), so a tail shows exactly the events the list would.
//!
//! Why an id range is enough: ids follow commit order on both stores (one writer on SQLite; on
//! PostgreSQL ids are drawn under the writers' advisory lock), so once a reader has seen id `n`
//! committed, every smaller id is committed too or never will be. A reader that has read the view
//! up to `n` can therefore continue after `n` and miss nothing.
//!
//! Index use: the id range is the one selective condition of a tail read (a few rows past the
//! reader's position); the view's conditions are checked on those rows. On SQLite `NOT INDEXED`
//! keeps the planner on the rowid range: without statistics it would rather take an equality on
//! `event` or the view's time range from their indexes and sort what they return, which for a
//! common event or "Last 30 Days" is most of the table. A search looks up only the range in the
//! full-text index. PostgreSQL walks each partition's primary key `(id, occurred_at)` from the
//! position on its own.

use sqlx::{Database, Encode, Postgres, QueryBuilder, Sqlite, Type};

use super::filter_sql::Dialect;
use super::rows::{EVENT_COLUMNS, EventRow, check_view, push_where_in};
use super::{Backend, Store, StoreError};
use crate::events::model::Event;
use crate::events::query::EventQuery;
use crate::events::stats::Count;

fn from(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => " FROM events NOT INDEXED",
        Dialect::Postgres => " FROM events",
    }
}

fn after_sql<'a, DB>(
    q: &EventQuery,
    (after, upto): (i64, i64),
    limit: u32,
    d: Dialect,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(format!("SELECT {EVENT_COLUMNS}{}", from(d)));
    push_where_in(&mut sql, q, d, Some((after, upto)));
    sql.push(" ORDER BY id ASC LIMIT ")
        .push_bind(i64::from(limit));
    sql
}

/// `COUNT(*)` of at most `cap + 1` rows of the view in the range: the inner LIMIT stops the scan.
fn count_after_sql<'a, DB>(
    q: &EventQuery,
    (after, upto): (i64, i64),
    cap: u64,
    d: Dialect,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(format!("SELECT COUNT(*) FROM (SELECT 1{}", from(d)));
    push_where_in(&mut sql, q, d, Some((after, upto)));
    sql.push(" LIMIT ")
        .push_bind(i64::try_from(cap.saturating_add(1)).unwrap_or(i64::MAX))
        .push(") AS capped");
    sql
}

impl Store {
    /// The largest event id committed so far (0 while the store is empty). Every smaller id is
    /// committed or never will be, so a reader that has read up to it may continue after it.
    pub async fn newest_id(&self) -> Result<i64, StoreError> {
        let newest: Option<i64> = run!(self, build_query_scalar, fetch_one, |_d| {
            QueryBuilder::new("SELECT MAX(id) FROM events")
        });
        Ok(newest.unwrap_or(0))
    }

    /// The events of the view of `q` (its time range, event name, filter, hidden events and search;
    /// its sort, cursor and limit are ignored) whose id is in `after < id <= upto`, in ascending id
    /// order, at most `limit` of them. Fails before touching the database when the view is invalid,
    /// like [`Store::list`].
    pub async fn events_after(
        &self,
        q: &EventQuery,
        after: i64,
        upto: i64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        check_view(q)?;
        if upto <= after || limit == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<EventRow> = run!(self, build_query_as, fetch_all, |d| {
            after_sql(q, (after, upto), limit, d)
        });
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// How many events of the view of `q` have `after < id <= upto`, counting no further than
    /// `cap` (see [`Count`]).
    pub async fn count_after(
        &self,
        q: &EventQuery,
        after: i64,
        upto: i64,
        cap: u64,
    ) -> Result<Count, StoreError> {
        check_view(q)?;
        if upto <= after {
            return Ok(Count::capped(0, cap));
        }
        let n: i64 = run!(self, build_query_scalar, fetch_one, |d| {
            count_after_sql(q, (after, upto), cap, d)
        });
        Ok(Count::capped(u64::try_from(n).unwrap_or(0), cap))
    }
}

fn ids_after_sql<'a, DB>(
    q: &EventQuery,
    (after, upto): (i64, i64),
    limit: u32,
    d: Dialect,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(format!("SELECT id{}", from(d)));
    push_where_in(&mut sql, q, d, Some((after, upto)));
    sql.push(" ORDER BY id ASC LIMIT ")
        .push_bind(i64::from(limit));
    sql
}

fn by_ids_sql<'a, DB>(ids: &[i64], d: Dialect) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(format!("SELECT {EVENT_COLUMNS}{} WHERE id IN (", from(d)));
    let mut list = sql.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    sql.push(") ORDER BY id ASC");
    sql
}

/// Ids per query of [`Store::events_by_ids`]: far below both databases' bound-parameter limits.
const IDS_PER_READ: usize = 1000;

impl Store {
    /// [`Store::events_after`], ids only: what a reader that keeps rendered events of its own needs
    /// from the database.
    pub async fn ids_after(
        &self,
        q: &EventQuery,
        after: i64,
        upto: i64,
        limit: u32,
    ) -> Result<Vec<i64>, StoreError> {
        check_view(q)?;
        if upto <= after || limit == 0 {
            return Ok(Vec::new());
        }
        Ok(run!(self, build_query_scalar, fetch_all, |d| {
            ids_after_sql(q, (after, upto), limit, d)
        }))
    }

    /// The stored events among `ids` (ascending ids, as [`Store::ids_after`] returns them), in
    /// ascending id order; ids without an event are left out.
    pub async fn events_by_ids(&self, ids: &[i64]) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_READ) {
            let rows: Vec<EventRow> =
                run!(self, build_query_as, fetch_all, |d| by_ids_sql(chunk, d));
            for row in rows {
                events.push(row.into_event()?);
            }
        }
        Ok(events)
    }
}
