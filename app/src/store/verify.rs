//! `verify`: recomputes the hash chain (see `store::chain`) over the stored events and checks
//! every checkpoint's signature and place in it, stopping at the first broken link, which it names
//! precisely. Also where checkpoints are made and listed.

use serde::Serialize;

use super::chain::{self, ChainRow};
use super::checkpoints::{
    self, COLUMNS, Checkpoint, CheckpointRow, Kind, Signer, insert_checkpoint,
};
use super::{Backend, Store, StoreError};

/// Events read per step.
const BATCH: i64 = 5_000;

/// What to check.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// The first event checked (default: the oldest stored). Its predecessor's stored chain
    /// value is taken as given.
    pub from: Option<i64>,
    /// The last event checked (default: the newest stored, and then checkpoints and the head
    /// beyond it must not name events that are gone).
    pub to: Option<i64>,
    /// The checkpoints must be signed by this key (default: each by the key it names).
    pub public_key: Option<[u8; 32]>,
}

/// Where and why the chain is broken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Break {
    /// The event at which it breaks (for a checkpoint, the event it names).
    pub event_id: i64,
    /// The checkpoint concerned, if any.
    pub checkpoint: Option<i64>,
    pub reason: String,
}

/// The result of a verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The first and last events checked (none when the range holds none).
    pub first: Option<i64>,
    pub through: Option<i64>,
    /// Events whose chain value was recomputed and matched.
    pub events: u64,
    /// Checkpoints whose signature and chain value were checked.
    pub checkpoints: u64,
    /// The first problem found, if any.
    pub broken: Option<Break>,
    /// When it ran (epoch milliseconds).
    pub checked_at: i64,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

