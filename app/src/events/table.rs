//! The event table: sortable column headings and one row per event ([`EventRow`]), whose values
//! filter the view when clicked and whose "View Logs" action opens the event drawer.

use leptos::prelude::*;

use super::drawer::event_path;
use super::live::Clock;
use super::model::{Event, Outcome};
use super::page::ValueClick;
use super::query::{Dir, Sort, SortKey};
use super::time::Zone;
use crate::filters::Field;

/// A column heading that sorts the table by its column (again: the other way round).
fn heading(
    label: &'static str,
    key: SortKey,
    sort: Signal<Sort>,
    on_sort: Callback<SortKey>,
) -> AnyView {
    let state = move || {
        let s = sort.get();
        match (s.key == key, s.dir) {
            (false, _) => "none",
            (true, Dir::Asc) => "ascending",
            (true, Dir::Desc) => "descending",
        }
    };
    view! {
        <th aria-sort=state>
            <button class="sort" data-testid=format!("sort-{}", key.as_str()) on:click=move |_| on_sort.run(key)>
                {label}
                <span class="arrow">{move || match state() {
                    "ascending" => "▲",
                    "descending" => "▼",
                    _ => "",
                }}</span>
            </button>
        </th>
    }
    .into_any()
}

#[component]
pub fn EventTable(
    rows: Vec<Event>,
    zone: Signal<Zone>,
    on_value: Callback<ValueClick>,
    /// Opens the drawer on an event.
    on_open: Callback<i64>,
    /// The event the drawer shows, whose row is marked.
    selected: Signal<Option<i64>>,
    sort: Signal<Sort>,
    on_sort: Callback<SortKey>,
    /// Live arrivals, newest first, shown above `rows` and briefly highlighted.
    #[prop(optional)]
    live: Option<Signal<Vec<Event>>>,
    /// Told when the pointer enters (true) and leaves (false) the rows.
    #[prop(optional)]
    on_hover: Option<Callback<bool>>,
) -> impl IntoView {
    let hover = move |over: bool| {
        if let Some(f) = on_hover {
            f.run(over);
        }
    };
    view! {
        <div class="table-wrap">
            <table class="events" data-testid="events-table">
                <thead>
                    <tr>
                        {heading("Seq", SortKey::Seq, sort, on_sort)}
                        <th aria-sort=move || if sort.get().key == SortKey::Time { "sorted" } else { "none" }>
                            <button class="sort" data-testid="sort-time" on:click=move |_| on_sort.run(SortKey::Time)>
                                {move || format!("Date and Time ({})", zone.get().label())}
                                <span class="arrow">{move || {
                                    let s = sort.get();
                                    match (s.key == SortKey::Time, s.dir) {
                                        (false, _) => "",
                                        (true, Dir::Asc) => "▲",
                                        (true, Dir::Desc) => "▼",
                                    }
                                }}</span>
                            </button>
                        </th>
                        {heading("Event", SortKey::Event, sort, on_sort)}
                        {heading("Category", SortKey::Category, sort, on_sort)}
                        {heading("User", SortKey::User, sort, on_sort)}
                        {heading("Outcome", SortKey::Outcome, sort, on_sort)}
                        {heading("Target", SortKey::Target, sort, on_sort)}
                        {heading("IP Address", SortKey::Ip, sort, on_sort)}
                        <th>"Description"</th>
                        <th class="row-action-head"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody on:mouseenter=move |_| hover(true) on:mouseleave=move |_| hover(false)>
                    {live.map(|live| view! {
                        <For each=move || live.get() key=|e| e.id let(e)>
                            <EventRow e zone on_value on_open selected arrived=true />
                        </For>
                    })}
                    {rows.into_iter().map(|e| view! { <EventRow e zone on_value on_open selected /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A value in the table that filters by itself when clicked (Alt- or Shift-click excludes it).
pub(super) fn value(
    field: Field,
    text: String,
    on_value: Callback<ValueClick>,
    class: &'static str,
) -> AnyView {
    if text.is_empty() {
        return ().into_any();
    }
    let value = text.clone();
    view! {
        <button
            class=format!("cell-value {class}")
            title="Filter by this value (Alt-click: exclude it)"
            on:click=move |ev| {
                on_value.run(ValueClick {
                    field: field.clone(),
                    value: value.clone(),
                    exclude: ev.alt_key() || ev.shift_key(),
                })
            }
        >
            {text}
        </button>
    }
    .into_any()
}

/// One event as a table row. The row is focusable: Enter opens the event in the drawer, as does
/// its "View Logs" action (shown on hover and focus), a link to the event's permalink.
#[component]
pub fn EventRow(
    e: Event,
    zone: Signal<Zone>,
    on_value: Callback<ValueClick>,
    on_open: Callback<i64>,
    selected: Signal<Option<i64>>,
    /// Arrived on the live tail: highlighted for a moment.
    #[prop(optional)]
    arrived: bool,
) -> impl IntoView {
    let id = e.id;
    let at = e.body.occurred_at;
    let clock = use_context::<Clock>();
    let ago = move || {
        let now = clock?.0.get()?;
        crate::tail::state::ago((now - at).num_milliseconds())
    };
    let is_selected = move || selected.get() == Some(id);
    let b = e.body;
    let utc_title = format!("{} UTC", at.format("%Y-%m-%d %H:%M:%S%.3f"));
    let target = b.target.unwrap_or_default();
    let description = b.description.unwrap_or_default();
    let description_title = description.clone();
    let (outcome_class, outcome_label) = match b.outcome {
        Outcome::Success => ("badge badge-success", "Success"),
        Outcome::Failure => ("badge badge-failure", "Failure"),
    };
    let outcome = b.outcome.as_str().to_string();
    let secondary = b
        .actor
        .email
        .unwrap_or_else(|| b.actor.kind.as_str().to_string());
    view! {
        <tr
            data-testid="event-row"
            data-seq=id
            tabindex="0"
            class:selected=is_selected
            class:arrived=arrived
            aria-current=move || is_selected().then_some("true")
            on:keydown=move |ev| {
                // Enter on the row itself; Enter on a value inside it filters instead.
                if ev.key() == "Enter" && ev.target() == ev.current_target() {
                    ev.prevent_default();
                    on_open.run(id);
                }
            }
        >
            <td class="num mono">{e.id}</td>
            <td class="nowrap" title=utc_title>
                {move || zone.get().format(at)}
                {move || ago().map(|a| view! { <span class="ago muted small" data-testid="ago">{a}</span> })}
            </td>
            <td class="strong" data-testid="event-name">{value(Field::Event, b.event, on_value, "")}</td>
            <td>{value(Field::Category, b.category, on_value, "")}</td>
            <td>
                <div class="actor">
                    {value(Field::ActorName, b.actor.name, on_value, "")}
                    <span class="muted small">{secondary}</span>
                </div>
            </td>
            <td>
                <button
                    class=format!("cell-value {outcome_class}")
                    data-testid="outcome"
                    title="Filter by this value (Alt-click: exclude it)"
                    on:click=move |ev| on_value.run(ValueClick {
                        field: Field::Outcome,
                        value: outcome.clone(),
                        exclude: ev.alt_key() || ev.shift_key(),
                    })
                >
                    {outcome_label}
                </button>
            </td>
            <td>
                <span class="muted small">{target.kind.unwrap_or_default()}</span>
                " "
                {match target.name {
                    Some(name) => value(Field::TargetName, name, on_value, ""),
                    None => value(Field::TargetId, target.id.unwrap_or_default(), on_value, ""),
                }}
            </td>
            <td class="mono nowrap">{value(Field::Ip, b.ip.unwrap_or_default(), on_value, "mono")}</td>
            <td class="description" title=description_title>{description}</td>
            <td class="row-action">
                <a
                    class="view-logs"
                    data-testid="view-logs"
                    href=event_path(id)
                    on:click=move |ev| {
                        // A plain click opens the drawer over this view; with a modifier the browser
                        // opens the permalink (new tab, window).
                        if !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key()) {
                            ev.prevent_default();
                            on_open.run(id);
                        }
                    }
                >
                    "View Logs"
                </a>
            </td>
        </tr>
    }
    .into_any()
}
