//! `GET /api/v1/events/stats` over real HTTP, on the store the environment selects (SQLite by
//! default, PostgreSQL with `AUDITLOG_TEST_BACKEND=postgres`): known events in, known counts,
//! facet values and histogram bars out.

use crate::common;

use common::spawn_app;
use serde_json::{Value, json};

/// 2025-01-15T00:00:00Z in epoch ms.
const DAY_START: i64 = 1_736_899_200_000;
const HOUR: i64 = 3_600_000;

fn event(name: &str, user: &str, outcome: &str, at_ms: i64) -> Value {
    json!({
        "occurred_at": at_ms,
        "event": name,
        "category": if name.starts_with("Log") { "Auth" } else { "Roles" },
        "action": "done",
        "outcome": outcome,
        "actor": {"id": user.to_lowercase(), "name": user, "type": "user"},
    })
}

async fn stats(app: &common::TestApp, query: &str) -> (u16, Value) {
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/events/stats?{query}")))
        .bearer_auth(&app.key)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json body"))
}

fn facet<'a>(body: &'a Value, field: &str) -> &'a Value {
    body["facets"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["field"] == field)
        .map(|f| &f["values"])
        .expect("facet present")
}

#[tokio::test]
async fn stats_count_facet_and_bucket_the_view() {
    let app = spawn_app().await;
    let batch = json!([
        event("Login", "Ada", "success", DAY_START + 10 * HOUR),
        event("Login", "Ada", "failure", DAY_START + 10 * HOUR + 1),
        event("Login", "Grace", "failure", DAY_START + 11 * HOUR),
        event(
            "Logout",
            "Grace",
            "success",
            DAY_START + 11 * HOUR + 30 * 60_000
        ),
        event("Logout", "Ada", "success", DAY_START + 23 * HOUR),
        event(
            "Role Created",
            "Alan",
            "success",
            DAY_START + 23 * HOUR + 59 * 60_000
        ),
        // Outside the day: never counted below.
        event("Login", "Ada", "success", DAY_START - 1),
        event("Login", "Ada", "success", DAY_START + 24 * HOUR),
    ]);
    assert_eq!(app.post(&batch).await.status(), 201);
    let day = format!("start={DAY_START}&end={}", DAY_START + 24 * HOUR);

    let (status, body) = stats(&app, &day).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["count"],
        json!({"value": 6, "exact": true, "estimated": false})
    );
    // A view this small is read whole, not estimated from the sample.
    assert_eq!(body["sample"], json!(null));
    assert_eq!(
        facet(&body, "event"),
        &json!([["Login", 3], ["Logout", 2], ["Role Created", 1]])
    );
    assert_eq!(
        facet(&body, "user"),
        &json!([["Ada", 3], ["Grace", 2], ["Alan", 1]])
    );
    assert_eq!(
        facet(&body, "outcome"),
        &json!([["success", 4], ["failure", 2]])
    );
    assert_eq!(
        facet(&body, "category"),
        &json!([["Auth", 5], ["Roles", 1]])
    );
    assert_eq!(body["bucket"], "hour");
    assert_eq!(body["bucket_ms"], HOUR);
    let bars = body["histogram"].as_array().expect("histogram");
    assert_eq!(bars.len(), 24, "every hour of the day has a bar");
    assert_eq!(bars[0], json!([DAY_START, 0]));
    assert_eq!(bars[10], json!([DAY_START + 10 * HOUR, 2]));
    assert_eq!(bars[11], json!([DAY_START + 11 * HOUR, 2]));
    assert_eq!(bars[23], json!([DAY_START + 23 * HOUR, 2]));
    let sum: u64 = bars.iter().map(|b| b[1].as_u64().expect("count")).sum();
    assert_eq!(sum, 6);

    // The filter and the event name narrow every part alike.
    let (status, body) = stats(&app, &format!("{day}&f=outcome:is:failure&facet_limit=1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["count"],
        json!({"value": 2, "exact": true, "estimated": false})
    );
    // Ada and Grace failed once each: the tie goes to the value first in byte order.
    assert_eq!(facet(&body, "user"), &json!([["Ada", 1]]));
    let (_, body) = stats(&app, &format!("{day}&event=Logout")).await;
    assert_eq!(body["count"]["value"], 2);
    assert_eq!(facet(&body, "event"), &json!([["Logout", 2]]));

    // All Time spans the data: from the oldest event's hour to the newest's.
    let (status, body) = stats(&app, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"]["value"], 8);
    let bars = body["histogram"].as_array().expect("histogram");
    assert_eq!(body["bucket"], "hour");
    assert_eq!(bars.len(), 26);
    assert_eq!(bars[0], json!([DAY_START - HOUR, 1]));
    assert_eq!(bars[25], json!([DAY_START + 24 * HOUR, 1]));
    let sum: u64 = bars.iter().map(|b| b[1].as_u64().expect("count")).sum();
    assert_eq!(sum, 8);
    app.stop().await;
}

#[tokio::test]
async fn stats_refuse_bad_parameters_and_missing_keys() {
    let app = spawn_app().await;
    for (query, field) in [
        ("facet_limit=0", "facet_limit"),
        ("facet_limit=1&facet_limit=2", "facet_limit"),
        ("start=soon", "start"),
        ("start=10&end=5", "end"),
        ("f=nope:is:x", "f"),
        ("bogus=1", "bogus"),
    ] {
        let (status, body) = stats(&app, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    let resp = app
        .client
        .get(app.url("/api/v1/events/stats"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 401);
    app.stop().await;
}
