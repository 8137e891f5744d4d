//! One event by its sequence number: `GET /api/v1/events/{id}` and the permalink page
//! `/settings/audit-logs/events/{id}`, over real HTTP against a fresh database.

use crate::common;

use app::accounts::Role;

use common::{event, spawn_app};
use serde_json::{Value, json};

async fn get_one(app: &common::TestApp, id: &str) -> (u16, Value) {
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/events/{id}")))
        .bearer_auth(&app.key)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json body"))
}

async fn post_one(app: &common::TestApp, e: &Value) -> i64 {
    let resp = app.post(e).await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.expect("json body");
    body["results"][0]["id"].as_i64().expect("id")
}

#[tokio::test]
async fn an_event_is_read_by_id_exactly_as_the_list_returns_it() {
    let app = spawn_app().await;
    let mut e = event("Role Updated", 3);
    e["changes"] = json!({"name": {"old": "Billing", "new": "Billing Admin"}});
    e["metadata"] = json!({"plan": "pro", "limits": {"seats": 12}});
    e["user_agent"] = json!("curl/8.5");
    let id = post_one(&app, &e).await;
    post_one(&app, &event("Other", 1)).await;

    let (status, body) = get_one(&app, &id.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = app.list("").await;
    let listed = list["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["id"] == id)
        .expect("listed");
    assert_eq!(&body, listed);
    assert_eq!(body["event"], "Role Updated");
    assert_eq!(body["metadata"]["limits"]["seats"], 12);
    assert_eq!(body["changes"]["name"]["new"], "Billing Admin");
    assert_eq!(body["user_agent"], "curl/8.5");
    assert!(body["received_at"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_id_is_a_404_and_a_malformed_one_a_400_naming_id() {
    let app = spawn_app().await;
    let id = post_one(&app, &event("Only", 1)).await;

    let (status, body) = get_one(&app, &(id + 1000).to_string()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], format!("event {} not found", id + 1000));

    for bad in ["abc", "1.5", "-3", "0", "99999999999999999999"] {
        let (status, body) = get_one(&app, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["field"], "id", "{bad}");
    }
    app.stop().await;
}

#[tokio::test]
async fn reading_one_event_needs_a_valid_key() {
    let app = spawn_app().await;
    let id = post_one(&app, &event("Secret", 1)).await;
    let url = app.url(&format!("/api/v1/events/{id}"));
    let none = app.client.get(&url).send().await.expect("request");
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let wrong = app
        .client
        .get(&url)
        .bearer_auth("alk_not_a_key")
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), 401);
    // Authentication comes first: a malformed id does not tell a stranger anything either.
    let malformed = app
        .client
        .get(app.url("/api/v1/events/abc"))
        .send()
        .await
        .expect("request");
    assert_eq!(malformed.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn the_permalink_renders_the_event_drawer_on_the_server_with_text_escaped() {
    let app = spawn_app().await;
    let mut e = event("Hostile Described", 2);
    e["description"] = json!("<img src=x onerror=alert(1)>");
    e["metadata"] = json!({"plan": "<b>pro</b>"});
    let id = post_one(&app, &e).await;
    let cookie = app.session("viewer", Role::Auditor, "usr_viewer").await;

    let resp = app
        .client
        .get(app.url(&format!("/settings/audit-logs/events/{id}")))
        .header("Cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.expect("html");
    assert!(
        html.contains("data-testid=\"event-drawer\""),
        "the drawer is open"
    );
    // The drawer's fields are in the first response, not loaded afterwards.
    assert!(html.contains("data-testid=\"event-details\""), "{html}");
    assert!(html.contains("data-key=\"plan\""));
    assert!(html.contains("&lt;b&gt;pro&lt;/b&gt;"));
    assert!(html.contains(&format!("Event #{id}")));
    assert!(html.contains("Hostile Described"));
    assert!(
        !html.contains("<img src=x onerror=alert(1)>") && !html.contains("<b>pro</b>"),
        "event text is escaped, never markup"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));

    let missing = app
        .client
        .get(app.url(&format!("/settings/audit-logs/events/{}", id + 1000)))
        .header("Cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404, "an unknown event is not found");
    let html = missing.text().await.expect("html");
    assert!(html.contains(&format!("Event #{} not found", id + 1000)));
    app.stop().await;
}
