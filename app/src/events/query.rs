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

/// A column the list can be ordered by. The description is deliberately absent: free text up to
/// 4 KiB is neither a useful order nor one worth an index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    /// `occurred_at`.
    #[default]
    Time,
    /// The sequence number, `id`.
    Seq,
    Event,
    Category,
    /// The actor's name.
    User,
    Outcome,
    /// The target's name; an event without one sorts as the empty string.
    Target,
    /// The address as canonical text (not numerically); an event without one sorts as "".
    Ip,
}

impl SortKey {
    /// Every key, in the order the documentation lists them.
    pub const ALL: [SortKey; 8] = [
        SortKey::Time,
        SortKey::Seq,
        SortKey::Event,
        SortKey::Category,
        SortKey::User,
        SortKey::Outcome,
        SortKey::Target,
        SortKey::Ip,
    ];

    /// The key's name in URLs and the REST API.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Time => "time",
            SortKey::Seq => "seq",
            SortKey::Event => "event",
            SortKey::Category => "category",
            SortKey::User => "user",
            SortKey::Outcome => "outcome",
            SortKey::Target => "target",
            SortKey::Ip => "ip",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// True for keys whose values are integers (the others are text).
    pub fn is_integer(self) -> bool {
        matches!(self, SortKey::Time | SortKey::Seq)
    }

    /// The value `event` sorts by under this key: NULL target and IP become "", the rule the
    /// stores apply with `COALESCE(col, '')`.
    pub fn value_of(self, event: &Event) -> SortValue {
        let b = &event.body;
        let text = |s: &str| SortValue::Text(s.to_string());
        match self {
            SortKey::Time => SortValue::Int(b.occurred_at.timestamp_millis()),
            SortKey::Seq => SortValue::Int(event.id),
            SortKey::Event => text(&b.event),
            SortKey::Category => text(&b.category),
            SortKey::User => text(&b.actor.name),
            SortKey::Outcome => text(b.outcome.as_str()),
            SortKey::Target => text(
                b.target
                    .as_ref()
                    .and_then(|t| t.name.as_deref())
                    .unwrap_or(""),
            ),
            SortKey::Ip => text(b.ip.as_deref().unwrap_or("")),
        }
    }
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    Asc,
    #[default]
    Desc,
}

/// The list's order: by `key`, then (for a column) by time, then by `id`, all in the same
/// direction, so the order is total and a keyset cursor can name a position in it. Rows with the
/// same value come in time order, which is also what lets one index serve both a column's sort
/// and "value is X, newest first". The default is newest first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sort {
    pub key: SortKey,
    pub dir: Dir,
}

impl Sort {
    pub fn new(key: SortKey, dir: Dir) -> Self {
        Self { key, dir }
    }

    /// The URL form: the key's name, with a leading `-` when descending (`event`, `-time`).
    pub fn to_param(self) -> String {
        match self.dir {
            Dir::Asc => self.key.as_str().to_string(),
            Dir::Desc => format!("-{}", self.key.as_str()),
        }
    }

    /// Parses [`Sort::to_param`]'s form; the error names the parameter `sort`.
    pub fn from_param(text: &str) -> Result<Self, QueryError> {
        let (dir, name) = match text.strip_prefix('-') {
            Some(rest) => (Dir::Desc, rest),
            None => (Dir::Asc, text),
        };
        let key = SortKey::parse(name).ok_or_else(|| {
            let names: Vec<&str> = SortKey::ALL.iter().map(|k| k.as_str()).collect();
            QueryError::new(
                "sort",
                format!(
                    "sort must be one of {}, optionally preceded by `-` for descending",
                    names.join(", ")
                ),
            )
        })?;
        Ok(Self { key, dir })
    }
}

/// The sort value of a row: an integer for time and seq, text for the others (never NULL: a
/// missing target or IP is the empty string).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

/// A position in a sorted list: the sort, and the last row of the previous page (its sort value,
/// time and id).
///
/// Keyset pagination on `(value, time, id)` (`(time, id)` and `(id)` for those sorts): unlike OFFSET it costs the same on page 1,000 as on page 1,
/// and rows arriving while a reader pages never shift or repeat what it sees. A cursor is only
/// valid for the sort it was issued for; [`EventQuery::check_cursor`] refuses it otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub sort: Sort,
    pub value: SortValue,
    /// The row's `occurred_at` in epoch milliseconds: the tie-breaker between rows with the same
    /// value under a column sort.
    pub time: i64,
    pub id: i64,
}

impl Cursor {
    /// The position just after `event` in the order `sort`.
    pub fn after(event: &Event, sort: Sort) -> Self {
        Self {
            sort,
            value: sort.key.value_of(event),
            time: event.body.occurred_at.timestamp_millis(),
            id: event.id,
        }
    }

