//! The SQLite store: one file in WAL mode with `synchronous=FULL`, a reader pool, and one writer
//! task that owns the only write connection (`sqlite_writer`).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Sqlite};
use tokio::sync::{Mutex, broadcast, mpsc, oneshot, watch};

use super::filter_sql::Dialect;
use super::keys;
use super::rows::{self, EventRow};
use super::sqlite_search;
use super::sqlite_stats::Stats;
use super::sqlite_writer::{WriteJob, Writer};
use super::{ApiKey, AppendOutcome, AppendRequest, Committed, FEED_CAPACITY, StoreError};
use crate::events::model::Event;
use crate::events::query::{EventPage, EventQuery};

/// Queue length in requests; senders wait (back-pressure) when the writer falls behind.
const QUEUE_DEPTH: usize = 1024;
/// Bytes of write-ahead log kept on disk once it starts over.
pub(super) const JOURNAL_SIZE_LIMIT: i64 = 64 << 20;

pub(super) struct SqliteStore {
    pub(super) pool: SqlitePool,
    tx: Mutex<Option<mpsc::Sender<WriteJob>>>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The change feed; the writer sends on it after each commit that stored events.
    feed: broadcast::Sender<Committed>,
    /// Never bumped: an in-process feed misses nothing. Kept so that receivers stay open.
    resets: watch::Sender<u64>,
}

fn connect_options(path: &str) -> Result<SqliteConnectOptions, StoreError> {
    Ok(SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        // Once the log starts over, its file is cut back to this size (otherwise it keeps the
        // largest size it ever reached).
        .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string())
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
        // The writer inserts into four indexes at positions spread over the whole time range (events
        // arrive out of order); a page cache far above SQLite's 2 MiB default keeps those B-tree
        // pages in memory instead of re-reading them for every group.
        let writer_options = options.clone().pragma("cache_size", "-131072"); // 128 MiB
        let mut writer_conn = SqliteConnection::connect_with(&writer_options).await?;
        sqlx::migrate!("../migrations/sqlite")
            .run(&mut writer_conn)
            .await?;
        super::sqlite_ip::backfill(&mut writer_conn).await?;
        super::sqlite_search::reindex(&mut writer_conn).await?;
        let stats = Arc::new(Stats::new());
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        let mut writer = Writer::load(writer_conn, feed.clone(), stats.clone()).await?;
        // Before the pool opens, so that its connections start with the statistics.
        writer.refresh_stats().await?;
        let planner = stats.clone();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            // A connection loads the planner's statistics when it opens: one opened before the
            // newest statistics is replaced by a new one.
            .before_acquire(move |_, meta| {
                let current = !planner.is_older(meta.age);
                Box::pin(async move { Ok(current) })
            })
            .connect_with(options.pragma("cache_size", "-16384")) // 16 MiB per reader
            .await?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let writer = tokio::spawn(writer.run(rx));
        Ok(Self {
            pool,
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            feed,
            resets: watch::Sender::new(0),
        })
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<Committed> {
        self.feed.subscribe()
    }

    pub(super) fn feed_resets(&self) -> watch::Receiver<u64> {
        self.resets.subscribe()
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
        if sqlite_search::serves(q)
            && let Some(page) = sqlite_search::list(&self.pool, q).await?
        {
            return Ok(page);
        }
        let mut sql = rows::packed_list_query::<Sqlite>(q, Dialect::Sqlite)?;
        let packed: String = sql.build_query_scalar().fetch_one(&self.pool).await?;
        rows::into_page(q, rows::unpack(&packed)?)
    }

    pub(super) async fn get(
        &self,
        id: i64,
        scope: &crate::filters::Filter,
    ) -> Result<Option<Event>, StoreError> {
        let mut sql = rows::by_id_query::<Sqlite>(id, scope, Dialect::Sqlite);
        let row: Option<EventRow> = sql.build_query_as().fetch_optional(&self.pool).await?;
        row.map(EventRow::into_event).transpose()
    }

    pub(super) async fn event_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(keys::EVENT_NAMES)
            .fetch_all(&self.pool)
            .await?)
    }

    pub(super) async fn is_empty(&self) -> Result<bool, StoreError> {
        let any: bool = sqlx::query_scalar(keys::ANY_EVENT)
            .fetch_one(&self.pool)
            .await?;
        Ok(!any)
    }

    pub(super) async fn insert_api_key(&self, new: keys::NewKey) -> Result<ApiKey, StoreError> {
        let mut sql = keys::insert(new);
        Ok(keys::to_key(
            sql.build_query_as().fetch_one(&self.pool).await?,
        ))
    }

    pub(super) async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let mut sql = keys::find(hash);
        let row: Option<keys::KeyRow> = sql.build_query_as().fetch_optional(&self.pool).await?;
        Ok(row.map(keys::to_key))
    }

    pub(super) async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let mut sql = keys::list();
        let rows: Vec<keys::KeyRow> = sql.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(keys::to_key).collect())
    }
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

    /// Readers that keep overlapping (an export's pages, live tails) never leave SQLite a moment
    /// to start the write-ahead log over by itself; the writer waits for them, so the log stays
    /// short however long they go on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_write_ahead_log_stays_short_under_overlapping_readers() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::Duration;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let store = super::SqliteStore::open(path.to_str().unwrap())
            .await
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        // Two readers, each holding a read transaction for 40 ms, 20 ms apart: one is always on.
        for offset in [0u64, 20] {
            let (pool, stop) = (store.pool.clone(), stop.clone());
            readers.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(offset)).await;
                while !stop.load(Ordering::Relaxed) {
                    let mut tx = pool.begin().await.unwrap();
                    let _: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
                        .fetch_one(&mut *tx)
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(40)).await;
                    tx.commit().await.unwrap();
                }
            }));
        }
        let names: Vec<String> = (0..500).map(|i| format!("Event {i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        for _ in 0..40 {
            store.append(request(&names, None)).await.unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.await.unwrap();
        }
        let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert!(
            frames < 2 * crate::store::sqlite_writer::WAL_RESTART_FRAMES,
            "the write-ahead log holds {frames} frames after 20,000 events"
        );
    }
}
