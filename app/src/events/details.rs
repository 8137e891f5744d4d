//! The fields of one event as the drawer lists them: times, what happened, who did it, to what,
//! from where, its metadata (readable, or as raw JSON) and its changes (old → new).
//!
//! Every value is rendered as text, never as markup. Values a filter can match are buttons that
//! add "is" to the view (Alt- or Shift-click: "is not"), through the table's own [`value`].

use leptos::prelude::*;
use serde_json::{Map, Value};

use super::model::{Event, Outcome};
use super::page::ValueClick;
use super::table::value;
use super::time::Zone;
use crate::filters::Field;
use crate::filters::model::{MAX_VALUE_BYTES, text_value, valid_metadata_key};

/// Every field of `e`.
pub fn event_details(e: Event, zone: Signal<Zone>, on_value: Callback<ValueClick>) -> AnyView {
    view! {
        <div class="details" data-testid="event-details">
            {times(&e, zone)}
            {what(&e, on_value)}
            {who(&e, on_value)}
            {metadata(&e, on_value)}
            {changes(e.body.changes.as_ref())}
        </div>
    }
    .into_any()
}

/// One `<dt>`/`<dd>` pair of a field list.
fn field(label: &'static str, content: AnyView) -> AnyView {
    view! {
        <dt>{label}</dt>
        <dd>{content}</dd>
    }
    .into_any()
}

fn none() -> AnyView {
    view! { <span class="muted">"—"</span> }.into_any()
}

/// A value that filters the view when clicked, or a dash when absent.
fn filterable(f: Field, text: Option<String>, on_value: Callback<ValueClick>) -> AnyView {
    match text.filter(|t| !t.is_empty()) {
        Some(t) => value(f, t, on_value, "drawer-value"),
        None => none(),
    }
}

fn text(t: Option<String>) -> AnyView {
    match t {
        Some(t) => view! { <span class="wrap">{t}</span> }.into_any(),
        None => none(),
    }
}

fn section(title: &'static str, content: AnyView) -> AnyView {
    view! {
        <section class="details-section">
            <h3>{title}</h3>
            {content}
        </section>
    }
    .into_any()
}

/// When it happened in the viewer's zone and in UTC, when it was received, and its sequence number.
fn times(e: &Event, zone: Signal<Zone>) -> AnyView {
    let at = e.body.occurred_at;
    let received = e.received_at;
    let utc = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string();
    let local = move |t| {
        move || {
            let z = zone.get();
            format!("{} ({})", z.format(t), z.label())
        }
    };
    let rows = view! {
        <dl class="fields">
            {field("Occurred", view! {
                <span data-testid="occurred-local">{local(at)}</span>
                <br />
                <span class="muted mono" data-testid="occurred-utc">{utc(at)}</span>
            }.into_any())}
            {field("Received", view! {
                <span>{local(received)}</span>
                <br />
                <span class="muted mono">{utc(received)}</span>
            }.into_any())}
            {field("Seq", view! { <span class="mono" data-testid="drawer-seq">{e.id}</span> }.into_any())}
        </dl>
    }
    .into_any();
    section("When", rows)
}

/// The event, its category, action, outcome and description.
fn what(e: &Event, on_value: Callback<ValueClick>) -> AnyView {
    let b = &e.body;
    let (badge, label) = match b.outcome {
        Outcome::Success => ("badge badge-success", "Success"),
        Outcome::Failure => ("badge badge-failure", "Failure"),
    };
    let outcome = b.outcome.as_str().to_string();
    let rows = view! {
        <dl class="fields">
            {field("Event", view! {
                <span data-testid="drawer-event">{filterable(Field::Event, Some(b.event.clone()), on_value)}</span>
            }.into_any())}
            {field("Category", filterable(Field::Category, Some(b.category.clone()), on_value))}
            {field("Action", filterable(Field::Action, Some(b.action.clone()), on_value))}
            {field("Outcome", view! {
                <button
                    class=format!("cell-value {badge}")
                    data-testid="drawer-outcome"
                    title="Filter by this value (Alt-click: exclude it)"
                    on:click=move |ev| on_value.run(ValueClick {
                        field: Field::Outcome,
                        value: outcome.clone(),
                        exclude: ev.alt_key() || ev.shift_key(),
                    })
                >
                    {label}
                </button>
            }.into_any())}
            {field("Description", view! {
                <span data-testid="drawer-description">{text(b.description.clone())}</span>
            }.into_any())}
        </dl>
    }
    .into_any();
    section("What", rows)
}

