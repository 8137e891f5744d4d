//! The read API and the server-rendered page, over real HTTP against a fresh SQLite file.

use crate::common;

use std::collections::HashSet;

use app::accounts::Role;
use common::{event, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn keyset_paging_returns_each_event_exactly_once_while_new_events_arrive() {
    let app = spawn_app().await;
    // 300 events spread over the last 300 minutes, several sharing a timestamp to exercise the id tie-break.
    let batch: Vec<Value> = (0..300)
        .map(|i| event(&format!("Old {i}"), 10 + i / 3))
        .collect();
    let stored: Value = app.post(&Value::Array(batch)).await.json().await.unwrap();
    let expected: HashSet<i64> = stored["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(expected.len(), 300);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        // New events keep arriving between pages.
        let resp = app.post(&json!([event("New", 0), event("New", 0)])).await;
        assert_eq!(resp.status(), 201);
        let q = match &cursor {
            Some(c) => format!("limit=37&start=0&cursor={c}"),
            None => "limit=37&start=0".into(),
        };
        let (status, body) = app.list(&q).await;
        assert_eq!(status, 200, "{body}");
        let events = body["events"].as_array().unwrap();
        assert!(events.len() <= 37);
        seen.extend(events.iter().map(|e| e["id"].as_i64().unwrap()));
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.into()),
            None => break,
        }
    }
    assert!(pages >= 9);
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no event was returned twice");
    assert!(
        expected.is_subset(&unique),
        "every event present at the start was returned"
    );
    app.stop().await;
}

#[tokio::test]
async fn list_is_newest_first_and_filters_by_time_range_and_event_name() {
    let app = spawn_app().await;
    let body = json!([
        event("Login", 120),
        event("Logout", 60),
        event("Login", 30),
        event("Login", 5)
    ]);
    assert_eq!(app.post(&body).await.status(), 201);

    let (_, all) = app.list("").await;
    let times: Vec<&str> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["occurred_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");

    let (_, logins) = app.list("event=Login").await;
    assert_eq!(logins["events"].as_array().unwrap().len(), 3);

    let start = (chrono::Utc::now() - chrono::Duration::minutes(90)).timestamp_millis();
    let end = (chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339();
    let (status, window) = app
        .list(&format!("start={start}&end={}", urlencode(&end)))
        .await;
    assert_eq!(status, 200, "{window}");
    let names: Vec<&str> = window["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Login", "Logout"],
        "only events at 30 and 60 minutes ago"
    );
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn bad_read_parameters_are_400s_that_name_the_parameter() {
    let app = spawn_app().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=2001", "limit"),
        ("limit=ten", "limit"),
        ("cursor=bm9wZQ", "cursor"),
        ("start=yesterday", "start"),
        ("start=2000&end=1000", "end"),
        ("colour=red", "colour"),
    ] {
        let (status, body) = app.list(query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["field"], field, "{query}");
    }
    let resp = app
        .client
        .get(app.url("/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "reading needs a key too");
    let resp = app
        .client
        .get(app.url("/api/v1/nope"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn the_audit_logs_page_renders_stored_events_on_the_server() {
    let app = spawn_app().await;
    let mut e = event("Guardrails Deployed", 2);
    e["description"] = json!("<script>alert(1)</script> deployed");
    assert_eq!(app.post(&e).await.status(), 201);
    let cookie = app.session("viewer", Role::Auditor, "usr_viewer").await;
    let html = app
        .client
        .get(app.url("/settings/audit-logs"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    let html = html.text().await.unwrap();
    assert!(html.contains("Guardrails Deployed"));
    assert!(html.contains("Billing Admin"));
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "event text is escaped, never markup"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    let missing = app
        .client
        .get(app.url("/no/such/page"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    app.stop().await;
}

/// `--max-range-days`: a read spanning more than the limit (or without a start) is a 400 naming
/// `start`, for the list and its statistics; within it, answered as usual.
#[tokio::test]
async fn reads_longer_than_the_configured_range_are_refused_naming_start() {
    let db = app::store::testing::TestDatabase::from_env().await;
    let app = common::spawn_app_configured(db, |s| {
        s.with_read_limits(app::events::query::ReadLimits { max_days: Some(30) })
    })
    .await;
    let day = 86_400_000_i64;
    let now = chrono::Utc::now().timestamp_millis();
    for path in ["/api/v1/events", "/api/v1/events/stats"] {
        for (query, status) in [
            (String::new(), 400),
            (format!("?start={}", now - 60 * day), 400),
            (
                format!("?start={}&end={}", now - 90 * day, now - 50 * day),
                400,
            ),
            (format!("?start={}", now - 10 * day), 200),
            (
                format!("?start={}&end={}", now - 90 * day, now - 61 * day),
                200,
            ),
        ] {
            let resp = app
                .client
                .get(app.url(&format!("{path}{query}")))
                .bearer_auth(&app.key)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), status, "{path}{query}");
            if status == 400 {
                let body: serde_json::Value = resp.json().await.unwrap();
                assert_eq!(body["field"], "start", "{body}");
                assert!(
                    body["error"].as_str().unwrap().contains("30 days"),
                    "{body}"
                );
            }
        }
    }
    app.stop().await;
}
