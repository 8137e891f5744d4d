//! Retention: the purge removes the oldest events, those received before a cutoff, as a prefix of
//! the chain (every event up to the newest one received before the cutoff), so the chain still
//! verifies from the new oldest event: each step records a signed `purge` checkpoint holding the
//! chain value of the last event it removed, in the same transaction. This is the one path that
//! may remove events (the append-only guard of the migrations is opened inside its transactions).
//!
//! SQLite removes the rows in batches, oldest first (and their search index entries), each batch
//! with its checkpoint. PostgreSQL does it in one transaction: it empties each monthly partition
//! whose events all lie in the prefix at once (TRUNCATE of that partition; the partition itself
//! stays, so writers still find it for a late event of that month), then removes the prefix's
//! remaining events (those received late into newer months' partitions).

use serde::Serialize;
use sqlx::Connection as _;

use super::chain::{CHAIN_COLUMNS, ChainRow};
use super::checkpoints::{Checkpoint, Kind, Signer, insert_checkpoint};
use super::{Backend, Store, StoreError};

/// Events removed per transaction.
const BATCH: i64 = 5_000;

/// What a purge did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Events removed.
    pub removed: u64,
    /// The last event removed (the chain continues after it).
    pub through: Option<i64>,
    /// Whole partitions emptied (PostgreSQL).
    pub partitions: u64,
}

/// The stored setting that holds the retention in days.
pub const RETENTION_SETTING: &str = "retention_days";
/// Retention unless set.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

impl Store {
    /// A stored setting (see migration 0013's `settings`).
    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT value FROM settings WHERE name = $1";
        Ok(match &self.backend {
            Backend::Sqlite(s) => {
                sqlx::query_scalar(sql)
                    .bind(name)
                    .fetch_optional(&s.pool)
                    .await?
            }
            Backend::Postgres(s) => {
                sqlx::query_scalar(sql)
                    .bind(name)
                    .fetch_optional(&s.pool)
                    .await?
            }
        })
    }

    pub async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let sql = "INSERT INTO settings (name, value) VALUES ($1, $2) \
                   ON CONFLICT (name) DO UPDATE SET value = excluded.value";
        match &self.backend {
            Backend::Sqlite(s) => {
                sqlx::query(sql)
                    .bind(name)
                    .bind(value)
                    .execute(&s.pool)
                    .await?;
            }
            Backend::Postgres(s) => {
                sqlx::query(sql)
                    .bind(name)
                    .bind(value)
                    .execute(&s.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// How many days events are kept.
    pub async fn retention_days(&self) -> Result<u32, StoreError> {
        Ok(self
            .setting(RETENTION_SETTING)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_RETENTION_DAYS))
    }

    /// The newest event received before `cutoff` (epoch milliseconds): a purge removes it and
    /// every event before it.
    pub async fn purge_point(&self, cutoff: i64) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT max(id) FROM events WHERE received_at < $1";
        Ok(match &self.backend {
            Backend::Sqlite(s) => {
                sqlx::query_scalar(sql)
                    .bind(cutoff)
                    .fetch_one(&s.pool)
                    .await?
            }
            Backend::Postgres(s) => {
                sqlx::query_scalar(sql)
                    .bind(cutoff)
                    .fetch_one(&s.pool)
                    .await?
            }
        })
    }

    /// Removes every event up to the newest one received before `cutoff`, recording a signed
    /// `purge` checkpoint with each step; calls `progress(removed so far)` after each.
    pub async fn purge(
        &self,
        cutoff: i64,
        signer: &Signer,
        mut progress: impl FnMut(u64),
    ) -> Result<PurgeReport, StoreError> {
        let Some(through) = self.purge_point(cutoff).await? else {
            return Ok(PurgeReport::default());
        };
        let pool = match &self.backend {
            Backend::Postgres(s) => {
                let report = pg_purge(&s.pool, through, signer).await?;
                progress(report.removed);
                return Ok(report);
            }
            Backend::Sqlite(s) => &s.pool,
        };
        let mut report = PurgeReport {
            through: Some(through),
            ..Default::default()
        };
        loop {
            let removed = sqlite_step(pool, through, signer).await?;
            if removed == 0 {
                return Ok(report);
            }
            report.removed += removed;
            progress(report.removed);
        }
    }
}

