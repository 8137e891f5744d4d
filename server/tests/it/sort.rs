//! `sort=` on `GET /api/v1/events`, over real HTTP, on the store the environment selects (SQLite by
//! default): every key in both directions, missing targets first when ascending, paging by cursor,
//! and the errors that name `sort` and `cursor`.

use crate::common;

use common::{TestApp, event, get_events, spawn_app};
use serde_json::{Value, json};

/// Follows `next_cursor` with pages of 2; returns the events' ids in order.
async fn ids(app: &TestApp, sort: &str) -> Vec<i64> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut pairs = vec![("sort", sort), ("limit", "2")];
        if let Some(c) = &cursor {
            pairs.push(("cursor", c));
        }
        let (status, body) = get_events(app, &pairs).await;
        assert_eq!(status, 200, "{sort}: {body}");
        out.extend(
            body["events"]
                .as_array()
                .expect("events")
                .iter()
                .map(|e| e["id"].as_i64().expect("id")),
        );
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// Five events; returns their ids in posting order.
async fn seeded() -> (TestApp, Vec<i64>) {
    let app = spawn_app().await;
    let people = [
        ("Login", "bob", Some("Zeta"), Some("10.0.0.2")),
        ("Logout", "Alice", None, None),
        ("Login", "alice", Some("Ärger"), Some("10.0.0.10")),
        ("Role Created", "bob", Some("alpha"), None),
        ("Login", "Bob", None, Some("2001:db8::1")),
    ];
    let body: Vec<Value> = people
        .iter()
        .enumerate()
        .map(|(i, (name, user, target, ip))| {
            let mut e = event(name, 50 - i as i64 * 10);
            e["actor"] = json!({"id": user, "name": user, "type": "user"});
            e["target"] = match target {
                Some(t) => json!({"name": t}),
                None => Value::Null,
            };
            e["ip"] = json!(ip);
            e
        })
        .collect();
    let resp: Value = app
        .post(&Value::Array(body))
        .await
        .json()
        .await
        .expect("json");
    let ids = resp["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    (app, ids)
}

#[tokio::test]
async fn every_sort_orders_and_pages_bytewise_with_missing_values_first() {
    let (app, id) = seeded().await;
    let (a, b, c, d, e) = (id[0], id[1], id[2], id[3], id[4]);
    // Bytewise: upper case before lower case, "Ä" (0xC3…) after every ASCII letter; ties by id.
    for (sort, want) in [
        ("-time", vec![e, d, c, b, a]),
        ("time", vec![a, b, c, d, e]),
        ("seq", vec![a, b, c, d, e]),
        ("-seq", vec![e, d, c, b, a]),
        ("user", vec![b, e, c, a, d]),
        ("-user", vec![d, a, c, e, b]),
        ("event", vec![a, c, e, b, d]),
        ("-event", vec![d, b, e, c, a]),
        ("target", vec![b, e, a, d, c]),
        ("-target", vec![c, d, a, e, b]),
        // By text, not numerically: "10.0.0.10" < "10.0.0.2" < "2001:…".
        ("ip", vec![b, d, c, a, e]),
        ("-ip", vec![e, a, c, d, b]),
        ("category", vec![a, b, c, d, e]),
        ("outcome", vec![a, b, c, d, e]),
    ] {
        assert_eq!(ids(&app, sort).await, want, "sort={sort}");
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_sorts_and_foreign_cursors_are_400s_that_name_the_parameter() {
    let (app, _) = seeded().await;
    for bad in ["description", "-", "name", "+user", "USER"] {
        let (status, body) = get_events(&app, &[("sort", bad)]).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["field"], "sort", "{bad}");
    }
    let (_, body) = get_events(&app, &[("sort", "user"), ("limit", "2")]).await;
    let cursor = body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    for other in ["-user", "event"] {
        let (status, body) = get_events(&app, &[("sort", other), ("cursor", &cursor)]).await;
        assert_eq!(status, 400, "{other}: {body}");
        assert_eq!(body["field"], "cursor");
    }
    // Without `sort` the order is newest first, which a `user` cursor does not belong to either.
    let (status, body) = get_events(&app, &[("cursor", &cursor)]).await;
    assert_eq!((status, &body["field"]), (400, &json!("cursor")), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn cursors_issued_before_sorting_still_page_newest_first() {
    let (app, id) = seeded().await;
    let (_, first) = get_events(&app, &[("limit", "2")]).await;
    let second = &first["events"][1];
    let ms = chrono::DateTime::parse_from_rfc3339(second["occurred_at"].as_str().expect("time"))
        .expect("rfc 3339")
        .timestamp_millis();
    let v1 = base64_url(format!("v1:{ms}:{}", second["id"]).as_bytes());
    let (status, body) = get_events(&app, &[("cursor", &v1)]).await;
    assert_eq!(status, 200, "{body}");
    let got: Vec<i64> = body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(got, vec![id[2], id[1], id[0]]);
    app.stop().await;
}

/// URL-safe base64 without padding, the cursor's outer form (the server crate has no base64).
fn base64_url(data: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}
