//! What the page shows about a whole view beside its list: how many events it holds, the most
//! frequent values of a few fields (facets), and the event volume over time (a histogram).
//!
//! These types travel to the browser, so they live outside the server-only store. The bucket
//! arithmetic is pure and shared: the store aligns its SQL buckets with it and the chart can label
//! bars with it.
//!
//! All buckets are aligned in UTC: minutes and hours on the epoch, weeks on Mondays 00:00 UTC, days,
//! months and years on UTC midnight. A reader in another zone sees day bars that start at the UTC
//! midnight, not at their own.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::filters::Field;

/// The most bars [`Bucket::for_range`] aims for; only ranges over 120 years get more.
pub const MAX_BARS: u64 = 120;

/// Above this many matching events [`Count`] stops counting and reports a lower bound.
pub const COUNT_CAP: u64 = 100_000;

/// Values per facet field when the caller does not say.
pub const DEFAULT_FACET_LIMIT: u32 = 10;
/// The most values per facet field a caller may ask for.
pub const MAX_FACET_LIMIT: u32 = 100;

/// A field the facets summarize.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacetKey {
    Event,
    Category,
    /// The actor's display name (what the list's "User" column shows).
    User,
    Outcome,
}

impl FacetKey {
    /// Every facet, in the order they are returned.
    pub const ALL: [FacetKey; 4] = [Self::Event, Self::Category, Self::User, Self::Outcome];

    /// The filter field a value of this facet narrows the view by (for "click a value to filter").
    pub fn field(self) -> Field {
        match self {
            Self::Event => Field::Event,
            Self::Category => Field::Category,
            Self::User => Field::ActorName,
            Self::Outcome => Field::Outcome,
        }
    }
}

/// The top values of one field within a view, most frequent first, ties by value (byte order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetField {
    pub field: FacetKey,
    pub values: Vec<(String, u64)>,
}

/// The facets of a view, one entry per [`FacetKey::ALL`] in that order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    pub fields: Vec<FacetField>,
}

/// How many events a view holds.
///
/// Counting stops at [`COUNT_CAP`]: beyond it `value` is the cap and `exact` is false, meaning "at
/// least this many". Counting every row of a view of millions costs a scan of all of them, while the
/// page only needs "100,000+" there. When the view's statistics come from the sample
/// ([`ViewStats::sample`]) `estimated` is true and `value` is the sample's count scaled up: about
/// this many.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub value: u64,
    pub exact: bool,
    #[serde(default)]
    pub estimated: bool,
}

impl Count {
    /// The count reported for `n` matching events under `cap`.
    pub fn capped(n: u64, cap: u64) -> Self {
        if n > cap {
            Self {
                value: cap,
                exact: false,
                estimated: false,
            }
        } else {
            Self {
                value: n,
                exact: true,
                estimated: false,
            }
        }
    }

    /// About `n` events, estimated from a sample.
    pub fn estimate(n: u64) -> Self {
        Self {
            value: n,
            exact: false,
            estimated: true,
        }
    }
}

/// The width of a histogram bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Minute,
    FiveMinutes,
    Hour,
    SixHours,
    Day,
    /// Monday 00:00 UTC to the next Monday.
    Week,
    /// Calendar months in UTC.
    Month,
    /// Calendar years in UTC; only for views longer than ten years.
    Year,
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// 1970-01-05, the first Monday after the epoch (a Thursday): the origin of week buckets.
const FIRST_MONDAY: i64 = 4 * DAY;

impl Bucket {
    /// Every bucket, narrowest first.
    pub const ALL: [Bucket; 8] = [
        Self::Minute,
        Self::FiveMinutes,
        Self::Hour,
        Self::SixHours,
        Self::Day,
        Self::Week,
        Self::Month,
        Self::Year,
    ];

    /// The width in milliseconds of a fixed-width bucket; `None` for months and years.
    pub fn width_ms(self) -> Option<i64> {
        match self {
            Self::Minute => Some(MINUTE),
            Self::FiveMinutes => Some(5 * MINUTE),
            Self::Hour => Some(HOUR),
            Self::SixHours => Some(6 * HOUR),
            Self::Day => Some(DAY),
            Self::Week => Some(7 * DAY),
            Self::Month | Self::Year => None,
        }
    }

