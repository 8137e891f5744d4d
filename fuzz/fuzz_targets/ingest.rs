//! The ingest validator: any JSON body is either refused field by field or becomes an event whose
//! stored form chains; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let now = chrono::Utc::now();
    let items: Vec<serde_json::Value> = match value {
        serde_json::Value::Array(list) => list,
        other => vec![other],
    };
    for v in items.iter().take(64) {
        if let Ok(ev) = app::events::model::parse_event(v, now) {
            let metadata = app::store::chain::json_text(&ev.body.metadata);
            let changes = ev.body.changes.as_ref().map(app::store::chain::json_text);
            let fields = app::store::chain::Fields::of_new(1, &ev, &metadata, changes.as_deref());
            let _ = app::store::chain::link(&app::store::chain::GENESIS, &fields);
            // What was accepted reads back as the same event.
            let text = serde_json::to_string(&ev.body).expect("serializes");
            let back: app::events::model::EventBody =
                serde_json::from_str(&text).expect("deserializes");
            assert_eq!(back, ev.body);
        }
    }
});
