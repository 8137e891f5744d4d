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
    let latest = store
        .checkpoints()
        .await?
        .into_iter()
        .max_by_key(|c| c.event_id);
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
