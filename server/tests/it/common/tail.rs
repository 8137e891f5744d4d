//! Helpers of the live tail tests: opening a stream, reading its messages with deadlines, and
//! posting events that the tail then delivers.

#![allow(dead_code)]

use serde_json::Value;
use tokio::time::{Duration, Instant, timeout_at};

use super::TestApp;
use super::event;
use super::sse::{Frame, SseReader};

pub fn deadline(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

/// Opens the stream with the test key; `query` is a raw query string.
pub async fn open(app: &TestApp, query: &str, last_event_id: Option<i64>) -> SseReader {
    open_at(&app.client, &app.base, &app.key, query, last_event_id).await
}

pub async fn open_at(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    query: &str,
    last_event_id: Option<i64>,
) -> SseReader {
    let mut req = client
        .get(format!("{base}/api/v1/events/stream?{query}"))
        .bearer_auth(key);
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    let resp = req.send().await.expect("request");
    assert_eq!(resp.status(), 200, "{query}");
    assert_eq!(
        resp.headers()["content-type"].to_str().ok(),
        Some("text/event-stream")
    );
    SseReader::new(resp)
}

/// The next message that is not a keep-alive comment.
pub async fn next_message(reader: &mut SseReader, until: Instant) -> Frame {
    loop {
        let frame = timeout_at(until, reader.next())
            .await
            .expect("a message before the deadline")
            .expect("the stream is still open");
        if frame.event.is_some() {
            return frame;
        }
    }
}

/// Reads the `ready` message every stream starts with; returns where the stream starts.
pub async fn ready(reader: &mut SseReader) -> i64 {
    let frame = next_message(reader, deadline(10)).await;
    assert!(frame.is("ready"), "{frame:?}");
    let at = frame.json()["resume_after"].as_i64().expect("resume_after");
    assert_eq!(frame.id(), at);
    at
}

/// Events received until one with an id of at least `last` (no `skipped` allowed).
pub async fn events_until(reader: &mut SseReader, last: i64) -> Vec<Value> {
    let until = deadline(20);
    let mut got = Vec::new();
    loop {
        let frame = next_message(reader, until).await;
        assert!(frame.is("audit_event"), "{frame:?}");
        let e = frame.json();
        assert_eq!(e["id"].as_i64(), Some(frame.id()), "id: is the event's id");
        got.push(e);
        if frame.id() >= last {
            return got;
        }
    }
}

pub fn ids_of(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e["id"].as_i64().expect("id"))
        .collect()
}

/// Posts these events in one request; returns their ids.
pub async fn ingest(app: &TestApp, events: Vec<Value>) -> Vec<i64> {
    let resp = app.post(&Value::Array(events)).await;
    assert_eq!(resp.status(), 201);
    ingested_ids(&resp.json().await.expect("json"))
}

pub fn ingested_ids(body: &Value) -> Vec<i64> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_i64().expect("stored"))
        .collect()
}

pub fn named(name: &str, n: usize) -> Vec<Value> {
    (0..n).map(|_| event(name, 0)).collect()
}
