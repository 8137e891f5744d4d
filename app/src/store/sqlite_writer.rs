//! SQLite's writer: the task that owns the store's only write connection and stores every event.
//!
//! Group commit: it takes every request waiting in its queue (up to [`MAX_GROUP_EVENTS`]) and
//! stores them all in one transaction, so one fsync acknowledges many requests. A request is
//! answered only after its transaction has committed, hence an acknowledged event is on disk. After
//! each commit that stored events, it announces their id range on the change feed
//! (`Store::subscribe`), keeps the write-ahead log short, and rewrites the planner's statistics as
//! the table grows.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, QueryBuilder, Sqlite};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::chain;
use super::sqlite_stats::Stats;
use super::{
    AppendOutcome, AppendRequest, Committed, IDEMPOTENCY_RETENTION_MS, ItemResult, StoreError,
};
use crate::events::model::NewEvent;

/// Upper bound of events in one group commit, to keep each transaction short.
const MAX_GROUP_EVENTS: usize = 20_000;

/// One request for the writer, and where its answer goes.
pub(super) struct WriteJob {
    pub(super) req: AppendRequest,
    pub(super) reply: oneshot::Sender<Result<AppendOutcome, StoreError>>,
}

/// The writer's state: its connection, the next sequence number and the event names it has seen.
///
/// Only the writer inserts events, so it can hand out ids itself: in request order, without a read
/// per row, and ready for multi-row inserts. The counter is reloaded from the database whenever a
/// transaction fails, so a rolled-back group never leaves it ahead.
pub(super) struct Writer {
    conn: SqliteConnection,
    next_id: i64,
    known_names: HashSet<String>,
    last_purge_ms: i64,
    /// The change feed: after each commit that stored events, their id range.
    feed: broadcast::Sender<Committed>,
    /// The chain value after the newest stored event (see `store::chain`).
    head: [u8; 32],
    /// When the write-ahead log's length was last looked at.
    wal_checked: std::time::Instant,
    /// The query planner's statistics, rewritten as the table grows.
    stats: Arc<Stats>,
}

/// Frames (pages) of write-ahead log above which the writer waits for readers to let it start over.
pub(super) const WAL_RESTART_FRAMES: i64 = if cfg!(test) { 2_000 } else { 16_384 };

/// Rows per multi-row INSERT: 25 columns each, well under SQLite's 32,766 bound parameters.
const INSERT_CHUNK: usize = 200;

impl Writer {
    pub(super) async fn load(
        mut conn: SqliteConnection,
        feed: broadcast::Sender<Committed>,
        stats: Arc<Stats>,
    ) -> Result<Self, sqlx::Error> {
        let (next_id, known_names) = Self::read_state(&mut conn).await?;
        let head = super::sqlite_chain::catch_up(&mut conn).await?;
        Ok(Self {
            conn,
            next_id,
            known_names,
            last_purge_ms: 0,
            feed,
            head,
            wal_checked: std::time::Instant::now(),
            stats,
        })
    }

    /// Rewrites the query planner's statistics when the table has grown enough since the last
    /// time (see `sqlite_stats`); true when it did.
    pub(super) async fn refresh_stats(&mut self) -> Result<bool, sqlx::Error> {
        self.stats
            .refresh_if_grown(&mut self.conn, self.next_id)
            .await
    }

