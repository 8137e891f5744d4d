//! The filter builder: "Filter" opens an editor (column, operator, value rows; AND/OR; one level
//! of groups), "Apply" sets the view's filter; active conditions show as chips that can be edited
//! or removed, and "Clear all" empties the filter.

use leptos::prelude::*;

use crate::filters::model::Arity;
use crate::filters::{Combine, Condition, Field, Filter, Item, Op};

/// One editable row: text fields as typed, turned into a [`Condition`] on Apply.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    field: String,
    metadata_key: String,
    op: Op,
    value: String,
}

impl Row {
    fn blank() -> Self {
        Self {
            field: "event".into(),
            metadata_key: String::new(),
            op: Op::Is,
            value: String::new(),
        }
    }

    fn of(c: &Condition) -> Self {
        let (field, metadata_key) = match &c.field {
            Field::Metadata(k) => ("metadata".to_string(), k.clone()),
            f => (f.key().into_owned(), String::new()),
        };
        Self {
            field,
            metadata_key,
            op: c.op,
            value: c.values.join(", "),
        }
    }

    fn to_condition(&self) -> Condition {
        let field = if self.field == "metadata" {
            Field::Metadata(self.metadata_key.trim().to_string())
        } else {
            Field::parse(&self.field).unwrap_or(Field::Event)
        };
        let values = match self.op.arity() {
            Arity::None => Vec::new(),
            Arity::One => vec![self.value.trim().to_string()],
            Arity::OneOrMore => self
                .value
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect(),
        };
        Condition {
            field,
            op: self.op,
            values,
        }
    }
}

/// The editor's copy of the filter: top-level rows, and groups of rows with their own combine.
#[derive(Clone, Debug, PartialEq, Default)]
struct Draft {
    combine: Combine,
    rows: Vec<Row>,
    groups: Vec<(Combine, Vec<Row>)>,
}

impl Draft {
    fn of(f: &Filter) -> Self {
        let mut d = Draft {
            combine: f.combine,
            ..Default::default()
        };
        for item in &f.items {
            match item {
                Item::Condition(c) => d.rows.push(Row::of(c)),
                Item::Group {
                    combine,
                    conditions,
                } => d
                    .groups
                    .push((*combine, conditions.iter().map(Row::of).collect())),
            }
        }
        d
    }

    fn to_filter(&self) -> Filter {
        let mut items: Vec<Item> = self
            .rows
            .iter()
            .map(|r| Item::Condition(r.to_condition()))
            .collect();
        for (combine, rows) in &self.groups {
            if !rows.is_empty() {
                items.push(Item::Group {
                    combine: *combine,
                    conditions: rows.iter().map(Row::to_condition).collect(),
                });
            }
        }
        Filter {
            combine: self.combine,
            items,
        }
    }
}

/// A condition as a chip reads: "Event is Login".
pub fn describe(c: &Condition) -> String {
    let values = c.values.join(", ");
    if values.is_empty() {
        format!("{} {}", c.field.label(), c.op.label())
    } else {
        format!("{} {} {values}", c.field.label(), c.op.label())
    }
}

fn combine_word(c: Combine) -> &'static str {
    match c {
        Combine::All => "AND",
        Combine::Any => "OR",
    }
}

