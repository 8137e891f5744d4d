//! The CSV writer: any text in any field is written so that a CSV reader gets exactly one record
//! back, each cell the field's text, with a leading `'` added only before a character a
//! spreadsheet would run as a formula (TRUST_TESTS T8).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parts: Vec<&str> = text.split('\u{1}').collect();
    let pick = |i: usize| parts.get(i).copied().unwrap_or("x");
    let body = serde_json::json!({
        "event": pick(0), "category": pick(1), "action": pick(2),
        "actor": {"id": pick(3), "name": pick(4), "type": "user"},
        "description": pick(5),
        "metadata": {"k": pick(6)},
    });
    let Ok(ev) = app::events::model::parse_event(&body, chrono::Utc::now()) else {
        return;
    };
    let event = app::events::model::Event {
        id: 1,
        received_at: ev.received_at,
        body: ev.body,
    };
    let mut out = Vec::new();
    app::export::csv::write_chunk(&mut out, std::slice::from_ref(&event), true);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(&out[..]);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("parses")).collect();
    assert_eq!(records.len(), 1, "one record");
    let expected = app::export::csv::record(&event);
    assert_eq!(records[0].iter().collect::<Vec<_>>(), expected.iter().map(String::as_str).collect::<Vec<_>>());
    for cell in records[0].iter() {
        let first = cell.chars().next();
        assert!(
            !matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')),
            "a cell starts with a formula character: {cell:?}"
        );
    }
    // The description cell is the description, after stripping the `'` added before a formula.
    let at = app::export::csv::COLUMNS
        .iter()
        .position(|c| *c == "Description")
        .unwrap();
    let original = event.body.description.clone().unwrap_or_default();
    let cell = &records[0][at];
    if cell != original {
        assert_eq!(cell.strip_prefix('\''), Some(original.as_str()));
    }
});