    async fn read_state(
        conn: &mut SqliteConnection,
    ) -> Result<(i64, HashSet<String>), sqlx::Error> {
        // sqlite_sequence remembers the largest id ever used (AUTOINCREMENT), even if rows are gone.
        let (max,): (i64,) = sqlx::query_as(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), \
                        COALESCE((SELECT MAX(id) FROM events), 0))",
        )
        .fetch_one(&mut *conn)
        .await?;
        let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM event_names")
            .fetch_all(&mut *conn)
            .await?;
        Ok((max + 1, names.into_iter().map(|(n,)| n).collect()))
    }

    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<WriteJob>) {
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
            match self.commit_group(&jobs).await {
                Ok(outcomes) => {
                    for (job, outcome) in jobs.into_iter().zip(outcomes) {
                        let _ = job.reply.send(Ok(outcome));
                    }
                    self.bound_wal().await;
                    if let Err(e) = self.refresh_stats().await {
                        tracing::warn!(error = %e, "cannot write the query planner's statistics");
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, requests = jobs.len(), "group commit failed");
                    match Self::read_state(&mut self.conn).await {
                        Ok((next_id, names)) => {
                            self.next_id = next_id;
                            self.known_names = names;
                        }
                        Err(e) => tracing::error!(error = %e, "cannot reload the writer's state"),
                    }
                    for job in jobs {
                        let _ = job
                            .reply
                            .send(Err(StoreError::Corrupt("write failed".into())));
                    }
                }
            }
        }
        let _ = self.conn.close().await;
    }

    /// Keeps the write-ahead log from growing without bound. SQLite's own checkpoints copy the log
    /// into the database but start it over only at a moment when no reader is using it; readers
    /// that keep starting (an export paging through a million events, live tails) leave no such
    /// moment while events keep arriving, and the log grew by gigabytes in minutes. At most once
    /// a second, once it is longer than [`WAL_RESTART_FRAMES`], the writer copies it all and
    /// waits (up to a second) for the readers still on it to finish; new readers then read the
    /// database itself, and the log starts over and is cut to `sqlite::JOURNAL_SIZE_LIMIT`.
    async fn bound_wal(&mut self) {
        if self.wal_checked.elapsed() < Duration::from_secs(1) && !cfg!(test) {
            return;
        }
        self.wal_checked = std::time::Instant::now();
        let passive: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut self.conn)
            .await;
        let Ok((_, frames, _)) = passive else {
            return;
        };
        if frames <= WAL_RESTART_FRAMES {
            return;
        }
        let started = std::time::Instant::now();
        // Ingest waits meanwhile: a second at most, then it goes on and tries again later.
        let _ = sqlx::query("PRAGMA busy_timeout = 1000")
            .execute(&mut self.conn)
            .await;
        let truncated = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut self.conn)
            .await;
        let _ = sqlx::query("PRAGMA busy_timeout = 10000")
            .execute(&mut self.conn)
            .await;
        match truncated {
            Ok((0, _, _)) => tracing::debug!(
                frames,
                ms = started.elapsed().as_millis() as u64,
                "write-ahead log started over"
            ),
            Ok(_) => tracing::info!(
                frames,
                "write-ahead log still in use by a reader; trying again in a second"
            ),
            Err(e) => tracing::warn!(error = %e, "write-ahead log checkpoint failed"),
        }
    }

    async fn commit_group(&mut self, jobs: &[WriteJob]) -> Result<Vec<AppendOutcome>, sqlx::Error> {
        let now = Utc::now().timestamp_millis();
        // IMMEDIATE: take the write lock before the first read. A deferred transaction that read
        // before another connection (sessions, API keys) wrote could not upgrade: SQLITE_BUSY at
        // once, without waiting out the busy timeout.
        let mut tx = self.conn.begin_with("BEGIN IMMEDIATE").await?;
        if now - self.last_purge_ms > 60 * 60 * 1000 {
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
                .bind(now - IDEMPOTENCY_RETENTION_MS)
                .execute(&mut *tx)
                .await?;
        }
        // Another process on the same file (a command of the CLI recording what it did) may have
        // stored events since: continue after them, ids and chain alike. Read under the write
        // lock, so nothing moves meanwhile.
        let stored: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT last_id, chain FROM chain_head")
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((last, bytes)) = stored
            && last >= self.next_id
            && let Some(chain) = chain::from_stored(Some(&bytes))
        {
            self.next_id = last + 1;
            self.head = chain;
        }
        let mut next_id = self.next_id;
        let mut rows: Vec<(i64, &str, &NewEvent)> = Vec::new();
        let mut planned_keys = HashMap::new();
        let mut new_names: Vec<(&str, &str)> = Vec::new();
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            let outcome = plan(
                &mut tx,
                &job.req,
                &mut next_id,
                &mut rows,
                &mut planned_keys,
            )
            .await?;
            outcomes.push(outcome);
        }
        for (_, _, ev) in &rows {
            let name = ev.body.event.as_str();
            if !self.known_names.contains(name) && !new_names.iter().any(|(n, _)| *n == name) {
                new_names.push((name, ev.body.category.as_str()));
            }
        }
        let mut head = self.head;
        for chunk in rows.chunks(INSERT_CHUNK) {
            insert_events(&mut tx, chunk, &mut head).await?;
        }
        if let Some((last, _, _)) = rows.last() {
            super::sqlite_chain::set_head(&mut tx, *last, &head).await?;
        }
        for (name, category) in &new_names {
            sqlx::query("INSERT OR IGNORE INTO event_names (name, category) VALUES (?, ?)")
                .bind(name)
                .bind(category)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if next_id > self.next_id {
            // Ids are handed out consecutively by this one writer, so a group's new events form
            // one range. Sent before any request is answered; having no subscriber is fine.
            let _ = self.feed.send(Committed {
                first_id: self.next_id,
                last_id: next_id - 1,
            });
        }
        self.next_id = next_id;
        self.head = head;
        self.known_names
            .extend(new_names.iter().map(|(n, _)| n.to_string()));
        if now - self.last_purge_ms > 60 * 60 * 1000 {
            self.last_purge_ms = now;
        }
        Ok(outcomes)
    }
}

