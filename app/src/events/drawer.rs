//! The event drawer: every field of one event in a panel beside the table, opened by a row's
//! "View Logs" (or Enter on a focused row) and at the event's permalink,
//! `/settings/audit-logs/events/{id}`, which is a child route of the page — the table stays as
//! it is while the drawer opens, moves between rows and closes.
//!
//! The drawer reads its event through [`get_event`] (on the server for a permalink, so the first
//! response already shows it), or straight from the table when the row is on the page.

use std::time::Duration;

use leptos::ev;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::api::get_event;
use super::browser;
use super::details::event_details;
use super::model::Event;
use super::page::ValueClick;
use super::time::Zone;
use super::view::View;

/// The drawer's element.
const DRAWER: &str = "[data-testid=\"event-drawer\"]";

/// The permalink path of event `id`.
pub fn event_path(id: i64) -> String {
    format!("{}/events/{id}", View::PATH)
}

/// The event a page path shows in the drawer: 42 for `/settings/audit-logs/events/42`.
pub fn drawer_event(path: &str) -> Option<i64> {
    path.strip_prefix(View::PATH)?
        .strip_prefix("/events/")?
        .trim_end_matches('/')
        .parse()
        .ok()
        .filter(|id| *id > 0)
}

/// What the page gives the drawer, its child route, through context.
#[derive(Clone, Copy)]
pub struct DrawerContext {
    /// The table's rows in their order (the first page and those loaded with "Load more"); `None`
    /// until the first page arrived or when it failed.
    pub rows: Signal<Option<Vec<Event>>>,
    pub zone: Signal<Zone>,
    /// Adds a condition to the view, as clicking a value in the table does.
    pub on_value: Callback<ValueClick>,
    /// Shows event `Some(id)` in the drawer, or closes it (`None`), keeping the view; with `true`
    /// the current history entry is replaced rather than a new one added.
    pub show: Callback<(Option<i64>, bool)>,
}

/// The rows before and after event `id` in `rows`.
fn neighbours(rows: Option<&[Event]>, id: Option<i64>) -> (Option<i64>, Option<i64>) {
    let (Some(rows), Some(id)) = (rows, id) else {
        return (None, None);
    };
    match rows.iter().position(|e| e.id == id) {
        Some(i) => (
            i.checked_sub(1).map(|p| rows[p].id),
            rows.get(i + 1).map(|e| e.id),
        ),
        None => (None, None),
    }
}

/// The drawer, rendered by the route `/settings/audit-logs/events/:id` inside the page.
#[component]
pub fn EventDrawer() -> impl IntoView {
    let ctx = expect_context::<DrawerContext>();
    let params = use_params_map();
    // The id as written in the URL, for messages; and as a number when it is one.
    let raw = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let id = Memo::new(move |_| raw.get().parse::<i64>().ok().filter(|id| *id > 0));
    let rows = ctx.rows;
    let event = Resource::new(
        move || id.get(),
        move |id| async move {
            let Some(id) = id else {
                return Ok(None);
            };
            // Opened from the table: the row already holds the whole event.
            let known = rows.with_untracked(|r| {
                r.as_ref()
                    .and_then(|r| r.iter().find(|e| e.id == id).cloned())
            });
            match known {
                Some(e) => Ok(Some(e)),
                None => get_event(id).await,
            }
        },
    );

    // Closing returns focus to the row the drawer showed last.
    let close = move || {
        let shown = id.get_untracked();
        ctx.show.run((None, false));
        if let Some(id) = shown {
            browser::focus_row(id);
        }
    };
    let escape = window_event_listener(ev::keydown, move |ev| {
        if ev.key() == "Escape" && !ev.default_prevented() {
            ev.prevent_default();
            close();
        }
    });
    on_cleanup(move || escape.remove());

    // Focus moves into the dialog when it opens.
    let panel = NodeRef::<leptos::html::Aside>::new();
    Effect::new(move |_| {
        if let Some(el) = panel.get() {
            let _ = el.focus();
        }
    });

    let title = move || format!("Event #{}", raw.get());
    view! {
        <div class="drawer-backdrop" on:click=move |_| close()></div>
        <aside
            class="drawer"
            // A modal dialog keeps Tab and Shift-Tab among its own controls.
            on:keydown=move |ev| {
                if ev.key() == "Tab" && browser::wrap_focus(DRAWER, ev.shift_key()) {
                    ev.prevent_default();
                }
            }
            role="dialog"
            aria-modal="true"
            aria-label=move || format!("Event #{} details", raw.get())
            tabindex="-1"
            data-testid="event-drawer"
            node_ref=panel
        >
            <header class="drawer-head">
                <h2>{title}</h2>
                <Transition fallback=|| ()>
                    {move || nav_buttons(rows, id, ctx.show)}
                </Transition>
                <button
                    class="icon-btn"
                    aria-label="Close (Esc)"
                    title="Close (Esc)"
                    data-testid="drawer-close"
                    on:click=move |_| close()
                >
                    "×"
                </button>
            </header>
            <Transition fallback=|| view! { <p class="muted drawer-state">"Loading the event…"</p> }>
                {move || event.get().map(|r| match r {
                    Ok(Some(e)) => drawer_body(e, ctx.zone, ctx.on_value),
                    Ok(None) => {
                        #[cfg(feature = "ssr")]
                        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                            resp.set_status(http::StatusCode::NOT_FOUND);
                        }
                        view! {
                        <div class="drawer-state" data-testid="drawer-not-found">
                            <h3>{format!("Event #{} not found", raw.get_untracked())}</h3>
                            <p class="muted">"No event has this number. It may be mistyped, or the link may come from another installation."</p>
                        </div>
                        }
                        .into_any()
                    }
                    Err(e) if e.to_string().contains("no access:") => view! {
                        <div class="drawer-state" data-testid="drawer-no-access">
                            <h3>"No access"</h3>
                            <p class="muted">{format!("Event #{} is not among the events your role lets you see.", raw.get_untracked())}</p>
                        </div>
                    }
                    .into_any(),
                    Err(e) => view! {
                        <div class="drawer-state state-error">
                            <h3>"The event could not be loaded"</h3>
                            <p>{super::page::clean_error(&e.to_string())}</p>
                        </div>
                    }
                    .into_any(),
                })}
            </Transition>
        </aside>
    }
}

