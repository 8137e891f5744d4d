//! The PostgreSQL writer task: group commit, serialized across every server process on the
//! database by one advisory lock.
//!
//! Each group (every request waiting in the queue, up to a bound) is one transaction that:
//! 1. takes `pg_advisory_xact_lock(WRITER_LOCK)`, so writers of all nodes commit one at a time;
//! 2. decides per request: replay of an earlier `Idempotency-Key`, key reused with another body, or
//!    fresh; and per event: new, or a duplicate of an earlier `idempotency_key`;
//! 3. draws the new ids from `events_id_seq` in item order, creates missing partitions, and stores
//!    events, per-event keys, event names and request records with one statement each (arrays and
//!    `UNNEST`, so the statement text is constant and there is no bind-parameter limit);
//! 4. queues `pg_notify` with the id range, which PostgreSQL delivers only if the commit succeeds.
//!
//! Because ids are drawn under the lock, they are unique and ordered by commit across nodes, and
//! the idempotency checks see every earlier commit of every node. A later issue computes the hash
//! chain here too, in commit order under this same lock.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use chrono::Utc;

use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};

use super::partitions::{self, Month};
use super::plan::{self, NewRow};
use super::{FEED_CHANNEL, WRITER_LOCK};
use crate::store::chain;
use crate::store::{AppendOutcome, AppendRequest, Committed, IDEMPOTENCY_RETENTION_MS, StoreError};

/// Upper bound of events in one group commit, to keep each transaction (and the lock) short.
const MAX_GROUP_EVENTS: usize = 20_000;
/// How often the partitions ahead are created again, so a long-running process never meets a
/// month without one.
const AHEAD_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);
/// How often request-level idempotency records past their retention are purged.
const PURGE_INTERVAL_MS: i64 = 60 * 60 * 1000;

/// One request waiting for the writer, and where its answer goes.
pub(super) struct WriteJob {
    pub(super) req: AppendRequest,
    pub(super) reply: oneshot::Sender<Result<AppendOutcome, StoreError>>,
}

/// What the writer keeps between groups.
pub(super) struct Writer {
    /// At most one connection, used by this task only; the pool re-connects after a failure.
    pub(super) pool: PgPool,
    /// Event names known to be in `event_names`, so most groups skip that insert.
    pub(super) known_names: HashSet<String>,
    /// Months whose partition is known to exist.
    pub(super) partitions: HashSet<Month>,
}

/// Runs until every sender is gone and the queue is drained, then closes the connection.
pub(super) async fn run(mut w: Writer, mut rx: mpsc::Receiver<WriteJob>) {
    let mut last_purge = 0_i64;
    let mut ahead =
        tokio::time::interval_at(tokio::time::Instant::now() + AHEAD_INTERVAL, AHEAD_INTERVAL);
    ahead.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            job = rx.recv() => match job {
                Some(job) => job,
                None => break,
            },
            _ = ahead.tick() => {
                match w.create_ahead().await {
                    Ok(()) => tracing::debug!("partitions ahead created"),
                    Err(e) => tracing::error!(error = %e, "creating partitions ahead failed"),
                }
                continue;
            }
        };
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
        let purge = now - last_purge > PURGE_INTERVAL_MS;
        let reqs: Vec<&AppendRequest> = jobs.iter().map(|j| &j.req).collect();
        match w.commit_group(&reqs, purge.then_some(now)).await {
            Ok(done) => {
                if purge {
                    last_purge = now;
                }
                w.known_names.extend(done.new_names);
                w.partitions.extend(done.new_months);
                // No local send on the change feed: this node learns of its own commits from its
                // listener, like every other node does, so every node sees one order.
                if let Some(c) = done.committed {
                    tracing::debug!(
                        first_id = c.first_id,
                        last_id = c.last_id,
                        "group committed"
                    );
                }
                for (job, outcome) in jobs.into_iter().zip(done.outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, requests = jobs.len(), "group commit failed");
                // The partitions this group created rolled back with it; the caches only learn of a
                // group's names and months after it commits. The partition cache is also forgotten
                // entirely, so a partition dropped by an operator is re-created rather than failing
                // every later group (re-checking costs one statement per month).
                w.partitions.clear();
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Corrupt("write failed".into())));
                }
            }
        }
    }
    w.pool.close().await;
}

/// What a committed group produced.
pub(super) struct GroupDone {
    /// One per request, in the group's order.
    pub(super) outcomes: Vec<AppendOutcome>,
    /// The ids stored, when any were.
    pub(super) committed: Option<Committed>,
    new_names: Vec<String>,
    new_months: Vec<Month>,
}

impl Writer {
    /// Creates this month's partition and the next three, in a transaction of its own.
    pub(super) async fn create_ahead(&mut self) -> Result<(), StoreError> {
        let months = partitions::ahead(Utc::now());
        let mut tx = self.pool.begin().await?;
        lock(&mut tx).await?;
        // Deliberately not filtered by the cache: this is the periodic check that they exist.
        partitions::create(&mut tx, &months).await?;
        tx.commit().await?;
        self.partitions.extend(months);
        Ok(())
    }

