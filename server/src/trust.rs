//! The trust jobs of a running server: a signed checkpoint of the hash chain every N events or
//! every hour (whichever comes first, when there is anything new), so that removing the newest
//! events cannot go unseen for long.

use std::time::Duration;

use app::store::Store;
use app::store::checkpoints::{Kind, Signer};

/// When checkpoints are made.
#[derive(Clone, Debug)]
pub struct CheckpointPolicy {
    /// After this many new events.
    pub every_events: i64,
    /// Or after this long, when any event is new.
    pub every: Duration,
    /// How often the policy is looked at.
    pub tick: Duration,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        Self {
            every_events: 10_000,
            every: Duration::from_secs(3600),
            tick: Duration::from_secs(10),
        }
    }
}

/// Makes a checkpoint if `policy` says one is due; returns the event it covers when it made one.
pub async fn checkpoint_if_due(
    store: &Store,
    signer: &Signer,
    policy: &CheckpointPolicy,
) -> Result<Option<i64>, app::store::StoreError> {
    let Some((head, _)) = store.chain_head().await? else {
        return Ok(None);
    };
    let latest = store.latest_checkpoint(i64::MAX).await?;
    let due = match &latest {
        None => true,
        Some(cp) if cp.event_id >= head => false,
        Some(cp) => {
            let age = chrono::Utc::now().timestamp_millis() - cp.created_at;
            head - cp.event_id >= policy.every_events
                || age >= i64::try_from(policy.every.as_millis()).unwrap_or(i64::MAX)
        }
    };
    if !due {
        return Ok(None);
    }
    Ok(store
        .checkpoint(signer, Kind::Periodic)
        .await?
        .map(|cp| cp.event_id))
}

/// Runs [`checkpoint_if_due`] every `policy.tick` until the process ends.
pub fn spawn_checkpointer(
    store: Store,
    signer: Signer,
    policy: CheckpointPolicy,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(policy.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match checkpoint_if_due(&store, &signer, &policy).await {
                Ok(Some(id)) => tracing::info!(through = id, "checkpoint signed"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not make a checkpoint"),
            }
        }
    })
}

/// The first moment still kept: events received before it are past `days` of retention.
pub fn retention_cutoff(days: u32) -> i64 {
    (chrono::Utc::now() - chrono::Duration::days(i64::from(days))).timestamp_millis()
}

/// Records a purge (by the server's daily job or the command line) as an audit event: how many
/// events it removed, through which one, under which retention, and whether it succeeded.
pub async fn record_purge(
    store: &Store,
    who: &app::accounts::Actor,
    days: u32,
    removed: u64,
    through: Option<i64>,
    outcome: &Result<(), anyhow::Error>,
) {
    use app::accounts::audit::{self, Action};
    let description = match outcome {
        Ok(()) => format!("Removed {removed} events received more than {days} days ago"),
        Err(e) => format!("The retention purge failed after removing {removed} events: {e}"),
    };
    let action = Action {
        event: "Audit Logs Purged",
        action: "purged",
        success: outcome.is_ok(),
        target: Some(("retention", days.to_string(), format!("{days} days"))),
        description,
        metadata: serde_json::json!({
            "removed": removed, "through": through, "retention_days": days,
        }),
    };
    if let Err(e) = audit::record(store, who, action).await {
        tracing::error!(error = %e, "could not record the purge");
    }
}

/// The server's daily retention purge: removes the events received more than the stored
/// retention ago, records what it removed (when it removed anything, or failed), first an
/// `initial` delay after start, then every `every`.
pub fn spawn_purger(
    store: Store,
    signer: Signer,
    initial: Duration,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(initial).await;
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = purge_once(&store, &signer).await {
                tracing::error!(error = %e, "the retention purge failed");
            }
        }
    })
}

/// Removes the events past retention (with `progress(removed so far)`) and records it as "Audit
/// Logs Purged" by `who`: always when `always`, else only when it removed something or failed.
pub async fn purge_recorded(
    store: &Store,
    signer: &Signer,
    who: &app::accounts::Actor,
    always: bool,
    progress: impl FnMut(u64),
) -> anyhow::Result<app::store::purge::PurgeReport> {
    let days = store.retention_days().await?;
    let report = store.purge(retention_cutoff(days), signer, progress).await;
    let outcome = report
        .as_ref()
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{e}"));
    let (removed, through) = report
        .as_ref()
        .map_or((0, None), |r| (r.removed, r.through));
    if always || removed > 0 || outcome.is_err() {
        record_purge(store, who, days, removed, through, &outcome).await;
    }
    Ok(report?)
}

/// One run of the daily purge (see [`spawn_purger`]), by the retention job itself.
pub async fn purge_once(store: &Store, signer: &Signer) -> anyhow::Result<u64> {
    let who = app::accounts::Actor {
        id: "auditlog-retention".into(),
        name: "Retention purge".into(),
        kind: "system",
        ip: None,
        user_agent: None,
    };
    let report = purge_recorded(store, signer, &who, false, |_| {}).await?;
    if report.removed > 0 {
        tracing::info!(removed = report.removed, "retention purge");
    }
    Ok(report.removed)
}

#[cfg(test)]
mod tests {
    use app::events::model::parse_event;
    use app::store::testing::{TestDatabase, append_all};

    use super::*;

    async fn add(store: &Store, n: usize) {
        let now = chrono::Utc::now();
        let e = serde_json::json!({
            "event": "Checked", "category": "C", "action": "a",
            "actor": {"id": "u", "type": "user"}
        });
        append_all(store, "t", (0..n).map(|_| parse_event(&e, now)).collect()).await;
    }

    #[tokio::test]
    async fn a_checkpoint_is_due_after_n_new_events_or_after_the_interval() {
        let db = TestDatabase::sqlite();
        let store = Store::open(&db.url).await.unwrap();
        let signer = Signer::from_seed([1; 32]);
        let every_3 = CheckpointPolicy {
            every_events: 3,
            every: Duration::from_secs(3600),
            tick: Duration::from_secs(1),
        };
        // Nothing to sign before the first event.
        assert_eq!(
            checkpoint_if_due(&store, &signer, &every_3).await.unwrap(),
            None
        );
        add(&store, 5).await;
        assert_eq!(
            checkpoint_if_due(&store, &signer, &every_3).await.unwrap(),
            Some(5)
        );
        assert_eq!(
            checkpoint_if_due(&store, &signer, &every_3).await.unwrap(),
            None
        );
        add(&store, 2).await;
        assert_eq!(
            checkpoint_if_due(&store, &signer, &every_3).await.unwrap(),
            None
        );
        add(&store, 1).await;
        assert_eq!(
            checkpoint_if_due(&store, &signer, &every_3).await.unwrap(),
            Some(8)
        );
        // An interval that has passed: any new event is enough.
        let hourly = CheckpointPolicy {
            every_events: 1_000,
            every: Duration::ZERO,
            tick: Duration::from_secs(1),
        };
        assert_eq!(
            checkpoint_if_due(&store, &signer, &hourly).await.unwrap(),
            None
        );
        add(&store, 1).await;
        assert_eq!(
            checkpoint_if_due(&store, &signer, &hourly).await.unwrap(),
            Some(9)
        );
        let v = store.verify(&Default::default(), |_| {}).await.unwrap();
        assert!(v.ok() && v.checkpoints == 3, "{v:?}");
        store.close().await;
    }
}
