//! Settings › Audit Logs: the event table, with the view (time range, event name, UTC switch)
//! kept in the URL, and the drawer of one event (a child route, see [`super::drawer`]).

use chrono::Utc;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::Outlet;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

use super::api::{event_names, list_events};
use super::drawer::{DrawerContext, drawer_event, event_path};
use super::export_history::ExportHistory;
use super::export_menu::ExportMenu;
use super::filter_bar::FilterBar;
use super::live::{LiveControls, LiveNotices, TailKey, live_tail};
use super::model::Event;
use super::noise::noisy_events;
use super::query::{Dir, EventPage, Sort, SortKey};
use super::request::{Request, bounds};
use super::stats_api::view_stats;
use super::stats_panel::stats_view;
use super::table::EventTable;
use super::time::{Zone, browser_zone};
use super::time_picker::TimePicker;
use super::view::View;
use crate::export::{ExportLimits, export_limits};
use crate::filters::{Condition, Field, Item, Op};

/// A click on a value in the table: filter by it ("is"), or exclude it ("is not") with a modifier
/// key held.
#[derive(Clone, Debug)]
pub struct ValueClick {
    pub field: Field,
    pub value: String,
    pub exclude: bool,
}

#[component]
pub fn AuditLogsPage() -> impl IntoView {
    let query = use_query_map();
    let view = Memo::new(move |_| View::from_query(&query.get()));
    let navigate = use_navigate();
    let location = use_location();
    // The event shown in the drawer, if one is open.
    let open_event = Memo::new(move |_| drawer_event(&location.pathname.get()));
    let set_view = Callback::new({
        let navigate = navigate.clone();
        move |v: View| {
            // An open drawer stays open: only the view's query changes.
            let path = location.pathname.get_untracked();
            navigate(
                &format!("{path}{}", v.query()),
                NavigateOptions {
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    });
    // Opens the drawer on an event (or closes it), keeping the view.
    let show = Callback::new(move |(id, replace): (Option<i64>, bool)| {
        let path = id.map_or_else(|| View::PATH.to_string(), event_path);
        navigate(
            &format!("{path}{}", view.get_untracked().query()),
            NavigateOptions {
                replace,
                scroll: false,
                ..Default::default()
            },
        );
    });

    // The server renders in UTC (it cannot know the viewer's zone); once hydrated, the page
    // switches to the browser's zone unless the view asks for UTC.
    let browser = RwSignal::new(None::<Zone>);
    Effect::new(move |_| browser.set(browser_zone()));
    let zone = Memo::new(move |_| {
        if view.get().utc {
            Zone::Utc
        } else {
            browser.get().unwrap_or(Zone::Utc)
        }
    });
    let noise = Resource::new(|| (), |_| noisy_events());
    let request = Memo::new(move |_| {
        let v = view.get();
        let (start, end) = match v.window {
            Some((from, to)) => (Some(from), Some(to)),
            None => bounds(&v.range, &zone.get()),
        };
        Request {
            start,
            end,
            event: v.event,
            filter: v.filter,
            search: v.search,
            quiet: v.quiet,
            sort: v.sort,
        }
    });
    let add_condition = Callback::new(move |click: ValueClick| {
        let mut v = view.get_untracked();
        let op = if click.exclude { Op::IsNot } else { Op::Is };
        let c = Condition {
            field: click.field,
            op,
            values: vec![click.value],
        };
        if !v.filter.items.contains(&Item::Condition(c.clone())) {
            v.filter.items.push(Item::Condition(c));
        }
        set_view.run(v);
    });

    let names = Resource::new(|| (), |_| event_names());
    // The search box's text as typed; the view's search changes on Enter. Follows the URL
    // (back/forward, pasted links).
    let search_text = RwSignal::new(view.get_untracked().search.unwrap_or_default());
    Effect::new(move |_| search_text.set(view.get().search.unwrap_or_default()));
    // The statistics ignore the sort: keyed on the rest, so sorting does not reload them.
    let stats = Resource::new(
        move || {
            let r = request.get();
            (
                r.start,
                r.end,
                r.event.clone(),
                r.filter_json(),
                r.search.clone(),
                r.quiet,
            )
        },
        |(start, end, event, filter, search, quiet)| {
            view_stats(start, end, event, filter, search, quiet)
        },
    );
    // Read in effects, outside the suspense boundaries: the view's count for Export, and the
    // noisy event names for the switch's tooltip.
    let export_total = RwSignal::new(None::<(u64, bool)>);
    Effect::new(move |_| {
        let count = stats.get().and_then(Result::ok).map(|s| s.count);
        export_total.set(count.map(|c| (c.value, c.exact && !c.estimated)));
    });
    let history_open = RwSignal::new(false);
    let history_refresh = RwSignal::new(0u64);
    let limits = RwSignal::new(ExportLimits::default());
    let limits_read = Resource::new(|| (), |_| export_limits());
    Effect::new(move |_| {
        if let Some(Ok(l)) = limits_read.get() {
            limits.set(l);
        }
    });
    let noise_title = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(n)) = noise.get() {
            noise_title.set(format!("Hides: {}", n.0.join(", ")));
        }
    });
    let zoom = Callback::new(move |window: (i64, i64)| {
        set_view.run(View {
            window: Some(window),
            ..view.get_untracked()
        });
    });
    let sort_by = Callback::new(move |key: SortKey| {
        let mut v = view.get_untracked();
        v.sort = if v.sort.key == key {
            Sort {
                key,
                dir: if v.sort.dir == Dir::Asc {
                    Dir::Desc
                } else {
                    Dir::Asc
                },
            }
        } else {
            // Times and sequence numbers read newest first; names alphabetically.
            let dir = if matches!(key, SortKey::Time | SortKey::Seq) {
                Dir::Desc
            } else {
                Dir::Asc
            };
            Sort { key, dir }
        };
        set_view.run(v);
    });
    let first = Resource::new(
        move || request.get(),
        |r| {
            let filter = r.filter_json();
            list_events(
                r.start,
                r.end,
                r.event,
                filter,
                r.search,
                r.quiet,
                r.sort.to_param(),
                None,
            )
        },
    );
    // Pages fetched with "Load more" for the current request, and that request.
    let more = RwSignal::new((request.get_untracked(), Vec::<EventPage>::new()));
    let loading_more = RwSignal::new(false);
    let more_error = RwSignal::new(None::<String>);

    let load_more = move |cursor: String| {
        let r = request.get_untracked();
        loading_more.set(true);
        more_error.set(None);
        leptos::task::spawn_local(async move {
            match list_events(
                r.start,
                r.end,
                r.event.clone(),
                r.filter_json(),
                r.search.clone(),
                r.quiet,
                r.sort.to_param(),
                Some(cursor),
            )
            .await
            {
                Ok(page) => more.update(|(for_request, pages)| {
                    if *for_request != r {
                        *for_request = r;
                        pages.clear();
                    }
                    pages.push(page);
                }),
                Err(e) => more_error.set(Some(e.to_string())),
            }
            loading_more.set(false);
        });
    };

    // The live tail follows the view from the first page's position, while the range includes now.
    let live_unavailable = Memo::new(move |_| match request.get().end {
        Some(end) if end <= Utc::now().timestamp_millis() => {
            Some("This time range has ended: choose one that includes now to follow new events")
        }
        _ => None,
    });
    let live_key = Memo::new(move |_| {
        if !view.get().live || live_unavailable.get().is_some() {
            return None;
        }
        let page = first.get()?.ok()?;
        let after = page.as_of?;
        Some(TailKey {
            query: request.get().tail_query(),
            after,
            page_ids: page
                .events
                .iter()
                .map(|e| e.id)
                .filter(|id| *id > after)
                .collect(),
        })
    });
    // Too many arrivals to keep on screen: the newest events become the table's first page again.
    let reload = Callback::new(move |()| {
        more.update(|(_, pages)| pages.clear());
        first.refetch();
    });
    let (tail, clock) = live_tail(live_key.into(), reload);
    provide_context(clock);
    // Arrivals belong to the view they arrived in.
    Effect::new(move |prev: Option<()>| {
        request.track();
        if prev.is_some() {
            tail.state.update(|s| s.clear());
        }
    });
    let has_arrivals = Memo::new(move |_| tail.state.with(|s| !s.shown().is_empty()));

    // The rows the table shows, in order: the drawer's previous and next walk through them.
    let table_rows = Signal::derive(move || {
        let page = first.get()?.ok()?;
        let r = request.get();
        let (for_request, pages) = more.get();
        let extra = if for_request == r { pages } else { Vec::new() };
        let mut rows = tail.shown();
        rows.extend(loaded_rows(page, extra));
        Some(rows)
    });
    provide_context(DrawerContext {
        rows: table_rows,
        zone: zone.into(),
        on_value: add_condition,
        show,
    });
    let on_open = Callback::new(move |id: i64| show.run((Some(id), false)));

    let table = move || {
        first.get().map(|res| match res {
            Err(e) => view! {
                <div class="state state-error" data-testid="error">
                    <h3>"The events could not be loaded"</h3>
                    <p>{clean_error(&e.to_string())}</p>
                    <button class="btn" on:click=move |_| first.refetch()>"Try again"</button>
                </div>
            }
            .into_any(),
            Ok(page) => {
                let r = request.get();
                let (for_request, pages) = more.get();
                let extra: Vec<EventPage> = if for_request == r { pages } else { Vec::new() };
                let next = extra.last().map(|p| p.next_cursor.clone()).unwrap_or(page.next_cursor.clone());
                let rows = loaded_rows(page, extra);
                if rows.is_empty() && !has_arrivals.get() {
                    return view! {
                        <div class="state state-empty" data-testid="empty">
                            <h3>"No events in this view"</h3>
                            <p>"Nothing was recorded for these filters. Try a longer time range or another event."</p>
                        </div>
                    }
                    .into_any();
                }
                let loaded = rows.len();
                let count = move || loaded + tail.state.with(|s| s.shown().len());
                view! {
                    <EventTable
                        rows
                        live=Signal::derive(move || tail.shown())
                        on_hover=Callback::new(move |over| tail.hovering.set(over))
                        zone=zone.into()
                        on_value=add_condition
                        on_open
                        selected=open_event.into()
                        sort=Signal::derive(move || view.get().sort)
                        on_sort=sort_by
                    />
                    <div class="table-footer">
                        <span class="muted" data-testid="row-count">
                            {move || {
                                let n = count();
                                format!("Showing {n} event{}", if n == 1 { "" } else { "s" })
                            }}
                        </span>
                        {next.map(|cursor| view! {
                            <button
                                class="btn"
                                data-testid="load-more"
                                disabled=move || loading_more.get()
                                on:click=move |_| load_more(cursor.clone())
                            >
                                {move || if loading_more.get() { "Loading…" } else { "Load more" }}
                            </button>
                        })}
                        {move || more_error.get().map(|e| view! {
                            <span class="error-text">{clean_error(&e)}</span>
                        })}
                    </div>
                }
                .into_any()
            }
        })
    };

    view! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="breadcrumb">"Settings › Audit Logs"</p>
                    <h1>"Audit Logs"</h1>
                    <p class="muted">"Who did what, when, from where, and with what outcome."</p>
                </div>
                <ExportMenu
                    view=Signal::derive(move || request.get().export(limits.get()))
                    limits=limits.into()
                    total=export_total.into()
                    history_open
                    history_refresh
                />
            </header>
            <ExportHistory open=history_open refresh=history_refresh zone=zone.into() />
            <div class="toolbar">
                <form class="field search" on:submit=move |ev| {
                    ev.prevent_default();
                    let text = search_text.get_untracked();
                    let search = Some(text.trim().to_string()).filter(|q| !q.is_empty());
                    set_view.run(View { search, ..view.get_untracked() });
                }>
                    <span>"Search"</span>
                    <input
                        type="search"
                        data-testid="search"
                        placeholder="Event, description, user or target — press Enter"
                        prop:value=move || search_text.get()
                        on:input=move |ev| search_text.set(event_target_value(&ev))
                    />
                </form>
                <div class="field">
                    <span>"Time range"</span>
                    <TimePicker
                        range=Signal::derive(move || view.get().range)
                        zone=zone.into()
                        on_apply=Callback::new(move |range| set_view.run(View { range, window: None, ..view.get_untracked() }))
                    />
                </div>
                <label class="field">
                    <span>"Event"</span>
                    <select
                        data-testid="event-filter"
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            let event = Some(value).filter(|e| !e.is_empty());
                            set_view.run(View { event, ..view.get_untracked() });
                        }
                    >
                        <option value="">"All events"</option>
                        <Suspense fallback=|| ()>
                            {move || names.get().map(|r| r.unwrap_or_default().into_iter().map(|n| {
                                let value = n.clone();
                                let selected = n.clone();
                                view! {
                                    <option value=value selected=move || view.get().event.as_deref() == Some(selected.as_str())>
                                        {n}
                                    </option>
                                }
                            }).collect_view())}
                        </Suspense>
                    </select>
                </label>
                <label class="switch" title=move || noise_title.get()>
                    <input
                        type="checkbox"
                        data-testid="quiet-switch"
                        prop:checked=move || view.get().quiet
                        on:change=move |ev| set_view.run(View { quiet: event_target_checked(&ev), ..view.get_untracked() })
                    />
                    " Hide noisy events"
                </label>
                <label class="switch">
                    <input
                        type="checkbox"
                        data-testid="utc-switch"
                        prop:checked=move || view.get().utc
                        on:change=move |ev| set_view.run(View { utc: event_target_checked(&ev), ..view.get_untracked() })
                    />
                    " Show UTC"
                </label>
                <span class="zone muted" data-testid="zone">{move || format!("Times in {}", zone.get().label())}</span>
                <LiveControls
                    tail
                    on=Signal::derive(move || view.get().live)
                    unavailable=live_unavailable.into()
                    on_toggle=Callback::new(move |live| set_view.run(View { live, ..view.get_untracked() }))
                />
            </div>
            <FilterBar
                filter=Signal::derive(move || view.get().filter)
                suggestions=Signal::derive(move || names.get().and_then(Result::ok).unwrap_or_default())
                on_apply=Callback::new(move |filter| set_view.run(View { filter, ..view.get_untracked() }))
            />
            {move || view.get().window.map(|(from, to)| {
                let z = zone.get();
                let show = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|t| z.format(t)).unwrap_or_default();
                view! {
                    <div class="zoom-chip" data-testid="zoom-chip">
                        {format!("Zoomed to {} – {}", show(from), show(to))}
                        <button class="link" data-testid="zoom-out"
                            on:click=move |_| set_view.run(View { window: None, ..view.get_untracked() })>
                            "Back to the full range"
                        </button>
                    </div>
                }
            })}
            <Transition fallback=|| view! { <div class="stats stats-loading muted">"Counting…"</div> }>
                {move || stats.get().map(|r| match r {
                    Ok(s) => stats_view(s, zone.into(), add_condition, zoom),
                    Err(e) => view! { <div class="stats muted">{clean_error(&e.to_string())}</div> }.into_any(),
                })}
            </Transition>
            <LiveNotices tail reload />
            <Transition fallback=|| view! {
                <div class="state state-loading" data-testid="loading">
                    <div class="spinner"></div>
                    <p>"Loading events…"</p>
                </div>
            }>
                {table}
            </Transition>
            <Outlet />
        </section>
    }
}

/// The first page's events followed by those of the pages loaded after it.
fn loaded_rows(first: EventPage, more: Vec<EventPage>) -> Vec<Event> {
    first
        .events
        .into_iter()
        .chain(more.into_iter().flat_map(|p| p.events))
        .collect()
}

/// Server function errors arrive prefixed with their kind; users need only the message.
pub(crate) fn clean_error(text: &str) -> String {
    text.rsplit_once(": ")
        .map(|(_, m)| m)
        .unwrap_or(text)
        .to_string()
}
