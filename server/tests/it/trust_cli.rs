//! The trust commands as an operator runs them: `verify` passes on an intact store and fails,
//! naming the event, after a change made by hand; `checkpoints` signs, lists and exports;
//! `retention set` and `purge` are recorded as events by the operating-system user, and the chain
//! still verifies after the purge.

use crate::common;

use app::events::model::parse_event;
use app::events::query::{EventQuery, MAX_LIMIT};
use app::store::Store;
use app::store::testing::append_all;
use serde_json::{Value, json};

fn event(name: &str, at: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "occurred_at": at.to_rfc3339(), "event": name, "category": "Trust", "action": "tested",
        "actor": {"id": "usr_t", "name": "Trusty", "type": "user"}
    })
}

#[tokio::test]
async fn verify_checkpoints_retention_and_purge_from_the_command_line() {
    let app = common::spawn_app().await;
    let db = app.stop_keeping_database().await;
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("signing.key");
    {
        let store = Store::open(&db.url).await.unwrap();
        let now = chrono::Utc::now();
        let old = now - chrono::Duration::days(40);
        let ancient = (0..5)
            .map(|_| parse_event(&event("Ancient", old), old))
            .collect();
        append_all(&store, "t", ancient).await;
        let fresh = (0..5)
            .map(|_| parse_event(&event("Fresh", now), now))
            .collect();
        append_all(&store, "t", fresh).await;
        store.close().await;
    }
    let bin = env!("CARGO_BIN_EXE_auditlog");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .arg("--database-url")
            .arg(&db.url)
            .arg("--signing-key")
            .arg(&key_file)
            .args(args)
            .env("USER", "ops")
            .output()
            .expect("run auditlog");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };

    let (ok, out) = run(&["verify"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("Verified #1–#10: 10 events and 0 checkpoints"),
        "{out}"
    );
    let (ok, out) = run(&["checkpoints", "create"]);
    assert!(ok && out.contains("signed after event #11"), "{out}");
    let (ok, out) = run(&["checkpoints", "export"]);
    assert!(ok, "{out}");
    let json_start = out.find('{').unwrap();
    let doc: Value = serde_json::from_str(&out[json_start..]).unwrap();
    let public = doc["public_key"].as_str().unwrap().to_string();
    assert_eq!(doc["checkpoints"][0]["public_key"], public.as_str());
    assert_eq!(doc["checkpoints"][0]["event_id"], 11);

    let (ok, out) = run(&["retention", "set", "30"]);
    assert!(ok && out.contains("now kept 30 days (were 365)"), "{out}");
    let (ok, out) = run(&["purge", "--dry-run"]);
    assert!(ok && out.contains("up to #5"), "{out}");
    let (ok, out) = run(&["purge"]);
    assert!(ok && out.contains("Removed 5 events"), "{out}");
    let (ok, out) = run(&["verify", "--public-key", &public]);
    assert!(ok, "{out}");
    assert!(out.contains("Verified #6–"), "{out}");

    // A change made by hand in the database: found, named, and the exit status says so.
    db.raw(if db.is_postgres() {
        "SET auditlog.maintenance = 'on'; UPDATE events SET actor_name = 'Mallory' WHERE id = 8"
    } else {
        "INSERT INTO maintenance VALUES ('x'); UPDATE events SET actor_name = 'Mallory' \
         WHERE id = 8; DELETE FROM maintenance"
    })
    .await
    .unwrap();
    let (ok, out) = run(&["verify"]);
    assert!(!ok, "{out}");
    assert!(out.contains("BROKEN at event #8"), "{out}");

    // Each command is in the log, by the operating-system user, with its outcome.
    let store = Store::open(&db.url).await.unwrap();
    let q = EventQuery {
        limit: MAX_LIMIT,
        filter: app::filters::Filter::from_query(&[(
            "f".to_string(),
            "source:is:auditlog".to_string(),
        )])
        .unwrap(),
        ..EventQuery::default()
    };
    let mut events = store.list(&q).await.unwrap().events;
    events.reverse();
    let seen: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.body.event.clone(), e.body.outcome.as_str().to_string()))
        .collect();
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        seen,
        [
            s("Audit Log Verified", "success"),
            s("Retention Changed", "success"),
            s("Audit Logs Purged", "success"),
            s("Audit Log Verified", "success"),
            s("Audit Log Verified", "failure"),
        ]
    );
    let purged = &events[2];
    assert_eq!(purged.body.metadata["removed"], 5);
    assert!(purged.body.actor.id.starts_with("ops@"));
    store.close().await;
}
