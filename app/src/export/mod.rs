//! Exports of a view: the CSV both the browser and the server write (see [`csv`]), safe to open in
//! a spreadsheet program.

pub mod csv;
pub mod jobs;
pub mod pdf;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::events::model::Event;
use jobs::ExportFormat;

/// Writes an export in its format, one page of events at a time, appending to a buffer the bytes
/// that follow the ones appended before: CSV (after the header row), one JSON event per line, or
/// the PDF report ([`pdf`]).
pub enum Encoder {
    Csv { first: bool },
    Ndjson,
    Pdf(Box<pdf::PdfWriter>),
}

impl Encoder {
    /// An encoder for `format`; `report` describes a PDF report (title, view, time).
    pub fn new(format: ExportFormat, report: pdf::Report, out: &mut Vec<u8>) -> Self {
        match format {
            ExportFormat::Csv => Self::Csv { first: true },
            ExportFormat::Ndjson => Self::Ndjson,
            ExportFormat::Pdf => Self::Pdf(Box::new(pdf::PdfWriter::start(report, out))),
        }
    }

    pub fn page(&mut self, events: &[Event], out: &mut Vec<u8>) {
        match self {
            Self::Csv { first } => {
                csv::write_chunk(out, events, *first);
                *first = false;
            }
            Self::Ndjson => {
                for e in events {
                    if serde_json::to_writer(&mut *out, e).is_ok() {
                        out.push(b'\n');
                    }
                }
            }
            Self::Pdf(w) => w.rows(events, out),
        }
    }

    /// The end of the file: the CSV header row when there were no events, the PDF's trailer.
    pub fn finish(self, out: &mut Vec<u8>) {
        match self {
            Self::Csv { first: true } => csv::write_chunk(out, &[], true),
            Self::Csv { .. } | Self::Ndjson => {}
            Self::Pdf(w) => w.finish(out),
        }
    }
}

/// The limits of exports, set when the server starts (`serve --export-max-days` …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportLimits {
    /// The longest time range one server export may cover, in days.
    pub max_days: u32,
    /// The most events one server export may hold.
    pub max_rows: u64,
    /// The most events one PDF report may hold.
    pub pdf_rows: u64,
    /// Above this many events the page offers the server's export instead of building the CSV in
    /// the browser.
    pub browser_rows: u64,
}

impl Default for ExportLimits {
    fn default() -> Self {
        Self {
            max_days: 90,
            max_rows: 1_000_000,
            pdf_rows: 10_000,
            browser_rows: 100_000,
        }
    }
}

/// The server's export limits, for the page.
#[server(name = GetExportLimits)]
pub async fn export_limits() -> Result<ExportLimits, ServerFnError> {
    crate::events::api::ssr::viewer().await?;
    Ok(use_context::<ExportLimits>().unwrap_or_default())
}

/// Records an export as an "Audit Logs Exported" event through the store's one write path: the
/// viewer audits its own use. `place` is where the file was written ("server" or "browser");
/// `complete` is false when the export ended early (failed or cancelled) after `rows` events.
#[cfg(feature = "ssr")]
pub async fn record_export(
    store: &crate::store::Store,
    who: &crate::accounts::Actor,
    format: &str,
    place: &str,
    view: &str,
    rows: u64,
    complete: bool,
) -> Result<(), crate::store::StoreError> {
    let description = if complete {
        format!("Exported {rows} events as {}", format.to_uppercase())
    } else {
        format!(
            "An export as {} ended after {rows} events, before it was complete",
            format.to_uppercase()
        )
    };
    let view: String = view.chars().take(2_000).collect();
    let action = crate::accounts::audit::Action {
        event: "Audit Logs Exported",
        action: "exported",
        success: complete,
        target: None,
        description,
        metadata: serde_json::json!({"format": format, "written_by": place, "view": view, "rows": rows}),
    };
    crate::accounts::audit::record(store, who, action).await
}
