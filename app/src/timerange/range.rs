//! Named presets and custom day spans, their URL keys and labels, and their resolution to UTC
//! bounds in the viewer's zone.

use std::fmt;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::zone::LocalZone;

/// The first day of the week unless the viewer's settings say otherwise (ISO 8601).
pub const DEFAULT_WEEK_START: Weekday = Weekday::Mon;

/// A named range, counted in the viewer's calendar days.
///
/// Serialized by its URL key (`"30d"`), so stored links and server-function arguments share one
/// stable spelling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Preset {
    AllTime,
    Today,
    Yesterday,
    ThisWeek,
    ThisMonth,
    LastMonth,
    #[default]
    Last30Days,
    Last90Days,
    ThisYear,
    LastYear,
}

impl Preset {
    /// Every preset, in the order a menu lists them.
    pub const ALL: [Preset; 10] = [
        Preset::Today,
        Preset::Yesterday,
        Preset::ThisWeek,
        Preset::ThisMonth,
        Preset::LastMonth,
        Preset::Last30Days,
        Preset::Last90Days,
        Preset::ThisYear,
        Preset::LastYear,
        Preset::AllTime,
    ];

    /// What the viewer reads ("Last 30 Days").
    pub fn label(self) -> &'static str {
        match self {
            Preset::AllTime => "All Time",
            Preset::Today => "Today",
            Preset::Yesterday => "Yesterday",
            Preset::ThisWeek => "This Week",
            Preset::ThisMonth => "This Month",
            Preset::LastMonth => "Last Month",
            Preset::Last30Days => "Last 30 Days",
            Preset::Last90Days => "Last 90 Days",
            Preset::ThisYear => "This Year",
            Preset::LastYear => "Last Year",
        }
    }

    /// The stable URL spelling (`30d`); never change one, links depend on it.
    pub fn key(self) -> &'static str {
        match self {
            Preset::AllTime => "all",
            Preset::Today => "today",
            Preset::Yesterday => "yesterday",
            Preset::ThisWeek => "this_week",
            Preset::ThisMonth => "this_month",
            Preset::LastMonth => "last_month",
            Preset::Last30Days => "30d",
            Preset::Last90Days => "90d",
            Preset::ThisYear => "this_year",
            Preset::LastYear => "last_year",
        }
    }

    /// The preset spelled `key`, if any.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The inclusive first and last local day of this preset when the viewer's date is `today`;
    /// `None` for All Time.
    pub fn days(self, today: NaiveDate, week_start: Weekday) -> Option<(NaiveDate, NaiveDate)> {
        let span = match self {
            Preset::AllTime => return None,
            Preset::Today => (today, today),
            Preset::Yesterday => {
                let y = days_before(today, 1);
                (y, y)
            }
            Preset::ThisWeek => {
                let first = days_before(today, u64::from(today.weekday().days_since(week_start)));
                (first, days_after(first, 6))
            }
            Preset::ThisMonth => month_span(today.year(), today.month()),
            Preset::LastMonth => match today.month() {
                1 => month_span(today.year().saturating_sub(1), 12),
                m => month_span(today.year(), m - 1),
            },
            // 30 calendar days counting today, so the oldest day is 29 days back.
            Preset::Last30Days => (days_before(today, 29), today),
            Preset::Last90Days => (days_before(today, 89), today),
            Preset::ThisYear => year_span(today.year()),
            Preset::LastYear => year_span(today.year().saturating_sub(1)),
        };
        Some(span)
    }
}

impl From<Preset> for String {
    fn from(p: Preset) -> Self {
        p.key().into()
    }
}

impl TryFrom<String> for Preset {
    type Error = RangeKeyError;
    fn try_from(key: String) -> Result<Self, Self::Error> {
        Preset::from_key(&key).ok_or(RangeKeyError::UnknownKey(key))
    }
}

/// The time range a reader picked: a preset, or inclusive calendar days in their zone.
///
/// Serialized by its URL key (`"30d"`, `"2026-10-01..2026-10-31"`), which also means a custom
/// range arriving over the wire is validated like one arriving in a URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum TimeRange {
    Preset(Preset),
    /// Inclusive first and last calendar day in the viewer's zone; `start <= end` when built by
    /// [`TimeRange::custom`] or [`TimeRange::from_key`].
    Custom {
        start: NaiveDate,
        end: NaiveDate,
    },
}

impl Default for TimeRange {
    fn default() -> Self {
        TimeRange::Preset(Preset::default())
    }
}

impl From<Preset> for TimeRange {
    fn from(p: Preset) -> Self {
        TimeRange::Preset(p)
    }
}

/// A URL key that names no time range; the message says what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeKeyError {
    #[error(
        "unknown time range {0:?}: expected one of all, today, yesterday, this_week, this_month, \
         last_month, 30d, 90d, this_year, last_year, or START..END as YYYY-MM-DD..YYYY-MM-DD"
    )]
    UnknownKey(String),
    #[error("time range date {0:?} is not a calendar date written YYYY-MM-DD")]
    BadDate(String),
    #[error("time range ends ({end}) before it starts ({start})")]
    EndBeforeStart { start: NaiveDate, end: NaiveDate },
}