/// Decides each item of one request: rejected, a duplicate of a stored event, or a new row with the
/// next id. Records the request's response when it carries an `Idempotency-Key`.
async fn plan<'a>(
    tx: &mut SqliteConnection,
    req: &'a AppendRequest,
    next_id: &mut i64,
    rows: &mut Vec<(i64, &'a str, &'a NewEvent)>,
    planned_keys: &mut HashMap<(&'a str, &'a str), i64>,
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
    // Keys already used within this group map to the id planned for their first occurrence.
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
            if let Some(&id) = planned_keys.get(&(req.scope.as_str(), key)) {
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
                results.push(ItemResult::Stored {
                    id,
                    duplicate: true,
                });
                continue;
            }
        }
        let id = *next_id;
        *next_id += 1;
        if let Some(key) = ev.idempotency_key.as_deref() {
            planned_keys.insert((req.scope.as_str(), key), id);
        }
        rows.push((id, req.scope.as_str(), ev));
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

/// One multi-row INSERT for a chunk of planned rows (in id order, chained after `head`, which
/// moves to the last of them), and one for their search index rows.
async fn insert_events(
    tx: &mut SqliteConnection,
    rows: &[(i64, &str, &NewEvent)],
    head: &mut [u8; 32],
) -> Result<(), sqlx::Error> {
    // The JSON columns as stored, and each event's chain value over exactly those.
    let stored: Vec<(String, Option<String>, [u8; 32])> = rows
        .iter()
        .map(|(id, _, ev)| {
            let metadata = chain::json_text(&ev.body.metadata);
            let changes = ev.body.changes.as_ref().map(chain::json_text);
            let fields = chain::Fields::of_new(*id, ev, &metadata, changes.as_deref());
            *head = chain::link(head, &fields);
            (metadata, changes, *head)
        })
        .collect();
    let mut sql = QueryBuilder::<Sqlite>::new(
        "INSERT INTO events (id, occurred_at, received_at, event, category, action, outcome, \
         actor_id, actor_name, actor_type, actor_email, target_type, target_id, target_name, ip, \
         user_agent, source, description, metadata, changes, idem_scope, idem_key, ip_bin, \
         search_key, chain) ",
    );
    let keys = super::sqlite_search::assign_keys(tx, rows).await?;
    let rows_keys = rows.iter().zip(&keys).zip(&stored);
    sql.push_values(rows_keys, |mut row, (((id, scope, ev), key), stored)| {
        let b = &ev.body;
        let target = b.target.as_ref();
        row.push_bind(*id)
            .push_bind(b.occurred_at.timestamp_millis())
            .push_bind(ev.received_at.timestamp_millis())
            .push_bind(b.event.as_str())
            .push_bind(b.category.as_str())
            .push_bind(b.action.as_str())
            .push_bind(b.outcome.as_str())
            .push_bind(b.actor.id.as_str())
            .push_bind(b.actor.name.as_str())
            .push_bind(b.actor.kind.as_str())
            .push_bind(b.actor.email.as_deref())
            .push_bind(target.and_then(|t| t.kind.as_deref()))
            .push_bind(target.and_then(|t| t.id.as_deref()))
            .push_bind(target.and_then(|t| t.name.as_deref()))
            .push_bind(b.ip.as_deref())
            .push_bind(b.user_agent.as_deref())
            .push_bind(b.source.as_deref())
            .push_bind(b.description.as_deref())
            .push_bind(stored.0.as_str())
            .push_bind(stored.1.as_deref())
            .push_bind(ev.idempotency_key.as_ref().map(|_| *scope))
            .push_bind(ev.idempotency_key.as_deref())
            .push_bind(super::sqlite_ip::ip_bin(b.ip.as_deref()))
            .push_bind(*key)
            .push_bind(stored.2.to_vec());
    });
    sql.build().execute(&mut *tx).await?;
    // The search index (migrations 0003 and 0009), in the same transaction: it can never miss a
    // committed event or hold one that rolled back. In key order: FTS5 writes its pending terms out
    // as a new segment whenever a rowid is not above the last one, so rows in the order they came
    // (times out of order) would cut a segment per row.
    let mut by_key: Vec<(i64, Vec<String>)> = keys
        .iter()
        .zip(rows)
        .map(|(key, (_, _, ev))| (*key, super::sqlite_search::index_words(&ev.body)))
        .collect();
    by_key.sort_unstable_by_key(|(key, _)| *key);
    super::sqlite_search::insert_index(tx, &by_key).await
}
