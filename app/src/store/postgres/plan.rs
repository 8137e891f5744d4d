//! What the writer decides for each request and item of a group before ids exist: request-level
//! idempotency (replay, key reused, or fresh) and per-event idempotency (new, a repeat within the
//! group, or a duplicate of an earlier commit), then the outcomes once ids are drawn.
//!
//! Runs inside the writer's transaction after its advisory lock, so the lookups see every commit
//! of every node; requests of the same group see each other as if committed one after another, in
//! queue order, exactly as the SQLite writer applies them.

use std::collections::HashMap;

use sqlx::PgConnection;

use crate::events::model::{FieldError, NewEvent};
use crate::store::{AppendOutcome, AppendRequest, ItemResult, StoreError};

/// The writer's decision for one request before ids exist.
pub(super) enum Plan {
    Outcome(AppendOutcome),
    /// An earlier request of this group had the same `Idempotency-Key` and body: replay it.
    SameAs(usize),
    /// Store it; one slot per item, in order.
    Fresh(Vec<Slot>),
}

/// The result of one item before ids exist.
pub(super) enum Slot {
    Rejected(FieldError),
    /// A per-event key matched an event committed earlier.
    Prior(i64),
    /// The `index`-th new event of the group (`duplicate`: a repeat of a key within the group).
    New {
        index: usize,
        duplicate: bool,
    },
}

/// Where a per-event key points within a group.
#[derive(Clone, Copy)]
enum KeyTarget {
    Prior(i64),
    New(usize),
}

/// A new event and the request scope it came with.
pub(super) struct NewRow<'a> {
    pub(super) scope: &'a str,
    pub(super) ev: &'a NewEvent,
}

/// Request-level idempotency: replays, reused keys and fresh requests.
pub(super) async fn plan_requests(
    conn: &mut PgConnection,
    reqs: &[&AppendRequest],
) -> Result<Vec<Plan>, StoreError> {
    let (scopes, keys): (Vec<&str>, Vec<&str>) = reqs
        .iter()
        .filter_map(|r| {
            r.request_key
                .as_ref()
                .map(|k| (r.scope.as_str(), k.key.as_str()))
        })
        .unzip();
    let mut prior: HashMap<(String, String), (String, String)> = HashMap::new();
    if !keys.is_empty() {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT i.scope, i.key, i.request_hash, i.response FROM idempotency_keys i \
             JOIN UNNEST($1::text[], $2::text[]) AS q(scope, key) \
             ON i.scope = q.scope AND i.key = q.key",
        )
        .bind(&scopes)
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
        for (scope, key, hash, response) in rows {
            prior.insert((scope, key), (hash, response));
        }
    }
    // Keys of fresh requests earlier in this group: a later one with the same key is a retry.
    let mut in_group: HashMap<(&str, &str), (usize, &str)> = HashMap::new();
    let mut plans = Vec::with_capacity(reqs.len());
    for (i, req) in reqs.iter().enumerate() {
        let Some(rk) = &req.request_key else {
            plans.push(Plan::Fresh(Vec::new()));
            continue;
        };
        let id = (req.scope.as_str(), rk.key.as_str());
        let plan = if let Some((hash, response)) = prior.get(&(id.0.to_owned(), id.1.to_owned())) {
            if *hash != rk.body_hash {
                Plan::Outcome(AppendOutcome::KeyReused)
            } else {
                let results: Vec<ItemResult> = serde_json::from_str(response).map_err(|_| {
                    StoreError::Corrupt(format!("stored response for key {}", id.1))
                })?;
                Plan::Outcome(AppendOutcome::Done {
                    results,
                    replayed: true,
                })
            }
        } else if let Some(&(first, hash)) = in_group.get(&id) {
            if hash != rk.body_hash {
                Plan::Outcome(AppendOutcome::KeyReused)
            } else {
                Plan::SameAs(first)
            }
        } else {
            in_group.insert(id, (i, rk.body_hash.as_str()));
            Plan::Fresh(Vec::new())
        };
        plans.push(plan);
    }
    Ok(plans)
}

