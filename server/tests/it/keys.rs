//! API keys (TRUST_TESTS T12): a key does only what its scopes allow (403 naming the missing
//! scope, and nothing stored), stops at its expiry (401), bad `Authorization` headers are 401,
//! the key's last use is recorded, the secret itself is never stored, and keys made in the page
//! are audited with their scopes.

use crate::common;

use app::accounts::{KeyScopes, Role};
use common::{TestApp, spawn_app};
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};

fn event(name: &str) -> Value {
    json!({
        "event": name, "category": "Keys", "action": "tested",
        "actor": {"id": "svc", "name": "svc", "type": "app"}
    })
}

async fn send(app: &TestApp, auth: Option<&str>, body: &Value) -> (u16, String) {
    let mut req = app.client.post(app.url("/api/v1/events")).json(body);
    if let Some(auth) = auth {
        req = req.header("Authorization", auth);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn read(app: &TestApp, auth: &str, path: &str) -> (u16, String) {
    let resp = app
        .client
        .get(app.url(path))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn stored(app: &TestApp, name: &str) -> usize {
    let (status, body) = common::get_events(app, &[("event", name)]).await;
    assert_eq!(status, 200);
    body["events"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_key_does_only_what_its_scopes_allow_until_it_expires() {
    let app = spawn_app().await;
    let scopes = |ingest, read| KeyScopes { ingest, read };
    let store = &app.store;
    let (sender, sender_secret) = store
        .create_api_key_with("sender", scopes(true, false), None)
        .await
        .unwrap();
    let (reader, reader_secret) = store
        .create_api_key_with("reader", scopes(false, true), None)
        .await
        .unwrap();
    let past = chrono::Utc::now().timestamp_millis() - 1_000;
    let (_, expired_secret) = store
        .create_api_key_with("old", KeyScopes::ALL, Some(past))
        .await
        .unwrap();
    let bearer = |s: &str| format!("Bearer {s}");

    // A read-only key cannot write: 403 naming the scope, and nothing is stored.
    let (status, body) = send(&app, Some(&bearer(&reader_secret)), &event("By Reader")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("`ingest` scope"), "{body}");
    assert_eq!(stored(&app, "By Reader").await, 0);

    // An ingest-only key writes, and cannot read, tail or export.
    let (status, body) = send(&app, Some(&bearer(&sender_secret)), &event("By Sender")).await;
    assert_eq!(status, 201, "{body}");
    for path in [
        "/api/v1/events",
        "/api/v1/events/stats",
        "/api/v1/events/poll",
        "/api/v1/events/stream",
        "/api/v1/events/export?format=csv",
        "/api/v1/exports",
    ] {
        let (status, body) = read(&app, &bearer(&sender_secret), path).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("`read` scope"), "{path}: {body}");
    }
    // The read-only key reads what the sender sent.
    let (status, body) = read(
        &app,
        &bearer(&reader_secret),
        "/api/v1/events?event=By%20Sender",
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("By Sender"), "{body}");

    // No key, a malformed header, a wrong key, an expired key: 401, nothing stored.
    let cases = [
        None,
        Some("Basic dXNlcjpwYXNz".to_string()),
        Some("Bearer".to_string()),
        Some(bearer("alk_not_a_key")),
        Some(bearer(&expired_secret)),
    ];
    for auth in &cases {
        let (status, body) = send(&app, auth.as_deref(), &event("Refused")).await;
        assert_eq!(status, 401, "{auth:?}: {body}");
    }
    let (_, body) = send(&app, Some(&bearer(&expired_secret)), &event("Refused")).await;
    assert!(body.contains("expired"), "{body}");
    assert_eq!(stored(&app, "Refused").await, 0);

    // Each key's last use is recorded (off the request path, so give it a moment).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let keys = store.list_api_keys().await.unwrap();
        let used = |id| keys.iter().find(|k| k.id == id).unwrap().last_used_at;
        if used(sender.id).is_some() && used(reader.id).is_some() {
            let old = keys.iter().find(|k| k.name == "old").unwrap();
            assert_eq!(old.last_used_at, None, "an expired key is not in use");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "last use not recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_key_made_in_the_page_is_audited_with_its_scopes_and_its_secret_is_never_stored() {
    let app = spawn_app().await;
    let owner = app.session("owner", Role::Owner, "usr_owner").await;
    let path = <app::accounts::settings::CreateKey as ServerFn>::PATH;
    let create = |form: &'static str| {
        app.client
            .post(app.url(path))
            .header("Sec-Fetch-Site", "same-origin")
            .header("Cookie", &owner)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    // No scope, or an expiry the page does not offer: refused, nothing made.
    let before = app.store.list_api_keys().await.unwrap().len();
    for form in [
        "name=none&ingest=false&read=false&days=0",
        "name=odd&ingest=true&read=false&days=7",
    ] {
        let resp = create(form).await.unwrap();
        assert!(resp.status().is_server_error() || resp.status().is_client_error());
        let body = resp.text().await.unwrap();
        assert!(body.contains("scope") || body.contains("expiry"), "{body}");
    }
    assert_eq!(app.store.list_api_keys().await.unwrap().len(), before);

    let resp = create("name=billing&ingest=true&read=false&days=30")
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (key, secret): (Value, String) = resp.json().await.unwrap();
    assert_eq!(key["scopes"], json!({"ingest": true, "read": false}));
    let in_30_days = chrono::Utc::now().timestamp_millis() + 30 * 86_400_000;
    let expires = key["expires_at"].as_i64().unwrap();
    assert!((in_30_days - expires).abs() < 60_000, "{expires}");
    let (status, body) = send(&app, Some(&format!("Bearer {secret}")), &event("Billed")).await;
    assert_eq!(status, 201, "{body}");

    // The lifecycle is in the log, with the scopes.
    let (_, body) = common::get_events(&app, &[("event", "API Key Created")]).await;
    let created = &body["events"][0];
    assert_eq!(created["actor"]["id"], "usr_owner");
    assert_eq!(created["target"]["name"], "billing");
    assert_eq!(created["metadata"]["scopes"], "ingest");

    // Neither the secret nor any long part of it is anywhere in the database.
    let needle = &secret[secret.len() - 24..];
    if app.db.is_postgres() {
        let rows: Vec<String> = sqlx::query_scalar("SELECT api_keys::text FROM api_keys")
            .fetch_all(&sqlx::PgPool::connect(&app.db.url).await.unwrap())
            .await
            .unwrap();
        assert!(rows.iter().all(|r| !r.contains(needle)), "{rows:?}");
        let events: Vec<String> = sqlx::query_scalar("SELECT events::text FROM events")
            .fetch_all(&sqlx::PgPool::connect(&app.db.url).await.unwrap())
            .await
            .unwrap();
        assert!(events.iter().all(|r| !r.contains(needle)));
    } else {
        let file = app.db.url.trim_start_matches("sqlite://").to_string();
        for path in [file.clone(), format!("{file}-wal")] {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            assert!(!found, "the key's secret is in {path}");
        }
    }
    app.stop().await;
}
