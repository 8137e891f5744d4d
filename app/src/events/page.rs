//! Settings › Audit Logs: the event table, with the view (time range, event name, UTC switch)
//! kept in the URL.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::api::{event_names, list_events};
use super::model::{Event, Outcome};
use super::query::EventPage;
use super::time::{Zone, browser_zone};
use super::time_picker::TimePicker;
use super::view::View;
use crate::timerange::{DEFAULT_WEEK_START, TimeRange, UtcZone};

/// The half-open bounds, in epoch milliseconds, of `range` for a viewer in `zone` right now.
fn bounds(range: &TimeRange, zone: &Zone) -> (Option<i64>, Option<i64>) {
    let now = Utc::now();
    let resolved = match zone {
        Zone::Utc => range.resolve(now, &UtcZone, DEFAULT_WEEK_START),
        Zone::Local(_) => resolve_local(range, now),
    };
    match resolved {
        Some((a, b)) => (Some(a.timestamp_millis()), Some(b.timestamp_millis())),
        None => (None, None),
    }
}

#[cfg(feature = "hydrate")]
fn resolve_local(range: &TimeRange, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    range.resolve(
        now,
        &crate::timerange::BrowserZone::new(),
        DEFAULT_WEEK_START,
    )
}

#[cfg(not(feature = "hydrate"))]
fn resolve_local(range: &TimeRange, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    range.resolve(now, &UtcZone, DEFAULT_WEEK_START)
}

/// What one read asks the server for: resolved bounds and the event name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Request {
    start: Option<i64>,
    end: Option<i64>,
    event: Option<String>,
}

#[component]
pub fn AuditLogsPage() -> impl IntoView {
    let query = use_query_map();
    let view = Memo::new(move |_| View::from_query(&query.get()));
    let navigate = use_navigate();
    let set_view = Callback::new(move |v: View| {
        navigate(
            &v.to_url(),
            NavigateOptions {
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
    let request = Memo::new(move |_| {
        let v = view.get();
        let (start, end) = bounds(&v.range, &zone.get());
        Request {
            start,
            end,
            event: v.event,
        }
    });

    let names = Resource::new(|| (), |_| event_names());
    let first = Resource::new(
        move || request.get(),
        |r| list_events(r.start, r.end, r.event, None),
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
            match list_events(r.start, r.end, r.event.clone(), Some(cursor)).await {
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
                let rows: Vec<Event> = page
                    .events
                    .into_iter()
                    .chain(extra.into_iter().flat_map(|p| p.events))
                    .collect();
                if rows.is_empty() {
                    return view! {
                        <div class="state state-empty" data-testid="empty">
                            <h3>"No events in this view"</h3>
                            <p>"Nothing was recorded for these filters. Try a longer time range or another event."</p>
                        </div>
                    }
                    .into_any();
                }
                let count = rows.len();
                view! {
                    <EventTable rows zone=zone.into() />
                    <div class="table-footer">
                        <span class="muted" data-testid="row-count">
                            {format!("Showing {count} event{}", if count == 1 { "" } else { "s" })}
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
            </header>
            <div class="toolbar">
                <div class="field">
                    <span>"Time range"</span>
                    <TimePicker
                        range=Signal::derive(move || view.get().range)
                        zone=zone.into()
                        on_apply=Callback::new(move |range| set_view.run(View { range, ..view.get_untracked() }))
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
            </div>
            <Transition fallback=|| view! {
                <div class="state state-loading" data-testid="loading">
                    <div class="spinner"></div>
                    <p>"Loading events…"</p>
                </div>
            }>
                {table}
            </Transition>
        </section>
    }
}

/// Server function errors arrive prefixed with their kind; users need only the message.
fn clean_error(text: &str) -> String {
    text.rsplit_once(": ")
        .map(|(_, m)| m)
        .unwrap_or(text)
        .to_string()
}

#[component]
fn EventTable(rows: Vec<Event>, zone: Signal<Zone>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="events" data-testid="events-table">
                <thead>
                    <tr>
                        <th class="num">"Seq"</th>
                        <th>{move || format!("Date and Time ({})", zone.get().label())}</th>
                        <th>"Event"</th>
                        <th>"Category"</th>
                        <th>"User"</th>
                        <th>"Outcome"</th>
                        <th>"Target"</th>
                        <th>"IP Address"</th>
                        <th>"Description"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|e| view! { <EventRow e zone /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn EventRow(e: Event, zone: Signal<Zone>) -> impl IntoView {
    let b = e.body;
    let at = b.occurred_at;
    let utc_title = format!("{} UTC", at.format("%Y-%m-%d %H:%M:%S%.3f"));
    let target = b.target.map(|t| {
        let label = t.name.clone().or(t.id.clone()).unwrap_or_default();
        (t.kind.unwrap_or_default(), label)
    });
    let description = b.description.unwrap_or_default();
    let description_title = description.clone();
    let (outcome_class, outcome_label) = match b.outcome {
        Outcome::Success => ("badge badge-success", "Success"),
        Outcome::Failure => ("badge badge-failure", "Failure"),
    };
    view! {
        <tr data-testid="event-row" data-seq=e.id>
            <td class="num mono">{e.id}</td>
            <td class="nowrap" title=utc_title>{move || zone.get().format(at)}</td>
            <td class="strong" data-testid="event-name">{b.event}</td>
            <td>{b.category}</td>
            <td>
                <div class="actor">
                    <span>{b.actor.name}</span>
                    <span class="muted small">
                        {b.actor.email.unwrap_or_else(|| b.actor.kind.as_str().to_string())}
                    </span>
                </div>
            </td>
            <td><span class=outcome_class>{outcome_label}</span></td>
            <td>
                {target.map(|(kind, label)| view! {
                    <span class="muted small">{kind}</span>
                    " "
                    <span>{label}</span>
                })}
            </td>
            <td class="mono nowrap">{b.ip.unwrap_or_default()}</td>
            <td class="description" title=description_title>{description}</td>
        </tr>
    }
}