    /// A short name for labels and the API ("minute", "5 minutes", …).
    pub fn label(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::FiveMinutes => "5 minutes",
            Self::Hour => "hour",
            Self::SixHours => "6 hours",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// The start of the bucket holding `ms` (epoch milliseconds, UTC).
    pub fn floor(self, ms: i64) -> i64 {
        match self.width_ms() {
            Some(w) => {
                let origin = if self == Self::Week { FIRST_MONDAY } else { 0 };
                // Euclidean division floors instants before the origin too.
                origin + (ms - origin).div_euclid(w) * w
            }
            None => match date(ms) {
                Some(d) => {
                    let month = if self == Self::Year { 1 } else { d.month() };
                    NaiveDate::from_ymd_opt(d.year(), month, 1).map_or(ms, midnight_ms)
                }
                None => ms,
            },
        }
    }

    /// The start of the bucket after the one starting at `start` (a value of [`Bucket::floor`]).
    pub fn next(self, start: i64) -> i64 {
        match self.width_ms() {
            Some(w) => start.saturating_add(w),
            None => {
                let months = if self == Self::Year { 12 } else { 1 };
                date(start)
                    .and_then(|d| d.checked_add_months(Months::new(months)))
                    .map_or(i64::MAX, midnight_ms)
            }
        }
    }

    /// How many bars cover `[start, end)`; zero when the range is empty.
    pub fn bars(self, start: i64, end: i64) -> u64 {
        if end <= start {
            return 0;
        }
        let (first, last) = (self.floor(start), self.floor(end - 1));
        match self.width_ms() {
            Some(w) => ((last - first) / w) as u64 + 1,
            None => {
                let index = |ms: i64| {
                    date(ms).map_or(0, |d| {
                        let months = i64::from(d.year()) * 12 + i64::from(d.month0());
                        if self == Self::Year {
                            months / 12
                        } else {
                            months
                        }
                    })
                };
                (index(last) - index(first)).unsigned_abs() + 1
            }
        }
    }

    /// The start of every bar covering `[start, end)`, in order; the first is `floor(start)`.
    pub fn starts(self, start: i64, end: i64) -> Vec<i64> {
        let mut out = Vec::new();
        if end <= start {
            return out;
        }
        let mut at = self.floor(start);
        while at < end {
            out.push(at);
            let next = self.next(at);
            if next <= at {
                break;
            }
            at = next;
        }
        out
    }

    /// The narrowest bucket that shows `[start, end)` in at most [`MAX_BARS`] bars (years when
    /// none does).
    pub fn for_range(start: i64, end: i64) -> Bucket {
        Self::ALL
            .into_iter()
            .find(|b| b.bars(start, end) <= MAX_BARS)
            .unwrap_or(Self::Year)
    }
}

fn date(ms: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(ms).map(|t| t.date_naive())
}

fn midnight_ms(d: NaiveDate) -> i64 {
    Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
        .timestamp_millis()
}

/// Everything [`crate::events::stats_api::view_stats`] and `GET /api/v1/events/stats` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewStats {
    pub count: Count,
    pub facets: Facets,
    /// The bar width of `histogram`.
    pub bucket: Bucket,
    /// The width in milliseconds for fixed-width buckets; absent for months and years.
    pub bucket_ms: Option<i64>,
    /// `(bar start in epoch ms, events in the bar)`, every bar of the range, empty ones as zero.
    pub histogram: Vec<(i64, u64)>,
    /// `Some(n)` when the view was too large to read whole and the count, facets and histogram
    /// were estimated from a sample of one event in `n` (their numbers scaled up by `n`); `None`
    /// when they are exact.
    #[serde(default)]
    pub sample: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn picks_the_narrowest_bucket_with_at_most_120_bars() {
        let t = ms("2025-03-10T12:34:56.789Z");
        assert_eq!(Bucket::for_range(t, t + HOUR), Bucket::Minute);
        assert_eq!(Bucket::for_range(t, t + 2 * HOUR), Bucket::FiveMinutes);
        assert_eq!(Bucket::for_range(t, t + 24 * HOUR), Bucket::Hour);
        assert_eq!(Bucket::for_range(t, t + 7 * DAY), Bucket::SixHours);
        assert_eq!(Bucket::for_range(t, t + 29 * DAY), Bucket::SixHours);
        // 30 days from mid-bar need 121 six-hour bars.
        assert_eq!(Bucket::for_range(t, t + 30 * DAY), Bucket::Day);
        assert_eq!(Bucket::for_range(t, t + 90 * DAY), Bucket::Day);
        assert_eq!(Bucket::for_range(t, t + 365 * DAY), Bucket::Week);
        assert_eq!(Bucket::for_range(t, t + 5 * 365 * DAY), Bucket::Month);
        assert_eq!(Bucket::for_range(t, t + 50 * 365 * DAY), Bucket::Year);
        // Empty and inverted ranges need no bars at all.
        assert_eq!(Bucket::for_range(t, t), Bucket::Minute);
        assert_eq!(Bucket::Minute.bars(t, t - 1), 0);
    }