/// The checkpoint a step records: the chain after `last`, the last event it removed.
fn purge_checkpoint(signer: &Signer, last: &ChainRow) -> Result<Checkpoint, StoreError> {
    let value = last
        .stored()
        .ok_or_else(|| StoreError::Corrupt(format!("event {} has no chain value", last.id)))?;
    Ok(Checkpoint::sign(signer, last.id, value, Kind::Purge))
}

/// Removes up to [`BATCH`] of the oldest events with ids up to `through`, their search index
/// entries, and records the checkpoint, in one transaction.
async fn sqlite_step(
    pool: &sqlx::SqlitePool,
    through: i64,
    signer: &Signer,
) -> Result<u64, StoreError> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let rows: Vec<ChainRow> = sqlx::query_as(&format!(
        "SELECT {CHAIN_COLUMNS} FROM events WHERE id <= ? ORDER BY id LIMIT ?"
    ))
    .bind(through)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let Some(last) = rows.last() else {
        return Ok(0);
    };
    super::sqlite_chain::open_maintenance(&mut tx, "retention purge").await?;
    let keys: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, search_key FROM events WHERE id >= ? AND id <= ? ORDER BY id")
            .bind(rows[0].id)
            .bind(last.id)
            .fetch_all(&mut *tx)
            .await?;
    // A contentless FTS5 index forgets a row when told the words it was given for it.
    let entries: Vec<(i64, String)> = rows
        .iter()
        .zip(&keys)
        .filter_map(|(row, (_, key))| {
            let text = [
                Some(row.event.as_str()),
                row.description.as_deref(),
                Some(row.actor_name.as_str()),
                row.actor_email.as_deref(),
                Some(row.actor_id.as_str()),
                row.target_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n");
            key.map(|k| (k, crate::filters::search::words(&text).join(" ")))
        })
        .collect();
    for chunk in entries.chunks(400) {
        let mut sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO events_fts (events_fts, rowid, text) ",
        );
        sql.push_values(chunk, |mut row, (key, text)| {
            row.push("'delete'")
                .push_bind(*key)
                .push_bind(text.as_str());
        });
        sql.build().execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM events WHERE id <= ?")
        .bind(last.id)
        .execute(&mut *tx)
        .await?;
    let cp = purge_checkpoint(signer, last)?;
    insert_checkpoint!(&mut *tx, cp).await?;
    super::sqlite_chain::close_maintenance(&mut tx).await?;
    tx.commit().await?;
    Ok(rows.len() as u64)
}

/// The whole purge on PostgreSQL, in one transaction (so every committed state removed a prefix
/// of the chain): empties each monthly partition whose events all lie in the prefix (TRUNCATE),
/// removes the prefix's remaining events, and records the checkpoint of event `through`.
async fn pg_purge(
    pool: &sqlx::PgPool,
    through: i64,
    signer: &Signer,
) -> Result<PurgeReport, StoreError> {
    let mut tx = pool.begin().await?;
    let last: Option<ChainRow> =
        sqlx::query_as(&format!("SELECT {CHAIN_COLUMNS} FROM events WHERE id = $1"))
            .bind(through)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(last) = last else {
        return Ok(PurgeReport::default());
    };
    super::postgres::open_maintenance(&mut tx).await?;
    let parts: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'events'::regclass ORDER BY 1",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut report = PurgeReport {
        through: Some(through),
        ..Default::default()
    };
    for part in parts {
        let quoted = format!("\"{}\"", part.replace('"', "\"\""));
        let (count, max): (i64, Option<i64>) =
            sqlx::query_as(&format!("SELECT count(*), max(id) FROM {quoted}"))
                .fetch_one(&mut *tx)
                .await?;
        if max.is_some_and(|m| m <= through) {
            sqlx::query(&format!("TRUNCATE {quoted}"))
                .execute(&mut *tx)
                .await?;
            report.partitions += 1;
            report.removed += count as u64;
        }
    }
    let rest = sqlx::query("DELETE FROM events WHERE id <= $1")
        .bind(through)
        .execute(&mut *tx)
        .await?;
    report.removed += rest.rows_affected();
    let cp = purge_checkpoint(signer, &last)?;
    insert_checkpoint!(&mut *tx, cp).await?;
    tx.commit().await?;
    Ok(report)
}
