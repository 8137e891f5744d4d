//! The date logic behind the month-grid picker: which days go in which cells, moving between
//! months, the years to offer, and the click-by-click selection of a custom range.

use chrono::{Datelike, NaiveDate, Weekday};

use super::range::{TimeRange, describe_days, month_span};

/// One row of a month grid: seven cells from the week start, `None` for the blanks before the 1st
/// and after the last day.
pub type Week = [Option<NaiveDate>; 7];

/// The weeks of `month` (1..=12) in `year`, each starting on `week_start`. Empty for a month that
/// does not exist.
pub fn month_grid(year: i32, month: u32, week_start: Weekday) -> Vec<Week> {
    let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
        return Vec::new();
    };
    let (_, last) = month_span(year, month);
    let mut weeks = Vec::with_capacity(6);
    let mut week: Week = [None; 7];
    let mut col = first.weekday().days_since(week_start) as usize;
    for day in first.iter_days().take_while(|d| *d <= last) {
        week[col] = Some(day);
        col += 1;
        if col == 7 {
            weeks.push(week);
            week = [None; 7];
            col = 0;
        }
    }
    if col > 0 {
        weeks.push(week);
    }
    weeks
}

/// The seven weekday headings of a grid starting on `week_start` ("Mo", "Tu", …).
pub fn weekday_headings(week_start: Weekday) -> [&'static str; 7] {
    let mut out = [""; 7];
    let mut day = week_start;
    for slot in &mut out {
        *slot = match day {
            Weekday::Mon => "Mo",
            Weekday::Tue => "Tu",
            Weekday::Wed => "We",
            Weekday::Thu => "Th",
            Weekday::Fri => "Fr",
            Weekday::Sat => "Sa",
            Weekday::Sun => "Su",
        };
        day = day.succ();
    }
    out
}

/// The month a picker is showing. Always a real month (1..=12) in a year chrono can represent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthCursor {
    year: i32,
    month: u32,
}

impl MonthCursor {
    /// The cursor at `year`/`month`, or `None` when that month does not exist.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Self { year, month })
    }

    /// The month `day` falls in.
    pub fn containing(day: NaiveDate) -> Self {
        Self {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// 1..=12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The month before; stays put at the earliest month chrono can represent.
    pub fn prev(self) -> Self {
        let (year, month) = match self.month {
            1 => (self.year.saturating_sub(1), 12),
            m => (self.year, m - 1),
        };
        Self::new(year, month).unwrap_or(self)
    }

    /// The month after; stays put at the latest month chrono can represent.
    pub fn next(self) -> Self {
        let (year, month) = match self.month {
            12 => (self.year.saturating_add(1), 1),
            m => (self.year, m + 1),
        };
        Self::new(year, month).unwrap_or(self)
    }

    /// The same month in another year (for the year dropdown); `None` if that year is out of
    /// range.
    pub fn with_year(self, year: i32) -> Option<Self> {
        Self::new(year, self.month)
    }

    /// "October 2026".
    pub fn title(self) -> String {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .map(|d| d.format("%B %Y").to_string())
            .unwrap_or_default()
    }

    /// This month's grid.
    pub fn grid(self, week_start: Weekday) -> Vec<Week> {
        month_grid(self.year, self.month, week_start)
    }
}

/// The years the year dropdown offers, oldest first: from the year of the first event (when
/// there is one) to this year. A first event dated in the future offers just this year.
pub fn year_options(first_event_year: Option<i32>, this_year: i32) -> Vec<i32> {
    let from = first_event_year.map_or(this_year, |y| y.min(this_year));
    (from..=this_year).collect()
}

/// Picking a custom range in the calendar, one click at a time.
///
/// First click: the start. Second click: the end (clicking a day before the start swaps them).
/// Third click: starts over with that day as the new start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Selection {
    #[default]
    Empty,
    /// A start and no end yet: the end is taken to be today.
    Started(NaiveDate),
    /// Both ends, `start <= end`.
    Complete { start: NaiveDate, end: NaiveDate },
}

impl Selection {
    /// The selection a range opens the picker with: its days when it has any (a preset shows as
    /// the days it covers today), empty for All Time.
    pub fn from_range(range: &TimeRange, today: NaiveDate, week_start: Weekday) -> Self {
        match range.days(today, week_start) {
            Some((start, end)) => Selection::Complete { start, end },
            None => Selection::Empty,
        }
    }

    /// The selection after clicking `day`.
    pub fn click(self, day: NaiveDate) -> Self {
        match self {
            Selection::Empty | Selection::Complete { .. } => Selection::Started(day),
            Selection::Started(start) => Selection::Complete {
                start: start.min(day),
                end: start.max(day),
            },
        }
    }

    /// The inclusive days selected, with a lone start running to `today` (or from `today`, if
    /// the start lies ahead of it); `None` before the first click.
    pub fn days(self, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            Selection::Empty => None,
            Selection::Started(start) => Some((start.min(today), start.max(today))),
            Selection::Complete { start, end } => Some((start, end)),
        }
    }

    /// Whether `day` is inside the selection (for highlighting the grid).
    pub fn contains(self, day: NaiveDate, today: NaiveDate) -> bool {
        self.days(today)
            .is_some_and(|(start, end)| start <= day && day <= end)
    }

    /// The custom range to apply; `None` before the first click.
    pub fn to_range(self, today: NaiveDate) -> Option<TimeRange> {
        self.days(today)
            .map(|(start, end)| TimeRange::Custom { start, end })
    }

    /// "1 Oct 2026 – 25 Nov 2026 (Europe/Berlin)"; `None` before the first click.
    pub fn describe(self, today: NaiveDate, zone_label: &str) -> Option<String> {
        self.days(today)
            .map(|(start, end)| format!("{} ({zone_label})", describe_days(start, end)))
    }

    /// How many days are selected, counting both ends.
    pub fn day_count(self, today: NaiveDate) -> u64 {
        self.days(today).map_or(0, |(start, end)| {
            (end.signed_duration_since(start).num_days() + 1).unsigned_abs()
        })
    }
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
