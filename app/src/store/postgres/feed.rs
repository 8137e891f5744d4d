//! The change feed of a PostgreSQL store: a listener task that turns `NOTIFY auditlog_events`
//! messages into [`Committed`] notices on the store's broadcast channel.
//!
//! Every writer (on any node) queues `pg_notify(auditlog_events, '<first>,<last>')` inside its
//! transaction; PostgreSQL delivers it only after the commit, to every listening session, in commit
//! order. So each node learns of the commits of all nodes, its own included. Notifications carry ids,
//! not events: payloads are limited to 8000 bytes and readers re-read rows anyway.
//!
//! Notifications sent while the listening connection is down are lost. The listener reconnects by
//! itself, logs a warning and bumps the store's reset counter (`Store::feed_resets`) once it is
//! listening again, so subscribers re-read from the store: the feed is a hint, the store the truth.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinHandle;

use super::FEED_CHANNEL;
use crate::store::{Committed, StoreError};

/// The first wait before re-connecting after a failure; doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A running listener task and the means to stop it.
pub(super) struct Listener {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Starts listening on `pool` (which should allow one connection, kept by the listener) and
    /// sending what arrives to `feed`. Returns once `LISTEN` is in effect, so every commit after
    /// this returns is seen. `resets` is bumped after each re-connection.
    pub(super) async fn start(
        pool: PgPool,
        feed: broadcast::Sender<Committed>,
        resets: watch::Sender<u64>,
    ) -> Result<Self, StoreError> {
        let listener = connect(&pool).await?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(pool, listener, feed, resets, stopped));
        Ok(Self { stop, task })
    }

    /// Stops the task and closes its connection.
    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(FEED_CHANNEL).await?;
    Ok(listener)
}

/// `"<first>,<last>"` as sent by the writer.
fn parse(payload: &str) -> Option<Committed> {
    let (first, last) = payload.split_once(',')?;
    let c = Committed {
        first_id: first.trim().parse().ok()?,
        last_id: last.trim().parse().ok()?,
    };
    (c.first_id <= c.last_id).then_some(c)
}

async fn run(
    pool: PgPool,
    listener: PgListener,
    feed: broadcast::Sender<Committed>,
    resets: watch::Sender<u64>,
    mut stopped: oneshot::Receiver<()>,
) {
    // After `LISTEN` is in effect again: a subscriber re-reading from here misses nothing.
    let reset = || resets.send_modify(|n| *n += 1);
    let mut listener = Some(listener);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let Some(current) = listener.as_mut() else {
            // Re-connect from scratch. The old listener is gone first: the pool holds one
            // connection only.
            tokio::select! {
                _ = &mut stopped => break,
                () = tokio::time::sleep(backoff) => {}
            }
            match connect(&pool).await {
                Ok(l) => {
                    tracing::warn!(
                        "change feed re-connected; notifications sent meanwhile may have been missed"
                    );
                    listener = Some(l);
                    backoff = FIRST_BACKOFF;
                    reset();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change feed cannot re-connect yet");
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
            continue;
        };
        let next = tokio::select! {
            _ = &mut stopped => break,
            next = current.try_recv() => next,
        };
        match next {
            Ok(Some(n)) => match parse(n.payload()) {
                // Nobody subscribed is not an error.
                Some(c) => {
                    let _ = feed.send(c);
                }
                None => tracing::warn!(payload = n.payload(), "ignoring a malformed change notice"),
            },
            // PgListener lost its connection and has already re-connected and re-listened.
            Ok(None) => {
                tracing::warn!(
                    "change feed connection was lost and re-established; notifications may have been missed"
                );
                reset();
            }
            Err(e) => {
                // The connection may be in an unknown state: drop it and start over.
                tracing::warn!(error = %e, "change feed connection failed; re-connecting");
                listener = None;
            }
        }
    }
    drop(listener);
    pool.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_into_ranges() {
        assert_eq!(
            parse("3,7"),
            Some(Committed {
                first_id: 3,
                last_id: 7
            })
        );
        assert_eq!(parse("7,3"), None);
        assert_eq!(parse("x,3"), None);
        assert_eq!(parse("3"), None);
    }
}
