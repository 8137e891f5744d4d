//! Table statistics for SQLite's query planner.
//!
//! Without statistics SQLite cannot tell a selective equality from a common one. A view such as
//! "event is Model Deployed AND outcome is success", newest first, has two indexes that each
//! serve one equality and the order (`events_sort_event`, `events_sort_outcome`, both
//! `(column, occurred_at, id)`); unaware that half of all events succeed, SQLite took the outcome
//! index and tested the event name on every success until a page was full. With statistics it
//! takes the event index. `ANALYZE` would provide them, but it reads every index whole (the
//! entire 8 GB file at ten million events) under the write lock, and its sampled form
//! (`analysis_limit`) reads only the start of each index, which for a column like the outcome
//! holds a single value.
//!
//! So the writer writes `sqlite_stat1` itself, from a uniform random sample of rows read by id:
//! for each index, the number of rows and how many rows share a value of its leading column,
//! estimated from the sample's value frequencies (the GEE estimator of the number of distinct
//! values: √(N/S)·f₁ + Σⱼ≥₂ fⱼ, where fⱼ counts the values seen j times among S sampled rows).
//! It does so when the store opens and whenever the table has doubled since the last time.
//! Connections load statistics when they open; [`Stats::is_older`] lets the pool replace the ones
//! opened before the newest statistics.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use rand::Rng as _;
use sqlx::SqliteConnection;

/// Rows read for one estimate.
const SAMPLE_ROWS: i64 = 2_000;

/// Every event index, with the expression of its leading column and its number of columns.
/// The two unique indexes (idempotency key, search key) need none: SQLite knows they are unique.
/// `events_sample` is partial (every 64th id) and leads with the time, which is nearly unique.
pub(super) const INDEXES: &[(&str, &str, usize)] = &[
    ("events_time", "occurred_at", 2),
    ("events_actor_time", "actor_id", 3),
    ("events_sort_event", "event", 3),
    ("events_sort_category", "category", 3),
    ("events_sort_user", "actor_name", 3),
    ("events_sort_outcome", "outcome", 3),
    ("events_sort_target", "COALESCE(target_name, '')", 3),
    ("events_sort_ip", "COALESCE(ip, '')", 3),
];
const SAMPLE_INDEX: (&str, usize) = ("events_sample", 5);

/// When the statistics were last written, and the next event id at that moment.
pub(super) struct Stats {
    written: Mutex<(Instant, i64)>,
}

impl Stats {
    pub(super) fn new() -> Self {
        Self {
            written: Mutex::new((Instant::now(), 0)),
        }
    }

    /// True for a connection opened `age` ago, before the newest statistics were written: its
    /// planner still uses the ones it loaded when it opened.
    pub(super) fn is_older(&self, age: std::time::Duration) -> bool {
        let (at, _) = *self.written.lock().unwrap_or_else(|e| e.into_inner());
        age > at.elapsed()
    }

    /// Writes the statistics when none were written by this process yet, or when the ids handed
    /// out have doubled since (and by at least a hundred). Returns whether it wrote.
    pub(super) async fn refresh_if_grown(
        &self,
        conn: &mut SqliteConnection,
        next_id: i64,
    ) -> Result<bool, sqlx::Error> {
        let last = self.written.lock().unwrap_or_else(|e| e.into_inner()).1;
        if last > 0 && (next_id < 2 * last || next_id - last < 100) {
            return Ok(false);
        }
        write(conn).await?;
        *self.written.lock().unwrap_or_else(|e| e.into_inner()) = (Instant::now(), next_id.max(1));
        Ok(true)
    }
}

/// Rows in the events table: ids are handed out one after another and only a prefix is ever
/// removed (retention), so the id range is the count.
async fn row_count(conn: &mut SqliteConnection) -> Result<(i64, i64), sqlx::Error> {
    let (min, max): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(id), MAX(id) FROM events")
            .fetch_one(&mut *conn)
            .await?;
    Ok(match (min, max) {
        (Some(min), Some(max)) => (min, max - min + 1),
        _ => (0, 0),
    })
}

