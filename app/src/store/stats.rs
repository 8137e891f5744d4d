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
//! (`occurred_at DESC, id DESC`) over that range, or the event index (`events_event_time`, on
//! SQLite `events_sort_event`) when it names an event;
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

/// One event in this many is in the sample (`migrations/*/0005_sample.sql`); the predicate below
/// must spell the index's own for the database to use it.
pub const SAMPLE_EVERY: u64 = 64;
const SAMPLE_PREDICATE: &str = " AND id % 64 = 0";

/// When [`Store::view_stats`] reads the sample instead of every row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SamplePolicy {
    /// Views whose time range holds more rows than this (estimated from the sample) are described
    /// from the sample, unless the view itself is too rare for the sample to describe.
    pub exact_scan_rows: u64,
    /// A view with fewer sampled events than this is read whole however large its time range: a
    /// sample of a few dozen rows would give estimates off by a third or more.
    pub min_sampled_matches: u64,
}

impl Default for SamplePolicy {
    /// 5,000 rows (read whole: the four facets of 90,000 rows took 0.2 to 0.8 s each at a million
    /// events here, so a view of 5,000 about 50 ms at most) and 50 sampled events (a count within
    /// about 14 %, one standard error).
    fn default() -> Self {
        Self {
            exact_scan_rows: 5_000,
            min_sampled_matches: 50,
        }
    }
}

/// The table the statistics read: all events, or SQLite told to read the sample's index (its
/// planner would otherwise often prefer the time index and the table for a filtered view).
fn from(d: Dialect, sample: bool) -> &'static str {
    match (d, sample) {
        (Dialect::Sqlite, true) => "events INDEXED BY events_sample",
        _ => "events",
    }
}

/// The view's WHERE clause ([`push_where`], the list's own), narrowed to the sample when asked.
fn push_view<'a, DB>(sql: &mut QueryBuilder<'a, DB>, q: &EventQuery, d: Dialect, sample: bool)
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    push_where(sql, q, d);
    if sample {
        sql.push(SAMPLE_PREDICATE);
    }
}

/// `SELECT value, COUNT(*) … GROUP BY value`: the top `limit` values of `column` in the view.
fn facet_sql<'a, DB>(
    q: &EventQuery,
    column: &'static str,
    limit: u32,
    d: Dialect,
    sample: bool,
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
    // `+column`: SQLite must not walk the column's sort index (events_sort_*) to get the groups in
    // order; that visits every row of the table instead of the view's time range. Grouping by an
    // expression leaves the time index (or the sample) to serve the scan, and sorts the groups.
    let group = match d {
        Dialect::Sqlite => format!("+{column}"),
        Dialect::Postgres => column.to_string(),
    };
    let mut sql = QueryBuilder::new(format!(
        "SELECT {column}, COUNT(*) AS n FROM {}",
        from(d, sample)
    ));
    push_view(&mut sql, q, d, sample);
    sql.push(format!(
        " GROUP BY {group} ORDER BY n DESC, {by_value} LIMIT "
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
    sample: bool,
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
        .push(format!(
            " AS bucket, COUNT(*) AS n FROM {}",
            from(d, sample)
        ));
    push_view(&mut sql, q, d, sample);
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
fn count_sql<'a, DB>(q: &EventQuery, cap: u64, d: Dialect, sample: bool) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {}",
        from(d, sample)
    ));
    push_view(&mut sql, q, d, sample);
    sql.push(" LIMIT ")
        .push_bind(i64::try_from(cap.saturating_add(1)).unwrap_or(i64::MAX))
        .push(") AS capped");
    sql
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// What the statistics of a view are computed from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Basis {
    /// Every row of the view.
    All,
    /// The 1-in-[`SAMPLE_EVERY`] sample, counts scaled up.
    Sample,
}

impl Basis {
    fn sample(self) -> bool {
        self == Self::Sample
    }

    /// A count read from this basis, as an estimate of the whole when sampled.
    fn scale(self, n: i64) -> u64 {
        match self {
            Self::All => unsigned(n),
            Self::Sample => unsigned(n).saturating_mul(SAMPLE_EVERY),
        }
    }
}

impl Store {
    /// The `limit_per_field` most frequent values of each [`FacetKey`] within the view of `q` (its
    /// time range, event name and filter; its cursor and limit are ignored), most frequent first,
    /// ties by value in byte order. Exact: reads every row of the view.
    pub async fn facets(&self, q: &EventQuery, limit_per_field: u32) -> Result<Facets, StoreError> {
        check(q)?;
        self.facets_from(q, limit_per_field, Basis::All).await
    }

