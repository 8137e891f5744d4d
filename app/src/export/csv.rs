//! The CSV form of events, one writer for the browser's "CSV (this view)" and the server's
//! exports: RFC 4180 quoting (the csv crate), fixed columns, times in UTC (ISO 8601), metadata as
//! JSON, and cells that a spreadsheet program would run as a formula neutralised (OWASP "CSV
//! injection"): a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return (or
//! their full-width forms) gets a leading `'`, so it shows as the text it is.

use std::borrow::Cow;

use crate::events::model::Event;

/// The header row.
pub const COLUMNS: [&str; 16] = [
    "Seq",
    "Date and Time (UTC)",
    "Event Name",
    "Event Category",
    "Action",
    "Outcome",
    "Description",
    "User/App Name",
    "User ID",
    "Target Type",
    "Target ID",
    "Target Name",
    "IP Address",
    "User Agent",
    "Source",
    "Metadata",
];

/// The UTF-8 byte order mark some spreadsheet programs need to read UTF-8.
pub const BOM: &str = "\u{feff}";

/// `text` as a spreadsheet shows it literally: prefixed with `'` when it begins with a character
/// that starts a formula.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    const DANGEROUS: [char; 10] = [
        '=', '+', '-', '@', '\t', '\r', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
    ];
    if text.starts_with(DANGEROUS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The 16 cells of `e`, in [`COLUMNS`] order, neutralised.
pub fn record(e: &Event) -> [String; 16] {
    let b = &e.body;
    let target = b.target.clone().unwrap_or_default();
    let text = |s: &str| neutralise(s).into_owned();
    let opt = |s: &Option<String>| text(s.as_deref().unwrap_or(""));
    [
        e.id.to_string(),
        b.occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        text(&b.event),
        text(&b.category),
        text(&b.action),
        b.outcome.as_str().to_string(),
        opt(&b.description),
        text(&b.actor.name),
        text(&b.actor.id),
        opt(&target.kind),
        opt(&target.id),
        opt(&target.name),
        opt(&b.ip),
        opt(&b.user_agent),
        opt(&b.source),
        // A JSON object always begins with `{`: nothing to neutralise.
        serde_json::to_string(&b.metadata).unwrap_or_default(),
    ]
}

/// Appends `events` as CSV records to `out`, after the header row when `header` (the first chunk
/// of an export; a BOM, when wanted, goes before it). Exports write chunk by chunk, so memory
/// holds one chunk, not the export.
pub fn write_chunk(out: &mut Vec<u8>, events: &[Event], header: bool) {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out);
    // Writing into memory cannot fail.
    if header {
        let _ = w.write_record(COLUMNS);
    }
    for e in events {
        let _ = w.write_record(record(e));
    }
    let _ = w.flush();
}

#[cfg(test)]
#[path = "csv_tests.rs"]
mod tests;
