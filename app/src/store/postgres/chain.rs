//! The hash chain on PostgreSQL (see `store::chain`): read and moved on under the writers'
//! advisory lock, so every node's writer continues the one chain; events stored before it existed
//! are chained when a node opens the store.

use sqlx::{PgConnection, PgPool};

use super::WRITER_LOCK;
use crate::store::StoreError;
use crate::store::chain::{self, CHAIN_COLUMNS, ChainRow};

/// Rows chained per transaction when catching up.
const BATCH: i64 = 5_000;

/// Lets the rest of the caller's transaction change or remove events (migration 0010).
pub(in crate::store) async fn open_maintenance(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SET LOCAL auditlog.maintenance = 'on'")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Where the chain stands: the last chained event's id and its chain value (0 and the genesis
/// value before the first). Call under the writer lock.
pub(super) async fn head(tx: &mut PgConnection) -> Result<(i64, [u8; 32]), StoreError> {
    let row: Option<(i64, Vec<u8>)> = sqlx::query_as("SELECT last_id, chain FROM chain_head")
        .fetch_optional(&mut *tx)
        .await?;
    match row {
        None => Ok((0, chain::GENESIS)),
        Some((id, bytes)) => Ok((
            id,
            chain::from_stored(Some(&bytes))
                .ok_or_else(|| StoreError::Corrupt("chain_head holds no chain".into()))?,
        )),
    }
}

/// Records that the chain stands at `value` after event `last_id`, in the caller's transaction.
pub(super) async fn set_head(
    tx: &mut PgConnection,
    last_id: i64,
    value: &[u8; 32],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO chain_head (one, last_id, chain) VALUES (1, $1, $2) \
         ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, chain = excluded.chain",
    )
    .bind(last_id)
    .bind(value.to_vec())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Chains the events stored after the recorded head (those stored before migration 0010), in id
/// order, a batch per transaction under the writer lock.
pub(super) async fn catch_up(pool: &PgPool) -> Result<(), StoreError> {
    let mut done = 0;
    loop {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITER_LOCK)
            .execute(&mut *tx)
            .await?;
        let (after, mut prev) = head(&mut tx).await?;
        let rows: Vec<ChainRow> = sqlx::query_as(&format!(
            "SELECT {CHAIN_COLUMNS} FROM events WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last().map(|r| r.id) else {
            if done > 0 {
                tracing::info!(events = done, "stored events chained");
            }
            return Ok(());
        };
        open_maintenance(&mut tx).await?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut values = Vec::with_capacity(rows.len());
        for row in &rows {
            prev = chain::link(&prev, &row.fields());
            ids.push(row.id);
            values.push(prev.to_vec());
        }
        sqlx::query(
            "UPDATE events SET chain = v.chain FROM UNNEST($1::bigint[], $2::bytea[]) \
             AS v(id, chain) WHERE events.id = v.id",
        )
        .bind(&ids)
        .bind(&values)
        .execute(&mut *tx)
        .await?;
        set_head(&mut tx, last, &prev).await?;
        tx.commit().await?;
        done += rows.len();
        tracing::info!(done, "chaining stored events");
    }
}

/// Up to `limit` stored events after `after` (and at most `upto`), by id, with their chain.
pub(super) async fn rows_after(
    pool: &PgPool,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<ChainRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {CHAIN_COLUMNS} FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3"
    ))
    .bind(after)
    .bind(upto)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
