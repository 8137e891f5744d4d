//! The live tail's wire format, shared by the server that sends it and the page that reads it.
//!
//! `GET /api/v1/events/stream` is a Server-Sent Events stream of these messages (SSE `event:`
//! names below, `data:` one line of JSON); `GET /api/v1/events/poll` is its polling fallback and
//! answers a [`TailPage`]. Both take the list's view parameters and continue after an event id
//! (`after=`, or the `Last-Event-ID` header on a reconnecting stream). docs/API.md has the details.

use serde::{Deserialize, Serialize};

use crate::events::model::Event;
use crate::events::view::encode;
use crate::filters::Filter;

pub mod client;
pub mod state;

/// The stream's route.
pub const STREAM_PATH: &str = "/api/v1/events/stream";
/// The polling fallback's route.
pub const POLL_PATH: &str = "/api/v1/events/poll";

/// First message of every stream: where it starts. `id:` is `resume_after`, `data:` a [`Ready`].
pub const READY_MESSAGE: &str = "ready";
/// One stored event of the view: `id:` is its id, `data:` the [`Event`] exactly as the list renders
/// it.
pub const EVENT_MESSAGE: &str = "audit_event";
/// The client fell too far behind and the server dropped its backlog: `id:` is `resume_after`,
/// `data:` a [`Skipped`].
pub const SKIPPED_MESSAGE: &str = "skipped";

/// The `data:` of the [`READY_MESSAGE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// Events with a larger id follow; every earlier one was delivered before or is not wanted.
    pub resume_after: i64,
}

/// The `data:` of the [`SKIPPED_MESSAGE`]: "`skipped` events skipped — reload to see them".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// How many events of the view were dropped; a lower bound when `exact` is false (counting
    /// stops at 100,000, like the page's count).
    pub skipped: u64,
    pub exact: bool,
    /// The stream continues after this id; the skipped events are those of the view after the
    /// last event received and up to this id.
    pub resume_after: i64,
}

/// The answer of the polling fallback.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TailPage {
    /// Events of the view after `after`, ascending by id.
    pub events: Vec<Event>,
    /// What to send as `after` next time: the last event's id when `more`, else the newest id the
    /// server had committed when it answered (so events outside the view are not scanned again).
    pub resume_after: i64,
    /// True when the limit cut the answer short: ask again at once.
    pub more: bool,
}

/// The part of a view the live tail takes, as the query string (no `?`) of the stream and of the
/// polling fallback: the list's parameters but for the sort, the cursor and the limit (a tail is
/// in id order). `start` and `end` are epoch milliseconds.
pub fn view_query(
    start: Option<i64>,
    end: Option<i64>,
    event: Option<&str>,
    filter: &Filter,
    search: Option<&str>,
    quiet: bool,
) -> String {
    let mut parts = Vec::new();
    if let Some(ms) = start {
        parts.push(format!("start={ms}"));
    }
    if let Some(ms) = end {
        parts.push(format!("end={ms}"));
    }
    if let Some(e) = event {
        parts.push(format!("event={}", encode(e)));
    }
    if let Some(q) = search {
        parts.push(format!("q={}", encode(q)));
    }
    if quiet {
        parts.push("quiet=1".into());
    }
    for (k, v) in filter.to_query() {
        parts.push(format!("{}={}", encode(&k), encode(&v)));
    }
    parts.join("&")
}