    /// Stores one group of requests in one transaction (see the module comment).
    pub(super) async fn commit_group(
        &self,
        reqs: &[&AppendRequest],
        purge_before: Option<i64>,
    ) -> Result<GroupDone, StoreError> {
        let mut tx = self.pool.begin().await?;
        // From here to the commit no other writer on this database (of any node) runs: ids follow
        // commit order and the idempotency checks below see every earlier commit. The hash chain
        // (a later issue) will be computed here too, in this same order under this same lock.
        lock(&mut tx).await?;
        if let Some(now) = purge_before {
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(now - IDEMPOTENCY_RETENTION_MS)
                .execute(&mut *tx)
                .await?;
        }
        let mut plans = plan::plan_requests(&mut tx, reqs).await?;
        let new_rows = plan::plan_events(&mut tx, reqs, &mut plans).await?;
        let ids = draw_ids(&mut tx, new_rows.len()).await?;

        let mut new_months = BTreeSet::new();
        for row in &new_rows {
            let month = Month::of_ms(row.ev.body.occurred_at.timestamp_millis())?;
            if !self.partitions.contains(&month) {
                new_months.insert(month);
            }
        }
        let new_months: Vec<Month> = new_months.into_iter().collect();
        partitions::create(&mut tx, &new_months).await?;

        if let Some(&last) = ids.last() {
            let (_, head) = super::chain::head(&mut tx).await?;
            let head = insert_events(&mut tx, &new_rows, &ids, head).await?;
            super::chain::set_head(&mut tx, last, &head).await?;
        }
        insert_event_keys(&mut tx, &new_rows, &ids).await?;
        let new_names = insert_names(&mut tx, &new_rows, &self.known_names).await?;
        let outcomes = plan::resolve(plans, &ids);
        insert_request_records(&mut tx, reqs, &outcomes).await?;

        let committed = match (ids.first(), ids.last()) {
            (Some(&first_id), Some(&last_id)) => {
                // Delivered to every listener (all nodes) only when this transaction commits.
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(FEED_CHANNEL)
                    .bind(format!("{first_id},{last_id}"))
                    .execute(&mut *tx)
                    .await?;
                Some(Committed { first_id, last_id })
            }
            _ => None,
        };
        tx.commit().await?;
        Ok(GroupDone {
            outcomes,
            committed,
            new_names,
            new_months,
        })
    }
}

/// Waits for the writer lock of this database; released when the transaction ends.
async fn lock(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(WRITER_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `n` new ids, ascending. Drawn under the writer lock, so no other writer interleaves.
async fn draw_ids(conn: &mut PgConnection, n: usize) -> Result<Vec<i64>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).map_err(|_| StoreError::Corrupt("batch too large".into()))?;
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval('events_id_seq') FROM generate_series(1::bigint, $1::bigint)",
    )
    .bind(count)
    .fetch_all(&mut *conn)
    .await?;
    // Row order of a set-returning query is not promised; the values are what matters.
    ids.sort_unstable();
    if ids.len() != n {
        return Err(StoreError::Corrupt(format!(
            "drew {} ids for {n} events",
            ids.len()
        )));
    }
    Ok(ids)
}