impl Store {
    /// Up to `limit` stored events with `after < id <= upto`, by id, with their chain values.
    async fn chain_rows(
        &self,
        after: i64,
        upto: i64,
        limit: i64,
    ) -> Result<Vec<ChainRow>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => {
                super::sqlite_chain::rows_after(&s.pool, after, upto, limit).await
            }
            Backend::Postgres(s) => s.chain_rows(after, upto, limit).await,
        }
    }

    /// A scalar of the events table (`min(id)`, `max(id)`, …) on the reader pool.
    async fn events_scalar(&self, sql: &str) -> Result<Option<i64>, StoreError> {
        Ok(match &self.backend {
            Backend::Sqlite(s) => sqlx::query_scalar(sql).fetch_one(&s.pool).await?,
            Backend::Postgres(s) => sqlx::query_scalar(sql).fetch_one(&s.pool).await?,
        })
    }

    /// Where the chain stands: the last chained event's id and its chain value, if any.
    pub async fn chain_head(&self) -> Result<Option<(i64, [u8; 32])>, StoreError> {
        let sql = "SELECT last_id, chain FROM chain_head";
        let row: Option<(i64, Vec<u8>)> = match &self.backend {
            Backend::Sqlite(s) => sqlx::query_as(sql).fetch_optional(&s.pool).await?,
            Backend::Postgres(s) => sqlx::query_as(sql).fetch_optional(&s.pool).await?,
        };
        row.map(|(id, bytes)| {
            chain::from_stored(Some(&bytes))
                .map(|c| (id, c))
                .ok_or_else(|| StoreError::Corrupt("chain_head holds no chain".into()))
        })
        .transpose()
    }

    /// Every checkpoint, by the event it covers, then by id.
    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM checkpoints ORDER BY event_id, id");
        let rows: Vec<CheckpointRow> = match &self.backend {
            Backend::Sqlite(s) => sqlx::query_as(&sql).fetch_all(&s.pool).await?,
            Backend::Postgres(s) => sqlx::query_as(&sql).fetch_all(&s.pool).await?,
        };
        rows.into_iter().map(checkpoints::from_row).collect()
    }

    /// The checkpoint covering the newest event at or before `event_id`, the latest of them.
    pub async fn latest_checkpoint(&self, event_id: i64) -> Result<Option<Checkpoint>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM checkpoints WHERE event_id <= $1 \
             ORDER BY event_id DESC, id DESC LIMIT 1"
        );
        let row: Option<CheckpointRow> = match &self.backend {
            Backend::Sqlite(s) => {
                sqlx::query_as(&sql)
                    .bind(event_id)
                    .fetch_optional(&s.pool)
                    .await?
            }
            Backend::Postgres(s) => {
                sqlx::query_as(&sql)
                    .bind(event_id)
                    .fetch_optional(&s.pool)
                    .await?
            }
        };
        row.map(checkpoints::from_row).transpose()
    }

    /// Stores `cp` (signed); returns it with its id.
    pub(super) async fn insert_checkpoint(&self, cp: Checkpoint) -> Result<Checkpoint, StoreError> {
        let id = match &self.backend {
            Backend::Sqlite(s) => insert_checkpoint!(&s.pool, cp).await?,
            Backend::Postgres(s) => insert_checkpoint!(&s.pool, cp).await?,
        };
        Ok(Checkpoint { id, ..cp })
    }

    /// Signs and stores a checkpoint of where the chain stands now; `None` before the first event.
    pub async fn checkpoint(
        &self,
        signer: &Signer,
        kind: Kind,
    ) -> Result<Option<Checkpoint>, StoreError> {
        let Some((last, value)) = self.chain_head().await? else {
            return Ok(None);
        };
        let cp = Checkpoint::sign(signer, last, value, kind);
        Ok(Some(self.insert_checkpoint(cp).await?))
    }

    /// Recomputes the chain over the events `opts` names and checks the checkpoints; calls
    /// `progress(events checked)` after each step.
    pub async fn verify(
        &self,
        opts: &VerifyOptions,
        mut progress: impl FnMut(u64),
    ) -> Result<Verification, StoreError> {
        let checked_at = chrono::Utc::now().timestamp_millis();
        let mut result = Verification {
            first: None,
            through: None,
            events: 0,
            checkpoints: 0,
            broken: None,
            checked_at,
        };
        let cps = self.checkpoints().await?;
        let fail = |mut r: Verification, event_id: i64, checkpoint: Option<i64>, reason: String| {
            r.broken = Some(Break {
                event_id,
                checkpoint,
                reason,
            });
            Ok(r)
        };
        for cp in &cps {
            if !cp.signature_ok() {
                let reason = format!(
                    "checkpoint #{} (after event #{}) has a signature that does not verify",
                    cp.id, cp.event_id
                );
                return fail(result, cp.event_id, Some(cp.id), reason);
            }
            if let Some(key) = opts.public_key
                && key != cp.public_key
            {
                let reason = format!(
                    "checkpoint #{} is signed by the key {}, not by the key given",
                    cp.id,
                    chain::hex(&cp.public_key)
                );
                return fail(result, cp.event_id, Some(cp.id), reason);
            }
        }
        let oldest = self.events_scalar("SELECT min(id) FROM events").await?;
        let newest = self.events_scalar("SELECT max(id) FROM events").await?;
        let head = self.chain_head().await?;
        let lo = opts.from.or(oldest).unwrap_or(1);
        let hi = opts.to.or(newest).unwrap_or(0);
        // Where the chain stands before `lo`: the stored value of the event before it, or, from
        // the oldest event on, where the latest purge before it left the chain (else the start).
        let mut prev_id: Option<i64> = None;
        let mut prev = chain::GENESIS;
        let before = if opts.from.is_some_and(|f| oldest.is_some_and(|o| f > o)) {
            self.chain_row_at_most(lo - 1).await?
        } else {
            None
        };
        if let Some(row) = &before {
            prev_id = Some(row.id);
            prev = row.stored().unwrap_or(chain::GENESIS);
        } else if let Some(p) = cps
            .iter()
            .filter(|c| c.kind == Kind::Purge && oldest.is_none_or(|o| c.event_id < o))
            .max_by_key(|c| c.event_id)
        {
            prev_id = Some(p.event_id);
            prev = p.chain;
        }
        let mut after = lo - 1;
        let mut by_event = cps.iter().peekable();
        while by_event.peek().is_some_and(|c| c.event_id < lo) {
            by_event.next();
        }
        while after < hi {
            let rows = self.chain_rows(after, hi, BATCH).await?;
            let Some(last) = rows.last().map(|r| r.id) else {
                break;
            };
            for row in &rows {
                let Some(stored) = row.stored() else {
                    let reason = format!("event #{} has no chain value", row.id);
                    return fail(result, row.id, None, reason);
                };
                let expected = chain::link(&prev, &row.fields());
                if expected != stored {
                    let reason = match prev_id {
                        Some(p) if row.id != p + 1 => format!(
                            "the chain breaks at event #{}: it does not follow #{p}; events \
                             between them were removed, or #{} was changed",
                            row.id, row.id
                        ),
                        Some(p) => format!(
                            "the chain breaks at event #{}: it was changed (or an event was \
                             inserted or moved) since it was stored after #{p}",
                            row.id
                        ),
                        None => format!(
                            "the chain breaks at event #{}, the first: it was changed, or events \
                             before it were removed without a purge",
                            row.id
                        ),
                    };
                    return fail(result, row.id, None, reason);
                }
                // Checkpoints of events between the previous one and this one name events
                // that are gone.
                while let Some(cp) = by_event.next_if(|c| c.event_id <= row.id) {
                    if cp.kind == Kind::Purge && cp.event_id < row.id {
                        continue;
                    }
                    if cp.event_id != row.id {
                        let reason = format!(
                            "checkpoint #{} covers event #{}, which is missing",
                            cp.id, cp.event_id
                        );
                        return fail(result, cp.event_id, Some(cp.id), reason);
                    }
                    if cp.chain != stored {
                        let reason = format!(
                            "checkpoint #{} says the chain after event #{} is {}, the store \
                             has {}",
                            cp.id,
                            cp.event_id,
                            chain::hex(&cp.chain),
                            chain::hex(&stored)
                        );
                        return fail(result, cp.event_id, Some(cp.id), reason);
                    }
                    result.checkpoints += 1;
                }
                prev = stored;
                prev_id = Some(row.id);
                result.first.get_or_insert(row.id);
                result.through = Some(row.id);
                result.events += 1;
            }
            after = last;
            progress(result.events);
        }
        if opts.to.is_none() {
            // Through the newest event: nothing may name an event after it.
            let end = result.through.or(prev_id).unwrap_or(0);
            if let Some(cp) = by_event.find(|c| c.event_id > end && c.kind != Kind::Purge) {
                let reason = format!(
                    "checkpoint #{} covers events through #{}, but the store ends at #{end}: \
                     events were removed from the end",
                    cp.id, cp.event_id
                );
                return fail(result, cp.event_id, Some(cp.id), reason);
            }
            if let Some((last, _)) = head
                && last > end
            {
                let reason = format!(
                    "the chain's head is event #{last}, but the store ends at #{end}: events \
                     were removed from the end"
                );
                return fail(result, last, None, reason);
            }
        }
        Ok(result)
    }

    /// The stored event with the largest id at most `id`, if any.
    async fn chain_row_at_most(&self, id: i64) -> Result<Option<ChainRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM events WHERE id <= $1 ORDER BY id DESC LIMIT 1",
            chain::CHAIN_COLUMNS
        );
        Ok(match &self.backend {
            Backend::Sqlite(s) => {
                sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&s.pool)
                    .await?
            }
            Backend::Postgres(s) => {
                sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&s.pool)
                    .await?
            }
        })
    }
}
