//! The SQLite store: one file in WAL mode with `synchronous=FULL`, a reader pool, and one writer
//! task that owns the only write connection.
//!
//! Group commit: the writer takes every request waiting in its queue (up to a bound) and stores them
//! all in one transaction, so one fsync acknowledges many requests. A request is answered only after
//! its transaction has committed, hence an acknowledged event is on disk. After each commit that
//! stored events, the writer announces their id range on the change feed (`Store::subscribe`).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Sqlite};
use tokio::sync::{Mutex, broadcast, mpsc, oneshot};

use super::rows::{self, EventRow};
use super::{
    ApiKey, AppendOutcome, AppendRequest, Committed, FEED_CAPACITY, IDEMPOTENCY_RETENTION_MS,
    ItemResult, StoreError,
};
use crate::events::model::NewEvent;
use crate::events::query::{EventPage, EventQuery};

/// Queue length in requests; senders wait (back-pressure) when the writer falls behind.
const QUEUE_DEPTH: usize = 1024;
/// Upper bound of events in one group commit, to keep each transaction short.
const MAX_GROUP_EVENTS: usize = 20_000;

struct WriteJob {
    req: AppendRequest,
    reply: oneshot::Sender<Result<AppendOutcome, StoreError>>,
}

pub(super) struct SqliteStore {
    pool: SqlitePool,
    tx: Mutex<Option<mpsc::Sender<WriteJob>>>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The change feed; the writer sends on it after each commit that stored events.
    feed: broadcast::Sender<Committed>,
}

fn connect_options(path: &str) -> Result<SqliteConnectOptions, StoreError> {
    Ok(SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true))
}

impl SqliteStore {
    pub(super) async fn open(path: &str) -> Result<Self, StoreError> {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Corrupt(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        let options = connect_options(path)?;
        let mut writer_conn = SqliteConnection::connect_with(&options).await?;
        sqlx::migrate!("../migrations/sqlite")
            .run(&mut writer_conn)
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await?;
        let known: Vec<(String,)> = sqlx::query_as("SELECT name FROM event_names")
            .fetch_all(&mut writer_conn)
            .await?;
        let known = known.into_iter().map(|(n,)| n).collect();
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        let writer = tokio::spawn(writer_loop(writer_conn, rx, known, feed.clone()));
        Ok(Self {
            pool,
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            feed,
        })
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<Committed> {
        self.feed.subscribe()
    }

    pub(super) async fn append(&self, req: AppendRequest) -> Result<AppendOutcome, StoreError> {
        let sender = self.tx.lock().await.clone().ok_or(StoreError::WriterGone)?;
        let (reply, rx) = oneshot::channel();
        sender
            .send(WriteJob { req, reply })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    pub(super) async fn close(&self) {
        // Dropping the last sender lets the writer drain its queue and stop.
        self.tx.lock().await.take();
        if let Some(handle) = self.writer.lock().await.take() {
            let _ = handle.await;
        }
        self.pool.close().await;
    }

    pub(super) async fn list(&self, q: &EventQuery) -> Result<EventPage, StoreError> {
        let mut sql = rows::list_query::<Sqlite>(q);
        let rows: Vec<EventRow> = sql.build_query_as().fetch_all(&self.pool).await?;
        rows::into_page(q, rows)
    }

    pub(super) async fn event_names(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT name FROM event_names ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    pub(super) async fn is_empty(&self) -> Result<bool, StoreError> {
        let (any,): (bool,) = sqlx::query_as("SELECT EXISTS (SELECT 1 FROM events)")
            .fetch_one(&self.pool)
            .await?;
        Ok(!any)
    }

    pub(super) async fn insert_api_key(
        &self,
        name: &str,
        hash: &str,
        prefix: &str,
    ) -> Result<ApiKey, StoreError> {
        let now = Utc::now().timestamp_millis();
        let id = sqlx::query(
            "INSERT INTO api_keys (name, secret_hash, prefix, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(name)
        .bind(hash)
        .bind(prefix)
        .bind(now)
        .execute(&self.pool)
        .await?
        .last_insert_rowid();
        Ok(ApiKey {
            id,
            name: name.into(),
            prefix: prefix.into(),
            created_at: now,
            revoked: false,
        })
    }

    pub(super) async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let row: Option<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, name, prefix, created_at FROM api_keys WHERE secret_hash = ? AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, name, prefix, created_at)| ApiKey {
            id,
            name,
            prefix,
            created_at,
            revoked: false,
        }))
    }

    pub(super) async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let rows: Vec<(i64, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, prefix, created_at, revoked_at FROM api_keys ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, prefix, created_at, revoked_at)| ApiKey {
                id,
                name,
                prefix,
                created_at,
                revoked: revoked_at.is_some(),
            })
            .collect())
    }
}