/// Stores `rows` as `ids`, chained after `head` in id order; returns the chain after the last.
async fn insert_events(
    conn: &mut PgConnection,
    rows: &[NewRow<'_>],
    ids: &[i64],
    mut head: [u8; 32],
) -> Result<[u8; 32], StoreError> {
    let n = rows.len();
    let mut occurred_at = Vec::with_capacity(n);
    let mut received_at = Vec::with_capacity(n);
    let mut event = Vec::with_capacity(n);
    let mut category = Vec::with_capacity(n);
    let mut action = Vec::with_capacity(n);
    let mut outcome = Vec::with_capacity(n);
    let mut actor_id = Vec::with_capacity(n);
    let mut actor_name = Vec::with_capacity(n);
    let mut actor_type = Vec::with_capacity(n);
    let mut actor_email = Vec::with_capacity(n);
    let mut target_type = Vec::with_capacity(n);
    let mut target_id = Vec::with_capacity(n);
    let mut target_name = Vec::with_capacity(n);
    let mut ip = Vec::with_capacity(n);
    let mut user_agent = Vec::with_capacity(n);
    let mut source = Vec::with_capacity(n);
    let mut description = Vec::with_capacity(n);
    let mut metadata = Vec::with_capacity(n);
    let mut changes = Vec::with_capacity(n);
    let mut idem_scope = Vec::with_capacity(n);
    let mut idem_key = Vec::with_capacity(n);
    let mut chained = Vec::with_capacity(n);
    for (row, &id) in rows.iter().zip(ids) {
        let json = chain::json_text(&row.ev.body.metadata);
        let changed = row.ev.body.changes.as_ref().map(chain::json_text);
        head = chain::link(
            &head,
            &chain::Fields::of_new(id, row.ev, &json, changed.as_deref()),
        );
        chained.push(head.to_vec());
        let b = &row.ev.body;
        let target = b.target.as_ref();
        occurred_at.push(b.occurred_at.timestamp_millis());
        received_at.push(row.ev.received_at.timestamp_millis());
        event.push(b.event.as_str());
        category.push(b.category.as_str());
        action.push(b.action.as_str());
        outcome.push(b.outcome.as_str());
        actor_id.push(b.actor.id.as_str());
        actor_name.push(b.actor.name.as_str());
        actor_type.push(b.actor.kind.as_str());
        actor_email.push(b.actor.email.as_deref());
        target_type.push(target.and_then(|t| t.kind.as_deref()));
        target_id.push(target.and_then(|t| t.id.as_deref()));
        target_name.push(target.and_then(|t| t.name.as_deref()));
        ip.push(b.ip.as_deref());
        user_agent.push(b.user_agent.as_deref());
        source.push(b.source.as_deref());
        description.push(b.description.as_deref());
        metadata.push(json);
        changes.push(changed);
        idem_scope.push(row.ev.idempotency_key.as_ref().map(|_| row.scope));
        idem_key.push(row.ev.idempotency_key.as_deref());
    }
    sqlx::query(
        "INSERT INTO events (id, occurred_at, received_at, event, category, action, outcome, \
         actor_id, actor_name, actor_type, actor_email, target_type, target_id, target_name, ip, \
         user_agent, source, description, metadata, changes, idem_scope, idem_key, chain) \
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], \
         $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], \
         $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], \
         $19::text[], $20::text[], $21::text[], $22::text[], $23::bytea[])",
    )
    .bind(ids)
    .bind(occurred_at)
    .bind(received_at)
    .bind(event)
    .bind(category)
    .bind(action)
    .bind(outcome)
    .bind(actor_id)
    .bind(actor_name)
    .bind(actor_type)
    .bind(actor_email)
    .bind(target_type)
    .bind(target_id)
    .bind(target_name)
    .bind(ip)
    .bind(user_agent)
    .bind(source)
    .bind(description)
    .bind(metadata)
    .bind(changes)
    .bind(idem_scope)
    .bind(idem_key)
    .bind(chained)
    .execute(&mut *conn)
    .await?;
    Ok(head)
}

/// Records the per-event keys of the new events, so later retries map to these ids.
async fn insert_event_keys(
    conn: &mut PgConnection,
    rows: &[NewRow<'_>],
    ids: &[i64],
) -> Result<(), StoreError> {
    let mut scopes = Vec::new();
    let mut keys = Vec::new();
    let mut key_ids = Vec::new();
    for (row, &id) in rows.iter().zip(ids) {
        if let Some(key) = row.ev.idempotency_key.as_deref() {
            scopes.push(row.scope);
            keys.push(key);
            key_ids.push(id);
        }
    }
    if keys.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO event_idempotency (scope, key, id) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[])",
    )
    .bind(scopes)
    .bind(keys)
    .bind(key_ids)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds the group's event names not known yet; returns them for the cache once committed.
async fn insert_names(
    conn: &mut PgConnection,
    rows: &[NewRow<'_>],
    known: &HashSet<String>,
) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    let mut categories = Vec::new();
    let mut seen = HashSet::new();
    for row in rows {
        let b = &row.ev.body;
        // The first category seen for a name is kept, as in SQLite's INSERT OR IGNORE.
        if !known.contains(&b.event) && seen.insert(b.event.as_str()) {
            names.push(b.event.as_str());
            categories.push(b.category.as_str());
        }
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query(
        "INSERT INTO event_names (name, category) \
         SELECT * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT (name) DO NOTHING",
    )
    .bind(&names)
    .bind(categories)
    .execute(&mut *conn)
    .await?;
    Ok(names.into_iter().map(str::to_owned).collect())
}

/// Stores the response of each fresh request that carried an `Idempotency-Key`.
async fn insert_request_records(
    conn: &mut PgConnection,
    reqs: &[&AppendRequest],
    outcomes: &[AppendOutcome],
) -> Result<(), StoreError> {
    let mut scopes = Vec::new();
    let mut keys = Vec::new();
    let mut hashes = Vec::new();
    let mut responses = Vec::new();
    for (req, outcome) in reqs.iter().zip(outcomes) {
        let (
            Some(rk),
            AppendOutcome::Done {
                results,
                replayed: false,
            },
        ) = (&req.request_key, outcome)
        else {
            continue;
        };
        scopes.push(req.scope.as_str());
        keys.push(rk.key.as_str());
        hashes.push(rk.body_hash.as_str());
        responses.push(
            serde_json::to_string(results)
                .map_err(|e| StoreError::Corrupt(format!("encoding a response: {e}")))?,
        );
    }
    if keys.is_empty() {
        return Ok(());
    }
    let created_at = vec![Utc::now().timestamp_millis(); keys.len()];
    sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])",
    )
    .bind(scopes)
    .bind(keys)
    .bind(hashes)
    .bind(responses)
    .bind(created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
