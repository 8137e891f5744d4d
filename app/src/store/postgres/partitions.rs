//! The monthly partitions of `events`: their names and bounds, and creating them.
//!
//! `events` is range-partitioned on `occurred_at` (epoch ms) with one partition per calendar month
//! (UTC), named `events_pYYYYMM`, and no default partition. A row whose month has no partition
//! cannot be stored, so partitions are created ahead (this month and the next three, at open and
//! daily) and on demand by the writer for whatever months a batch needs (back-dated events too).
//!
//! Creation always happens under the writer's advisory lock: two server processes racing to create
//! the same partition would otherwise fail on the catalog's unique index.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sqlx::PgConnection;

use crate::store::StoreError;

/// How many months after the current one are created ahead.
const MONTHS_AHEAD: u32 = 3;

/// One calendar month (UTC): the unit of partitioning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Month {
    year: i32,
    /// 1 to 12.
    month: u32,
}

impl Month {
    /// The month holding the instant `ms` (epoch milliseconds).
    pub(super) fn of_ms(ms: i64) -> Result<Self, StoreError> {
        DateTime::<Utc>::from_timestamp_millis(ms)
            .map(Self::of)
            .ok_or_else(|| StoreError::Corrupt(format!("time {ms} is out of range")))
    }

    pub(super) fn of(t: DateTime<Utc>) -> Self {
        Self {
            year: t.year(),
            month: t.month(),
        }
    }

    pub(super) fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The first millisecond of the month.
    fn start_ms(self) -> Result<i64, StoreError> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis())
            .ok_or_else(|| StoreError::Corrupt(format!("month {self:?} is out of range")))
    }

    /// The partition's table name. Built from integers only, so it needs no escaping; it is still
    /// quoted where used.
    pub(super) fn table(self) -> String {
        format!("events_p{:04}{:02}", self.year, self.month)
    }

    /// `CREATE TABLE IF NOT EXISTS` for this month's partition: `[start of month, start of next)`.
    fn create_sql(self) -> Result<String, StoreError> {
        Ok(format!(
            "CREATE TABLE IF NOT EXISTS \"{}\" PARTITION OF events FOR VALUES FROM ({}) TO ({})",
            self.table(),
            self.start_ms()?,
            self.next().start_ms()?
        ))
    }
}

/// The current month at `now` and the [`MONTHS_AHEAD`] after it.
pub(super) fn ahead(now: DateTime<Utc>) -> Vec<Month> {
    let mut months = vec![Month::of(now)];
    for _ in 0..MONTHS_AHEAD {
        let last = months[months.len() - 1];
        months.push(last.next());
    }
    months
}

/// Creates the partitions of `months` that do not exist yet.
///
/// Must run inside a transaction holding the writer's advisory lock. DDL is transactional in
/// PostgreSQL: if that transaction rolls back, so does the creation. Creating a partition briefly
/// takes an exclusive lock on `events` (readers wait until the transaction commits), which happens
/// once per month per database, plus once per back-dated month first written to.
pub(super) async fn create(conn: &mut PgConnection, months: &[Month]) -> Result<(), StoreError> {
    let months: BTreeSet<Month> = months.iter().copied().collect();
    for month in months {
        let sql = month.create_sql()?;
        // Run once per month: not worth a cached prepared statement.
        sqlx::query(&sql)
            .persistent(false)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn months_have_names_and_half_open_bounds() {
        let t = Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 59).unwrap();
        let m = Month::of(t);
        assert_eq!(m.table(), "events_p202512");
        assert_eq!(
            m.create_sql().unwrap(),
            "CREATE TABLE IF NOT EXISTS \"events_p202512\" PARTITION OF events \
             FOR VALUES FROM (1764547200000) TO (1767225600000)"
        );
        assert_eq!(m.next().table(), "events_p202601");
        assert_eq!(Month::of_ms(1_767_225_600_000).unwrap(), m.next());
        assert_eq!(Month::of_ms(1_767_225_599_999).unwrap(), m);
    }

    #[test]
    fn ahead_is_this_month_and_the_next_three() {
        let t = Utc.with_ymd_and_hms(2025, 11, 15, 0, 0, 0).unwrap();
        let names: Vec<String> = ahead(t).into_iter().map(Month::table).collect();
        assert_eq!(
            names,
            [
                "events_p202511",
                "events_p202512",
                "events_p202601",
                "events_p202602"
            ]
        );
    }
}
