//! The event-volume bar chart: one bar per time bucket of the view; click a bar to zoom into it,
//! or press on one bar and release on another to zoom into the span between them.

use leptos::prelude::*;

/// Chart drawing width in SVG units; the SVG scales to its container.
const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 90.0;

#[component]
pub fn VolumeChart(
    /// `(bucket start, bucket end, events)`, epoch ms, oldest first, every bucket present.
    bars: Vec<(i64, i64, u64)>,
    /// Called with the `[start, end)` window to zoom into.
    on_zoom: Callback<(i64, i64)>,
    /// Renders a bucket start for the tooltip and the axis labels.
    label: Callback<i64, String>,
) -> impl IntoView {
    let n = bars.len().max(1);
    let max = bars.iter().map(|(_, _, c)| *c).max().unwrap_or(0).max(1);
    let slot = WIDTH / n as f64;
    let pressed = RwSignal::new(None::<usize>);
    let hover = RwSignal::new(None::<usize>);
    let spans: Vec<(i64, i64)> = bars.iter().map(|(s, e, _)| (*s, *e)).collect();
    let window = move |a: usize, b: usize| {
        let (lo, hi) = (a.min(b), a.max(b));
        let start = spans.get(lo).map(|s| s.0).unwrap_or_default();
        let end = spans.get(hi).map(|s| s.1).unwrap_or_default();
        (start, end)
    };
    let first_label = bars
        .first()
        .map(|(s, _, _)| label.run(*s))
        .unwrap_or_default();
    let last_label = bars
        .last()
        .map(|(s, _, _)| label.run(*s))
        .unwrap_or_default();
    let total: u64 = bars.iter().map(|(_, _, c)| c).sum();
    view! {
        <div class="chart" data-testid="volume-chart">
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                preserveAspectRatio="none"
                role="img"
                aria-label=format!("{total} events over {n} intervals")
                on:mouseleave=move |_| { pressed.set(None); hover.set(None); }
            >
                {bars.into_iter().enumerate().map(|(i, (start, _, count))| {
                    let h = if count == 0 { 0.0 } else { (count as f64 / max as f64 * (HEIGHT - 4.0)).max(2.0) };
                    let title = format!("{}: {count} event{}", label.run(start), if count == 1 { "" } else { "s" });
                    let window = window.clone();
                    view! {
                        <g
                            class="bar"
                            class:selected=move || match (pressed.get(), hover.get()) {
                                (Some(a), Some(b)) => (a.min(b)..=a.max(b)).contains(&i),
                                _ => false,
                            }
                            data-testid="chart-bar"
                            data-count=count
                            on:mousedown=move |_| pressed.set(Some(i))
                            on:mouseenter=move |_| hover.set(Some(i))
                            on:mouseup=move |_| {
                                let from = pressed.get_untracked().unwrap_or(i);
                                pressed.set(None);
                                on_zoom.run(window(from, i));
                            }
                        >
                            <title>{title}</title>
                            // A full-height hit area, so thin bars are easy to click.
                            <rect class="hit" x=i as f64 * slot y="0" width=slot height=HEIGHT></rect>
                            <rect
                                class="fill"
                                x=i as f64 * slot + slot * 0.1
                                y=HEIGHT - h
                                width=slot * 0.8
                                height=h
                            ></rect>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <div class="chart-axis muted small">
                <span>{first_label}</span>
                <span>"Click a bar to zoom in, or drag across bars"</span>
                <span>{last_label}</span>
            </div>
        </div>
    }
    .into_any()
}