/// Previous and next: the rows above and below the shown one; disabled at the ends of the table,
/// and when the event is not in it (a permalink to an event outside the view).
fn nav_buttons(
    rows: Signal<Option<Vec<Event>>>,
    id: Memo<Option<i64>>,
    show: Callback<(Option<i64>, bool)>,
) -> AnyView {
    let (prev, next) = rows.with(|r| neighbours(r.as_deref(), id.get()));
    let no_prev = prev.is_none();
    let no_next = next.is_none();
    view! {
        <div class="drawer-nav">
            <button
                class="icon-btn"
                aria-label="Previous event"
                title="Previous event"
                data-testid="drawer-prev"
                disabled=no_prev
                on:click=move |_| show.run((prev, true))
            >
                "↑"
            </button>
            <button
                class="icon-btn"
                aria-label="Next event"
                title="Next event"
                data-testid="drawer-next"
                disabled=no_next
                on:click=move |_| show.run((next, true))
            >
                "↓"
            </button>
        </div>
    }
    .into_any()
}

/// The actions on one event (copy it, copy its link) and all its fields.
fn drawer_body(e: Event, zone: Signal<Zone>, on_value: Callback<ValueClick>) -> AnyView {
    let id = e.id;
    let json = serde_json::to_string_pretty(&e).unwrap_or_default();
    let path = event_path(id);
    view! {
        <div class="drawer-actions">
            {copy_button("Copy as JSON", "copy-json", move || json.clone())}
            {copy_button("Copy link", "copy-link", move || format!("{}{}", browser::origin(), event_path(id)))}
            <a class="permalink mono" data-testid="permalink" href=path.clone() title="Permalink to this event">
                {path.clone()}
            </a>
        </div>
        {event_details(e, zone, on_value)}
    }
    .into_any()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CopyState {
    Ready,
    Done,
    Failed,
}

/// A button that puts `text()` on the clipboard and says "Copied" for two seconds.
fn copy_button(
    label: &'static str,
    testid: &'static str,
    text: impl Fn() -> String + Send + Sync + 'static,
) -> AnyView {
    let state = RwSignal::new(CopyState::Ready);
    view! {
        <button
            class="btn btn-small"
            data-testid=testid
            on:click=move |_| {
                let text = text();
                leptos::task::spawn_local(async move {
                    let copied = browser::copy_text(text).await;
                    let _ = state.try_set(if copied { CopyState::Done } else { CopyState::Failed });
                    set_timeout(move || { let _ = state.try_set(CopyState::Ready); }, Duration::from_secs(2));
                });
            }
        >
            <span aria-live="polite">
                {move || match state.get() {
                    CopyState::Ready => label,
                    CopyState::Done => "Copied",
                    CopyState::Failed => "Copy failed",
                }}
            </span>
        </button>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permalink_paths_round_trip_and_only_name_positive_ids() {
        assert_eq!(event_path(42), "/settings/audit-logs/events/42");
        assert_eq!(drawer_event(&event_path(42)), Some(42));
        assert_eq!(drawer_event("/settings/audit-logs/events/42/"), Some(42));
        for path in [
            "/settings/audit-logs",
            "/settings/audit-logs/events/",
            "/settings/audit-logs/events/abc",
            "/settings/audit-logs/events/0",
            "/settings/audit-logs/events/-4",
            "/other/events/42",
        ] {
            assert_eq!(drawer_event(path), None, "{path}");
        }
    }

    #[test]
    fn neighbours_are_the_rows_around_the_event_and_none_at_the_ends() {
        let at = chrono::Utc::now();
        let event = |id: i64| {
            let v = serde_json::json!({
                "event": "E", "category": "C", "action": "a",
                "actor": {"id": "u", "type": "user"}
            });
            let mut e = super::super::model::parse_event(&v, at)
                .expect("valid")
                .body;
            e.event = format!("E{id}");
            Event {
                id,
                received_at: at,
                body: e,
            }
        };
        let rows: Vec<Event> = [7, 5, 3].into_iter().map(event).collect();
        assert_eq!(neighbours(Some(&rows), Some(7)), (None, Some(5)));
        assert_eq!(neighbours(Some(&rows), Some(5)), (Some(7), Some(3)));
        assert_eq!(neighbours(Some(&rows), Some(3)), (Some(5), None));
        assert_eq!(neighbours(Some(&rows), Some(4)), (None, None));
        assert_eq!(neighbours(None, Some(5)), (None, None));
        assert_eq!(neighbours(Some(&rows), None), (None, None));
    }
}