#[component]
pub fn FilterBar(
    filter: Signal<Filter>,
    /// Event names for the value suggestions.
    suggestions: Signal<Vec<String>>,
    on_apply: Callback<Filter>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let draft = RwSignal::new(Draft::default());
    let error = RwSignal::new(None::<String>);
    let edit = move || {
        let mut d = Draft::of(&filter.get_untracked());
        if d.rows.is_empty() && d.groups.is_empty() {
            d.rows.push(Row::blank());
        }
        draft.set(d);
        error.set(None);
        open.set(true);
    };
    let apply = move || {
        let f = draft.get_untracked().to_filter();
        match f.validate() {
            Ok(()) => {
                open.set(false);
                on_apply.run(f);
            }
            Err(e) => error.set(Some(e.error)),
        }
    };
    let remove = move |index: usize| {
        let mut f = filter.get_untracked();
        if index < f.items.len() {
            f.items.remove(index);
        }
        on_apply.run(f);
    };

    view! {
        <div class="filter-bar">
            <button class="btn" data-testid="filter-button" on:click=move |_| edit()>"Filter"</button>
            <div class="chips" data-testid="chips">
                {move || {
                    let f = filter.get();
                    let joiner = combine_word(f.combine);
                    f.items.iter().enumerate().map(|(i, item)| {
                        let text = match item {
                            Item::Condition(c) => describe(c),
                            Item::Group { combine, conditions } => format!(
                                "{} of: {}",
                                if *combine == Combine::All { "all" } else { "any" },
                                conditions.iter().map(describe).collect::<Vec<_>>().join("; ")
                            ),
                        };
                        view! {
                            {(i > 0).then(|| view! { <span class="joiner">{joiner}</span> })}
                            <span class="chip" data-testid="chip">
                                <button class="chip-text" on:click=move |_| edit()>{text}</button>
                                <button class="chip-remove" aria-label="Remove condition"
                                    data-testid="chip-remove" on:click=move |_| remove(i)>"×"</button>
                            </span>
                        }
                    }).collect_view()
                }}
                <Show when=move || !filter.get().is_empty()>
                    <button class="link" data-testid="clear-filters"
                        on:click=move |_| on_apply.run(Filter::default())>"Clear all"</button>
                </Show>
            </div>
            <Show when=move || open.get()>
                {move || editor(draft, error, suggestions, apply, open)}
            </Show>
        </div>
    }
    .into_any()
}

/// The open editor. Its own function returning `AnyView` keeps view types shallow.
fn editor(
    draft: RwSignal<Draft>,
    error: RwSignal<Option<String>>,
    suggestions: Signal<Vec<String>>,
    apply: impl Fn() + Copy + Send + Sync + 'static,
    open: RwSignal<bool>,
) -> AnyView {
    let combine_switch =
        move |get: fn(&Draft) -> Combine, set: fn(&mut Draft, Combine), testid: &'static str| {
            view! {
                <span class="switch-group" data-testid=testid>
                    {[Combine::All, Combine::Any].into_iter().map(|c| view! {
                        <button
                            class="seg"
                            class:active=move || get(&draft.get()) == c
                            on:click=move |_| draft.update(|d| set(d, c))
                        >{combine_word(c)}</button>
                    }).collect_view()}
                </span>
            }
        };
    view! {
        <div class="filter-panel" data-testid="filter-panel">
            <div class="panel-head">
                <strong>"Show events matching"</strong>
                {combine_switch(|d| d.combine, |d, c| d.combine = c, "combine")}
                <span class="muted small">"of these conditions"</span>
            </div>
            <datalist id="event-suggestions">
                {move || suggestions.get().into_iter().map(|n| view! { <option value=n></option> }).collect_view()}
            </datalist>
            {move || (0..draft.get().rows.len()).map(|i| row_editor(draft, None, i)).collect_view()}
            {move || (0..draft.get().groups.len()).map(|g| view! {
                <div class="filter-group" data-testid="filter-group">
                    <div class="panel-head">
                        <span>"Group: "</span>
                        <span class="switch-group">
                            {[Combine::All, Combine::Any].into_iter().map(|c| view! {
                                <button class="seg"
                                    class:active=move || draft.get().groups.get(g).is_some_and(|(gc, _)| *gc == c)
                                    on:click=move |_| draft.update(|d| if let Some(gr) = d.groups.get_mut(g) { gr.0 = c })
                                >{if c == Combine::All { "all of" } else { "any of" }}</button>
                            }).collect_view()}
                        </span>
                    </div>
                    {(0..draft.get().groups.get(g).map_or(0, |gr| gr.1.len())).map(|i| row_editor(draft, Some(g), i)).collect_view()}
                    <button class="link" on:click=move |_| draft.update(|d| if let Some(gr) = d.groups.get_mut(g) { gr.1.push(Row::blank()) })>
                        "+ Add to group"
                    </button>
                </div>
            }).collect_view()}
            <div class="panel-actions">
                <button class="link" data-testid="add-filter" on:click=move |_| draft.update(|d| d.rows.push(Row::blank()))>"+ Add filter"</button>
                <button class="link" data-testid="add-group" on:click=move |_| draft.update(|d| d.groups.push((Combine::Any, vec![Row::blank(), Row::blank()])))>"+ Add group"</button>
                <span class="spacer"></span>
                {move || error.get().map(|e| view! { <span class="error-text" data-testid="filter-error">{e}</span> })}
                <button class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                <button class="btn btn-primary" data-testid="apply-filter" on:click=move |_| apply()>"Apply"</button>
            </div>
        </div>
    }
    .into_any()
}