async fn writer_loop(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<WriteJob>,
    mut known_names: HashSet<String>,
    feed: broadcast::Sender<Committed>,
) {
    let mut last_purge = 0_i64;
    while let Some(first) = rx.recv().await {
        let mut events = first.req.items.len();
        let mut jobs = vec![first];
        while events < MAX_GROUP_EVENTS {
            match rx.try_recv() {
                Ok(job) => {
                    events += job.req.items.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let now = Utc::now().timestamp_millis();
        let purge = now - last_purge > 60 * 60 * 1000;
        match commit_group(&mut conn, &jobs, &mut known_names, purge.then_some(now)).await {
            Ok((outcomes, committed)) => {
                if purge {
                    last_purge = now;
                }
                // One writer assigns AUTOINCREMENT ids, so a group's new ids form one range. No
                // subscriber is not an error.
                if let Some(c) = committed {
                    let _ = feed.send(c);
                }
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, requests = jobs.len(), "group commit failed");
                // Names added during the failed transaction may not exist: reload on the next group.
                if let Ok(rows) = sqlx::query_as::<_, (String,)>("SELECT name FROM event_names")
                    .fetch_all(&mut conn)
                    .await
                {
                    known_names = rows.into_iter().map(|(n,)| n).collect();
                }
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Corrupt("write failed".into())));
                }
            }
        }
    }
    let _ = conn.close().await;
}

