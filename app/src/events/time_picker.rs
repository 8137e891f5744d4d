//! The time-range picker: presets on the left, a month calendar on the right (arrows, month and
//! year menus; click a start day, then an end day), the selection written under it, Apply.

use chrono::{Datelike, NaiveDate, Utc};
use leptos::prelude::*;

use super::time::Zone;
use crate::timerange::{
    DEFAULT_WEEK_START, LocalZone, MonthCursor, Preset, Selection, TimeRange, UtcZone,
    weekday_headings, year_options,
};

/// The viewer's date today in `zone` (UTC on the server and until hydration).
pub fn today(zone: &Zone) -> NaiveDate {
    let now = Utc::now();
    match zone {
        Zone::Utc => UtcZone.today(now),
        Zone::Local(_) => local_today(now),
    }
}

#[cfg(feature = "hydrate")]
fn local_today(now: chrono::DateTime<Utc>) -> NaiveDate {
    crate::timerange::BrowserZone::new().today(now)
}

#[cfg(not(feature = "hydrate"))]
fn local_today(now: chrono::DateTime<Utc>) -> NaiveDate {
    UtcZone.today(now)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[component]
pub fn TimePicker(
    /// The applied range.
    range: Signal<TimeRange>,
    /// The zone days are counted in.
    zone: Signal<Zone>,
    /// Called with the range to apply.
    on_apply: Callback<TimeRange>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let selection = RwSignal::new(Selection::Empty);
    let cursor = RwSignal::new(MonthCursor::containing(today(&zone.get_untracked())));

    let toggle = move |_| {
        if !open.get_untracked() {
            let today = today(&zone.get_untracked());
            let sel = Selection::from_range(&range.get_untracked(), today, DEFAULT_WEEK_START);
            selection.set(sel);
            let shown = sel.days(today).map_or(today, |(_, end)| end);
            cursor.set(MonthCursor::containing(shown));
        }
        open.update(|o| *o = !*o);
    };
    let pick_preset = move |p: Preset| {
        open.set(false);
        on_apply.run(p.into());
    };
    let apply = move |_| {
        if let Some(r) = selection
            .get_untracked()
            .to_range(today(&zone.get_untracked()))
        {
            open.set(false);
            on_apply.run(r);
        }
    };

    let description = move || {
        let z = zone.get();
        range
            .get()
            .days(today(&z), DEFAULT_WEEK_START)
            .map(|(a, b)| format!("{} ({})", crate::timerange::describe_days(a, b), z.label()))
            .unwrap_or_else(|| "Every event stored".into())
    };

    view! {
        <div class="time-picker">
            <button class="btn picker-button" data-testid="time-range" on:click=toggle title=description>
                <span class="picker-label">{move || range.get().label()}</span>
                <span class="muted small picker-days">{description}</span>
            </button>
            <Show when=move || open.get()>
                {move || panel(range, zone, selection, cursor, pick_preset, apply, open)}
            </Show>
        </div>
    }
    .into_any()
}

/// The open panel: presets and the calendar. Its own function (and an `AnyView`) keeps the
/// component's view type shallow enough for the compiler.
fn panel(
    range: Signal<TimeRange>,
    zone: Signal<Zone>,
    selection: RwSignal<Selection>,
    cursor: RwSignal<MonthCursor>,
    pick_preset: impl Fn(Preset) + Copy + Send + Sync + 'static,
    apply: impl Fn(leptos::ev::MouseEvent) + Copy + Send + Sync + 'static,
    open: RwSignal<bool>,
) -> AnyView {
    view! {
                <div class="picker-panel" data-testid="time-panel">
                    <ul class="presets">
                        {Preset::ALL
                            .into_iter()
                            .map(|p| view! {
                                <li>
                                    <button
                                        class="preset"
                                        class:active=move || range.get() == TimeRange::Preset(p)
                                        data-testid=format!("preset-{}", p.key())
                                        on:click=move |_| pick_preset(p)
                                    >
                                        {p.label()}
                                    </button>
                                </li>
                            })
                            .collect_view()}
                    </ul>
                    <div class="calendar" data-testid="calendar">
                        <div class="calendar-head">
                            <button class="icon-btn" aria-label="Previous month" data-testid="prev-month"
                                on:click=move |_| cursor.update(|c| *c = c.prev())>"‹"</button>
                            <select aria-label="Month" data-testid="month-select"
                                on:change=move |ev| {
                                    if let Ok(m) = event_target_value(&ev).parse::<u32>() {
                                        cursor.update(|c| {
                                            if let Some(n) = MonthCursor::new(c.year(), m) { *c = n }
                                        });
                                    }
                                }
                            >
                                {(1..=12u32).map(|m| view! {
                                    <option value=m.to_string() selected=move || cursor.get().month() == m>
                                        {MONTHS[(m - 1) as usize]}
                                    </option>
                                }).collect_view()}
                            </select>
                            <select aria-label="Year" data-testid="year-select"
                                on:change=move |ev| {
                                    if let Ok(y) = event_target_value(&ev).parse::<i32>() {
                                        cursor.update(|c| {
                                            if let Some(n) = c.with_year(y) { *c = n }
                                        });
                                    }
                                }
                            >
                                {move || {
                                    let this_year = today(&zone.get()).year();
                                    year_options(Some(this_year - 5), this_year).into_iter().rev().map(|y| view! {
                                        <option value=y.to_string() selected=move || cursor.get().year() == y>{y}</option>
                                    }).collect_view()
                                }}
                            </select>
                            <button class="icon-btn" aria-label="Next month" data-testid="next-month"
                                on:click=move |_| cursor.update(|c| *c = c.next())>"›"</button>
                        </div>
                        <div class="calendar-grid">
                            {weekday_headings(DEFAULT_WEEK_START).into_iter().map(|h| view! {
                                <span class="weekday">{h}</span>
                            }).collect_view()}
                            {move || {
                                let today = today(&zone.get());
                                let sel = selection.get();
                                cursor.get().grid(DEFAULT_WEEK_START).into_iter().flatten().map(|cell| match cell {
                                    None => view! { <span class="day blank"></span> }.into_any(),
                                    Some(day) => {
                                        let ends = sel.days(today).is_some_and(|(a, b)| day == a || day == b);
                                        let future = day > today;
                                        view! {
                                            <button
                                                class="day"
                                                class:in-range=sel.contains(day, today)
                                                class:range-end=ends
                                                class:today=day == today
                                                disabled=future
                                                data-day=day.to_string()
                                                on:click=move |_| selection.update(|s| *s = s.click(day))
                                            >
                                                {day.day()}
                                            </button>
                                        }.into_any()
                                    }
                                }).collect_view()
                            }}
                        </div>
                        <p class="selection muted" data-testid="selection">
                            {move || {
                                let z = zone.get();
                                selection.get().describe(today(&z), &z.label())
                                    .unwrap_or_else(|| "Click a start day, then an end day".into())
                            }}
                        </p>
                        <div class="calendar-actions">
                            <button class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                            <button class="btn btn-primary" data-testid="apply-range"
                                disabled=move || selection.get() == Selection::Empty
                                on:click=apply>"Apply"</button>
                        </div>
                    </div>
                </div>
    }
    .into_any()
}
