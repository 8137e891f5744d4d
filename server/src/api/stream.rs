//! `GET /api/v1/events/stream?after=&<the list's view parameters>&quiet=`: the live tail as
//! Server-Sent Events. Each event of the view that is committed after the stream's position is sent
//! once, in id order, as `event: audit_event`, `id: <id>`, `data: <the event as the list renders
//! it>`. A reconnecting `EventSource` sends `Last-Event-ID`, and gets exactly what it missed.
//!
//! How a stream works (see [`Tail`]):
//! - Its position is an event id: every event of the view up to it has been sent (or skipped). It
//!   starts at `Last-Event-ID`, else `after=`, else the newest committed id (only new events).
//! - It reads from the store, never from memory shared with writers: the view's events after the
//!   position and up to the newest id it knows committed, in id order, through the list's own WHERE
//!   clause ([`app::store::Store::ids_after`]). Ids follow commit order on both stores, so
//!   nothing committed can be passed over, and nothing uncommitted is ever sent. Streams of the same
//!   view share that read ([`SharedReads`]), and each event's JSON is read and rendered once per
//!   server, whatever the number of streams ([`Rendered`]).
//! - The change feed ([`app::store::Store::subscribe`]) only says when to read again and up to
//!   which id. A lagging receiver or a re-connected PostgreSQL listener
//!   ([`app::store::Store::feed_resets`]) makes it ask the store for the newest id instead: a lost
//!   notice delays nothing and loses nothing.
//!
//! Back-pressure: axum polls the stream only when the response body is wanted, and hyper stops
//! wanting it while the socket's buffers are full. So a client that does not read makes the server
//! do nothing for it: its backlog stays in the database, and the stream holds at most one read of
//! [`READ_BATCH`] events. When the client reads again and more than `max_backlog` events of its
//! view are waiting, the stream drops them, jumps to the newest id and sends `event: skipped`
//! (`data: {"skipped": N, "exact": true, "resume_after": ID}`) instead. Other clients never wait
//! for it: each stream reads for itself.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use app::events::query::EventQuery;
use app::events::stats::COUNT_CAP;
use app::store::{Committed, Store, StoreError};
use app::tail::{EVENT_MESSAGE, READY_MESSAGE, Ready, SKIPPED_MESSAGE, Skipped};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt as _, stream};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use super::live::{LiveStats, parse_id, parse_params};
use super::rendered::Rendered;
use super::shared_reads::{SharedReads, view_key};
use super::{ApiError, Reader};
use crate::AppState;

/// Events one read of the store returns at most, so at most this many wait in a stream's memory.
pub const READ_BATCH: u64 = 100;
/// The least time between two reads of one stream: the commits of that time are read together.
/// Under steady ingest (many small commits) this bounds each stream's queries per second, and adds
/// at most this much latency.
pub const READ_INTERVAL: Duration = Duration::from_millis(25);