/// Samples the table and replaces its rows of `sqlite_stat1`. Returns the row count it used.
pub(super) async fn write(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    let (min, rows) = row_count(conn).await?;
    if rows == 0 {
        return Ok(0);
    }
    let columns = INDEXES
        .iter()
        .map(|(_, expr, _)| format!("CAST({expr} AS TEXT)"))
        .collect::<Vec<_>>()
        .join(", ");
    let sampled: Vec<sqlx::sqlite::SqliteRow> = if rows <= SAMPLE_ROWS {
        sqlx::query(&format!("SELECT {columns} FROM events"))
            .fetch_all(&mut *conn)
            .await?
    } else {
        let ids = pick(min, rows, SAMPLE_ROWS as usize);
        let ids = serde_json::to_string(&ids).unwrap_or_default();
        sqlx::query(&format!(
            "SELECT {columns} FROM events WHERE id IN (SELECT value FROM json_each(?1))"
        ))
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?
    };
    if sampled.is_empty() {
        return Ok(rows);
    }
    let mut stat: Vec<(&str, String)> = Vec::with_capacity(INDEXES.len() + 1);
    for (i, (name, _, width)) in INDEXES.iter().enumerate() {
        let values = sampled.iter().map(|row| {
            use sqlx::Row as _;
            row.try_get::<Option<String>, _>(i).ok().flatten()
        });
        let per_value = rows_per_value(rows, sampled.len() as i64, values);
        stat.push((name, stat_line(rows, per_value, *width)));
    }
    let (name, width) = SAMPLE_INDEX;
    stat.push((name, stat_line((rows / 64).max(1), 1, width)));

    // Creates sqlite_stat1 if absent, without reading any table.
    sqlx::query("ANALYZE sqlite_schema")
        .execute(&mut *conn)
        .await?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query("DELETE FROM sqlite_stat1 WHERE tbl = 'events'")
        .execute(&mut *tx)
        .await?;
    for (name, line) in stat {
        sqlx::query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('events', ?1, ?2)")
            .bind(name)
            .bind(line)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    // This connection reloads them now; others when they open.
    sqlx::query("ANALYZE sqlite_schema")
        .execute(&mut *conn)
        .await?;
    Ok(rows)
}

/// `count` distinct ids in `[min, min + rows)`, chosen uniformly.
fn pick(min: i64, rows: i64, count: usize) -> Vec<i64> {
    let mut rng = rand::thread_rng();
    let mut ids = HashSet::with_capacity(count);
    while ids.len() < count {
        ids.insert(min + rng.gen_range(0..rows));
    }
    ids.into_iter().collect()
}

/// One `sqlite_stat1` line: rows, rows per value of the leading column, then 1 for each further
/// column (every index ends with the id, and the columns before it are nearly unique together).
fn stat_line(rows: i64, per_value: i64, width: usize) -> String {
    let mut line = format!("{rows} {per_value}");
    for _ in 1..width {
        line.push_str(" 1");
    }
    line
}

/// Rows per distinct value among `rows`, estimated from a uniform sample of `sampled` of them.
pub(super) fn rows_per_value(
    rows: i64,
    sampled: i64,
    values: impl Iterator<Item = Option<String>>,
) -> i64 {
    let mut seen: HashMap<Option<String>, i64> = HashMap::new();
    for v in values {
        *seen.entry(v).or_default() += 1;
    }
    let once = seen.values().filter(|&&n| n == 1).count() as f64;
    let more = seen.values().filter(|&&n| n > 1).count() as f64;
    let scale = if sampled >= rows {
        1.0
    } else {
        (rows as f64 / sampled as f64).sqrt()
    };
    let distinct = (scale * once + more).clamp(1.0, rows as f64);
    ((rows as f64 / distinct).round() as i64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(spec: &[(&str, usize)]) -> Vec<Option<String>> {
        spec.iter()
            .flat_map(|(v, n)| std::iter::repeat_n(Some(v.to_string()), *n))
            .collect()
    }

    #[test]
    fn few_values_share_the_rows() {
        // Three outcomes over a million rows, seen in a sample of 2,000.
        let sample = values(&[("success", 1_800), ("failure", 150), ("denied", 50)]);
        assert_eq!(
            rows_per_value(1_000_000, 2_000, sample.into_iter()),
            333_333
        );
    }

    #[test]
    fn unique_values_have_a_row_each() {
        let sample: Vec<_> = (0..2_000).map(|i| Some(i.to_string())).collect();
        // Every sampled value seen once: about √(N/S)·S distinct values, i.e. √(N·S).
        let per = rows_per_value(1_000_000, 2_000, sample.into_iter());
        assert!((20..=25).contains(&per), "{per}");
        let all: Vec<_> = (0..500).map(|i| Some(i.to_string())).collect();
        assert_eq!(rows_per_value(500, 500, all.into_iter()), 1);
    }

    #[test]
    fn lines_have_a_number_per_column() {
        assert_eq!(stat_line(1000, 5, 3), "1000 5 1 1");
        assert_eq!(stat_line(1000, 5, 2), "1000 5 1");
    }
}