/// The row at `index` of the top level (`group` None) or of a group.
fn row_editor(draft: RwSignal<Draft>, group: Option<usize>, index: usize) -> AnyView {
    let get = move |d: &Draft| -> Option<Row> {
        match group {
            None => d.rows.get(index).cloned(),
            Some(g) => d.groups.get(g).and_then(|gr| gr.1.get(index)).cloned(),
        }
    };
    let update = move |f: &dyn Fn(&mut Row)| {
        draft.update(|d| {
            let row = match group {
                None => d.rows.get_mut(index),
                Some(g) => d.groups.get_mut(g).and_then(|gr| gr.1.get_mut(index)),
            };
            if let Some(r) = row {
                f(r);
            }
        })
    };
    let row = move || get(&draft.get()).unwrap_or_else(Row::blank);
    view! {
        <div class="filter-row" data-testid="filter-row">
            <select aria-label="Select column" data-testid="filter-field"
                on:change=move |ev| { let v = event_target_value(&ev); update(&|r| r.field = v.clone()) }>
                {Field::FIXED.iter().map(|f| {
                    let key = f.key().into_owned();
                    let selected = key.clone();
                    view! { <option value=key selected=move || row().field == selected>{f.label().into_owned()}</option> }
                }).collect_view()}
                <option value="metadata" selected=move || row().field == "metadata">"Metadata key…"</option>
            </select>
            <Show when=move || row().field == "metadata">
                <input class="key-input" placeholder="key" aria-label="Metadata key" data-testid="filter-key"
                    prop:value=move || row().metadata_key
                    on:input=move |ev| { let v = event_target_value(&ev); update(&|r| r.metadata_key = v.clone()) } />
            </Show>
            <select aria-label="Select operator" data-testid="filter-op"
                on:change=move |ev| {
                    if let Some(op) = Op::parse(&event_target_value(&ev)) { update(&|r| r.op = op) }
                }>
                {move || {
                    let r = row();
                    let field = if r.field == "metadata" { Field::Metadata(String::new()) } else { Field::parse(&r.field).unwrap_or(Field::Event) };
                    Op::ALL.into_iter().filter(|o| o.applies_to(&field)).map(|o| view! {
                        <option value=o.key() selected=r.op == o>{o.label()}</option>
                    }).collect_view()
                }}
            </select>
            <Show when=move || row().op.arity() != Arity::None>
                <input class="value-input" aria-label="Enter value" data-testid="filter-value"
                    placeholder=move || if row().op.arity() == Arity::OneOrMore { "values, comma-separated" } else { "value" }
                    list=move || if row().field == "event" { "event-suggestions" } else { "" }
                    prop:value=move || row().value
                    on:input=move |ev| { let v = event_target_value(&ev); update(&|r| r.value = v.clone()) } />
            </Show>
            <button class="icon-btn" aria-label="Remove row" data-testid="filter-remove-row"
                on:click=move |_| draft.update(|d| match group {
                    None => { if index < d.rows.len() { d.rows.remove(index); } }
                    Some(g) => { if let Some(gr) = d.groups.get_mut(g) && index < gr.1.len() { gr.1.remove(index); } }
                })>"×"</button>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_survives_the_editor_unchanged() {
        let f = Filter {
            combine: Combine::Any,
            items: vec![
                Item::Condition(Condition::new(Field::Event, Op::Is, &["Login"])),
                Item::Condition(Condition::new(
                    Field::Metadata("plan".into()),
                    Op::Exists,
                    &[],
                )),
                Item::Group {
                    combine: Combine::All,
                    conditions: vec![
                        Condition::new(Field::Outcome, Op::AnyOf, &["success", "failure"]),
                        Condition::new(Field::ActorName, Op::Contains, &["ali"]),
                    ],
                },
            ],
        };
        assert_eq!(Draft::of(&f).to_filter(), f);
    }

    #[test]
    fn chips_read_as_sentences() {
        assert_eq!(
            describe(&Condition::new(Field::Event, Op::IsNot, &["Login"])),
            "Event is not Login"
        );
        assert_eq!(
            describe(&Condition::new(Field::Ip, Op::Exists, &[])),
            "IP address exists"
        );
    }
}
