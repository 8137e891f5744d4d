//! The PostgreSQL store: one database shared by any number of server processes ("nodes").
//!
//! Each node has a reader pool, one writer task with a single connection that group-commits
//! requests (see [`writer`]), and one listener task for the change feed (see [`feed`]). Writers of
//! all nodes serialize on one advisory lock, so ids are unique and follow commit order across the
//! cluster, and idempotency checks see every node's commits. `events` is partitioned by month (see
//! [`partitions`]).

mod chain;
pub(super) use chain::open_maintenance;
mod feed;
mod partitions;
mod plan;
mod writer;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::str::FromStr;

use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::sync::{Mutex, broadcast, mpsc, oneshot, watch};

use super::filter_sql::Dialect;
use super::keys;
use super::rows::{self, EventRow};
use super::{ApiKey, AppendOutcome, AppendRequest, Committed, FEED_CAPACITY, StoreError};
use crate::events::model::Event;
use crate::events::query::{EventPage, EventQuery};
use writer::{WriteJob, Writer};

/// The advisory lock key every writer transaction takes first ("auditlog" in ASCII). Any other
/// program using advisory locks on this database must not use it.
const WRITER_LOCK: i64 = 0x6175_6469_746c_6f67;
/// The NOTIFY channel of the change feed.
const FEED_CHANNEL: &str = "auditlog_events";
/// Queue length in requests; senders wait (back-pressure) when the writer falls behind.
const QUEUE_DEPTH: usize = 1024;
/// Reader connections per node.
const READERS: u32 = 8;

pub(super) struct PgStore {
    pub(super) pool: PgPool,
    tx: Mutex<Option<mpsc::Sender<WriteJob>>>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    feed: broadcast::Sender<Committed>,
    /// Bumped by the listener after it re-connected (see `Store::feed_resets`).
    resets: watch::Sender<u64>,
    listener: Mutex<Option<feed::Listener>>,
}

impl PgStore {
    /// Connects, migrates, creates the partitions ahead, and starts the listener and the writer.
    pub(super) async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.clone())
            .await?;
        // sqlx serializes concurrent migrators with an advisory lock of its own, so nodes starting
        // together are fine.
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        chain::catch_up(&pool).await?;

        let writer_pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let known: Vec<String> = sqlx::query_scalar("SELECT name FROM event_names")
            .fetch_all(&writer_pool)
            .await?;
        let mut w = Writer {
            pool: writer_pool,
            known_names: known.into_iter().collect(),
            partitions: HashSet::new(),
        };
        w.create_ahead().await?;

        // The listener is in place before the writer starts, so this node sees all its commits.
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        let listener_pool = PgPoolOptions::new()
            .max_connections(1)
            // The listening session must stay up for as long as the store is open.
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(options);
        let resets = watch::Sender::new(0);
        let listener = feed::Listener::start(listener_pool, feed.clone(), resets.clone()).await?;

        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let writer = tokio::spawn(writer::run(w, rx));
        Ok(Self {
            pool,
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            feed,
            resets,
            listener: Mutex::new(Some(listener)),
        })
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

    pub(super) fn subscribe(&self) -> broadcast::Receiver<Committed> {
        self.feed.subscribe()
    }

    pub(super) fn feed_resets(&self) -> watch::Receiver<u64> {
        self.resets.subscribe()
    }

    /// Drains the writer, then stops the listener and closes the readers.
    pub(super) async fn close(&self) {
        // Dropping the last sender lets the writer drain its queue and stop.
        self.tx.lock().await.take();
        if let Some(handle) = self.writer.lock().await.take() {
            let _ = handle.await;
        }
        if let Some(listener) = self.listener.lock().await.take() {
            listener.stop().await;
        }
        self.pool.close().await;
    }

    pub(super) async fn list(&self, q: &EventQuery) -> Result<EventPage, StoreError> {
        let mut sql = rows::list_query::<Postgres>(q, Dialect::Postgres)?;
        let rows: Vec<EventRow> = sql.build_query_as().fetch_all(&self.pool).await?;
        rows::into_page(q, rows)
    }

    pub(super) async fn get(
        &self,
        id: i64,
        scope: &crate::filters::Filter,
    ) -> Result<Option<Event>, StoreError> {
        let mut sql = rows::by_id_query::<Postgres>(id, scope, Dialect::Postgres);
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

    pub(super) async fn chain_rows(
        &self,
        after: i64,
        upto: i64,
        limit: i64,
    ) -> Result<Vec<crate::store::chain::ChainRow>, StoreError> {
        chain::rows_after(&self.pool, after, upto, limit).await
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
