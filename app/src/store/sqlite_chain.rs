//! The hash chain on SQLite (see `store::chain`): where it stands, chaining events stored before
//! it existed, and the one way to change or remove stored events (the `maintenance` marker of
//! migration 0013, inside a transaction).

use sqlx::SqliteConnection;

use super::StoreError;
use super::chain::{self, CHAIN_COLUMNS, ChainRow};

/// Rows chained per transaction when catching up.
const BATCH: i64 = 5_000;

/// Opens the append-only guard for the rest of the caller's transaction (see migration 0013);
/// [`close_maintenance`] must run before it commits.
pub(super) async fn open_maintenance(
    tx: &mut SqliteConnection,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO maintenance (reason) VALUES (?)")
        .bind(reason)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub(super) async fn close_maintenance(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM maintenance")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Records that the chain stands at `chain` after event `last_id`, in the caller's transaction.
pub(super) async fn set_head(
    tx: &mut SqliteConnection,
    last_id: i64,
    chain: &[u8; 32],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chain_head (one, last_id, chain) VALUES (1, ?, ?) \
         ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, chain = excluded.chain",
    )
    .bind(last_id)
    .bind(chain.to_vec())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The chain value after the newest stored event, chaining first any events stored after the
/// recorded head (events stored before migration 0013), in id order, with progress in the log.
pub(super) async fn catch_up(conn: &mut SqliteConnection) -> Result<[u8; 32], sqlx::Error> {
    let head: Option<(i64, Vec<u8>)> = sqlx::query_as("SELECT last_id, chain FROM chain_head")
        .fetch_optional(&mut *conn)
        .await?;
    let (mut after, mut prev) = match head {
        Some((id, bytes)) => (
            id,
            chain::from_stored(Some(&bytes))
                .ok_or_else(|| sqlx::Error::Protocol("chain_head holds no chain".into()))?,
        ),
        None => (0, chain::GENESIS),
    };
    let behind: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE id > ?")
        .bind(after)
        .fetch_one(&mut *conn)
        .await?;
    if behind == 0 {
        return Ok(prev);
    }
    tracing::info!(events = behind, "chaining stored events");
    let mut done = 0;
    loop {
        let rows: Vec<ChainRow> = sqlx::query_as(&format!(
            "SELECT {CHAIN_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?"
        ))
        .bind(after)
        .bind(BATCH)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last().map(|r| r.id) else {
            tracing::info!(events = done, "stored events chained");
            return Ok(prev);
        };
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        open_maintenance(&mut tx, "chain events stored before the chain").await?;
        for row in &rows {
            prev = chain::link(&prev, &row.fields());
            sqlx::query("UPDATE events SET chain = ? WHERE id = ?")
                .bind(prev.to_vec())
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
        }
        set_head(&mut tx, last, &prev).await?;
        close_maintenance(&mut tx).await?;
        tx.commit().await?;
        after = last;
        done += rows.len();
        tracing::info!(done, total = behind, "chaining stored events");
    }
}

/// Up to `limit` stored events after `after` (and at most `upto`), by id, with their chain.
pub(super) async fn rows_after(
    pool: &sqlx::SqlitePool,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<ChainRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {CHAIN_COLUMNS} FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?"
    ))
    .bind(after)
    .bind(upto)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
