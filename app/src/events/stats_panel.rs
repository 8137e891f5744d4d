//! Beside the table: how many events the view holds, its volume over time (zoomable), and the top
//! values of event, category, user and outcome (click one to filter by it). Loaded on its own so
//! it never holds back the table.

use leptos::prelude::*;

use super::chart::VolumeChart;
use super::page::ValueClick;
use super::stats::ViewStats;
use super::time::Zone;

/// "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn stats_view(
    stats: ViewStats,
    zone: Signal<Zone>,
    on_value: Callback<ValueClick>,
    on_zoom: Callback<(i64, i64)>,
) -> AnyView {
    let count = if stats.count.exact {
        let n = stats.count.value;
        format!("{} event{}", thousands(n), if n == 1 { "" } else { "s" })
    } else if stats.count.estimated {
        format!("≈ {} events", thousands(stats.count.value))
    } else {
        format!(
            "at least {} events (estimate)",
            thousands(stats.count.value)
        )
    };
    // Sampled statistics say so once, and each number they show carries "≈".
    let approx = if stats.sample.is_some() { "≈ " } else { "" };
    let sample_note = stats.sample.map(|n| {
        view! {
            <p class="muted small" data-testid="stats-sampled">
                {format!("Estimated from a sample of 1 in {n} events: the view is too large to count in full.")}
            </p>
        }
    });
    let bucket = stats.bucket;
    let bars: Vec<(i64, i64, u64)> = stats
        .histogram
        .iter()
        .map(|(s, c)| (*s, bucket.next(*s), *c))
        .collect();
    let label = Callback::new(move |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| zone.get_untracked().format(t))
            .unwrap_or_default()
    });
    view! {
        <div class="stats" data-testid="stats">
            <div class="stats-head">
                <strong data-testid="view-count">{count}</strong>
                <span class="muted small">{format!("per {}", bucket.label())}</span>
            </div>
            {sample_note}
            <VolumeChart bars on_zoom label />
            <div class="facets">
                {stats.facets.fields.into_iter().map(|f| {
                    let field = f.field.field();
                    let max = f.values.iter().map(|(_, c)| *c).max().unwrap_or(1).max(1);
                    view! {
                        <div class="facet" data-testid="facet">
                            <h4>{field.label().into_owned()}</h4>
                            {f.values.into_iter().map(|(value, n)| {
                                let field = field.clone();
                                let v = value.clone();
                                let pct = n as f64 / max as f64 * 100.0;
                                view! {
                                    <button
                                        class="facet-value"
                                        data-testid="facet-value"
                                        title="Filter by this value (Alt-click: exclude it)"
                                        on:click=move |ev| on_value.run(ValueClick {
                                            field: field.clone(),
                                            value: v.clone(),
                                            exclude: ev.alt_key() || ev.shift_key(),
                                        })
                                    >
                                        <span class="facet-bar" style=format!("width: {pct:.0}%")></span>
                                        <span class="facet-label">{value}</span>
                                        <span class="facet-count">{format!("{approx}{}", thousands(n))}</span>
                                    </button>
                                }
                            }).collect_view()}
                        </div>
                    }
                }).collect_view()}
            </div>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
