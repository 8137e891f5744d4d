//! The OpenAPI document (`server/src/api/openapi.json`), served at `GET /api/v1/openapi.json`:
//! valid JSON, reachable without a key, and naming every route and method the API's router
//! registers, so that it cannot silently fall behind the router.

use crate::common;

use std::collections::BTreeSet;

use serde_json::Value;

/// The router's source: the routes are read from it, not listed again here.
const ROUTER: &str = include_str!("../../src/api/mod.rs");

/// Every `(path, method)` that `.route("…", get(…).post(…))` calls register in the router.
fn routed() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for call in ROUTER.split(".route(\"").skip(1) {
        let (path, rest) = call
            .split_once('"')
            .expect("a route's path ends with a quote");
        // The handlers: up to the end of this `.route(…)` call, i.e. its closing parenthesis.
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find_map(|(i, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            })
            .expect("a route call ends");
        let handlers = &rest[..end];
        let mut methods = 0;
        for method in ["get", "post", "put", "patch", "delete"] {
            let called = handlers.match_indices(&format!("{method}(")).any(|(i, _)| {
                i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if called {
                out.insert((path.to_string(), method.to_string()));
                methods += 1;
            }
        }
        assert!(
            methods > 0,
            "no method found for the route {path}: {handlers}"
        );
    }
    out
}

#[test]
fn the_router_is_read_from_its_source() {
    let routes = routed();
    // A sample the parser must find, or it reads nothing at all.
    for (path, method) in [
        ("/events", "post"),
        ("/events", "get"),
        ("/events/{id}", "get"),
        ("/exports/{id}/file", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(
            routes.contains(&(path.to_string(), method.to_string())),
            "{method} {path} not found in {routes:?}"
        );
    }
    assert!(routes.len() >= 12, "{routes:?}");
}

#[tokio::test]
async fn the_document_is_served_and_names_every_route() {
    let app = common::spawn_app().await;
    // No Authorization header: the document is public.
    let resp = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let doc: Value = resp.json().await.expect("valid JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let paths = doc["paths"].as_object().expect("paths");

    let routes = routed();
    let mut missing = Vec::new();
    for (path, method) in &routes {
        let documented = paths
            .get(path)
            .and_then(|p| p.get(method))
            .is_some_and(|op| op["responses"].is_object());
        if !documented {
            missing.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    assert!(
        missing.is_empty(),
        "routes not in openapi.json: {missing:?}"
    );

    // And nothing documented that the router does not serve.
    let mut extra = Vec::new();
    for (path, ops) in paths {
        for method in ops.as_object().expect("path item").keys() {
            if !routes.contains(&(path.clone(), method.clone())) {
                extra.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");

    // Every `$ref` points at something that exists.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
    app.stop().await;
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_the_file_in_the_repository() {
    let app = common::spawn_app().await;
    let served = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, server::api::OPENAPI);
    assert_eq!(served, include_str!("../../src/api/openapi.json"));
    app.stop().await;
}

// Regressions found by Schemathesis (scripts/schemathesis.sh) against this document.

/// `POST /api/v1/exports` refused unknown fields nowhere: `{"name": "a", "formt": "pdf", …}`
/// started a CSV export. Now a 400 naming the field, as an event's unknown field is, and nothing
/// is created.
#[tokio::test]
async fn an_export_request_with_an_unknown_field_is_refused() {
    let app = common::spawn_app().await;
    let start = (chrono::Utc::now() - chrono::Duration::days(1)).timestamp_millis();
    let resp = app
        .client
        .post(app.url("/api/v1/exports"))
        .bearer_auth(&app.key)
        .json(&serde_json::json!({"name": "a", "formt": "pdf", "view": format!("start={start}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let answer: Value = resp.json().await.unwrap();
    let error = answer["error"].as_str().unwrap();
    assert!(error.contains("unknown field `formt`"), "{answer}");
    let history: Value = app
        .client
        .get(app.url("/api/v1/exports"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history["exports"], serde_json::json!([]));
    app.stop().await;
}

/// A body without `Content-Type: application/json` is a 415 on `POST /api/v1/exports`, as on
/// ingest (it was a 400).
#[tokio::test]
async fn an_export_request_that_is_not_json_is_a_415() {
    let app = common::spawn_app().await;
    let resp = app
        .client
        .post(app.url("/api/v1/exports"))
        .bearer_auth(&app.key)
        .body(r#"{"name": "a", "view": "start=0"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let answer: Value = resp.json().await.unwrap();
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
    app.stop().await;
}

/// A NUL character in `event` or `q` is a 400 naming the parameter (PostgreSQL refuses NUL in a
/// query's text, which made it a 503 there); filter values were already checked.
#[tokio::test]
async fn a_nul_character_in_a_view_parameter_is_a_400() {
    let app = common::spawn_app().await;
    for route in [
        "/api/v1/events",
        "/api/v1/events/stats",
        "/api/v1/events/poll",
    ] {
        for param in ["event", "q"] {
            let resp = app
                .client
                .get(app.url(route))
                .query(&[(param, "a\0b")])
                .bearer_auth(&app.key)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 400, "{route}?{param}");
            let answer: Value = resp.json().await.unwrap();
            assert_eq!(answer["field"], param, "{route}: {answer}");
        }
    }
    app.stop().await;
}

/// `occurred_at` written as a whole number with a point (`1700000000000.0`, as some JSON encoders
/// write every number) is stored; it was a 422 saying it was not whole.
#[tokio::test]
async fn whole_epoch_milliseconds_with_a_point_are_accepted() {
    let app = common::spawn_app().await;
    let body = r#"{"event": "Login", "category": "Auth", "action": "login",
                   "actor": {"id": "u1", "type": "user"}, "occurred_at": 1199666041000.0}"#;
    let (status, answer) = common::post_raw(&app, body).await;
    assert_eq!(status, 201);
    let id = answer["results"][0]["id"].as_i64().unwrap();
    let event: Value = app
        .client
        .get(app.url(&format!("/api/v1/events/{id}")))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(event["occurred_at"], "2008-01-07T00:34:01Z");
    app.stop().await;
}