    /// The opaque text form handed to clients: base64 of
    /// `v3:<key>:<asc|desc>:<id>:<time>:<value>`. The value comes last so that it may contain `:`.
    pub fn encode(&self) -> String {
        let value = match &self.value {
            SortValue::Int(n) => n.to_string(),
            SortValue::Text(s) => s.clone(),
        };
        let dir = match self.sort.dir {
            Dir::Asc => "asc",
            Dir::Desc => "desc",
        };
        let key = self.sort.key.as_str();
        URL_SAFE_NO_PAD.encode(format!("v3:{key}:{dir}:{}:{}:{value}", self.id, self.time))
    }

    /// Reads [`Cursor::encode`]'s form; the `v1:<ms>:<id>` cursors of the newest-first order that
    /// servers issued before sorting existed; and `v2:<key>:<dir>:<id>:<value>` cursors (before
    /// column sorts broke ties by time) of the sorts whose order has not changed, time and seq.
    pub fn decode(text: &str) -> Result<Self, QueryError> {
        let bad = || QueryError::new("cursor", "cursor is not one this server issued");
        let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let int = |s: &str| s.parse::<i64>().map_err(|_| bad());
        if let Some(rest) = raw.strip_prefix("v1:") {
            let (ms, id) = rest.split_once(':').ok_or_else(bad)?;
            return Ok(Self {
                sort: Sort::default(),
                value: SortValue::Int(int(ms)?),
                time: int(ms)?,
                id: int(id)?,
            });
        }
        let (version, rest) = raw.split_once(':').ok_or_else(bad)?;
        let mut parts = rest.splitn(if version == "v3" { 5 } else { 4 }, ':');
        let (Some(key), Some(dir), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let time = match version {
            "v3" => Some(int(parts.next().ok_or_else(bad)?)?),
            "v2" => None,
            _ => return Err(bad()),
        };
        let value = parts.next().ok_or_else(bad)?;
        let key = SortKey::parse(key).ok_or_else(bad)?;
        let dir = match dir {
            "asc" => Dir::Asc,
            "desc" => Dir::Desc,
            _ => return Err(bad()),
        };
        let value = if key.is_integer() {
            SortValue::Int(int(value)?)
        } else {
            SortValue::Text(value.to_string())
        };
        let time = match (time, key, &value) {
            (Some(t), _, _) => t,
            (None, SortKey::Time, SortValue::Int(ms)) => *ms,
            (None, SortKey::Seq, _) => 0,
            (None, _, _) => {
                return Err(QueryError::new(
                    "cursor",
                    "cursor was issued by an earlier version of this server; ask for the first page again",
                ));
            }
        };
        Ok(Self {
            sort: Sort { key, dir },
            value,
            time,
            id: int(id)?,
        })
    }
}

/// One read of the event list, in the order `sort`. `start` is inclusive, `end` exclusive.
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
    /// A second filter ANDed with `filter`: rows the viewer asked to hide (the page's "Hide noisy
    /// events"), kept apart so the user's own filter keeps its AND/OR meaning.
    #[serde(default)]
    pub hide: Filter,
    /// A third filter ANDed with the others: what the caller may see (a Member's own events, see
    /// [`crate::accounts::User::scope`]). The server sets it from the session or API key of every
    /// request; it is never read from a request (`serde(skip)`), so no client can widen it.
    #[serde(skip)]
    pub scope: Filter,
    /// Free-text search (`q=`), already trimmed; see [`crate::filters::search`] for what matches.
    /// Build it with [`EventQuery::parse_search`].
    #[serde(default)]
    pub search: Option<String>,
    pub limit: u32,
    pub cursor: Option<Cursor>,
    /// The order; newest first by default. A `cursor` must have been issued for the same sort.
    #[serde(default)]
    pub sort: Sort,
}

impl EventQuery {
    /// The limit actually applied: the default when zero, never above the maximum.
    pub fn effective_limit(&self) -> u32 {
        match self.limit {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        }
    }

