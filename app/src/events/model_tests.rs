//! Unit tests of event validation: defaults, time handling, required fields, enumerations and limits.

use super::*;
use serde_json::json;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn minimal() -> Value {
    json!({"event": "Role Created", "category": "Roles", "action": "Created",
           "actor": {"id": "u1", "type": "user"}})
}

fn field_of(v: Value) -> Option<String> {
    parse_event(&v, now()).unwrap_err().field
}

#[test]
fn minimal_event_gets_defaults() {
    let e = parse_event(&minimal(), now()).unwrap();
    assert_eq!(e.body.occurred_at, now());
    assert_eq!(e.body.outcome, Outcome::Success);
    assert_eq!(e.body.action, "created", "action is stored lower case");
    assert_eq!(e.body.actor.name, "u1", "actor name defaults to the id");
    assert!(e.body.metadata.is_empty());
}

#[test]
fn occurred_at_accepts_rfc3339_and_epoch_ms_and_keeps_ms() {
    let mut v = minimal();
    v["occurred_at"] = json!("2026-11-25T10:00:00.123456+01:00");
    let e = parse_event(&v, now()).unwrap();
    assert_eq!(e.body.occurred_at.timestamp_millis(), 1_795_597_200_123);
    v["occurred_at"] = json!(1_795_597_200_123_i64);
    assert_eq!(
        parse_event(&v, now())
            .unwrap()
            .body
            .occurred_at
            .timestamp_millis(),
        1_795_597_200_123
    );
}

/// Found by Schemathesis: `1795597200123.0` is whole epoch milliseconds, and was refused as not.
#[test]
fn occurred_at_accepts_whole_epoch_ms_written_with_a_point() {
    let mut v = minimal();
    v["occurred_at"] = json!(1_795_597_200_123.0_f64);
    let e = parse_event(&v, now()).unwrap();
    assert_eq!(e.body.occurred_at.timestamp_millis(), 1_795_597_200_123);
    v["occurred_at"] = json!(1_795_597_200_123.5_f64);
    let err = parse_event(&v, now()).unwrap_err();
    assert_eq!(err.error, "timestamp must be whole epoch milliseconds");
    v["occurred_at"] = json!(-5.0_f64);
    let err = parse_event(&v, now()).unwrap_err();
    assert!(err.error.contains("between 1970-01-01"), "{}", err.error);
}

#[test]
fn occurred_at_more_than_five_minutes_ahead_is_rejected() {
    let mut v = minimal();
    v["occurred_at"] = json!((now() + chrono::Duration::minutes(4)).to_rfc3339());
    assert!(parse_event(&v, now()).is_ok());
    v["occurred_at"] = json!((now() + chrono::Duration::minutes(6)).to_rfc3339());
    assert_eq!(field_of(v), Some("occurred_at".into()));
}

#[test]
fn required_fields_are_named() {
    for f in ["event", "category", "action", "actor"] {
        let mut v = minimal();
        v.as_object_mut().unwrap().remove(f);
        assert_eq!(field_of(v), Some(f.into()));
    }
    let mut v = minimal();
    v["actor"] = json!({"type": "user"});
    assert_eq!(field_of(v), Some("actor.id".into()));
}

#[test]
fn bad_enumerations_and_addresses_are_rejected() {
    let mut v = minimal();
    v["outcome"] = json!("maybe");
    assert_eq!(field_of(v), Some("outcome".into()));
    let mut v = minimal();
    v["actor"]["type"] = json!("robot");
    assert_eq!(field_of(v), Some("actor.type".into()));
    let mut v = minimal();
    v["ip"] = json!("10.0.0.256");
    assert_eq!(field_of(v), Some("ip".into()));
    let mut v = minimal();
    v["ip"] = json!("2001:db8::1");
    assert_eq!(
        parse_event(&v, now()).unwrap().body.ip.as_deref(),
        Some("2001:db8::1")
    );
    let mut v = minimal();
    v["actor"]["email"] = json!("not-an-email");
    assert_eq!(field_of(v), Some("actor.email".into()));
}

#[test]
fn size_limits_name_the_field_and_the_limit() {
    let mut v = minimal();
    v["event"] = json!("x".repeat(MAX_STRING_BYTES + 1));
    let err = parse_event(&v, now()).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("event"));
    assert!(err.error.contains("1024"), "{}", err.error);

    let mut v = minimal();
    v["description"] = json!("d".repeat(MAX_DESCRIPTION_BYTES));
    assert!(parse_event(&v, now()).is_ok());
    v["description"] = json!("d".repeat(MAX_DESCRIPTION_BYTES + 1));
    assert_eq!(field_of(v), Some("description".into()));

    let mut v = minimal();
    let many: Map<String, Value> = (0..65).map(|i| (format!("k{i}"), json!(i))).collect();
    v["metadata"] = Value::Object(many);
    assert_eq!(field_of(v), Some("metadata".into()));

    let mut v = minimal();
    v["metadata"] = json!({"blob": "b".repeat(MAX_METADATA_BYTES)});
    assert_eq!(field_of(v), Some("metadata".into()));
}

#[test]
fn wrong_types_unknown_fields_and_nul_are_rejected() {
    let mut v = minimal();
    v["metadata"] = json!([1, 2]);
    assert_eq!(field_of(v), Some("metadata".into()));
    let mut v = minimal();
    v["event"] = json!(5);
    assert_eq!(field_of(v), Some("event".into()));
    let mut v = minimal();
    v["evnt"] = json!("typo");
    assert_eq!(field_of(v), Some("evnt".into()));
    let mut v = minimal();
    v["source"] = json!("a\0b");
    assert_eq!(field_of(v), Some("source".into()));
    let mut v = minimal();
    v["changes"] = json!({"role": "admin"});
    assert_eq!(field_of(v), Some("changes.role".into()));
    let mut v = minimal();
    v["changes"] = json!({"role": {"old": "viewer", "new": "admin"}});
    assert!(parse_event(&v, now()).unwrap().body.changes.is_some());
}
