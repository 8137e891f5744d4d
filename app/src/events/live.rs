//! The page's live tail: the connection that follows the view (see [`crate::tail::client`]), the
//! arrivals it shows above the table or holds back while the reader is busy, the Live switch with
//! its status and rate, the "N new events" bar, and the clock that makes relative times tick.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::browser::{scroll_to_table, table_scrolled};
use super::model::Event;
use crate::tail::client::{Connection, Message, POLL_EVERY_MS, Status, connect};
use crate::tail::state::{TailState, rate_label};

/// Where a tail starts: the view's query, the first page's position and the ids it shows past it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TailKey {
    pub query: String,
    pub after: i64,
    pub page_ids: Vec<i64>,
}

/// The live tail's state on the page; all of it is signals, so it is `Copy`.
#[derive(Clone, Copy)]
pub struct LiveTail {
    pub state: RwSignal<TailState>,
    /// How events arrive; `None` while the tail is off.
    pub status: RwSignal<Option<Status>>,
    pub paused: RwSignal<bool>,
    /// The pointer is over the table's rows.
    pub hovering: RwSignal<bool>,
    /// The table's first row is scrolled out of sight.
    pub scrolled: RwSignal<bool>,
    /// Events per second, refreshed by the clock.
    pub rate: RwSignal<f64>,
}

impl LiveTail {
    /// Arrivals wait behind the bar rather than move the rows the reader is looking at.
    pub fn holding(&self) -> bool {
        self.paused.get() || self.hovering.get() || self.scrolled.get()
    }

    /// Arrivals on screen, newest first.
    pub fn shown(&self) -> Vec<Event> {
        self.state.with(|s| s.shown().to_vec())
    }
}

/// The current time, ticking every second once the page runs in the browser; `None` before (the
/// server render and hydration show no relative times, which would differ between the two).
#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<Option<DateTime<Utc>>>);

/// Milliseconds since the epoch, as the browser's clock says.
pub fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Utc::now().timestamp_millis() as f64
    }
}

/// Starts the clock, the rate indicator and the tail of `key` (none while it is `None`). `reload`
/// reads the first page again: the page calls it when the arrivals no longer fit (a new key follows,
/// and the tail starts again from the new page).
pub fn live_tail(key: Signal<Option<TailKey>>, reload: Callback<()>) -> (LiveTail, Clock) {
    let tail = LiveTail {
        state: RwSignal::new(TailState::default()),
        status: RwSignal::new(None),
        paused: RwSignal::new(false),
        hovering: RwSignal::new(false),
        scrolled: RwSignal::new(false),
        rate: RwSignal::new(0.0),
    };
    let clock = Clock(RwSignal::new(None));
    // A reload is asked for once per tail.
    let reloading = StoredValue::new(false);
    let check_reload = move || {
        if tail.state.with_untracked(TailState::needs_reload) && !reloading.get_value() {
            reloading.set_value(true);
            reload.run(());
        }
    };

    // The effect keeps the open connection as its value: the next run (a new key) drops the old
    // one, which closes it, and so does the effect's disposal. Effects run only in the browser.
    Effect::new(move |previous: Option<Option<Connection>>| {
        // Closes the previous connection (on the server, where effects never run, it is inert).
        #[allow(clippy::drop_non_drop)]
        drop(previous);
        reloading.set_value(false);
        let Some(key) = key.get() else {
            // Turned off: what arrived stays on screen until the view changes.
            tail.status.set(None);
            return None;
        };
        tail.state
            .set(TailState::new(key.after, key.page_ids, now_ms()));
        let sink = move |m: Message| match m {
            Message::Status(s) => tail.status.set(Some(s)),
            Message::Event(e) => {
                let hold = tail.paused.get_untracked()
                    || tail.hovering.get_untracked()
                    || tail.scrolled.get_untracked();
                tail.state.update(|s| s.receive(*e, hold, now_ms()));
                check_reload();
            }
            Message::Skipped(s) => tail.state.update(|t| t.skip(s)),
        };
        Some(connect(key.query, key.after, sink))
    });

    // The reader is free again: what waited goes on top.
    Effect::new(move |_| {
        if !tail.holding() && tail.state.with_untracked(|s| s.held() > 0) {
            tail.state.update(TailState::release);
            check_reload();
        }
    });

    // Scrolling the table's first row out of sight holds arrivals back.
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::scroll, move |_| {
            tail.scrolled.set(table_scrolled());
        });
        on_cleanup(move || handle.remove());
    });

    // The clock: relative times and the rate.
    Effect::new(move |_| {
        let alive = Arc::new(AtomicBool::new(true));
        on_cleanup({
            let alive = alive.clone();
            move || alive.store(false, Ordering::Relaxed)
        });
        clock.0.set(Some(Utc::now()));
        tick(alive, move || {
            clock.0.try_set(Some(Utc::now()));
            let rate = tail.state.try_with_untracked(|s| s.rate(now_ms()));
            if let Some(rate) = rate {
                tail.rate.try_set(rate);
            }
        });
    });
    (tail, clock)
}