async fn commit_group(
    conn: &mut SqliteConnection,
    jobs: &[WriteJob],
    known_names: &mut HashSet<String>,
    purge_before: Option<i64>,
) -> Result<(Vec<AppendOutcome>, Option<Committed>), sqlx::Error> {
    let mut tx = conn.begin().await?;
    if let Some(now) = purge_before {
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
            .bind(now - IDEMPOTENCY_RETENTION_MS)
            .execute(&mut *tx)
            .await?;
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut committed = None;
    for job in jobs {
        outcomes.push(apply(&mut tx, &job.req, known_names, &mut committed).await?);
    }
    tx.commit().await?;
    Ok((outcomes, committed))
}

async fn apply(
    tx: &mut SqliteConnection,
    req: &AppendRequest,
    known_names: &mut HashSet<String>,
    committed: &mut Option<Committed>,
) -> Result<AppendOutcome, sqlx::Error> {
    if let Some(rk) = &req.request_key {
        let prior: Option<(String, String)> = sqlx::query_as(
            "SELECT request_hash, response FROM idempotency_keys WHERE scope = ? AND key = ?",
        )
        .bind(&req.scope)
        .bind(&rk.key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((hash, response)) = prior {
            if hash != rk.body_hash {
                return Ok(AppendOutcome::KeyReused);
            }
            let results: Vec<ItemResult> =
                serde_json::from_str(&response).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            return Ok(AppendOutcome::Done {
                results,
                replayed: true,
            });
        }
    }
    // Keys already used within this request map to the id stored for their first occurrence.
    let mut batch_keys: HashMap<&str, i64> = HashMap::new();
    let mut results = Vec::with_capacity(req.items.len());
    for item in &req.items {
        let ev = match item {
            Ok(ev) => ev,
            Err(e) => {
                results.push(ItemResult::Rejected(e.clone()));
                continue;
            }
        };
        if let Some(key) = ev.idempotency_key.as_deref() {
            if let Some(&id) = batch_keys.get(key) {
                results.push(ItemResult::Stored {
                    id,
                    duplicate: true,
                });
                continue;
            }
            let prior: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM events WHERE idem_scope = ? AND idem_key = ?")
                    .bind(&req.scope)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((id,)) = prior {
                batch_keys.insert(key, id);
                results.push(ItemResult::Stored {
                    id,
                    duplicate: true,
                });
                continue;
            }
        }
        let id = insert_event(tx, &req.scope, ev).await?;
        *committed = Some(match *committed {
            Some(c) => Committed {
                first_id: c.first_id.min(id),
                last_id: c.last_id.max(id),
            },
            None => Committed {
                first_id: id,
                last_id: id,
            },
        });
        if let Some(key) = ev.idempotency_key.as_deref() {
            batch_keys.insert(key, id);
        }
        if !known_names.contains(&ev.body.event) {
            sqlx::query("INSERT OR IGNORE INTO event_names (name, category) VALUES (?, ?)")
                .bind(&ev.body.event)
                .bind(&ev.body.category)
                .execute(&mut *tx)
                .await?;
            known_names.insert(ev.body.event.clone());
        }
        results.push(ItemResult::Stored {
            id,
            duplicate: false,
        });
    }
    if let Some(rk) = &req.request_key {
        let response =
            serde_json::to_string(&results).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&req.scope)
        .bind(&rk.key)
        .bind(&rk.body_hash)
        .bind(response)
        .bind(Utc::now().timestamp_millis())
        .execute(&mut *tx)
        .await?;
    }
    Ok(AppendOutcome::Done {
        results,
        replayed: false,
    })
}

async fn insert_event(
    tx: &mut SqliteConnection,
    scope: &str,
    ev: &NewEvent,
) -> Result<i64, sqlx::Error> {
    let b = &ev.body;
    let target = b.target.clone().unwrap_or_default();
    let changes = b
        .changes
        .as_ref()
        .map(|c| Value::Object(c.clone()).to_string());
    let done = sqlx::query(
        "INSERT INTO events (occurred_at, received_at, event, category, action, outcome, \
         actor_id, actor_name, actor_type, actor_email, target_type, target_id, target_name, ip, \
         user_agent, source, description, metadata, changes, idem_scope, idem_key) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(b.occurred_at.timestamp_millis())
    .bind(ev.received_at.timestamp_millis())
    .bind(&b.event)
    .bind(&b.category)
    .bind(&b.action)
    .bind(b.outcome.as_str())
    .bind(&b.actor.id)
    .bind(&b.actor.name)
    .bind(b.actor.kind.as_str())
    .bind(&b.actor.email)
    .bind(target.kind)
    .bind(target.id)
    .bind(target.name)
    .bind(&b.ip)
    .bind(&b.user_agent)
    .bind(&b.source)
    .bind(&b.description)
    .bind(Value::Object(b.metadata.clone()).to_string())
    .bind(changes)
    .bind(ev.idempotency_key.as_ref().map(|_| scope))
    .bind(&ev.idempotency_key)
    .execute(&mut *tx)
    .await?;
    Ok(done.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use crate::events::model::parse_event;
    use crate::store::{AppendOutcome, AppendRequest, Committed, ItemResult, Store};

    fn request(names: &[&str], key: Option<&str>) -> AppendRequest {
        let now = Utc::now();
        AppendRequest {
            scope: "1".into(),
            request_key: None,
            items: names
                .iter()
                .map(|name| {
                    let mut v = json!({
                        "event": name,
                        "category": "Tests",
                        "action": "created",
                        "actor": {"id": "usr_1", "name": "Ada", "type": "user"}
                    });
                    if let Some(k) = key {
                        v["idempotency_key"] = json!(k);
                    }
                    parse_event(&v, now)
                })
                .collect(),
        }
    }

    fn ids(outcome: AppendOutcome) -> Vec<i64> {
        match outcome {
            AppendOutcome::Done { results, .. } => results
                .into_iter()
                .filter_map(|r| match r {
                    ItemResult::Stored { id, .. } => Some(id),
                    ItemResult::Rejected(_) => None,
                })
                .collect(),
            AppendOutcome::KeyReused => Vec::new(),
        }
    }

    #[tokio::test]
    async fn subscribers_see_each_commit_as_one_range_after_it_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("feed.db").to_str().unwrap())
            .await
            .unwrap();
        let mut feed = store.subscribe();

        let first = ids(store.append(request(&["A", "B", "C"], None)).await.unwrap());
        assert_eq!(
            feed.try_recv().unwrap(),
            Committed {
                first_id: first[0],
                last_id: first[2]
            },
            "sent before the request is answered"
        );
        let single = ids(store.append(request(&["D"], Some("k"))).await.unwrap());
        assert_eq!(
            feed.try_recv().unwrap(),
            Committed {
                first_id: single[0],
                last_id: single[0]
            }
        );
        // A commit that stores nothing new (a per-event retry) announces nothing.
        let retry = ids(store.append(request(&["D"], Some("k"))).await.unwrap());
        assert_eq!(retry, single);
        assert!(feed.try_recv().is_err());

        // Concurrent requests may share a group; the notices still cover each id exactly once, in
        // ascending, non-overlapping ranges.
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(
                    async move { ids(store.append(request(&["E", "F"], None)).await.unwrap()) },
                )
            })
            .collect();
        let mut stored = Vec::new();
        for t in tasks {
            stored.extend(t.await.unwrap());
        }
        stored.sort_unstable();
        let mut covered = Vec::new();
        let mut last = single[0];
        while let Ok(c) = feed.try_recv() {
            assert!(c.first_id > last, "{c:?} after {last}");
            last = c.last_id;
            covered.extend(c.first_id..=c.last_id);
        }
        assert_eq!(covered, stored);
        store.close().await;
    }
}
