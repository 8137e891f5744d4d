//! Crash safety (TRUST_TESTS T1, and T3 with `AUDITLOG_TEST_BACKEND=postgres`): the real server
//! binary ingests from several clients at once and is killed with SIGKILL at random moments, then
//! started again, over and over. Each client sends numbered batches with an `Idempotency-Key` and
//! re-sends a batch until it is acknowledged, as a careful service does. At the end every
//! acknowledged event must be stored exactly once, and the hash chain must verify.
//!
//! The suite runs 3 kills; `CRASH_KILLS=20` (see `scripts/crash.sh`) is the full run. With
//! `CRASH_DB_CRASH` set (a shell command; `scripts/crash-pg.sh` sets it to
//! `pg_ctl stop -m immediate` and `start` of a private PostgreSQL cluster), the database server
//! crashes at each kill too, first, while the server is mid-write.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use app::events::query::{EventQuery, MAX_LIMIT};
use app::store::Store;
use app::store::testing::TestDatabase;
use serde_json::json;

const CLIENTS: usize = 4;
const BATCH: usize = 50;

struct Server {
    child: Child,
}

impl Server {
    fn start(db: &str, key_file: &std::path::Path, port: u16) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_auditlog"))
            .args(["--database-url", db, "--signing-key"])
            .arg(key_file)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--ingest-rate", "0", "--checkpoint-every-events", "2000"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        Self { child }
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if client
            .get(format!("{base}/api/v1/events?limit=1"))
            .send()
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// One client: batches `c{client}-{n}`, each re-sent until a 2xx says it is stored.
async fn client_loop(
    client: reqwest::Client,
    base: String,
    key: String,
    id: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<std::sync::Mutex<Vec<String>>>,
    retries: Arc<AtomicU64>,
) {
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let tags: Vec<String> = (0..BATCH).map(|i| format!("c{id}-{n}-{i}")).collect();
        let body: Vec<_> = tags
            .iter()
            .map(|t| {
                json!({
                    "event": "Crash Test", "category": "Crash", "action": "sent",
                    "actor": {"id": format!("client_{id}"), "name": "Crash", "type": "app"},
                    "metadata": {"tag": t}
                })
            })
            .collect();
        loop {
            let sent = client
                .post(format!("{base}/api/v1/events"))
                .bearer_auth(&key)
                .header("Idempotency-Key", format!("c{id}-{n}"))
                .json(&body)
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => break,
                _ => {
                    retries.fetch_add(1, Ordering::Relaxed);
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        acked.lock().unwrap().extend(tags);
        n += 1;
    }
}

#[tokio::test]
async fn acknowledged_events_survive_sigkill_exactly_once_and_the_chain_verifies() {
    let kills: usize = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let db_crash = std::env::var("CRASH_DB_CRASH")
        .ok()
        .filter(|c| !c.is_empty());
    let db = TestDatabase::from_env().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("signing.key");
    let key = {
        let store = Store::open(&db.url).await.unwrap();
        let (_, key) = store.create_api_key("crash").await.unwrap();
        store.close().await;
        key
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let retries = Arc::new(AtomicU64::new(0));

    let mut server = Server::start(&db.url, &key_file, port);
    wait_ready(&client, &base).await;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            tokio::spawn(client_loop(
                client.clone(),
                base.clone(),
                key.clone(),
                id,
                stop.clone(),
                acked.clone(),
                retries.clone(),
            ))
        })
        .collect();
    let mut rng = app::filters::testgen::Rng::new(2026);
    let started = Instant::now();
    for _ in 0..kills {
        // Kill at a random moment 0.3–2 s into each run.
        tokio::time::sleep(Duration::from_millis(300 + rng.below(1700) as u64)).await;
        if let Some(crash) = &db_crash {
            let status = Command::new("sh").args(["-c", crash]).status().unwrap();
            assert!(status.success(), "{crash}: {status}");
        }
        server.kill();
        server = Server::start(&db.url, &key_file, port);
        wait_ready(&client, &base).await;
    }
    // Let the clients get their last batches acknowledged, then stop cleanly.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    server.kill();
    let elapsed = started.elapsed();

    let store = Store::open(&db.url).await.unwrap();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut q = EventQuery {
        limit: MAX_LIMIT,
        start: chrono::DateTime::from_timestamp_millis(0),
        ..EventQuery::default()
    };
    loop {
        let page = store.list(&q).await.unwrap();
        for e in &page.events {
            if let Some(tag) = e.body.metadata.get("tag").and_then(|t| t.as_str()) {
                *seen.entry(tag.to_string()).or_default() += 1;
            }
        }
        match page.next_cursor {
            Some(c) => q.cursor = Some(app::events::query::Cursor::decode(&c).unwrap()),
            None => break,
        }
    }
    let acked = acked.lock().unwrap().clone();
    let acked_set: HashSet<&String> = acked.iter().collect();
    let lost: Vec<&&String> = acked_set
        .iter()
        .filter(|t| !seen.contains_key(**t))
        .collect();
    let doubled: Vec<(&String, &u32)> = seen.iter().filter(|(_, n)| **n > 1).collect();
    let v = store
        .verify(&app::store::verify::VerifyOptions::default(), |_| {})
        .await
        .unwrap();
    eprintln!(
        "crash run: {kills} SIGKILLs{} in {:.1} s; {} events acknowledged, {} stored, {} lost, \
         {} stored twice; {} re-sends; chain verified through #{:?} ({} events, {} checkpoints)",
        if db_crash.is_some() {
            " (each after a database crash)"
        } else {
            ""
        },
        elapsed.as_secs_f64(),
        acked.len(),
        seen.len(),
        lost.len(),
        doubled.len(),
        retries.load(Ordering::Relaxed),
        v.through,
        v.events,
        v.checkpoints,
    );
    assert!(acked.len() >= kills * BATCH, "too little was acknowledged");
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    assert!(doubled.is_empty(), "stored more than once: {doubled:?}");
    assert!(v.ok(), "{v:?}");
    if !db.is_postgres() {
        let path = db.url.trim_start_matches("sqlite://");
        let mut conn =
            <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{path}"))
                .await
                .unwrap();
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(check, "ok");
    }
    store.close().await;
}
