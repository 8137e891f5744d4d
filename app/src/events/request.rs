//! What the Audit Logs page asks the server for: the view with its time range resolved to bounds
//! in the viewer's zone, and the forms of it the live tail and the exports take.

use chrono::{DateTime, Utc};

use super::export_menu::ExportRequest;
use super::query::Sort;
use super::time::Zone;
use crate::export::ExportLimits;
use crate::filters::Filter;
use crate::tail::view_query;
use crate::timerange::{DEFAULT_WEEK_START, TimeRange, UtcZone};

/// The half-open bounds, in epoch milliseconds, of `range` for a viewer in `zone` right now.
pub(super) fn bounds(range: &TimeRange, zone: &Zone) -> (Option<i64>, Option<i64>) {
    let now = Utc::now();
    let resolved = match zone {
        Zone::Utc => range.resolve(now, &UtcZone, DEFAULT_WEEK_START),
        Zone::Local(_) => resolve_local(range, now),
    };
    match resolved {
        Some((a, b)) => (Some(a.timestamp_millis()), Some(b.timestamp_millis())),
        None => (None, None),
    }
}

#[cfg(feature = "hydrate")]
fn resolve_local(range: &TimeRange, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    range.resolve(
        now,
        &crate::timerange::BrowserZone::new(),
        DEFAULT_WEEK_START,
    )
}

#[cfg(not(feature = "hydrate"))]
fn resolve_local(range: &TimeRange, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    range.resolve(now, &UtcZone, DEFAULT_WEEK_START)
}

/// What one read asks the server for: resolved bounds, the event name and the filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Request {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub event: Option<String>,
    pub filter: Filter,
    pub search: Option<String>,
    pub quiet: bool,
    pub sort: Sort,
}

impl Request {
    /// The live tail's query for this view.
    pub fn tail_query(&self) -> String {
        view_query(
            self.start,
            self.end,
            self.event.as_deref(),
            &self.filter,
            self.search.as_deref(),
            self.quiet,
        )
    }

    /// What "Export" needs for this view.
    pub fn export(&self, limits: ExportLimits) -> ExportRequest {
        let mut query = self.tail_query();
        if self.sort != Sort::default() {
            let sep = if query.is_empty() { "" } else { "&" };
            query.push_str(&format!("{sep}sort={}", self.sort.to_param()));
        }
        let day = |ms: i64| {
            DateTime::from_timestamp_millis(ms)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        let from = self.start.map_or_else(|| "all".to_string(), day);
        let to = day(self
            .end
            .map_or_else(|| Utc::now().timestamp_millis(), |e| e - 1));
        let max_days = limits.max_days;
        let span_ok = match (self.start, self.end) {
            (Some(s), Some(e)) => e - s <= i64::from(max_days) * 86_400_000,
            (Some(s), None) => {
                Utc::now().timestamp_millis() - s <= i64::from(max_days) * 86_400_000
            }
            _ => false,
        };
        ExportRequest {
            start: self.start,
            end: self.end,
            event: self.event.clone(),
            filter_json: self.filter_json(),
            search: self.search.clone(),
            quiet: self.quiet,
            sort: self.sort.to_param(),
            query,
            file_stem: format!("Audit_Logs_{from}_to_{to}"),
            server_refuses: (!span_ok).then(|| {
                format!(
                    "Server exports cover at most {max_days} days: choose a shorter time range."
                )
            }),
        }
    }

    /// The filter as the server functions take it: JSON, or empty when there is none.
    pub fn filter_json(&self) -> String {
        if self.filter.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&self.filter).unwrap_or_default()
        }
    }
}
