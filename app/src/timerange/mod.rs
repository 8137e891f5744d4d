//! Time ranges as the viewer means them: presets ("This Month", "Last 30 Days") and custom day
//! spans, resolved in the viewer's own time zone; plus the pure date logic of the calendar
//! picker.
//!
//! Semantics:
//! - **Half-open UTC bounds.** [`TimeRange::resolve`] gives `[start, end)`: `start` inclusive,
//!   `end` exclusive, matching `EventQuery`. All Time resolves to `None` (no bounds).
//! - **Local calendar days.** Every range is a run of whole days in the viewer's zone, from the
//!   first instant of its first day to the first instant of the day after its last. "Today" is
//!   the viewer's date at `now`, so the same instant can be a different "Today" in Auckland and
//!   in Los Angeles. Last 30 (90) Days is 30 (90) calendar days counting today. "This
//!   week/month/year" run to the end of the period (not to `now`) so the bounds match the label
//!   and the calendar highlight; nothing after `now` exists to be found.
//! - **DST.** Days are not 24 hours: the spring-forward day is 23 hours long, the fall-back day
//!   25. When a zone skips midnight itself (Chile, Lebanon), the day starts at the instant the
//!   clocks jump; when midnight happens twice (Cuba), at the earlier one. See
//!   [`LocalZone::midnight_utc`].
//! - **Week start.** Configurable per call; [`DEFAULT_WEEK_START`] is Monday (ISO 8601).
//! - **Server vs browser.** The server render resolves in [`UtcZone`] since it does not know the
//!   viewer's zone; after hydration the page uses `BrowserZone` (the `hydrate` feature), which
//!   asks JavaScript's `Date` for offsets and midnights.
//! - **URL keys.** Each range has exactly one key (`30d`, `this_month`, `2026-10-01..2026-10-31`);
//!   serde uses the same spelling, so ranges from the wire are validated like ones from URLs.
//!
//! Nothing here reads the clock: `now`, `today` and the zone are passed in, which keeps it
//! testable and identical on both sides of hydration.

mod calendar;
mod range;
mod zone;

pub use calendar::{MonthCursor, Selection, Week, month_grid, weekday_headings, year_options};
pub use range::{DEFAULT_WEEK_START, Preset, RangeKeyError, TimeRange, describe_days, format_day};
#[cfg(feature = "hydrate")]
pub use zone::BrowserZone;
pub use zone::{FixedZone, LocalZone, UtcZone};

#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod tests;
