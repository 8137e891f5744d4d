//! Starts the real server on port 0 against a fresh SQLite file, and speaks HTTP to it.

#![allow(dead_code)]

use app::store::Store;
use serde_json::{Value, json};
use server::AppState;
use tokio::sync::oneshot;

pub struct TestApp {
    pub base: String,
    pub key: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub db_path: std::path::PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("auditlog.db");
    let store = Store::open(db_path.to_str().expect("utf-8 path"))
        .await
        .expect("open store");
    let (_, key) = store.create_api_key("test").await.expect("create key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    let state = AppState::new(store.clone(), "target/site");
    let server = tokio::spawn(server::run(listener, state, async {
        let _ = rx.await;
    }));
    TestApp {
        base,
        key,
        client: reqwest::Client::new(),
        store,
        db_path,
        shutdown: Some(tx),
        server: Some(server),
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a JSON body with the test key.
    pub async fn post(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/events"))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_with_key(&self, body: &Value, idempotency_key: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/events"))
            .bearer_auth(&self.key)
            .header("Idempotency-Key", idempotency_key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// GETs the event list with a raw query string; returns status and body.
    pub async fn list(&self, query: &str) -> (u16, Value) {
        let resp = self
            .client
            .get(self.url(&format!("/api/v1/events?{query}")))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }

    /// Every stored event id, newest first, by following cursors.
    pub async fn all_ids(&self) -> Vec<i64> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                Some(c) => format!("limit=2000&start=0&cursor={c}"),
                None => "limit=2000&start=0".to_string(),
            };
            let (status, body) = self.list(&q).await;
            assert_eq!(status, 200, "{body}");
            ids.extend(
                body["events"]
                    .as_array()
                    .expect("events")
                    .iter()
                    .map(|e| e["id"].as_i64().expect("id")),
            );
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return ids,
            }
        }
    }

    /// Stops the server but keeps the database files; the returned guard deletes them when dropped.
    pub async fn stop_keeping_files(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self._dir, dir)
    }

    /// Stops the server and waits for the writer to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

/// A valid event named `name`, occurred `minutes_ago` minutes before now.
pub fn event(name: &str, minutes_ago: i64) -> Value {
    let at = chrono::Utc::now() - chrono::Duration::minutes(minutes_ago);
    json!({
        "occurred_at": at.to_rfc3339(),
        "event": name,
        "category": "Tests",
        "action": "created",
        "actor": {"id": "usr_1", "name": "Ada Lovelace", "type": "user", "email": "ada@example.com"},
        "target": {"type": "role", "id": "role_1", "name": "Billing Admin"},
        "ip": "203.0.113.7",
        "source": "test-suite",
        "metadata": {"n": minutes_ago}
    })
}
