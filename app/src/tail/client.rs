//! The browser's end of the live tail: an `EventSource` on [`STREAM_PATH`], or, when the stream
//! cannot be opened (a proxy that refuses or buffers it), polling [`POLL_PATH`] every 2 s. Either
//! way the page receives the view's events in id order, each once, through one function.
//!
//! Dropping the [`Connection`] closes the stream and stops the polling. Outside the browser
//! (server rendering) [`connect`] does nothing: the page only calls it from an effect.

use crate::events::model::Event;

use super::Skipped;
#[cfg(feature = "hydrate")]
use super::{
    EVENT_MESSAGE, POLL_PATH, READY_MESSAGE, Ready, SKIPPED_MESSAGE, STREAM_PATH, TailPage,
};

/// How often the fallback asks for new events.
pub const POLL_EVERY_MS: u32 = 2_000;
/// How long a stream may stay silent before its first message, before the page polls instead (a
/// buffering proxy holds the stream's messages back).
pub const READY_TIMEOUT_MS: u32 = 5_000;

/// How the live tail is getting its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Streaming,
    /// The stream broke; the browser is opening it again (and will get what it missed).
    Reconnecting,
    /// The stream could not be opened: polling every 2 s instead.
    Polling,
    /// The last poll failed, with the server's reason; polling goes on.
    Failed(String),
}

/// What the connection tells the page.
#[derive(Clone, Debug)]
pub enum Message {
    Status(Status),
    Event(Box<Event>),
    Skipped(Skipped),
}

/// An open live tail; dropping it closes it.
pub struct Connection {
    #[cfg(feature = "hydrate")]
    inner: std::rc::Rc<imp::Inner>,
}

/// Starts the tail of the view `query` (see [`super::view_query`]) after event `after`; `sink`
/// receives what arrives.
pub fn connect(query: String, after: i64, sink: impl Fn(Message) + 'static) -> Connection {
    #[cfg(feature = "hydrate")]
    {
        Connection {
            inner: imp::connect(query, after, Box::new(sink)),
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (query, after, sink);
        Connection {}
    }
}

#[cfg(feature = "hydrate")]
impl Drop for Connection {
    fn drop(&mut self) {
        imp::close(&self.inner);
    }
}

#[cfg(feature = "hydrate")]
mod imp {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use gloo_timers::future::TimeoutFuture;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    use web_sys::{EventSource, MessageEvent};

    use super::*;

    type Listener = Closure<dyn FnMut(web_sys::Event)>;

    pub struct Inner {
        query: String,
        sink: Box<dyn Fn(Message)>,
        /// The last event id received (or the position the server reported).
        last: Cell<i64>,
        alive: Cell<bool>,
        ready: Cell<bool>,
        source: RefCell<Option<(EventSource, Vec<Listener>)>>,
    }

    impl Inner {
        fn url(&self, path: &str) -> String {
            let sep = if self.query.is_empty() { "" } else { "&" };
            format!("{path}?{}{sep}after={}", self.query, self.last.get())
        }

        fn status(&self, s: Status) {
            (self.sink)(Message::Status(s));
        }

        fn advance(&self, id: i64) {
            self.last.set(self.last.get().max(id));
        }
    }

    pub fn connect(query: String, after: i64, sink: Box<dyn Fn(Message)>) -> Rc<Inner> {
        let inner = Rc::new(Inner {
            query,
            sink,
            last: Cell::new(after),
            alive: Cell::new(true),
            ready: Cell::new(false),
            source: RefCell::new(None),
        });
        open_stream(&inner);
        inner
    }

    pub fn close(inner: &Rc<Inner>) {
        inner.alive.set(false);
        close_stream(inner);
    }

    /// Closes the stream and drops its listeners (which hold the connection). The listeners are
    /// dropped after the current task: one of them may be what is running now.
    fn close_stream(inner: &Inner) {
        let taken = inner.source.borrow_mut().take();
        if let Some((source, listeners)) = taken {
            source.close();
            leptos::task::spawn_local(async move { drop(listeners) });
        }
    }

    fn open_stream(inner: &Rc<Inner>) {
        inner.status(Status::Connecting);
        let Ok(source) = EventSource::new(&inner.url(STREAM_PATH)) else {
            start_polling(inner.clone());
            return;
        };
        let mut listeners = Vec::new();
        let mut on = |name: &str, handle: fn(&Rc<Inner>, &EventSource, Option<String>)| {
            let me = inner.clone();
            let es = source.clone();
            let listener: Listener = Closure::new(move |ev: web_sys::Event| {
                let data = ev
                    .dyn_ref::<MessageEvent>()
                    .and_then(|m| m.data().as_string());
                handle(&me, &es, data);
            });
            let _ =
                source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            listeners.push(listener);
        };
        on(READY_MESSAGE, |inner, _, data| {
            if let Some(r) = data.and_then(|d| serde_json::from_str::<Ready>(&d).ok()) {
                inner.advance(r.resume_after);
            }
            inner.ready.set(true);
            inner.status(Status::Streaming);
        });
        on(EVENT_MESSAGE, |inner, _, data| {
            if let Some(e) = data.and_then(|d| serde_json::from_str::<Event>(&d).ok()) {
                inner.advance(e.id);
                (inner.sink)(Message::Event(Box::new(e)));
            }
        });
        on(SKIPPED_MESSAGE, |inner, _, data| {
            if let Some(s) = data.and_then(|d| serde_json::from_str::<Skipped>(&d).ok()) {
                inner.advance(s.resume_after);
                (inner.sink)(Message::Skipped(s));
            }
        });
        on("error", |inner, es, _| {
            if es.ready_state() == EventSource::CLOSED {
                // The browser gave up (an error status, or not an event stream): poll instead.
                close_stream(inner);
                if inner.alive.get() {
                    start_polling(inner.clone());
                }
            } else {
                inner.status(Status::Reconnecting);
            }
        });
        *inner.source.borrow_mut() = Some((source.clone(), listeners));

        // A proxy that buffers the stream lets it open but delivers nothing: give up after a while.
        let me = inner.clone();
        leptos::task::spawn_local(async move {
            TimeoutFuture::new(READY_TIMEOUT_MS).await;
            let same = me
                .source
                .borrow()
                .as_ref()
                .is_some_and(|(s, _)| *s == source);
            if me.alive.get() && same && !me.ready.get() {
                close_stream(&me);
                start_polling(me);
            }
        });
    }

    fn start_polling(inner: Rc<Inner>) {
        inner.status(Status::Polling);
        leptos::task::spawn_local(async move {
            while inner.alive.get() {
                match fetch_page(&inner.url(POLL_PATH)).await {
                    Ok(page) => {
                        for e in page.events {
                            inner.advance(e.id);
                            (inner.sink)(Message::Event(Box::new(e)));
                        }
                        inner.advance(page.resume_after);
                        inner.status(Status::Polling);
                        if page.more {
                            continue;
                        }
                    }
                    Err(reason) => inner.status(Status::Failed(reason)),
                }
                TimeoutFuture::new(POLL_EVERY_MS).await;
            }
        });
    }

    async fn fetch_page(url: &str) -> Result<TailPage, String> {
        let (status, text) = crate::events::browser::fetch_text("GET", url, None).await?;
        if !(200..300).contains(&status) {
            return Err(crate::events::browser::api_error(status, &text));
        }
        serde_json::from_str(&text).map_err(|_| "the server's answer was not understood".into())
    }
}
