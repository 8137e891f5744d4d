//! Settings › Audit Logs: the event table with a time range and an event-name filter.

use leptos::prelude::*;

use super::api::{event_names, list_events};
use super::model::{Event, Outcome};
use super::query::{EventPage, RangePreset};
use super::time::{Zone, browser_zone};

/// The current view: what the table shows. Changing it starts again from the newest event.
#[derive(Clone, Debug, PartialEq)]
struct View {
    range: RangePreset,
    event: Option<String>,
}

#[component]
pub fn AuditLogsPage() -> impl IntoView {
    let range = RwSignal::new(RangePreset::default());
    let event = RwSignal::new(String::new());
    let view = Memo::new(move |_| View {
        range: range.get(),
        event: Some(event.get()).filter(|e| !e.is_empty()),
    });
    let zone = RwSignal::new(Zone::Utc);
    // Effects run only in the browser, after hydration: switch from UTC to the viewer's zone.
    Effect::new(move |_| {
        if let Some(z) = browser_zone() {
            zone.set(z);
        }
    });

    let names = Resource::new(|| (), |_| event_names());
    let first = Resource::new(move || view.get(), |v| list_events(v.range, v.event, None));
    // Pages fetched with "Load more" for the current view, and that view.
    let more = RwSignal::new((view.get_untracked(), Vec::<EventPage>::new()));
    let loading_more = RwSignal::new(false);
    let more_error = RwSignal::new(None::<String>);

    let load_more = move |cursor: String| {
        let v = view.get_untracked();
        loading_more.set(true);
        more_error.set(None);
        leptos::task::spawn_local(async move {
            match list_events(v.range, v.event.clone(), Some(cursor)).await {
                Ok(page) => more.update(|(for_view, pages)| {
                    if *for_view != v {
                        *for_view = v;
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
                let v = view.get();
                let (for_view, pages) = more.get();
                let extra: Vec<EventPage> = if for_view == v { pages } else { Vec::new() };
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
                    <EventTable rows zone />
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
                <label class="field">
                    <span>"Time range"</span>
                    <select
                        data-testid="range"
                        on:change=move |ev| {
                            if let Some(p) = RangePreset::from_key(&event_target_value(&ev)) {
                                range.set(p);
                            }
                        }
                    >
                        {RangePreset::ALL
                            .into_iter()
                            .map(|p| view! {
                                <option value=p.key() selected=move || range.get() == p>{p.label()}</option>
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"Event"</span>
                    <select data-testid="event-filter" on:change=move |ev| event.set(event_target_value(&ev))>
                        <option value="">"All events"</option>
                        <Suspense fallback=|| ()>
                            {move || names.get().map(|r| r.unwrap_or_default().into_iter().map(|n| {
                                let value = n.clone();
                                let selected = n.clone();
                                view! { <option value=value selected=move || event.get() == selected>{n}</option> }
                            }).collect_view())}
                        </Suspense>
                    </select>
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
fn EventTable(rows: Vec<Event>, zone: RwSignal<Zone>) -> impl IntoView {
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
fn EventRow(e: Event, zone: RwSignal<Zone>) -> impl IntoView {
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
