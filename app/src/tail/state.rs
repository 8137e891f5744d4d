//! What the page keeps of the live tail: the arrivals it shows above the table, those it holds back
//! while the reader is busy, how many the server skipped, and the arrival rate. Plain data, so the
//! rules are tested without a browser; the page wraps it in a signal.
//!
//! The page's first page of events is read at a position (`base`, the newest id committed before
//! the read). The stream starts after `base`, so every later event of the view arrives exactly
//! once, in id order. Events the first page already shows (committed between the position and the
//! read) are ignored.

use std::collections::{HashSet, VecDeque};

use crate::events::model::Event;

use super::Skipped;

/// Arrivals shown above the table before the page reloads its first page instead (the newest
/// events are then the table's first rows, and older ones stay reachable with "Load more").
pub const ROW_CAP: usize = 500;
/// Arrivals held back while the reader is busy; older ones beyond it are only counted, and
/// showing them reloads the first page.
pub const HOLD_CAP: usize = 1000;
/// The arrival rate is averaged over this window.
pub const RATE_WINDOW_MS: f64 = 10_000.0;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TailState {
    /// The first page's position: events up to it are the table's.
    base: i64,
    /// Ids above `base` that the first page already shows.
    on_page: HashSet<i64>,
    /// The last id received, or `base`.
    last: i64,
    /// Arrivals on screen, newest first.
    shown: Vec<Event>,
    /// Arrivals held back, newest first.
    held: Vec<Event>,
    /// Held arrivals dropped beyond [`HOLD_CAP`].
    held_dropped: u64,
    /// Dropped arrivals were released: only the table can show them now.
    gap: bool,
    /// Events the server skipped because this client fell behind: (count, exact).
    skipped: Option<(u64, bool)>,
    /// When the tail started, and when recent events arrived (ms since the epoch).
    started: f64,
    arrivals: VecDeque<f64>,
}

impl TailState {
    /// A tail after position `base`, whose first page shows `page_ids`, started at `now_ms`.
    pub fn new(base: i64, page_ids: impl IntoIterator<Item = i64>, now_ms: f64) -> Self {
        Self {
            base,
            on_page: page_ids.into_iter().filter(|id| *id > base).collect(),
            last: base,
            started: now_ms,
            ..Self::default()
        }
    }

    /// Where the stream continues: the last event received (or skipped over).
    pub fn last(&self) -> i64 {
        self.last
    }

    /// Arrivals on screen, newest first.
    pub fn shown(&self) -> &[Event] {
        &self.shown
    }

    /// How many arrivals wait behind the "new events" bar.
    pub fn held(&self) -> u64 {
        self.held.len() as u64 + self.held_dropped
    }

    /// Events the server skipped, and whether the count is exact.
    pub fn skipped(&self) -> Option<(u64, bool)> {
        self.skipped
    }

    /// True when what should be on screen no longer fits: the page should read its first page
    /// again (and start a new tail from there).
    pub fn needs_reload(&self) -> bool {
        self.gap || self.shown.len() > ROW_CAP
    }

    /// An event from the stream, shown at once or, when `hold`, held back. Events at or before
    /// the position, already received or on the first page are ignored.
    pub fn receive(&mut self, event: Event, hold: bool, now_ms: f64) {
        if event.id <= self.last || self.on_page.contains(&event.id) {
            self.last = self.last.max(event.id);
            return;
        }
        self.last = event.id;
        while self
            .arrivals
            .front()
            .is_some_and(|t| *t <= now_ms - RATE_WINDOW_MS)
        {
            self.arrivals.pop_front();
        }
        self.arrivals.push_back(now_ms);
        if hold {
            self.held.insert(0, event);
            if self.held.len() > HOLD_CAP {
                self.held.pop();
                self.held_dropped += 1;
            }
        } else {
            self.release();
            self.shown.insert(0, event);
        }
    }

    /// Shows the held arrivals. When some were dropped, the screen cannot show them in place:
    /// [`TailState::needs_reload`] is then true.
    pub fn release(&mut self) {
        if self.held_dropped > 0 {
            self.held_dropped = 0;
            self.gap = true;
        }
        let mut held = std::mem::take(&mut self.held);
        held.append(&mut self.shown);
        self.shown = held;
    }

    /// Forgets the arrivals (the view changed), keeping the position.
    pub fn clear(&mut self) {
        self.shown.clear();
        self.held.clear();
        self.held_dropped = 0;
        self.gap = false;
        self.skipped = None;
    }

    /// The server dropped this client's backlog up to `s.resume_after`.
    pub fn skip(&mut self, s: Skipped) {
        let (count, exact) = self.skipped.unwrap_or((0, true));
        self.skipped = Some((count + s.skipped, exact && s.exact));
        self.last = self.last.max(s.resume_after);
    }

    /// Events per second over the last [`RATE_WINDOW_MS`] (or since the start, if shorter).
    pub fn rate(&self, now_ms: f64) -> f64 {
        let recent = self
            .arrivals
            .iter()
            .rev()
            .take_while(|t| **t > now_ms - RATE_WINDOW_MS)
            .count();
        let span = (now_ms - self.started).clamp(1_000.0, RATE_WINDOW_MS);
        recent as f64 * 1_000.0 / span
    }
}

/// "12 s ago" for a time `age_ms` milliseconds in the past; nothing past a day (the date says
/// enough) or for times in the future beyond a few seconds of clock difference.
pub fn ago(age_ms: i64) -> Option<String> {
    let s = age_ms.div_euclid(1000);
    match s {
        -5..5 => Some("just now".into()),
        5..60 => Some(format!("{s} s ago")),
        60..3_600 => Some(format!("{} min ago", s / 60)),
        3_600..86_400 => Some(format!("{} h ago", s / 3_600)),
        _ => None,
    }
}

/// "3.2/s", "12/s", "0/s": the rate as the live indicator shows it.
pub fn rate_label(per_s: f64) -> String {
    if per_s >= 10.0 || per_s == 0.0 {
        format!("{per_s:.0}/s")
    } else {
        format!("{per_s:.1}/s")
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
