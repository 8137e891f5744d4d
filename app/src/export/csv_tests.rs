//! The CSV writer: columns, quoting, neutralised formulas, the BOM.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::events::model::parse_event;

fn event(id: i64, v: serde_json::Value) -> Event {
    let at = Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 15).unwrap();
    Event {
        id,
        received_at: at,
        body: parse_event(&v, at).expect("valid").body,
    }
}

fn base() -> serde_json::Value {
    json!({"event": "Role Updated", "category": "Roles", "action": "updated",
           "actor": {"id": "usr_1", "name": "Grace", "type": "user"}})
}

fn parse(bytes: &[u8]) -> Vec<Vec<String>> {
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn every_dangerous_leading_character_is_neutralised() {
    for lead in ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"] {
        let text = format!("{lead}HYPERLINK(\"http://x\")");
        assert_eq!(neutralise(&text), format!("'{text}"), "{lead:?}");
    }
    for safe in ["", "plain", " =1", "'=1", "1+1", "a=b"] {
        assert_eq!(neutralise(safe), safe);
    }
}

#[test]
fn records_have_the_columns_in_order_and_read_back_exactly() {
    let mut v = base();
    v["description"] = json!("=cmd|' /C calc'!A0, with \"quotes\",\nand a new line");
    v["actor"]["name"] = json!("@admin");
    v["target"] = json!({"type": "role", "id": "-1", "name": "+Billing"});
    v["ip"] = json!("203.0.113.9");
    v["user_agent"] = json!("curl/8");
    v["source"] = json!("-billing");
    v["metadata"] = json!({"plan": "=pro", "seats": -3});
    v["outcome"] = json!("failure");
    let e = event(42, v);
    let mut out = Vec::new();
    write_chunk(&mut out, &[], true);
    write_chunk(&mut out, std::slice::from_ref(&e), false);
    let rows = parse(&out);
    assert_eq!(rows.len(), 2, "one header, one record");
    assert_eq!(rows[0], COLUMNS);
    assert_eq!(
        rows[1],
        [
            "42",
            "2026-11-26T09:30:15.000Z",
            "Role Updated",
            "Roles",
            "updated",
            "failure",
            "'=cmd|' /C calc'!A0, with \"quotes\",\nand a new line",
            "'@admin",
            "usr_1",
            "role",
            "'-1",
            "'+Billing",
            "203.0.113.9",
            "curl/8",
            "'-billing",
            r#"{"plan":"=pro","seats":-3}"#,
        ]
    );
    // RFC 4180: CRLF line ends, fields with commas, quotes or line breaks quoted, quotes doubled.
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("Seq,Date and Time (UTC),"));
    assert!(text.contains("\r\n42,"));
    assert!(text.contains("\"'=cmd|' /C calc'!A0, with \"\"quotes\"\",\nand a new line\""));
}

#[test]
fn absent_parts_are_empty_cells() {
    let e = event(7, base());
    let mut out = Vec::new();
    write_chunk(&mut out, &[e], true);
    let rows = parse(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[1][6..15],
        ["", "Grace", "usr_1", "", "", "", "", "", ""]
    );
    assert_eq!(rows[1][15], "{}");
}
