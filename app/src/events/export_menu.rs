//! Export › CSV (this view): every event of the view — filter, search, time range and sort, not
//! only the rows on screen — fetched in chunks of 2,000, written as CSV in the browser (the same
//! writer as the server's exports) and saved as a file named after the view; with progress and
//! Cancel. Views larger than the browser should hold (`serve --browser-export-rows`) are offered
//! the server's streamed export.

use leptos::prelude::*;

use super::api::{export_chunk, record_browser_export};
use super::browser;
use super::export_history::start_export;
use crate::export::ExportLimits;
use crate::export::csv::{BOM, write_chunk};

/// What an export of the current view needs to know.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRequest {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub event: Option<String>,
    pub filter_json: String,
    pub search: Option<String>,
    pub quiet: bool,
    pub sort: String,
    /// The view as the API's query string (for the server export and the audit record).
    pub query: String,
    /// `Audit_Logs_2026-10-28_to_2026-11-26` (no extension).
    pub file_stem: String,
    /// Why the server cannot export this view, if it cannot (a range over its limit).
    pub server_refuses: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
enum Progress {
    Idle,
    Running { done: u64 },
    Done { rows: u64 },
    Cancelled { rows: u64 },
    Failed(String),
}

/// The Export button and its panel. `total` is the view's count (value, exact), when known.
#[component]
pub fn ExportMenu(
    view: Signal<ExportRequest>,
    total: Signal<Option<(u64, bool)>>,
    limits: Signal<ExportLimits>,
    /// Export History is shown; and a counter that makes it read the history again.
    history_open: RwSignal<bool>,
    history_refresh: RwSignal<u64>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let job_name = RwSignal::new(String::new());
    let job_format = RwSignal::new("csv".to_string());
    // CSV and JSON shrink several times under gzip; a PDF report is not compressed.
    let job_gzip = RwSignal::new(true);
    let is_pdf = move || job_format.get() == "pdf";
    let job_state = RwSignal::new(None::<Result<String, String>>);
    let start_job = move |_| {
        let r = view.get_untracked();
        let name = Some(job_name.get_untracked().trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| r.file_stem.clone());
        let format = job_format.get_untracked();
        let gzip = job_gzip.get_untracked() && format != "pdf";
        job_state.set(None);
        leptos::task::spawn_local(async move {
            match start_export(name, format, gzip, r.query.clone()).await {
                Ok(job) => {
                    let _ = job_state.try_set(Some(Ok(format!(
                        "Export #{} started: follow it in Export History.",
                        job.id
                    ))));
                    // The history shows it from here; the panel would cover it.
                    let _ = open.try_set(false);
                    let _ = history_open.try_set(true);
                    history_refresh.try_update(|n| *n += 1);
                }
                Err(e) => {
                    let _ = job_state.try_set(Some(Err(e)));
                }
            }
        });
    };
    let bom = RwSignal::new(false);
    let progress = RwSignal::new(Progress::Idle);
    // Bumped to cancel the running export.
    let run_id = StoredValue::new(0u64);

    let start = move |_| {
        let r = view.get_untracked();
        let me = run_id.get_value() + 1;
        run_id.set_value(me);
        let with_bom = bom.get_untracked();
        progress.set(Progress::Running { done: 0 });
        leptos::task::spawn_local(async move {
            let mut out = Vec::new();
            if with_bom {
                out.extend_from_slice(BOM.as_bytes());
            }
            let mut cursor = None;
            let mut rows = 0u64;
            let mut first = true;
            loop {
                let page = export_chunk(
                    r.start,
                    r.end,
                    r.event.clone(),
                    r.filter_json.clone(),
                    r.search.clone(),
                    r.quiet,
                    r.sort.clone(),
                    cursor.take(),
                )
                .await;
                if run_id.try_get_value() != Some(me) {
                    let _ = record_browser_export(r.query.clone(), rows, false).await;
                    let _ = progress.try_set(Progress::Cancelled { rows });
                    return;
                }
                match page {
                    Ok(page) => {
                        write_chunk(&mut out, &page.events, first);
                        first = false;
                        rows += page.events.len() as u64;
                        let _ = progress.try_set(Progress::Running { done: rows });
                        match page.next_cursor {
                            Some(c) => cursor = Some(c),
                            None => break,
                        }
                    }
                    Err(e) => {
                        let _ = record_browser_export(r.query.clone(), rows, false).await;
                        let _ = progress
                            .try_set(Progress::Failed(super::page::clean_error(&e.to_string())));
                        return;
                    }
                }
            }
            let name = format!("{}.csv", r.file_stem);
            if !browser::save_file(&name, &out, "text/csv;charset=utf-8") {
                let _ = progress.try_set(Progress::Failed(
                    "the browser refused to save the file".into(),
                ));
                return;
            }
            let _ = record_browser_export(r.query.clone(), rows, true).await;
            let _ = progress.try_set(Progress::Done { rows });
        });
    };
    let cancel = move |_| {
        run_id.update_value(|n| *n += 1);
        progress.set(Progress::Cancelled { rows: 0 });
    };
    let too_big = move || {
        total
            .get()
            .is_some_and(|(n, _)| n > limits.get().browser_rows)
    };
    let server_link = move |format: &'static str| {
        let r = view.get();
        let sep = if r.query.is_empty() { "" } else { "&" };
        format!("/api/v1/events/export?format={format}{sep}{}", r.query)
    };
    let running = move || matches!(progress.get(), Progress::Running { .. });

    view! {
        <div class="export">
            <button class="btn" data-testid="export-button" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                "Export ▾"
            </button>
            <Show when=move || open.get()>
                <div class="export-panel" data-testid="export-panel">
                    <h3>"Export this view"</h3>
                    <p class="muted small">
                        {move || match total.get() {
                            Some((n, true)) => format!("{n} events match the filter, search and time range, in the table's order."),
                            Some((n, false)) => format!("About {n} events match the filter, search and time range."),
                            None => "Every event of the view, in the table's order.".into(),
                        }}
                    </p>
                    <label class="switch">
                        <input type="checkbox" data-testid="export-bom" prop:checked=move || bom.get()
                            on:change=move |ev| bom.set(event_target_checked(&ev)) />
                        " Add a byte order mark (for Excel)"
                    </label>
                    {move || if too_big() {
                        view! {
                            <p class="export-note" data-testid="export-too-big">
                                {move || format!("This view holds more than {} events, more than the browser should build at once. Download it from the server instead.", limits.get().browser_rows)}
                            </p>
                        }.into_any()
                    } else {
                        view! {
                            <button class="btn btn-primary" data-testid="export-csv" disabled=running on:click=start>
                                "CSV (this view)"
                            </button>
                        }.into_any()
                    }}
                    {move || match progress.get() {
                        Progress::Idle => ().into_any(),
                        Progress::Running { done } => {
                            let of = total.get().map(|(n, exact)| format!(" of {}{n}", if exact { "" } else { "≈" })).unwrap_or_default();
                            let max = total.get().map(|(n, _)| n.max(1) as f64).unwrap_or(1.0);
                            view! {
                                <div class="export-progress" data-testid="export-progress">
                                    <progress max=max value=done as f64></progress>
                                    <span>{format!("{done}{of} events…")}</span>
                                    <button class="btn btn-small" data-testid="export-cancel" on:click=cancel>"Cancel"</button>
                                </div>
                            }.into_any()
                        }
                        Progress::Done { rows } => view! {
                            <p class="export-note" data-testid="export-done">{format!("Saved {rows} events.")}</p>
                        }.into_any(),
                        Progress::Cancelled { .. } => view! {
                            <p class="export-note" data-testid="export-cancelled">"Export cancelled; nothing was saved."</p>
                        }.into_any(),
                        Progress::Failed(why) => view! {
                            <p class="export-note error-text" data-testid="export-failed">{format!("The export failed: {why}")}</p>
                        }.into_any(),
                    }}
                    <div class="export-server">
                        <h3>"New export on the server"</h3>
                        <p class="muted small">"Any size; kept in Export History with its SHA-256."</p>
                        {move || match view.get().server_refuses {
                            Some(why) => view! { <p class="muted small" data-testid="export-server-refuses">{why}</p> }.into_any(),
                            None => view! {
                                <div class="export-job">
                                    <input
                                        type="text"
                                        data-testid="export-name"
                                        placeholder=move || view.get().file_stem
                                        prop:value=move || job_name.get()
                                        on:input=move |ev| job_name.set(event_target_value(&ev))
                                    />
                                    <select data-testid="export-format" on:change=move |ev| job_format.set(event_target_value(&ev))>
                                        <option value="csv" selected=move || job_format.get() == "csv">"CSV"</option>
                                        <option value="ndjson" selected=move || job_format.get() == "ndjson">"NDJSON"</option>
                                        <option value="pdf" selected=move || job_format.get() == "pdf">
                                            {move || format!("PDF report (up to {} events)", limits.get().pdf_rows)}
                                        </option>
                                    </select>
                                    <label class="export-gzip" title="Stores the file gzip-compressed (.gz), several times smaller">
                                        <input
                                            type="checkbox"
                                            data-testid="export-gzip"
                                            prop:checked=move || job_gzip.get() && !is_pdf()
                                            prop:disabled=is_pdf
                                            on:change=move |ev| job_gzip.set(event_target_checked(&ev))
                                        />
                                        " gzip"
                                    </label>
                                    <button class="btn btn-small" data-testid="export-start" on:click=start_job>"Start export"</button>
                                </div>
                                <p class="muted small">
                                    "Or download it streamed now: "
                                    <a data-testid="export-server-csv" href=move || server_link("csv") download="" rel="external">"CSV"</a>
                                    " · "
                                    <a data-testid="export-server-ndjson" href=move || server_link("ndjson") download="" rel="external">"NDJSON"</a>
                                </p>
                            }.into_any(),
                        }}
                        {move || job_state.get().map(|r| match r {
                            Ok(m) => view! { <p class="export-note" data-testid="export-started">{m}</p> }.into_any(),
                            Err(e) => view! { <p class="export-note error-text" data-testid="export-refused">{e}</p> }.into_any(),
                        })}
                        <button class="link" data-testid="export-history-button" on:click=move |_| {
                            open.set(false);
                            history_open.set(true);
                            history_refresh.update(|n| *n += 1);
                        }>"Export History"</button>
                    </div>
                </div>
            </Show>
        </div>
    }
    .into_any()
}