    async fn facets_from(
        &self,
        q: &EventQuery,
        limit_per_field: u32,
        basis: Basis,
    ) -> Result<Facets, StoreError> {
        let fields = try_join_all(FacetKey::ALL.into_iter().map(|key| async move {
            let column = facet_column(key);
            let rows: Vec<(String, i64)> = run!(self, build_query_as, fetch_all, |d| {
                facet_sql(q, column, limit_per_field, d, basis.sample())
            });
            Ok::<_, StoreError>(FacetField {
                field: key,
                values: rows.into_iter().map(|(v, n)| (v, basis.scale(n))).collect(),
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
        check(q)?;
        Ok(Count::capped(
            self.rows_up_to(q, cap, Basis::All).await?,
            cap,
        ))
    }

    /// Rows of the view of `q` in `basis`, unscaled, counting no further than `cap + 1`.
    async fn rows_up_to(&self, q: &EventQuery, cap: u64, basis: Basis) -> Result<u64, StoreError> {
        let n: i64 = run!(self, build_query_scalar, fetch_one, |d| count_sql(
            q,
            cap,
            d,
            basis.sample()
        ));
        Ok(unsigned(n))
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
        check(q)?;
        match self.histogram_range(q).await? {
            Some(range) => self.histogram_over(q, bucket, range, Basis::All).await,
            None => Ok(Vec::new()),
        }
    }

    /// The histogram of `q` with the bucket [`Bucket::for_range`] picks for its range.
    pub async fn view_histogram(
        &self,
        q: &EventQuery,
    ) -> Result<(Bucket, Vec<(i64, u64)>), StoreError> {
        check(q)?;
        self.view_histogram_from(q, Basis::All).await
    }

    async fn view_histogram_from(
        &self,
        q: &EventQuery,
        basis: Basis,
    ) -> Result<(Bucket, Vec<(i64, u64)>), StoreError> {
        match self.histogram_range(q).await? {
            Some((start, end)) => {
                let bucket = Bucket::for_range(start, end);
                Ok((
                    bucket,
                    self.histogram_over(q, bucket, (start, end), basis).await?,
                ))
            }
            None => Ok((Bucket::for_range(0, 0), Vec::new())),
        }
    }

    /// Everything the page shows about the view of `q`: its count, facets (with `facet_limit`
    /// values per field) and histogram, read concurrently.
    ///
    /// Exact ([`Store::count`], [`Store::facets`], [`Store::view_histogram`]) when the view's time
    /// range holds at most about [`SamplePolicy::exact_scan_rows`] events or the view matches
    /// fewer than [`SamplePolicy::min_sampled_matches`] sampled events; otherwise estimated from
    /// the 1-in-[`SAMPLE_EVERY`] sample, which [`ViewStats::sample`] then says, with the count
    /// marked as an estimate. Either way about `exact_scan_rows` rows are read per question
    /// however large the store, except for a rare view over a long range, which is read whole
    /// through whatever index serves its filter.
    pub async fn view_stats(
        &self,
        q: &EventQuery,
        facet_limit: u32,
    ) -> Result<ViewStats, StoreError> {
        self.view_stats_with(q, facet_limit, SamplePolicy::default())
            .await
    }

    /// [`Store::view_stats`] with another [`SamplePolicy`].
    pub async fn view_stats_with(
        &self,
        q: &EventQuery,
        facet_limit: u32,
        policy: SamplePolicy,
    ) -> Result<ViewStats, StoreError> {
        check(q)?;
        // Statistics do not depend on the order or the page; the default order keeps the time
        // range on the time index (see sort_sql::time_column).
        let q = &EventQuery {
            sort: Default::default(),
            cursor: None,
            ..q.clone()
        };
        let basis = self.basis(q, policy).await?;
        let (count, facets, (bucket, histogram)) = futures::try_join!(
            async {
                Ok::<_, StoreError>(match basis {
                    Basis::All => {
                        Count::capped(self.rows_up_to(q, COUNT_CAP, basis).await?, COUNT_CAP)
                    }
                    // The sample is small enough to count whole.
                    Basis::Sample => Count::estimate(
                        self.rows_up_to(q, u64::MAX - 1, basis)
                            .await?
                            .saturating_mul(SAMPLE_EVERY),
                    ),
                })
            },
            self.facets_from(q, facet_limit, basis),
            self.view_histogram_from(q, basis),
        )?;
        Ok(ViewStats {
            count,
            facets,
            bucket,
            bucket_ms: bucket.width_ms(),
            histogram,
            sample: basis.sample().then_some(SAMPLE_EVERY),
        })
    }

    /// Whether the statistics of `q` come from every row or from the sample: two counts in the
    /// sample, each stopped early at its threshold.
    async fn basis(&self, q: &EventQuery, policy: SamplePolicy) -> Result<Basis, StoreError> {
        let range = EventQuery {
            start: q.start,
            end: q.end,
            ..EventQuery::default()
        };
        let small_range = policy.exact_scan_rows / SAMPLE_EVERY;
        if self.rows_up_to(&range, small_range, Basis::Sample).await? <= small_range {
            return Ok(Basis::All);
        }
        let rare = policy.min_sampled_matches;
        if self.rows_up_to(q, rare, Basis::Sample).await? < rare {
            return Ok(Basis::All);
        }
        Ok(Basis::Sample)
    }

    async fn histogram_over(
        &self,
        q: &EventQuery,
        bucket: Bucket,
        (start, end): (i64, i64),
        basis: Basis,
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        // Calendar buckets are grouped by UTC day in SQL and folded below.
        let (origin, width) = match bucket.width_ms() {
            Some(w) => (bucket.floor(start), w),
            None => (Bucket::Day.floor(start), DAY_MS),
        };
        let rows: Vec<(i64, i64)> = run!(self, build_query_as, fetch_all, |d| {
            histogram_sql(q, (start, end), origin, width, d, basis.sample())
        });
        let starts = bucket.starts(start, end);
        let mut counts = vec![0u64; starts.len()];
        for (number, n) in rows {
            let at = bucket.floor(origin.saturating_add(number.saturating_mul(width)));
            match starts.binary_search(&at) {
                Ok(i) => counts[i] += basis.scale(n),
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

/// Refuses a view whose filters this store cannot evaluate, before any SQL runs.
fn check(q: &EventQuery) -> Result<(), StoreError> {
    filter_sql::check(&q.filter).map_err(StoreError::InvalidFilter)?;
    filter_sql::check(&q.hide).map_err(StoreError::InvalidFilter)?;
    filter_sql::check(&q.scope).map_err(StoreError::InvalidFilter)
}