/// The actor, the target, and where the request came from.
fn who(e: &Event, on_value: Callback<ValueClick>) -> AnyView {
    let b = &e.body;
    let a = &b.actor;
    let t = b.target.clone().unwrap_or_default();
    let rows = view! {
        <dl class="fields">
            {field("User", filterable(Field::ActorName, Some(a.name.clone()), on_value))}
            {field("User ID", filterable(Field::ActorId, Some(a.id.clone()), on_value))}
            {field("User type", filterable(Field::ActorType, Some(a.kind.as_str().to_string()), on_value))}
            {field("Email", filterable(Field::ActorEmail, a.email.clone(), on_value))}
            {field("Target type", filterable(Field::TargetType, t.kind, on_value))}
            {field("Target ID", filterable(Field::TargetId, t.id, on_value))}
            {field("Target name", filterable(Field::TargetName, t.name, on_value))}
            {field("IP address", filterable(Field::Ip, b.ip.clone(), on_value))}
            {field("User agent", text(b.user_agent.clone()))}
            {field("Source", filterable(Field::Source, b.source.clone(), on_value))}
        </dl>
    }
    .into_any();
    section("Who and where", rows)
}

/// The metadata as a key/value list (nested objects and arrays indented), or as the raw JSON.
fn metadata(e: &Event, on_value: Callback<ValueClick>) -> AnyView {
    let map = &e.body.metadata;
    if map.is_empty() {
        return section(
            "Metadata",
            view! { <p class="muted" data-testid="metadata-empty">"No metadata."</p> }.into_any(),
        );
    }
    let raw_json = serde_json::to_string_pretty(map).unwrap_or_default();
    let raw = RwSignal::new(false);
    let entries = map
        .iter()
        .map(|(k, v)| {
            let field = Field::Metadata(k.clone());
            // Only what a metadata filter can match is a button: a string, a whole number or a
            // boolean, under a key a filter can name, short enough to be a filter value.
            let filter_text = text_value(&field, e)
                .filter(|t| !t.is_empty() && t.len() <= MAX_VALUE_BYTES && valid_metadata_key(k))
                .map(|t| t.into_owned());
            let shown = match filter_text {
                Some(t) => value(field, t, on_value, "drawer-value"),
                None => json_view(v),
            };
            view! {
                <dt class="mono">{k.clone()}</dt>
                <dd data-testid="metadata-value" data-key=k.clone()>{shown}</dd>
            }
        })
        .collect_view();
    let list = view! {
        <dl class="fields metadata" data-testid="metadata" hidden=move || raw.get()>
            {entries}
        </dl>
        <pre class="raw-json" data-testid="metadata-raw" hidden=move || !raw.get()>{raw_json}</pre>
    }
    .into_any();
    view! {
        <section class="details-section">
            <h3>
                "Metadata"
                <button
                    class="link small"
                    data-testid="raw-toggle"
                    aria-pressed=move || if raw.get() { "true" } else { "false" }
                    on:click=move |_| raw.update(|r| *r = !*r)
                >
                    {move || if raw.get() { "Show as list" } else { "Show raw JSON" }}
                </button>
            </h3>
            {list}
        </section>
    }
    .into_any()
}

/// A JSON value as readable text: objects and arrays as nested lists, strings without quotes.
fn json_view(v: &Value) -> AnyView {
    match v {
        Value::Object(m) if !m.is_empty() => view! {
            <dl class="json-object">
                {m.iter().map(|(k, v)| view! {
                    <dt class="mono">{k.clone()}</dt>
                    <dd>{json_view(v)}</dd>
                }).collect_view()}
            </dl>
        }
        .into_any(),
        Value::Array(a) if !a.is_empty() => view! {
            <ol class="json-array">
                {a.iter().map(|v| view! { <li>{json_view(v)}</li> }).collect_view()}
            </ol>
        }
        .into_any(),
        Value::String(s) if !s.is_empty() => {
            view! { <span class="wrap">{s.clone()}</span> }.into_any()
        }
        Value::Null => view! { <span class="muted mono">"null"</span> }.into_any(),
        other => view! { <span class="mono">{other.to_string()}</span> }.into_any(),
    }
}

/// One side of a change as text: strings as they are, anything else as compact JSON.
fn change_text(v: Option<&Value>) -> AnyView {
    match v {
        None => view! { <span class="muted">"(none)"</span> }.into_any(),
        Some(Value::String(s)) => view! { <span class="wrap">{s.clone()}</span> }.into_any(),
        Some(other) => view! { <span class="mono wrap">{other.to_string()}</span> }.into_any(),
    }
}

/// `changes` as one line per field: old → new (either side may be absent).
fn changes(changes: Option<&Map<String, Value>>) -> AnyView {
    let Some(changes) = changes.filter(|c| !c.is_empty()) else {
        return ().into_any();
    };
    let rows = changes
        .iter()
        .map(|(name, change)| {
            let old = change_text(change.get("old"));
            let new = change_text(change.get("new"));
            view! {
                <tr data-testid="change">
                    <th scope="row" class="mono">{name.clone()}</th>
                    <td class="old">{old}</td>
                    <td class="arrow" aria-label="changed to">"→"</td>
                    <td class="new">{new}</td>
                </tr>
            }
        })
        .collect_view();
    section(
        "Changes",
        view! {
            <table class="changes" data-testid="changes">
                <thead>
                    <tr><th>"Field"</th><th>"Old"</th><th></th><th>"New"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any(),
    )
}