/// Per-event idempotency for the fresh requests: fills their slots and returns the new events in
/// group order (the order their ids are assigned in).
pub(super) async fn plan_events<'a>(
    conn: &mut PgConnection,
    reqs: &[&'a AppendRequest],
    plans: &mut [Plan],
) -> Result<Vec<NewRow<'a>>, StoreError> {
    let mut scopes = Vec::new();
    let mut keys = Vec::new();
    for (req, plan) in reqs.iter().zip(plans.iter()) {
        if matches!(plan, Plan::Fresh(_)) {
            for key in req
                .items
                .iter()
                .flatten()
                .filter_map(|ev| ev.idempotency_key.as_deref())
            {
                scopes.push(req.scope.as_str());
                keys.push(key);
            }
        }
    }
    let mut prior: HashMap<(String, String), i64> = HashMap::new();
    if !keys.is_empty() {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT e.scope, e.key, e.id FROM event_idempotency e \
             JOIN UNNEST($1::text[], $2::text[]) AS q(scope, key) \
             ON e.scope = q.scope AND e.key = q.key",
        )
        .bind(&scopes)
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
        for (scope, key, id) in rows {
            prior.insert((scope, key), id);
        }
    }
    let mut seen: HashMap<(&str, &str), KeyTarget> = HashMap::new();
    let mut new_rows = Vec::new();
    for (req, plan) in reqs.iter().zip(plans.iter_mut()) {
        let Plan::Fresh(slots) = plan else { continue };
        for item in &req.items {
            let ev = match item {
                Ok(ev) => ev,
                Err(e) => {
                    slots.push(Slot::Rejected(e.clone()));
                    continue;
                }
            };
            if let Some(key) = ev.idempotency_key.as_deref() {
                let id = (req.scope.as_str(), key);
                let known = seen.get(&id).copied().or_else(|| {
                    prior
                        .get(&(id.0.to_owned(), id.1.to_owned()))
                        .map(|&p| KeyTarget::Prior(p))
                });
                match known {
                    Some(KeyTarget::Prior(p)) => {
                        seen.insert(id, KeyTarget::Prior(p));
                        slots.push(Slot::Prior(p));
                        continue;
                    }
                    Some(KeyTarget::New(index)) => {
                        slots.push(Slot::New {
                            index,
                            duplicate: true,
                        });
                        continue;
                    }
                    None => {
                        seen.insert(id, KeyTarget::New(new_rows.len()));
                    }
                }
            }
            slots.push(Slot::New {
                index: new_rows.len(),
                duplicate: false,
            });
            new_rows.push(NewRow {
                scope: req.scope.as_str(),
                ev,
            });
        }
    }
    Ok(new_rows)
}

/// Turns the plans into outcomes now that the new events have ids.
pub(super) fn resolve(plans: Vec<Plan>, ids: &[i64]) -> Vec<AppendOutcome> {
    let mut outcomes: Vec<AppendOutcome> = Vec::with_capacity(plans.len());
    for plan in plans {
        let outcome = match plan {
            Plan::Outcome(o) => o,
            Plan::SameAs(first) => match outcomes.get(first) {
                Some(AppendOutcome::Done { results, .. }) => AppendOutcome::Done {
                    results: results.clone(),
                    replayed: true,
                },
                // Only fresh requests are referred to, and those always end as `Done`.
                _ => AppendOutcome::KeyReused,
            },
            Plan::Fresh(slots) => AppendOutcome::Done {
                results: slots
                    .into_iter()
                    .map(|slot| match slot {
                        Slot::Rejected(e) => ItemResult::Rejected(e),
                        Slot::Prior(id) => ItemResult::Stored {
                            id,
                            duplicate: true,
                        },
                        Slot::New { index, duplicate } => ItemResult::Stored {
                            id: ids[index],
                            duplicate,
                        },
                    })
                    .collect(),
                replayed: false,
            },
        };
        outcomes.push(outcome);
    }
    outcomes
}
