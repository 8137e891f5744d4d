//! Who looked: reading the log is itself recorded. The first time within a window (15 minutes
//! unless configured) that a caller reads a view (a filter, search and event name; the time range
//! and paging do not count, so scrolling, the live tail and "Load more" add nothing) or one event
//! by id, an event goes into the same store through the same write path as every other
//! self-audit event: "Audit Logs Viewed" or "Audit Log Event Viewed", by the user or API key, with
//! the address and user agent, and the view in its URL form (metadata `view`, never the
//! searchable description, or a search would find its own record). Exports are recorded on their own
//! (see `export::record_export`).
//!
//! The windows are kept per server process, in memory: with several nodes a view can be recorded
//! once per node and window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::Actor;
use super::audit::{self, Action};
use crate::events::query::EventQuery;
use crate::store::{Store, StoreError};

/// How long a read is remembered before the same read is recorded again, unless configured.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Above this many remembered reads, the expired ones are dropped before adding another.
const SWEEP_ABOVE: usize = 10_000;

/// What was read.
#[derive(Clone, Copy, Debug)]
pub enum Looked<'a> {
    /// A list, its statistics, the live tail or the poll of `query`'s view.
    View {
        query: &'a EventQuery,
        /// How: "page", "api", "live tail".
        via: &'static str,
    },
    /// One event, by id.
    Event { id: i64, via: &'static str },
}

/// The reads recorded recently, per caller; cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct ReadAudit {
    window_ms: Option<i64>,
    seen: Arc<Mutex<HashMap<(String, String), i64>>>,
}

impl Default for ReadAudit {
    /// Recording, with the default window.
    fn default() -> Self {
        Self::every(DEFAULT_WINDOW)
    }
}

impl ReadAudit {
    /// Records each distinct read once per `window`.
    pub fn every(window: Duration) -> Self {
        Self {
            window_ms: Some(window.as_millis().clamp(1, i64::MAX as u128) as i64),
            seen: Default::default(),
        }
    }

    /// Records nothing: for tests of other things that count the events they read.
    pub fn off() -> Self {
        Self {
            window_ms: None,
            seen: Default::default(),
        }
    }

