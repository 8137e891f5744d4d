//! Fills `events.ip_bin` (migration 0002) for SQLite rows stored before the column existed.
//!
//! The key needs address parsing, which SQL lacks, so it is computed here, once, when the store
//! opens; afterwards the writer stores it with every row and this finds nothing to do.

use std::net::IpAddr;

use sqlx::SqliteConnection;

use super::StoreError;
use crate::filters::cidr::ip_key;

/// Rows per read-and-update round; each round is one transaction.
const BATCH: i64 = 5_000;

/// The `ip_bin` value for a stored address; NULL when there is none (or it does not parse, which
/// ingest validation rules out).
pub(super) fn ip_bin(ip: Option<&str>) -> Option<Vec<u8>> {
    ip.and_then(|t| t.parse::<IpAddr>().ok()).map(ip_key)
}

/// Computes `ip_bin` for every row that has an address but no key yet.
pub(super) async fn backfill(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let mut done = 0u64;
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, ip FROM events WHERE id > ? AND ip IS NOT NULL AND ip_bin IS NULL \
             ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(BATCH)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(done);
        };
        after = last.0;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        super::sqlite_chain::open_maintenance(&mut tx, "address keys of events stored before them")
            .await?;
        for (id, ip) in &rows {
            sqlx::query("UPDATE events SET ip_bin = ? WHERE id = ?")
                .bind(ip_bin(Some(ip)))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        super::sqlite_chain::close_maintenance(&mut tx).await?;
        tx.commit().await?;
        done += rows.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection as _;

    use super::*;

    #[tokio::test]
    async fn fills_keys_for_rows_stored_without_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut conn = SqliteConnection::connect(&url).await.unwrap();
        sqlx::migrate!("../migrations/sqlite")
            .run(&mut conn)
            .await
            .unwrap();
        for (i, ip) in [Some("10.0.0.1"), None, Some("2001:db8::1")]
            .iter()
            .enumerate()
        {
            sqlx::query(
                "INSERT INTO events (id, occurred_at, received_at, event, category, action, \
                 outcome, actor_id, actor_name, actor_type, ip) \
                 VALUES (?, 0, 0, 'e', 'c', 'a', 'success', 'u', 'n', 'user', ?)",
            )
            .bind(i as i64 + 1)
            .bind(ip)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        assert_eq!(backfill(&mut conn).await.unwrap(), 2);
        assert_eq!(backfill(&mut conn).await.unwrap(), 0, "nothing left to do");
        let keys: Vec<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT ip_bin FROM events ORDER BY id")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        assert_eq!(keys[0], Some(vec![4, 10, 0, 0, 1]));
        assert_eq!(keys[1], None);
        assert_eq!(keys[2].as_ref().map(Vec::len), Some(17));
    }
}