    #[test]
    fn bar_counts_stay_within_the_limit_at_the_edges() {
        let aligned = ms("2025-03-10T00:00:00Z");
        // Exactly 120 aligned minutes fit; one millisecond more (or an unaligned start) does not.
        assert_eq!(Bucket::Minute.bars(aligned, aligned + 120 * MINUTE), 120);
        assert_eq!(
            Bucket::for_range(aligned, aligned + 120 * MINUTE),
            Bucket::Minute
        );
        assert_eq!(
            Bucket::for_range(aligned, aligned + 120 * MINUTE + 1),
            Bucket::FiveMinutes
        );
        assert_eq!(
            Bucket::for_range(aligned + 1, aligned + 120 * MINUTE + 1),
            Bucket::FiveMinutes
        );
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let start = (rng % (200 * 365 * DAY as u64)) as i64 - 100 * 365 * DAY;
            let len = 1 + ((rng >> 20) % (1u64 << (rng % 41))) as i64;
            let b = Bucket::for_range(start, start + len);
            let starts = b.starts(start, start + len);
            assert_eq!(starts.len() as u64, b.bars(start, start + len));
            assert!(starts.len() as u64 <= MAX_BARS || b == Bucket::Year);
            assert!(starts[0] <= start && b.next(*starts.last().unwrap()) >= start + len);
        }
    }

    #[test]
    fn buckets_align_in_utc_including_before_the_epoch() {
        let t = ms("2025-03-12T17:45:00Z"); // a Wednesday
        assert_eq!(Bucket::Day.floor(t), ms("2025-03-12T00:00:00Z"));
        assert_eq!(Bucket::SixHours.floor(t), ms("2025-03-12T12:00:00Z"));
        assert_eq!(Bucket::Week.floor(t), ms("2025-03-10T00:00:00Z"));
        assert_eq!(Bucket::Month.floor(t), ms("2025-03-01T00:00:00Z"));
        assert_eq!(Bucket::Year.floor(t), ms("2025-01-01T00:00:00Z"));
        assert_eq!(
            Bucket::Month.next(ms("2024-12-01T00:00:00Z")),
            ms("2025-01-01T00:00:00Z")
        );
        let before = ms("1969-12-31T23:59:59.999Z");
        assert_eq!(Bucket::Minute.floor(before), ms("1969-12-31T23:59:00Z"));
        assert_eq!(Bucket::Week.floor(before), ms("1969-12-29T00:00:00Z"));
        assert_eq!(Bucket::Month.floor(before), ms("1969-12-01T00:00:00Z"));
        let months = Bucket::Month.starts(ms("2024-01-31T00:00:00Z"), ms("2024-04-01T00:00:00Z"));
        assert_eq!(
            months,
            vec![
                ms("2024-01-01T00:00:00Z"),
                ms("2024-02-01T00:00:00Z"),
                ms("2024-03-01T00:00:00Z"),
            ]
        );
    }
}
