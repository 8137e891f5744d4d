//! What a reader asks for (a time range, an event name, a filter, a page size, a cursor) and what
//! comes back.
//!
//! The same `EventQuery` serves the page (through a server function) and `GET /api/v1/events`, so
//! both read through one code path in the store.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::Event;
use crate::filters::Filter;

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 2000;
/// Longest free-text search, in characters after trimming.
pub const MAX_SEARCH_CHARS: usize = 200;

/// A position in the newest-first order: the last row of the previous page.
///
/// Keyset pagination on `(occurred_at, id)`: unlike OFFSET it costs the same on page 1,000 as on
/// page 1, and rows arriving while a reader pages never shift or repeat what it sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub occurred_at_ms: i64,
    pub id: i64,
}

impl Cursor {
    pub fn after(event: &Event) -> Self {
        Self {
            occurred_at_ms: event.body.occurred_at.timestamp_millis(),
            id: event.id,
        }
    }

    /// The opaque text form handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1:{}:{}", self.occurred_at_ms, self.id))
    }

    pub fn decode(text: &str) -> Result<Self, QueryError> {
        let bad = || QueryError::new("cursor", "cursor is not one this server issued");
        let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let mut parts = raw.split(':');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("v1"), Some(ms), Some(id), None) => Ok(Self {
                occurred_at_ms: ms.parse().map_err(|_| bad())?,
                id: id.parse().map_err(|_| bad())?,
            }),
            _ => Err(bad()),
        }
    }
}

/// One read of the event list, newest first. `start` is inclusive, `end` exclusive.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventQuery {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// Exact event name ("Role Created"); shorthand for the condition `event is …`, kept beside
    /// `filter` for the page's event picker and the `event=` parameter.
    pub event: Option<String>,
    /// Conditions on the events' fields; the default (empty) restricts nothing.
    #[serde(default)]
    pub filter: Filter,
    /// Free-text search (`q=`), already trimmed; see [`crate::filters::search`] for what matches.
    /// Build it with [`EventQuery::parse_search`].
    #[serde(default)]
    pub search: Option<String>,
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

impl EventQuery {
    /// The limit actually applied: the default when zero, never above the maximum.
    pub fn effective_limit(&self) -> u32 {
        match self.limit {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        }
    }

    /// Validates the search text `q`: trimmed, empty means no search (`None`), and at most
    /// [`MAX_SEARCH_CHARS`] characters.
    pub fn parse_search(raw: &str) -> Result<Option<String>, QueryError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > MAX_SEARCH_CHARS {
            return Err(QueryError::new(
                "q",
                format!("q must be at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        Ok(Some(text.to_string()))
    }
}

/// One page of events and the cursor for the next one (absent on the last page).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub next_cursor: Option<String>,
}

/// A query parameter that cannot be understood; names the parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error}")]
pub struct QueryError {
    pub error: String,
    pub field: Option<String>,
}

impl QueryError {
    pub fn new(field: &str, error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            field: Some(field.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_foreign_text() {
        let c = Cursor {
            occurred_at_ms: 1_764_061_200_123,
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in [
            "",
            "abc",
            &URL_SAFE_NO_PAD.encode("v2:1:2"),
            &URL_SAFE_NO_PAD.encode("v1:x:2"),
        ] {
            assert_eq!(
                Cursor::decode(bad).unwrap_err().field.as_deref(),
                Some("cursor")
            );
        }
    }

    #[test]
    fn limit_defaults_and_is_capped() {
        let mut q = EventQuery::default();
        assert_eq!(q.effective_limit(), DEFAULT_LIMIT);
        q.limit = 10_000;
        assert_eq!(q.effective_limit(), MAX_LIMIT);
    }

    #[test]
    fn search_is_trimmed_empty_is_none_and_long_is_refused() {
        assert_eq!(EventQuery::parse_search("  "), Ok(None));
        assert_eq!(
            EventQuery::parse_search(" deplo mod "),
            Ok(Some("deplo mod".into()))
        );
        let ok = "é".repeat(MAX_SEARCH_CHARS);
        assert_eq!(EventQuery::parse_search(&ok), Ok(Some(ok.clone())));
        let err = EventQuery::parse_search(&format!("{ok}x")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("q"));
    }
}
