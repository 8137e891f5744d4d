//! Export History: the server exports (`/api/v1/exports`), newest first — name, who asked, the
//! view, its time range, format, rows, size, SHA-256, status, created and finished times — with
//! Download once Completed. While an export is Queued or Running the list refreshes every second.

use leptos::prelude::*;

use super::browser::{api_error, fetch_text};
use super::time::Zone;
use crate::export::jobs::{ExportJob, ExportStatus};

/// Asks the server to export `view` (the API's query string) as `format` under `name`.
pub async fn start_export(
    name: String,
    format: String,
    gzip: bool,
    view: String,
) -> Result<ExportJob, String> {
    let body = serde_json::json!({ "name": name, "format": format, "gzip": gzip, "view": view })
        .to_string();
    let (status, text) = fetch_text("POST", "/api/v1/exports", Some(body)).await?;
    if status != 202 {
        return Err(api_error(status, &text));
    }
    serde_json::from_str(&text).map_err(|_| "the server's answer was not understood".into())
}

async fn history() -> Result<Vec<ExportJob>, String> {
    #[derive(serde::Deserialize)]
    struct History {
        exports: Vec<ExportJob>,
    }
    let (status, text) = fetch_text("GET", "/api/v1/exports", None).await?;
    if status != 200 {
        return Err(api_error(status, &text));
    }
    serde_json::from_str::<History>(&text)
        .map(|h| h.exports)
        .map_err(|_| "the server's answer was not understood".into())
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1_024 => format!("{bytes} B"),
        1_024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1_024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// The history, shown while `open`; bump `refresh` to read it again.
#[component]
pub fn ExportHistory(
    open: RwSignal<bool>,
    refresh: RwSignal<u64>,
    zone: Signal<Zone>,
) -> impl IntoView {
    let jobs = RwSignal::new(None::<Result<Vec<ExportJob>, String>>);
    // Each opening or refresh starts a reader; an older one stops when it sees a newer one.
    let reader = StoredValue::new(0u64);
    Effect::new(move |_| {
        refresh.track();
        if !open.get() {
            return;
        }
        let me = reader.get_value() + 1;
        reader.set_value(me);
        leptos::task::spawn_local(async move {
            loop {
                let answer = history().await;
                let busy = answer.as_ref().is_ok_and(|list| {
                    list.iter()
                        .any(|j| matches!(j.status, ExportStatus::Queued | ExportStatus::Running))
                });
                if reader.try_get_value() != Some(me) || !open.try_get_untracked().unwrap_or(false)
                {
                    return;
                }
                jobs.set(Some(answer));
                if !busy {
                    return;
                }
                #[cfg(feature = "hydrate")]
                gloo_timers::future::TimeoutFuture::new(1_000).await;
            }
        });
    });
    let when = move |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| zone.get().format(t))
            .unwrap_or_default()
    };
    let range = move |j: &ExportJob| format!("{} – {}", when(j.range_start), when(j.range_end));
    let row = move |j: ExportJob| {
        let status = j.status;
        let download = (status == ExportStatus::Completed).then(|| {
            let href = format!("/api/v1/exports/{}/file", j.id);
            view! { <a class="btn btn-small" data-testid="export-download" href=href download="" rel="external">"Download"</a> }
        });
        let sha = j.sha256.clone().unwrap_or_default();
        let sha_short: String = sha.chars().take(12).collect();
        let detail = match (&j.error, status) {
            (Some(e), ExportStatus::Failed) => e.clone(),
            _ => String::new(),
        };
        view! {
            <tr data-testid="export-row" data-id=j.id>
                <td class="strong">{j.name.clone()}</td>
                <td>{j.requested_by.clone()}</td>
                <td class="small">{j.summary.clone()}</td>
                <td class="small nowrap">{range(&j)}</td>
                <td>{j.format.as_str().to_uppercase()}</td>
                <td class="num">{j.rows.map(|n| n.to_string()).unwrap_or_default()}</td>
                <td class="num nowrap">{j.bytes.map(size).unwrap_or_default()}</td>
                <td class="mono small" title=sha>{sha_short}</td>
                <td>
                    <span class=format!("export-status export-{}", status.as_str()) data-testid="export-status">
                        {status.label()}
                    </span>
                    <span class="muted small">{detail}</span>
                </td>
                <td class="small nowrap">{when(Some(j.created_at))}</td>
                <td class="small nowrap">{when(j.finished_at)}</td>
                <td>{download}</td>
            </tr>
        }
    };
    view! {
        <Show when=move || open.get()>
            <section class="export-history" data-testid="export-history">
                <header>
                    <h2>"Export History"</h2>
                    <button class="icon-btn" aria-label="Close" on:click=move |_| open.set(false)>"×"</button>
                </header>
                {move || match jobs.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error-text">{e}</p> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p class="muted" data-testid="export-history-empty">"No server exports yet."</p>
                    }.into_any(),
                    Some(Ok(list)) => view! {
                        <div class="table-wrap">
                            <table class="events">
                                <thead>
                                    <tr>
                                        <th>"Name"</th><th>"Requested by"</th><th>"View"</th><th>"Time range"</th>
                                        <th>"Format"</th><th>"Rows"</th><th>"Size"</th><th>"SHA-256"</th>
                                        <th>"Status"</th><th>"Created"</th><th>"Finished"</th><th></th>
                                    </tr>
                                </thead>
                                <tbody>{list.into_iter().map(row).collect_view()}</tbody>
                            </table>
                        </div>
                    }.into_any(),
                }}
            </section>
        </Show>
    }
    .into_any()
}
