//! Statistics of a view — its facets, its histogram and its count — in one SQL text per question
//! for both stores, over exactly the rows the list shows (the WHERE clause is [`push_where`], the
//! list's own).
//!
//! Agreement between SQLite and PostgreSQL rests on a few choices:
//! - Facet ties are broken by value in byte order: SQLite's default BINARY collation, and
//!   `COLLATE "C"` on PostgreSQL (whose default collation may follow the locale).
//! - Histogram buckets are numbered in SQL by integer division of a difference that is never
//!   negative: `(occurred_at - origin) / width`, with `origin` the aligned start of the first bar,
//!   at or before every row's time. Both databases truncate, and truncation of non-negative numbers
//!   is the floor, so the numbering cannot differ (not even before 1970).
//! - Months and years have no fixed width: SQL counts UTC days and Rust folds the days into
//!   calendar buckets ([`Bucket::floor`]), which keeps the calendar out of SQL entirely.
//!
//! Index use (see `migrations/*/0001_events.sql`): a view with a time range scans `events_time`
//! (`occurred_at DESC, id DESC`) over that range, or `events_event_time` when it names an event;
//! on PostgreSQL the range also prunes the monthly partitions. The filter is evaluated on those
//! rows. The data's time bounds for All Time are `MIN`/`MAX` of `occurred_at`, one index probe each.

use futures::future::try_join_all;
use sqlx::{Database, Encode, Postgres, QueryBuilder, Sqlite, Type};

use super::filter_sql::{self, Dialect};
use super::rows::push_where;
use super::{Backend, Store, StoreError};
use crate::events::query::EventQuery;
use crate::events::stats::{Bucket, COUNT_CAP, Count, FacetField, FacetKey, Facets, ViewStats};

/// The day, in milliseconds: the SQL grouping of month and year buckets.
const DAY_MS: i64 = 86_400_000;

/// The column behind a facet; a fixed whitelist, never caller text.
fn facet_column(key: FacetKey) -> &'static str {
    match key {
        FacetKey::Event => "event",
        FacetKey::Category => "category",
        FacetKey::User => "actor_name",
        FacetKey::Outcome => "outcome",
    }
}

/// `SELECT value, COUNT(*) … GROUP BY value`: the top `limit` values of `column` in the view.
fn facet_sql<'a, DB>(
    q: &EventQuery,
    column: &'static str,
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
    let by_value = match d {
        Dialect::Sqlite => column.to_string(),
        Dialect::Postgres => format!("{column} COLLATE \"C\""),
    };
    let mut sql = QueryBuilder::new(format!("SELECT {column}, COUNT(*) AS n FROM events"));
    push_where(&mut sql, q, d);
    sql.push(format!(
        " GROUP BY {column} ORDER BY n DESC, {by_value} LIMIT "
    ))
    .push_bind(i64::from(limit));
    sql
}

/// `MIN`/`MAX` of `occurred_at` within the view's time bounds only (not its filter): two probes of
/// `events_time`, however large the table.
fn bounds_sql<'a, DB>(q: &EventQuery) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql =
        QueryBuilder::new("SELECT MIN(occurred_at), MAX(occurred_at) FROM events WHERE 1 = 1");
    if let Some(start) = q.start {
        sql.push(" AND occurred_at >= ")
            .push_bind(start.timestamp_millis());
    }
    if let Some(end) = q.end {
        sql.push(" AND occurred_at < ")
            .push_bind(end.timestamp_millis());
    }
    sql
}

/// Events per `width` from `origin` within `[start, end)`: rows of (bucket number, count).
fn histogram_sql<'a, DB>(
    q: &EventQuery,
    (start, end): (i64, i64),
    origin: i64,
    width: i64,
    d: Dialect,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new("SELECT (occurred_at - ");
    sql.push_bind(origin)
        .push(") / ")
        .push_bind(width)
        .push(" AS bucket, COUNT(*) AS n FROM events");
    push_where(&mut sql, q, d);
    // The resolved range repeats the view's bounds when it has them and supplies them when it has
    // not (All Time), so the scan is a range of the time index either way.
    sql.push(" AND occurred_at >= ")
        .push_bind(start)
        .push(" AND occurred_at < ")
        .push_bind(end)
        .push(" GROUP BY 1");
    sql
}