    /// Refuses a cursor issued for another sort: its position means nothing in this order, and
    /// following it would silently skip or repeat rows.
    pub fn check_cursor(&self) -> Result<(), QueryError> {
        match &self.cursor {
            Some(c) if c.sort != self.sort => Err(QueryError::new(
                "cursor",
                format!(
                    "cursor belongs to the sort `{}`, not `{}`; start again without a cursor",
                    c.sort.to_param(),
                    self.sort.to_param()
                ),
            )),
            // Only a hand-built cursor can get this wrong; decoding checks it.
            Some(c) if c.sort.key.is_integer() != matches!(c.value, SortValue::Int(_)) => Err(
                QueryError::new("cursor", "cursor is not one this server issued"),
            ),
            _ => Ok(()),
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
    /// For the page's live tail: the newest event id committed before this page was read. Every
    /// later event arrives on the tail; the page says it only when asked (the first page of the
    /// Audit Logs page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<i64>,
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

/// The longest time range one read (the list, its statistics, a page of the API) may span, when
/// the operator sets one (`serve --max-range-days`); by default there is none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadLimits {
    pub max_days: Option<u32>,
}

impl ReadLimits {
    /// A 400-style error naming `start` when `start..end` (end defaulting to `now`) is longer than
    /// allowed, or open while a limit is set.
    pub fn check(
        &self,
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), QueryError> {
        let Some(days) = self.max_days else {
            return Ok(());
        };
        let Some(start) = start else {
            return Err(QueryError::new(
                "start",
                format!("a view may span at most {days} days: give it a start"),
            ));
        };
        let spans = end.unwrap_or(now) - start;
        if spans > chrono::Duration::days(i64::from(days)) {
            return Err(QueryError::new(
                "start",
                format!(
                    "a view may span at most {days} days; this one spans {} days",
                    spans.num_days()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_foreign_text() {
        let cursors = [
            Cursor {
                sort: Sort::default(),
                value: SortValue::Int(1_764_061_200_123),
                time: 1_764_061_200_123,
                id: 42,
            },
            Cursor {
                sort: Sort::new(SortKey::Target, Dir::Asc),
                value: SortValue::Text("a:b:c Ünï".into()),
                time: -5,
                id: 7,
            },
            Cursor {
                sort: Sort::new(SortKey::Ip, Dir::Desc),
                value: SortValue::Text(String::new()),
                time: 1_700_000_000_000,
                id: 1,
            },
        ];
        for c in cursors {
            assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }
        for bad in [
            "",
            "abc",
            &URL_SAFE_NO_PAD.encode("v2:1:2"),
            &URL_SAFE_NO_PAD.encode("v1:x:2"),
            &URL_SAFE_NO_PAD.encode("v1:1:2:3"),
            &URL_SAFE_NO_PAD.encode("v2:time:desc:5:abc"),
            &URL_SAFE_NO_PAD.encode("v2:colour:desc:5:abc"),
            &URL_SAFE_NO_PAD.encode("v2:event:up:5:abc"),
            &URL_SAFE_NO_PAD.encode("v3:event:asc:5:abc"),
        ] {
            assert_eq!(
                Cursor::decode(bad).unwrap_err().field.as_deref(),
                Some("cursor"),
                "{bad}"
            );
        }
    }

    #[test]
    fn v1_cursors_still_mean_newest_first() {
        let c = Cursor::decode(&URL_SAFE_NO_PAD.encode("v1:1764061200123:42")).unwrap();
        assert_eq!(c.sort, Sort::new(SortKey::Time, Dir::Desc));
        assert_eq!(c.value, SortValue::Int(1_764_061_200_123));
        assert_eq!(c.id, 42);
    }

    /// Cursors issued before column sorts broke ties by time: those of the time and seq orders
    /// go on; those of a column sort ask for the first page again rather than skip rows.
    #[test]
    fn v2_cursors_go_on_where_the_order_is_unchanged() {
        let c = Cursor::decode(&URL_SAFE_NO_PAD.encode("v2:time:asc:42:1764061200123")).unwrap();
        assert_eq!((c.time, c.id), (1_764_061_200_123, 42));
        let c = Cursor::decode(&URL_SAFE_NO_PAD.encode("v2:seq:desc:42:42")).unwrap();
        assert_eq!((c.sort.key, c.id), (SortKey::Seq, 42));
        let err = Cursor::decode(&URL_SAFE_NO_PAD.encode("v2:user:asc:42:Ada")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("cursor"));
        assert!(err.error.contains("first page"), "{}", err.error);
    }

    #[test]
    fn sort_params_round_trip_and_bad_ones_name_sort() {
        for key in SortKey::ALL {
            for dir in [Dir::Asc, Dir::Desc] {
                let s = Sort::new(key, dir);
                assert_eq!(Sort::from_param(&s.to_param()).unwrap(), s);
            }
        }
        assert_eq!(Sort::default().to_param(), "-time");
        assert_eq!(
            Sort::from_param("-user").unwrap(),
            Sort::new(SortKey::User, Dir::Desc)
        );
        for bad in ["", "-", "--time", "description", "Time", "+time", "time "] {
            assert_eq!(
                Sort::from_param(bad).unwrap_err().field.as_deref(),
                Some("sort"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_cursor_from_another_sort_is_refused() {
        let c = Cursor {
            sort: Sort::new(SortKey::Event, Dir::Asc),
            value: SortValue::Text("Login".into()),
            time: 0,
            id: 3,
        };
        let mut q = EventQuery {
            cursor: Some(c),
            ..EventQuery::default()
        };
        let err = q.check_cursor().unwrap_err();
        assert_eq!(err.field.as_deref(), Some("cursor"));
        assert!(err.error.contains("`event`"), "{}", err.error);
        q.sort = Sort::new(SortKey::Event, Dir::Asc);
        assert!(q.check_cursor().is_ok());
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