    /// Records that `actor` read `what`, unless the same read by the same caller was recorded
    /// within the window. An error when the record could not be written: the caller refuses the
    /// read rather than serve it unrecorded.
    pub async fn looked(
        &self,
        store: &Store,
        actor: &Actor,
        what: Looked<'_>,
    ) -> Result<(), StoreError> {
        let Some(window) = self.window_ms else {
            return Ok(());
        };
        let now = chrono::Utc::now().timestamp_millis();
        let key = (actor.id.clone(), read_key(&what));
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.get(&key).is_some_and(|at| now - at < window) {
                return Ok(());
            }
            if seen.len() >= SWEEP_ABOVE {
                seen.retain(|_, at| now - *at < window);
            }
            seen.insert(key.clone(), now);
        }
        let result = audit::record(store, actor, action(actor, &what)).await;
        if result.is_err() {
            // Not recorded: the next read tries again.
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
        }
        result
    }

    /// How many reads are remembered (for tests of the sweep).
    pub fn remembered(&self) -> usize {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// The view's URL form without its time range and paging: what makes two reads the same read.
pub fn view_string(query: &EventQuery) -> String {
    let mut pairs = query.filter.to_query();
    if let Some(event) = &query.event {
        pairs.insert(0, ("event".into(), event.clone()));
    }
    if let Some(q) = &query.search {
        pairs.push(("q".into(), q.clone()));
    }
    if !query.hide.items.is_empty() {
        pairs.push(("quiet".into(), "true".into()));
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn read_key(what: &Looked<'_>) -> String {
    match what {
        Looked::View { query, .. } => format!("view:{}", view_string(query)),
        Looked::Event { id, .. } => format!("event:{id}"),
    }
}

fn action(actor: &Actor, what: &Looked<'_>) -> Action {
    match *what {
        Looked::View { query, via } => {
            let view = view_string(query);
            let ms = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp_millis());
            Action {
                event: "Audit Logs Viewed",
                action: "viewed",
                success: true,
                target: None,
                // The view goes in the metadata only: in the description, a search's own words
                // would make its record one of its results.
                description: format!("{} viewed the audit logs", actor.name),
                metadata: json!({
                    "view": view,
                    "start": ms(query.start),
                    "end": ms(query.end),
                    "via": via,
                }),
            }
        }
        Looked::Event { id, via } => Action {
            event: "Audit Log Event Viewed",
            action: "viewed",
            success: true,
            target: Some(("event", id.to_string(), format!("#{id}"))),
            description: format!("{} viewed audit log event #{id}", actor.name),
            metadata: json!({"via": via}),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::TestDatabase;

    fn actor(id: &str) -> Actor {
        Actor {
            id: id.into(),
            name: id.into(),
            kind: "user",
            ip: Some("192.0.2.7".into()),
            user_agent: Some("test".into()),
        }
    }

    async fn viewed(store: &Store) -> Vec<crate::events::model::Event> {
        let q = EventQuery {
            filter: crate::filters::Filter::from_query(&[(
                "f".to_string(),
                "source:is:auditlog".to_string(),
            )])
            .unwrap(),
            ..Default::default()
        };
        store.list(&q).await.unwrap().events
    }

    #[tokio::test]
    async fn each_distinct_read_is_recorded_once_per_window_and_caller() {
        let db = TestDatabase::sqlite();
        let store = Store::open(&db.url).await.expect("open");
        let audit = ReadAudit::every(Duration::from_secs(600));
        let all = EventQuery::default();
        let logins = EventQuery {
            event: Some("Login".into()),
            start: chrono::DateTime::from_timestamp_millis(1_000),
            ..Default::default()
        };
        for _ in 0..3 {
            let view = Looked::View {
                query: &all,
                via: "page",
            };
            audit.looked(&store, &actor("ann"), view).await.unwrap();
        }
        // Paging or another time range of the same view is the same read.
        let later = EventQuery {
            start: chrono::DateTime::from_timestamp_millis(5_000),
            limit: 10,
            ..logins.clone()
        };
        for q in [&logins, &later] {
            let view = Looked::View {
                query: q,
                via: "api",
            };
            audit.looked(&store, &actor("ann"), view).await.unwrap();
        }
        let one = Looked::Event { id: 7, via: "page" };
        audit.looked(&store, &actor("ann"), one).await.unwrap();
        audit.looked(&store, &actor("ann"), one).await.unwrap();
        // Another caller's read of the same view is theirs to record.
        let view = Looked::View {
            query: &all,
            via: "page",
        };
        audit.looked(&store, &actor("bob"), view).await.unwrap();

        let events = viewed(&store).await;
        let summary: Vec<(String, String, String)> = events
            .iter()
            .rev()
            .map(|e| {
                let what = match &e.body.target {
                    Some(t) => t.name.clone().unwrap_or_default(),
                    None => e.body.metadata["view"].as_str().unwrap_or("?").to_string(),
                };
                (e.body.actor.id.clone(), e.body.event.clone(), what)
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("ann".into(), "Audit Logs Viewed".into(), "".into()),
                (
                    "ann".into(),
                    "Audit Logs Viewed".into(),
                    "event=Login".into()
                ),
                ("ann".into(), "Audit Log Event Viewed".into(), "#7".into()),
                ("bob".into(), "Audit Logs Viewed".into(), "".into()),
            ]
        );
        let first_login = &events[events.len() - 2];
        assert_eq!(first_login.body.ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(first_login.body.metadata["start"], json!(1_000));
        assert_eq!(first_login.body.metadata["via"], json!("api"));
        assert_eq!(audit.remembered(), 4);
    }

    #[tokio::test]
    async fn after_the_window_the_same_read_is_recorded_again_and_off_records_nothing() {
        let db = TestDatabase::sqlite();
        let store = Store::open(&db.url).await.expect("open");
        let audit = ReadAudit::every(Duration::from_millis(1));
        let q = EventQuery::default();
        let view = Looked::View {
            query: &q,
            via: "page",
        };
        audit.looked(&store, &actor("ann"), view).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        audit.looked(&store, &actor("ann"), view).await.unwrap();
        ReadAudit::off()
            .looked(&store, &actor("ann"), view)
            .await
            .unwrap();
        assert_eq!(viewed(&store).await.len(), 2);
    }
}