/// `COUNT(*)` of at most `cap + 1` rows of the view: the inner LIMIT stops the scan there.
fn count_sql<'a, DB>(q: &EventQuery, cap: u64, d: Dialect) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM events");
    push_where(&mut sql, q, d);
    sql.push(" LIMIT ")
        .push_bind(i64::try_from(cap.saturating_add(1)).unwrap_or(i64::MAX))
        .push(") AS capped");
    sql
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// The `limit_per_field` most frequent values of each [`FacetKey`] within the view of `q` (its
    /// time range, event name and filter; its cursor and limit are ignored), most frequent first,
    /// ties by value in byte order.
    pub async fn facets(&self, q: &EventQuery, limit_per_field: u32) -> Result<Facets, StoreError> {
        filter_sql::check(&q.filter).map_err(StoreError::InvalidFilter)?;
        filter_sql::check(&q.hide).map_err(StoreError::InvalidFilter)?;
        let fields = try_join_all(FacetKey::ALL.into_iter().map(|key| async move {
            let column = facet_column(key);
            let rows: Vec<(String, i64)> = run!(self, build_query_as, fetch_all, |d| {
                facet_sql(q, column, limit_per_field, d)
            });
            Ok::<_, StoreError>(FacetField {
                field: key,
                values: rows.into_iter().map(|(v, n)| (v, unsigned(n))).collect(),
            })
        }))
        .await?;
        Ok(Facets { fields })
    }

    /// How many events the view of `q` holds, counting no further than [`COUNT_CAP`] (see
    /// [`Count`]).
    pub async fn count(&self, q: &EventQuery) -> Result<Count, StoreError> {
        self.count_up_to(q, COUNT_CAP).await
    }

    /// [`Store::count`] with a cap of the caller's choosing.
    pub async fn count_up_to(&self, q: &EventQuery, cap: u64) -> Result<Count, StoreError> {
        filter_sql::check(&q.filter).map_err(StoreError::InvalidFilter)?;
        filter_sql::check(&q.hide).map_err(StoreError::InvalidFilter)?;
        let n: i64 = run!(self, build_query_scalar, fetch_one, |d| count_sql(
            q, cap, d
        ));
        Ok(Count::capped(unsigned(n), cap))
    }

    /// The time range the histogram of `q` covers, `[start, end)` in epoch ms: the view's own
    /// bounds, with a missing one taken from the stored data (the oldest event, or just after the
    /// newest). `None` when that leaves nothing to show.
    pub async fn histogram_range(&self, q: &EventQuery) -> Result<Option<(i64, i64)>, StoreError> {
        let (start, end) = (
            q.start.map(|t| t.timestamp_millis()),
            q.end.map(|t| t.timestamp_millis()),
        );
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            _ => {
                let (min, max): (Option<i64>, Option<i64>) =
                    run!(self, build_query_as, fetch_one, |_d| bounds_sql(q));
                match (start.or(min), end.or(max.map(|m| m.saturating_add(1)))) {
                    (Some(s), Some(e)) => (s, e),
                    _ => return Ok(None),
                }
            }
        };
        Ok((start < end).then_some((start, end)))
    }

    /// Events of the view of `q` per `bucket`, one entry per bar from the bar holding the range's
    /// start to the one holding its end (see [`Store::histogram_range`]), empty bars as zero.
    pub async fn histogram(
        &self,
        q: &EventQuery,
        bucket: Bucket,
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        filter_sql::check(&q.filter).map_err(StoreError::InvalidFilter)?;
        filter_sql::check(&q.hide).map_err(StoreError::InvalidFilter)?;
        match self.histogram_range(q).await? {
            Some(range) => self.histogram_over(q, bucket, range).await,
            None => Ok(Vec::new()),
        }
    }

    /// The histogram of `q` with the bucket [`Bucket::for_range`] picks for its range.
    pub async fn view_histogram(
        &self,
        q: &EventQuery,
    ) -> Result<(Bucket, Vec<(i64, u64)>), StoreError> {
        filter_sql::check(&q.filter).map_err(StoreError::InvalidFilter)?;
        filter_sql::check(&q.hide).map_err(StoreError::InvalidFilter)?;
        match self.histogram_range(q).await? {
            Some((start, end)) => {
                let bucket = Bucket::for_range(start, end);
                Ok((bucket, self.histogram_over(q, bucket, (start, end)).await?))
            }
            None => Ok((Bucket::for_range(0, 0), Vec::new())),
        }
    }

    /// Everything the page shows about the view of `q`: [`Store::count`], [`Store::facets`] (with
    /// `facet_limit` values per field) and [`Store::view_histogram`], read concurrently.
    pub async fn view_stats(
        &self,
        q: &EventQuery,
        facet_limit: u32,
    ) -> Result<ViewStats, StoreError> {
        let (count, facets, (bucket, histogram)) = futures::try_join!(
            self.count(q),
            self.facets(q, facet_limit),
            self.view_histogram(q),
        )?;
        Ok(ViewStats {
            count,
            facets,
            bucket,
            bucket_ms: bucket.width_ms(),
            histogram,
        })
    }

    async fn histogram_over(
        &self,
        q: &EventQuery,
        bucket: Bucket,
        (start, end): (i64, i64),
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        // Calendar buckets are grouped by UTC day in SQL and folded below.
        let (origin, width) = match bucket.width_ms() {
            Some(w) => (bucket.floor(start), w),
            None => (Bucket::Day.floor(start), DAY_MS),
        };
        let rows: Vec<(i64, i64)> = run!(self, build_query_as, fetch_all, |d| {
            histogram_sql(q, (start, end), origin, width, d)
        });
        let starts = bucket.starts(start, end);
        let mut counts = vec![0u64; starts.len()];
        for (number, n) in rows {
            let at = bucket.floor(origin.saturating_add(number.saturating_mul(width)));
            match starts.binary_search(&at) {
                Ok(i) => counts[i] += unsigned(n),
                // Only rows within [start, end) are counted, so each lands in a bar.
                Err(_) => {
                    return Err(StoreError::Corrupt(format!(
                        "histogram bucket {number} outside the range"
                    )));
                }
            }
        }
        Ok(starts.into_iter().zip(counts).collect())
    }
}
