//! Starts the real server on port 0 against a fresh database, and speaks HTTP to it.
//!
//! The store is SQLite by default; with `AUDITLOG_TEST_BACKEND=postgres` (and
//! `AUDITLOG_TEST_PG_URL`) every test gets a PostgreSQL database of its own instead.

#![allow(dead_code)]

pub mod sse;
pub mod tail;

use std::sync::Arc;

use app::accounts::session;
use app::accounts::{Role, password};
use app::store::Store;
use app::store::testing::TestDatabase;
use serde_json::{Value, json};
use server::AppState;
use server::api::{LiveConfig, LiveStats};
use tokio::sync::oneshot;

pub struct TestApp {
    pub base: String,
    pub key: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub db: TestDatabase,
    /// The live tail's counters of this server.
    pub live: Arc<LiveStats>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<Served>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_on(TestDatabase::from_env().await).await
}

/// The server on `db`, with an API key for the tests.
pub async fn spawn_app_on(db: TestDatabase) -> TestApp {
    spawn_app_with(db, LiveConfig::default()).await
}

/// [`spawn_app_on`] with other live tail settings.
pub async fn spawn_app_with(db: TestDatabase, live: LiveConfig) -> TestApp {
    spawn_app_configured(db, |state| state.with_live(live)).await
}

/// [`spawn_app_on`] with the server's state changed by `configure` (limits, settings).
#[allow(dead_code)]
pub async fn spawn_app_configured(
    db: TestDatabase,
    configure: impl FnOnce(AppState) -> AppState,
) -> TestApp {
    let (base, store, tx, server, live) = start_configured(&db.url, configure).await;
    let (_, key) = store.create_api_key("test").await.expect("create key");
    TestApp {
        base,
        key,
        client: client(),
        store,
        db,
        live,
        shutdown: Some(tx),
        server: Some(server),
    }
}

/// The tests' HTTP client. A response that stops arriving fails the test after a minute instead
/// of holding the whole run.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .read_timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

type Served = tokio::task::JoinHandle<std::io::Result<()>>;

/// One server process' worth of state ("a node") on the database at `url`.
pub async fn start(url: &str) -> (String, Store, oneshot::Sender<()>, Served) {
    let (base, store, tx, server, _) = start_with(url, LiveConfig::default()).await;
    (base, store, tx, server)
}

/// [`start`] with these live tail settings; also hands back the node's live tail counters.
pub async fn start_with(
    url: &str,
    live: LiveConfig,
) -> (String, Store, oneshot::Sender<()>, Served, Arc<LiveStats>) {
    start_configured(url, |state| state.with_live(live)).await
}

async fn start_configured(
    url: &str,
    configure: impl FnOnce(AppState) -> AppState,
) -> (String, Store, oneshot::Sender<()>, Served, Arc<LiveStats>) {
    let store = Store::open(url).await.expect("open store");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    let state = configure(AppState::new(store.clone(), "target/site"));
    let stats = Arc::clone(&state.live.stats);
    let server = tokio::spawn(server::run(listener, state, async {
        let _ = rx.await;
    }));
    (base, store, tx, server, stats)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A user named `name` with `role` whose events carry `actor_id`, signed in: the `Cookie`
    /// header value of a fresh session (made in the store, as the sign-in route makes it).
    #[allow(dead_code)]
    pub async fn session(&self, name: &str, role: Role, actor_id: &str) -> String {
        let user = match self.store.user_with_hash(name).await.expect("lookup") {
            Some((user, _)) => user,
            None => self
                .store
                .add_user(name, role, actor_id, &password::hash("a test password"))
                .await
                .expect("add user"),
        };
        let token = session::new_token();
        let now = chrono::Utc::now().timestamp_millis();
        self.store
            .add_session(&session::token_hash(&token), user.id, now)
            .await
            .expect("add session");
        format!("{}={token}", session::COOKIE)
    }

    /// Calls the page's server function at `path` as the page would (same origin, form-encoded)
    /// with the session `cookie`.
    #[allow(dead_code)]
    pub async fn server_fn(&self, path: &str, cookie: &str, form: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("Sec-Fetch-Site", "same-origin")
            .header("Cookie", cookie)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_string())
            .send()
            .await
            .expect("request")
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

    /// GETs `/api/v1/events/poll?<query>` with the test key; asserts a 200 and returns the body.
    #[allow(dead_code)]
    pub async fn poll(&self, query: &str) -> Value {
        let resp = self
            .client
            .get(self.url(&format!("/api/v1/events/poll?{query}")))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 200, "{query}");
        resp.json().await.expect("json body")
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

    /// Stops the server (the writer commits what it acknowledged) and hands back the database.
    pub async fn stop_keeping_database(mut self) -> TestDatabase {
        self.shutdown_and_wait().await;
        self.db
    }

    async fn shutdown_and_wait(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }

    /// Stops the server and waits for the writer to finish.
    pub async fn stop(mut self) {
        self.shutdown_and_wait().await;
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

/// GETs the event list with these (unencoded) query pairs; returns status and body.
pub async fn get_events(app: &TestApp, pairs: &[(&str, &str)]) -> (u16, Value) {
    let resp = app
        .client
        .get(app.url("/api/v1/events"))
        .query(pairs)
        .bearer_auth(&app.key)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json body"))
}

/// The event names of a 200 answer to these query pairs, in the answer's order.
pub async fn names(app: &TestApp, pairs: &[(&str, &str)]) -> Vec<String> {
    let (status, body) = get_events(app, pairs).await;
    assert_eq!(status, 200, "{pairs:?}: {body}");
    body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event"].as_str().expect("event").to_string())
        .collect()
}

/// Posts `body` to the ingest route as JSON, byte for byte; the status and the JSON answer (null
/// when the answer is not JSON).
pub async fn post_raw(app: &TestApp, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}