pub async fn stream(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let mut params = parse_params(&params, &state.noise, false)?;
    params.query.scope = reader.scope.clone();
    let view = app::accounts::looked::Looked::View {
        query: &params.query,
        via: "live tail",
    };
    reader.looked(&state, view).await?;
    // A reconnecting EventSource repeats the URL of its first connection (with its `after`) and
    // adds the id of the last message it received, which is the later of the two positions.
    let resume = match headers.get("last-event-id") {
        Some(v) => {
            let text = v.to_str().unwrap_or("x");
            Some(parse_id("Last-Event-ID", text)?)
        }
        None => params.after,
    };
    let live = &state.live;
    // Subscribed before the newest id is read: every later commit is announced to this stream.
    let feed = state.store.subscribe();
    let resets = state.store.feed_resets();
    let newest = state.store.newest_id().await.map_err(ApiError::store)?;
    // An id beyond the newest committed one was not issued by this database: start from the newest.
    let pos = resume.map_or(newest, |p| p.min(newest));
    // Counted from here; the tail's drop (when the response ends) counts it out.
    live.stats.opened();
    let view = view_key(&params.query);
    let tail = Tail {
        store: state.store.clone(),
        query: params.query,
        feed,
        resets,
        closing: live.closing(),
        pos,
        known: newest,
        pending: VecDeque::new(),
        rendered: Arc::clone(&live.rendered),
        view,
        reads: Arc::clone(&live.reads),
        last_read: None,
        batch: READ_BATCH.min(live.config.max_backlog),
        max_backlog: live.config.max_backlog,
        stats: Arc::clone(&live.stats),
    };
    let ready = message(READY_MESSAGE, pos, &Ready { resume_after: pos });
    let sse = Sse::new(stream::once(async move { ready }).chain(tail.into_stream())).keep_alive(
        KeepAlive::new()
            .interval(live.config.keep_alive)
            .text("keep-alive"),
    );
    // Asks nginx-style proxies not to buffer the response (others may still: the page then polls).
    let no_buffering = (
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    Ok(([no_buffering], sse).into_response())
}

/// One SSE message: its name, its id (an event id: where a reconnection continues) and its data.
fn message(name: &str, id: i64, data: &impl serde::Serialize) -> Result<SseEvent, axum::Error> {
    SseEvent::default()
        .event(name)
        .id(id.to_string())
        .json_data(data)
}

/// What a stream sends after its `ready` message.
enum Message {
    /// An event's id and its JSON, as the list renders it.
    Event(i64, Arc<str>),
    Skipped(Skipped),
}

impl Message {
    fn to_sse(&self) -> Result<SseEvent, axum::Error> {
        match self {
            Message::Event(id, json) => Ok(SseEvent::default()
                .event(EVENT_MESSAGE)
                .id(id.to_string())
                .data(&**json)),
            Message::Skipped(s) => message(SKIPPED_MESSAGE, s.resume_after, s),
        }
    }
}

/// One client's stream: its view and position, and the feed that says when to read.
struct Tail {
    store: Store,
    query: EventQuery,
    feed: broadcast::Receiver<Committed>,
    resets: watch::Receiver<u64>,
    closing: watch::Receiver<bool>,
    /// Every event of the view with an id up to this one has been read (into `pending`) or skipped.
    pos: i64,
    /// The newest id known to be committed.
    known: i64,
    /// Events read and not yet sent (id and JSON), ascending; at most `batch`.
    pending: VecDeque<(i64, Arc<str>)>,
    rendered: Arc<Rendered>,
    /// The view's key and the reads it shares with the other streams of the same view.
    view: Arc<str>,
    reads: Arc<SharedReads>,
    last_read: Option<Instant>,
    batch: u64,
    max_backlog: u64,
    stats: Arc<LiveStats>,
}

impl Drop for Tail {
    fn drop(&mut self) {
        self.stats.closed();
    }
}

impl Tail {
    /// The stream of messages; it ends at shutdown, when the store closes, or after a store
    /// failure (logged; the client re-connects and resumes).
    fn into_stream(self) -> impl Stream<Item = Result<SseEvent, axum::Error>> + Send + 'static {
        stream::unfold(self, |mut tail| async move {
            match tail.next().await {
                Ok(Some(m)) => Some((m.to_sse(), tail)),
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = %e, "live stream stopped by a store failure");
                    None
                }
            }
        })
    }

    /// The next message, waiting for one as long as it takes; `None` when the stream should end.
    /// Runs only when the response wants more (see the module comment on back-pressure).
    async fn next(&mut self) -> Result<Option<Message>, StoreError> {
        loop {
            if *self.closing.borrow() {
                return Ok(None);
            }
            if let Some((id, json)) = self.pending.pop_front() {
                self.stats.add_sent(1);
                return Ok(Some(Message::Event(id, json)));
            }
            if let Some(at) = self.last_read.map(|t| t + READ_INTERVAL)
                && at > Instant::now()
            {
                tokio::select! {
                    _ = self.closing.wait_for(|c| *c) => return Ok(None),
                    () = tokio::time::sleep_until(at) => {}
                }
            }
            self.take_notices().await?;
            if self.pos < self.known {
                self.last_read = Some(Instant::now());
                if let Some(skipped) = self.read().await? {
                    return Ok(Some(Message::Skipped(skipped)));
                }
                continue;
            }
            if !self.wait().await? {
                return Ok(None);
            }
        }
    }

    /// Reads the view after `pos` up to `known` into `pending`, one batch at most; or, when more
    /// than `max_backlog` events are waiting, skips them all. The database says which ids, in a
    /// read shared with the streams of the same view ([`SharedReads`]: it may end before or after
    /// `known`); their JSON comes from the server's shared [`Rendered`] events.
    async fn read(&mut self) -> Result<Option<Skipped>, StoreError> {
        let limit = u32::try_from(self.batch + 1).unwrap_or(u32::MAX);
        let answer = self
            .reads
            .ids_after(
                &self.store,
                &self.view,
                &self.query,
                self.pos,
                self.known,
                limit,
            )
            .await?;
        let mut ids = answer.ids.to_vec();
        // Every id up to the answer's end was committed, whoever read it.
        self.known = self.known.max(answer.upto);
        if ids.len() as u64 > self.batch {
            // More than one batch is waiting: is it more than this client may fall behind?
            let cap = COUNT_CAP.max(self.max_backlog);
            let backlog = self
                .store
                .count_after(&self.query, self.pos, self.known, cap)
                .await?;
            if !backlog.exact || backlog.value > self.max_backlog {
                self.stats.add_skipped(backlog.value);
                self.pos = self.known;
                return Ok(Some(Skipped {
                    skipped: backlog.value,
                    exact: backlog.exact,
                    resume_after: self.known,
                }));
            }
            ids.truncate(self.batch as usize);
            self.pos = ids.last().copied().unwrap_or(answer.upto);
        } else {
            self.pos = answer.upto;
        }
        let events = self.rendered.get(&self.store, &ids).await?;
        self.pending.extend(events);
        Ok(None)
    }

    /// Takes the notices already waiting, without waiting for more, so `known` is as new as it can
    /// be before a read.
    async fn take_notices(&mut self) -> Result<(), StoreError> {
        let mut ask_store = self.resets.has_changed().unwrap_or(false);
        loop {
            match self.feed.try_recv() {
                Ok(c) => self.known = self.known.max(c.last_id),
                Err(TryRecvError::Lagged(_)) => ask_store = true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        if ask_store {
            self.resets.mark_unchanged();
            self.known = self.known.max(self.store.newest_id().await?);
        }
        Ok(())
    }

    /// Waits for a commit (or a feed reset) that moves `known`; false when the stream should end.
    async fn wait(&mut self) -> Result<bool, StoreError> {
        let ask_store = tokio::select! {
            _ = self.closing.wait_for(|c| *c) => return Ok(false),
            notice = self.feed.recv() => match notice {
                Ok(c) => {
                    self.known = self.known.max(c.last_id);
                    false
                }
                // Notices were lost to this receiver: the store knows what was committed.
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => return Ok(false),
            },
            reset = self.resets.changed() => match reset {
                Ok(()) => true,
                Err(_) => return Ok(false),
            },
        };
        if ask_store {
            self.resets.mark_unchanged();
            self.known = self.known.max(self.store.newest_id().await?);
        }
        Ok(true)
    }
}
