//! The ingest API over real HTTP against a fresh SQLite file.

use crate::common;

use common::{event, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn single_event_is_stored_and_listed_with_its_fields() {
    let app = spawn_app().await;
    let resp = app.post(&event("Role Created", 1)).await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    let id = body["results"][0]["id"].as_i64().expect("an id");

    let (status, list) = app.list("").await;
    assert_eq!(status, 200);
    let e = &list["events"][0];
    assert_eq!(e["id"], id);
    assert_eq!(e["event"], "Role Created");
    assert_eq!(e["actor"]["email"], "ada@example.com");
    assert_eq!(e["target"]["name"], "Billing Admin");
    assert_eq!(e["ip"], "203.0.113.7");
    assert_eq!(e["metadata"]["n"], 1);
    assert!(e["received_at"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn batch_with_partial_failure_returns_207_and_stores_the_valid_items_in_order() {
    let app = spawn_app().await;
    let mut bad = event("Bad", 1);
    bad["ip"] = json!("999.1.1.1");
    let resp = app
        .post(&json!([event("First", 3), bad, event("Third", 2)]))
        .await;
    assert_eq!(resp.status(), 207);
    let body: Value = resp.json().await.unwrap();
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0]["id"].is_i64());
    assert_eq!(results[1]["field"], "ip");
    assert!(results[1]["error"].as_str().unwrap().contains("IPv4"));
    assert!(results[2]["id"].as_i64().unwrap() > results[0]["id"].as_i64().unwrap());

    let (_, list) = app.list("").await;
    let names: Vec<&str> = list["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Third", "First"],
        "newest first, the invalid item absent"
    );
    app.stop().await;
}

#[tokio::test]
async fn retry_with_the_same_idempotency_key_returns_the_original_ids_and_stores_nothing() {
    let app = spawn_app().await;
    let batch = json!([event("A", 2), event("B", 1)]);
    let first = app.post_with_key(&batch, "req-1").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();

    let retry = app.post_with_key(&batch, "req-1").await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);
    assert_eq!(app.all_ids().await.len(), 2);

    // The same key with another body is a client error, and stores nothing.
    let other = app.post_with_key(&json!([event("C", 1)]), "req-1").await;
    assert_eq!(other.status(), 422);
    let other: Value = other.json().await.unwrap();
    assert_eq!(other["field"], "Idempotency-Key");
    assert_eq!(app.all_ids().await.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn per_event_idempotency_key_dedupes_across_requests_and_within_a_batch() {
    let app = spawn_app().await;
    let mut e = event("Login", 1);
    e["idempotency_key"] = json!("evt-42");
    let first: Value = app.post(&e).await.json().await.unwrap();
    let id = first["results"][0]["id"].as_i64().unwrap();

    let again: Value = app
        .post(&json!([e.clone(), event("Other", 1), e]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["results"][0]["id"], id);
    assert_eq!(again["results"][0]["duplicate"], true);
    assert_eq!(again["results"][2]["id"], id);
    assert_eq!(app.all_ids().await.len(), 2, "only the new event was added");
    app.stop().await;
}

/// TRUST_TESTS T4: the same event sent 1,000 times at once (a retry storm) is stored once, and
/// every answer names that one event.
#[tokio::test]
async fn a_thousand_concurrent_duplicates_store_one_event() {
    let app = spawn_app().await;
    let mut e = event("Retried", 1);
    e["idempotency_key"] = json!("storm-1");
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (client, url, key, body) = (
                app.client.clone(),
                app.url("/api/v1/events"),
                app.key.clone(),
                e.clone(),
            );
            tokio::spawn(async move {
                let resp = client
                    .post(url)
                    .bearer_auth(key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(resp.status().is_success(), "{}", resp.status());
                let v: Value = resp.json().await.unwrap();
                v["results"][0]["id"].as_i64().unwrap()
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.all_ids().await, ids.into_iter().collect::<Vec<_>>());
    app.stop().await;
}

#[tokio::test]
async fn concurrent_requests_are_all_committed_with_unique_increasing_ids() {
    let app = spawn_app().await;
    let posts = (0..40).map(|i| {
        let app = &app;
        async move {
            let resp = app
                .post(&json!([
                    event(&format!("E{i}"), 1),
                    event(&format!("F{i}"), 1)
                ]))
                .await;
            assert_eq!(resp.status(), 201);
            let body: Value = resp.json().await.unwrap();
            let a = body["results"][0]["id"].as_i64().unwrap();
            let b = body["results"][1]["id"].as_i64().unwrap();
            assert!(b > a, "ids follow item order within a request");
            [a, b]
        }
    });
    let mut ids: Vec<i64> = futures::future::join_all(posts)
        .await
        .into_iter()
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 80);
    assert_eq!(app.all_ids().await.len(), 80);
    app.stop().await;
}

#[tokio::test]
async fn acknowledged_events_survive_a_restart() {
    let app = spawn_app().await;
    let body: Value = app
        .post(&json!([event("Kept", 1), event("Kept", 2)]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["results"].as_array().unwrap().len(), 2);
    let db = app.stop_keeping_database().await;
    let reopened = app::store::Store::open(&db.url).await.unwrap();
    assert!(!reopened.is_empty().await.unwrap());
    let page = reopened.list(&Default::default()).await.unwrap();
    assert_eq!(page.events.len(), 2);
    reopened.close().await;
}

async fn status_and_body(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (
        status,
        resp.json().await.expect("every error has a JSON body"),
    )
}

#[tokio::test]
async fn every_error_status_names_the_problem_and_changes_nothing() {
    let app = spawn_app().await;
    let url = app.url("/api/v1/events");
    let c = &app.client;
    let valid = serde_json::to_vec(&event("X", 1)).unwrap();

    // 401: no key, wrong key.
    let (s, b) = status_and_body(c.post(&url).json(&event("X", 1)).send().await.unwrap()).await;
    assert_eq!(s, 401);
    assert!(b["error"].as_str().unwrap().contains("Authorization"));
    let (s, _) = status_and_body(
        c.post(&url)
            .bearer_auth("alk_wrong")
            .json(&event("X", 1))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);

    // 415: not JSON.
    let resp = c
        .post(&url)
        .bearer_auth(&app.key)
        .header("content-type", "text/plain")
        .body(valid.clone())
        .send()
        .await
        .unwrap();
    let (s, b) = status_and_body(resp).await;
    assert_eq!(s, 415);
    assert!(b["error"].as_str().unwrap().contains("application/json"));

    // 400: malformed JSON, and a body that is neither object nor array.
    let resp = c
        .post(&url)
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body("{\"event\": ")
        .send()
        .await
        .unwrap();
    let (s, b) = status_and_body(resp).await;
    assert_eq!(s, 400);
    assert!(b["error"].as_str().unwrap().contains("malformed JSON"));
    let (s, _) = status_and_body(app.post(&json!("hello")).await).await;
    assert_eq!(s, 400);

    // 413: body over 1 MiB, batch over 1,000.
    let huge = json!({"event": "x".repeat(1024 * 1024 + 10)});
    let (s, b) = status_and_body(app.post(&huge).await).await;
    assert_eq!(s, 413);
    assert!(b["error"].as_str().unwrap().contains("1048576"));
    let many: Vec<Value> = (0..1001).map(|_| json!({})).collect();
    let (s, b) = status_and_body(app.post(&Value::Array(many)).await).await;
    assert_eq!(s, 413);
    assert!(b["error"].as_str().unwrap().contains("1000"));

    // 422: invalid single event names its field; an empty batch; a batch where nothing is valid.
    let mut bad = event("X", 1);
    bad["actor"]["type"] = json!("robot");
    let (s, b) = status_and_body(app.post(&bad).await).await;
    assert_eq!(s, 422);
    assert_eq!(b["field"], "actor.type");
    let (s, _) = status_and_body(app.post(&json!([])).await).await;
    assert_eq!(s, 422);
    let (s, b) = status_and_body(app.post(&json!([bad.clone(), bad])).await).await;
    assert_eq!(s, 422);
    assert_eq!(b["results"][1]["field"], "actor.type");

    // A bad Idempotency-Key header is a 400 naming the header.
    let resp = c
        .post(&url)
        .bearer_auth(&app.key)
        .header("Idempotency-Key", "k".repeat(300))
        .json(&event("X", 1))
        .send()
        .await
        .unwrap();
    let (s, b) = status_and_body(resp).await;
    assert_eq!(s, 400);
    assert_eq!(b["field"], "Idempotency-Key");

    assert!(
        app.all_ids().await.is_empty(),
        "no rejected request stored anything"
    );
    app.stop().await;
}