impl TimeRange {
    /// A custom span of inclusive days, rejected when it ends before it starts.
    pub fn custom(start: NaiveDate, end: NaiveDate) -> Result<Self, RangeKeyError> {
        if end < start {
            return Err(RangeKeyError::EndBeforeStart { start, end });
        }
        Ok(TimeRange::Custom { start, end })
    }

    /// The stable URL spelling: a preset's key, or `2026-10-01..2026-10-31`.
    pub fn to_key(&self) -> String {
        match self {
            TimeRange::Preset(p) => p.key().into(),
            TimeRange::Custom { start, end } => format!("{}..{}", iso(*start), iso(*end)),
        }
    }

    /// Parses [`TimeRange::to_key`]'s spelling; nothing else is accepted, so every range has one
    /// URL.
    pub fn from_key(key: &str) -> Result<Self, RangeKeyError> {
        if let Some(p) = Preset::from_key(key) {
            return Ok(TimeRange::Preset(p));
        }
        let Some((start, end)) = key.split_once("..") else {
            return Err(RangeKeyError::UnknownKey(key.into()));
        };
        TimeRange::custom(parse_iso(start)?, parse_iso(end)?)
    }

    /// The menu label for a preset; the dates for a custom range ("1 Oct 2026 – 31 Oct 2026").
    pub fn label(&self) -> String {
        match self {
            TimeRange::Preset(p) => p.label().into(),
            TimeRange::Custom { start, end } => describe_days(*start, *end),
        }
    }

    /// The inclusive first and last local day when the viewer's date is `today`; `None` for All
    /// Time. A custom range given backwards (only possible by building the variant directly) is
    /// read the right way round.
    pub fn days(&self, today: NaiveDate, week_start: Weekday) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            TimeRange::Preset(p) => p.days(today, week_start),
            TimeRange::Custom { start, end } => Some((*start.min(end), *start.max(end))),
        }
    }

    /// The half-open UTC bounds `[start, end)` of this range for a viewer in `zone` at `now`;
    /// `None` for All Time (no bounds at all).
    ///
    /// `start` is the first instant of the first day, `end` the first instant of the day after
    /// the last one, both by [`LocalZone::midnight_utc`], so DST days are 23 or 25 hours long
    /// and a skipped midnight starts the day when the clocks jump. "This week/month/year" end
    /// at the end of the period, not at `now`: the bounds then match the label and the calendar
    /// highlight, and the store has nothing after `now` to find anyway.
    pub fn resolve(
        &self,
        now: DateTime<Utc>,
        zone: &impl LocalZone,
        week_start: Weekday,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let (first, last) = self.days(zone.today(now), week_start)?;
        let end = match last.checked_add_days(Days::new(1)) {
            Some(next) => zone.midnight_utc(next),
            None => DateTime::<Utc>::MAX_UTC,
        };
        Some((zone.midnight_utc(first), end))
    }

    /// The resolved days with the zone they are counted in, for a heading or tooltip:
    /// "1 Oct 2026 – 31 Oct 2026 (Europe/Berlin)"; `None` for All Time.
    pub fn describe(
        &self,
        now: DateTime<Utc>,
        zone: &impl LocalZone,
        week_start: Weekday,
    ) -> Option<String> {
        let (first, last) = self.days(zone.today(now), week_start)?;
        Some(format!("{} ({})", describe_days(first, last), zone.label()))
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl From<TimeRange> for String {
    fn from(r: TimeRange) -> Self {
        r.to_key()
    }
}

impl TryFrom<String> for TimeRange {
    type Error = RangeKeyError;
    fn try_from(key: String) -> Result<Self, Self::Error> {
        TimeRange::from_key(&key)
    }
}

/// "25 Nov 2026".
pub fn format_day(day: NaiveDate) -> String {
    day.format("%-d %b %Y").to_string()
}

/// "1 Oct 2026 – 31 Oct 2026"; a single day is written once.
pub fn describe_days(first: NaiveDate, last: NaiveDate) -> String {
    if first == last {
        format_day(first)
    } else {
        format!("{} – {}", format_day(first), format_day(last))
    }
}

fn iso(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Strict `YYYY-MM-DD`: chrono alone would also take `2026-1-5` or `+2026-01-05`, and a range
/// should have exactly one URL.
fn parse_iso(text: &str) -> Result<NaiveDate, RangeKeyError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| iso(*d) == text)
        .ok_or_else(|| RangeKeyError::BadDate(text.into()))
}

// Saturating day arithmetic: custom dates come from URLs and may sit at chrono's limits.

fn days_before(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(n)).unwrap_or(NaiveDate::MIN)
}

fn days_after(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_add_days(Days::new(n)).unwrap_or(NaiveDate::MAX)
}

/// First and last day of a month (month in 1..=12).
pub(crate) fn month_span(year: i32, month: u32) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year.saturating_add(1), 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    let last = next.map_or(NaiveDate::MAX, |n| days_before(n, 1));
    (first, last)
}

fn year_span(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}
