//! What the live tail's two routes (the stream and its polling fallback) share: their settings,
//! their counters, the signal that ends every stream at shutdown, and their parameters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use app::events::noise::NoisyEvents;
use app::events::query::{EventQuery, MAX_LIMIT};
use app::filters::Filter;
use tokio::sync::watch;

use super::ApiError;
use super::read::parse_query;
use super::rendered::Rendered;
use super::shared_reads::SharedReads;

/// How often an idle stream sends a comment line, so that proxies keep it open.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How many events of its view a stream client may fall behind before its backlog is dropped.
pub const DEFAULT_MAX_BACKLOG: u64 = 1000;
/// Events per answer of the polling fallback when the client does not say.
pub const DEFAULT_POLL_LIMIT: u32 = 1000;

/// The live tail's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveConfig {
    /// How often an idle stream sends a `: keep-alive` comment.
    pub keep_alive: Duration,
    /// How many events of its view a stream may have waiting for its client (committed, not yet
    /// sent) before the server drops them and tells the client how many it skipped. At least 1.
    pub max_backlog: u64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            keep_alive: DEFAULT_KEEP_ALIVE,
            max_backlog: DEFAULT_MAX_BACKLOG,
        }
    }
}

/// Counters of the live tail since the server started, for tests, benchmarks and (later) metrics.
#[derive(Debug, Default)]
pub struct LiveStats {
    open: AtomicU64,
    sent: AtomicU64,
    skipped: AtomicU64,
}

impl LiveStats {
    /// Streams open now.
    pub fn open(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }

    /// Events handed to stream responses so far (all streams). It stops growing while the only
    /// stream's client reads nothing: the server then pulls no more events for it.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Events dropped from slow clients' backlogs so far (all streams; lower bounds added up).
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    pub(super) fn opened(&self) {
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    pub(super) fn add_sent(&self, n: u64) {
        self.sent.fetch_add(n, Ordering::Relaxed);
    }

    pub(super) fn add_skipped(&self, n: u64) {
        self.skipped.fetch_add(n, Ordering::Relaxed);
    }
}

/// The live tail's shared state, one per server (a part of `AppState`).
#[derive(Clone, Debug)]
pub struct Live {
    pub config: LiveConfig,
    pub stats: Arc<LiveStats>,
    pub(super) rendered: Arc<Rendered>,
    pub(super) reads: Arc<SharedReads>,
    closing: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        Self::new(LiveConfig::default())
    }
}

impl Live {
    pub fn new(config: LiveConfig) -> Self {
        Self {
            config: LiveConfig {
                max_backlog: config.max_backlog.max(1),
                ..config
            },
            stats: Arc::default(),
            rendered: Arc::default(),
            reads: Arc::default(),
            closing: watch::Sender::new(false),
        }
    }

    /// Ends every open stream, and any opened later. `server::run` calls it when shutdown begins:
    /// a stream never ends by itself, and graceful shutdown waits for every response to end.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub(super) fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

/// A live tail request: the view, where to continue, and (polling only) how many events at most.
pub(super) struct LiveParams {
    pub query: EventQuery,
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

fn bad(field: &str, error: impl Into<String>) -> ApiError {
    ApiError::BadRequest(error.into(), Some(field.into()))
}

/// Parses the view parameters of `GET /api/v1/events` (by the list's own parser) plus `after`
/// (an event id, from 0) and `quiet` (`1` hides the operator's noisy events, as on the page).
/// `sort` and `cursor` mean nothing to a tail, which is in id order: refused, naming them; so is
/// `limit` unless `allow_limit` (the polling fallback takes one, 1 to 2,000).
pub(super) fn parse_params(
    pairs: &[(String, String)],
    noise: &NoisyEvents,
    allow_limit: bool,
) -> Result<LiveParams, ApiError> {
    let mut view = Vec::with_capacity(pairs.len());
    let (mut after, mut quiet, mut limit) = (None, None, None);
    for (k, v) in pairs {
        let once = |seen: bool| {
            if seen {
                Err(bad(k, format!("`{k}` is given more than once")))
            } else {
                Ok(())
            }
        };
        match k.as_str() {
            "sort" | "cursor" => {
                return Err(bad(
                    k,
                    format!(
                        "`{k}` does not apply to the live tail: events come in id order; continue with `after`"
                    ),
                ));
            }
            "limit" if !allow_limit => {
                return Err(bad(
                    k,
                    "`limit` does not apply to the stream: it sends every event of the view",
                ));
            }
            "limit" => {
                once(limit.is_some())?;
                limit = Some(
                    v.parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            bad(
                                "limit",
                                format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                            )
                        })?,
                );
            }
            "after" => {
                once(after.is_some())?;
                after = Some(parse_id("after", v)?);
            }
            "quiet" => {
                once(quiet.is_some())?;
                quiet = Some(match v.as_str() {
                    "1" | "true" => true,
                    "0" | "false" | "" => false,
                    _ => return Err(bad("quiet", "quiet must be 1 or 0")),
                });
            }
            _ => view.push((k.clone(), v.clone())),
        }
    }
    let mut query = parse_query(&view)?;
    if quiet == Some(true) {
        query.hide = Filter {
            items: noise.condition().into_iter().collect(),
            ..Default::default()
        };
    }
    Ok(LiveParams {
        query,
        after,
        limit,
    })
}

/// An event id as a client sends it back (`after`, `Last-Event-ID`): a whole number from 0.
pub(super) fn parse_id(field: &str, v: &str) -> Result<i64, ApiError> {
    v.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            bad(
                field,
                format!("{field} must be an event id (a whole number from 0)"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn field(r: Result<LiveParams, ApiError>) -> Option<String> {
        match r {
            Err(ApiError::BadRequest(_, f)) => f,
            Err(e) => panic!("not a 400: {e}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn paging_parameters_are_refused_by_name() {
        let noise = NoisyEvents::default();
        for k in ["sort", "cursor", "limit"] {
            let r = parse_params(&pairs(&[(k, "1")]), &noise, false);
            assert_eq!(field(r).as_deref(), Some(k));
        }
        let ok = parse_params(&pairs(&[("limit", "10")]), &noise, true).unwrap();
        assert_eq!(ok.limit, Some(10));
        for bad in ["0", "2001", "x"] {
            let r = parse_params(&pairs(&[("limit", bad)]), &noise, true);
            assert_eq!(field(r).as_deref(), Some("limit"), "{bad}");
        }
    }

    #[test]
    fn after_and_quiet_are_checked_and_the_view_is_the_lists() {
        let noise = NoisyEvents::default();
        let p = parse_params(
            &pairs(&[("after", "42"), ("quiet", "1"), ("event", "Login")]),
            &noise,
            false,
        )
        .unwrap();
        assert_eq!(p.after, Some(42));
        assert_eq!(p.query.event.as_deref(), Some("Login"));
        assert!(!p.query.hide.is_empty());
        for (k, v) in [
            ("after", "-1"),
            ("after", "x"),
            ("quiet", "yes"),
            ("colour", "red"),
        ] {
            let r = parse_params(&pairs(&[(k, v)]), &noise, false);
            assert_eq!(field(r).as_deref(), Some(k), "{k}={v}");
        }
        let r = parse_params(&pairs(&[("after", "1"), ("after", "2")]), &noise, false);
        assert_eq!(field(r).as_deref(), Some("after"));
    }
}
