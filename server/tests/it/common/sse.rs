//! A small Server-Sent Events reader over a streaming HTTP response, for the tests and the stream
//! benchmark (which includes this file by path): it splits the body into messages at blank lines
//! and reads their `event`, `id` and `data` fields and comment lines, as an `EventSource` would.

#![allow(dead_code)]

use serde_json::Value;

/// One SSE message, or a comment-only block (a keep-alive).
#[derive(Debug, Default, Clone)]
pub struct Frame {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
    pub comments: Vec<String>,
}

impl Frame {
    pub fn is(&self, name: &str) -> bool {
        self.event.as_deref() == Some(name)
    }

    /// `data` as JSON; panics when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("data is not JSON ({e}): {self:?}"))
    }

    /// `id` as an event id; panics when it is missing or not a number.
    pub fn id(&self) -> i64 {
        self.id
            .as_deref()
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("no numeric id: {self:?}"))
    }
}

/// Reads messages from a response as they arrive.
pub struct SseReader {
    resp: reqwest::Response,
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts.
    start: usize,
    /// Bytes of the body read so far.
    pub bytes: usize,
}

impl SseReader {
    pub fn new(resp: reqwest::Response) -> Self {
        Self {
            resp,
            buf: Vec::new(),
            start: 0,
            bytes: 0,
        }
    }

    /// The next message; `None` when the body ends. Cancel-safe: a message is only taken from the
    /// buffer once complete, and a chunk only once it arrived.
    pub async fn next(&mut self) -> Option<Frame> {
        loop {
            let unread = &self.buf[self.start..];
            if let Some(end) = unread.windows(2).position(|w| w == b"\n\n") {
                let frame = parse(&String::from_utf8_lossy(&unread[..end]));
                self.start += end + 2;
                return Some(frame);
            }
            match self.resp.chunk().await {
                Ok(Some(chunk)) => {
                    self.bytes += chunk.len();
                    self.buf.drain(..self.start);
                    self.start = 0;
                    self.buf.extend_from_slice(&chunk);
                }
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

fn parse(block: &str) -> Frame {
    let mut frame = Frame::default();
    for line in block.split('\n') {
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match name {
            "" => frame.comments.push(value.to_string()),
            "event" => frame.event = Some(value.to_string()),
            "id" => frame.id = Some(value.to_string()),
            "data" => {
                if !frame.data.is_empty() {
                    frame.data.push('\n');
                }
                frame.data.push_str(value);
            }
            _ => {}
        }
    }
    frame
}