/// Calls `f` every second while `alive`.
fn tick(alive: Arc<AtomicBool>, f: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        while alive.load(Ordering::Relaxed) {
            gloo_timers::future::TimeoutFuture::new(1_000).await;
            if alive.load(Ordering::Relaxed) {
                f();
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (alive, f);
}

/// The Live switch, and while it is on: how events arrive, their rate, and Pause/Resume.
/// `unavailable` says why the view cannot be followed (a time range that has ended).
#[component]
pub fn LiveControls(
    tail: LiveTail,
    on: Signal<bool>,
    unavailable: Signal<Option<&'static str>>,
    on_toggle: Callback<bool>,
) -> impl IntoView {
    let status = move || {
        let rate = rate_label(tail.rate.get());
        if tail.paused.get() {
            return "Paused".to_string();
        }
        match tail.status.get() {
            None if on.get() => "Waiting for the events…".into(),
            None => String::new(),
            Some(Status::Connecting) => "Connecting…".into(),
            Some(Status::Streaming) => format!("Live · {rate}"),
            Some(Status::Reconnecting) => "Reconnecting…".into(),
            Some(Status::Polling) => format!(
                "Live · {rate} · checking every {} s (the live stream could not be opened)",
                POLL_EVERY_MS / 1000
            ),
            Some(Status::Failed(why)) => format!("Live updates failed: {why}; retrying"),
        }
    };
    let streaming = move || matches!(tail.status.get(), Some(Status::Streaming | Status::Polling));
    view! {
        <div class="live">
            <label class="switch" title=move || unavailable.get().unwrap_or("Show new events as they arrive")>
                <input
                    type="checkbox"
                    data-testid="live-switch"
                    prop:checked=move || on.get() && unavailable.get().is_none()
                    disabled=move || unavailable.get().is_some()
                    on:change=move |ev| on_toggle.run(event_target_checked(&ev))
                />
                " Live"
            </label>
            {move || (on.get() && unavailable.get().is_none()).then(|| view! {
                <span
                    class="live-status"
                    class:live-on=move || streaming() && !tail.paused.get()
                    data-testid="live-status"
                    aria-live="polite"
                >
                    {status}
                </span>
                <button class="btn btn-small" data-testid="live-pause" on:click=move |_| tail.paused.update(|p| *p = !*p)>
                    {move || if tail.paused.get() { "Resume" } else { "Pause" }}
                </button>
            })}
        </div>
    }
    .into_any()
}

/// The "N new events" bar (arrivals held back) and the "N events skipped" notice. `reload` reads
/// the first page again.
#[component]
pub fn LiveNotices(tail: LiveTail, reload: Callback<()>) -> impl IntoView {
    let held = move || tail.state.with(TailState::held);
    let show = move |_| {
        tail.paused.set(false);
        tail.hovering.set(false);
        scroll_to_table();
        tail.scrolled.set(false);
        tail.state.update(TailState::release);
        if tail.state.with_untracked(TailState::needs_reload) {
            reload.run(());
        }
    };
    view! {
        {move || (held() > 0).then(|| {
            let n = held();
            view! {
                <button class="new-events" data-testid="new-events" on:click=show>
                    {format!("↑ {n} new event{}", if n == 1 { "" } else { "s" })}
                    {move || tail.paused.get().then_some(" — paused, click to resume")}
                </button>
            }
        })}
        {move || tail.state.with(TailState::skipped).map(|(n, exact)| view! {
            <div class="live-skipped" data-testid="live-skipped" role="status">
                {format!(
                    "{}{n} event{} skipped — this page fell behind the live stream. Reload to see them.",
                    if exact { "" } else { "At least " },
                    if n == 1 { "" } else { "s" },
                )}
                <button class="btn btn-small" on:click=move |_| reload.run(())>"Reload"</button>
            </div>
        })}
    }
    .into_any()
}
