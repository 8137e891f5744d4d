//! Recently streamed events as JSON, shared by every live stream of this server: a new event is
//! read from the database and serialized once, however many clients stream it. Each stream still
//! asks the database which ids of its own view to send (the filter stays in SQL); the rows and
//! their JSON come from here.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use app::store::{Store, StoreError};

/// How many bytes of JSON are kept at most; the oldest entries go first.
const MAX_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct Rendered {
    inner: Mutex<Inner>,
    /// Held while reading missing events: the streams woken by one commit all miss its events at
    /// once, and the first to get here reads them for all the others.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<i64, Arc<str>>,
    /// Insertion order, for eviction.
    order: VecDeque<i64>,
    bytes: usize,
}

impl Rendered {
    /// The JSON of each of `ids` (ascending), in order, as the list renders the event; ids whose
    /// event does not exist are left out. Reads the ones not kept here from `store`.
    pub(super) async fn get(
        &self,
        store: &Store,
        ids: &[i64],
    ) -> Result<Vec<(i64, Arc<str>)>, StoreError> {
        let mut found = self.lookup(ids);
        if found.iter().any(|(_, json)| json.is_none()) {
            let _reading = self.reading.lock().await;
            // Another stream may have read them while this one waited.
            found = self.lookup(ids);
            let missing: Vec<i64> = found
                .iter()
                .filter(|(_, json)| json.is_none())
                .map(|(id, _)| *id)
                .collect();
            let mut fresh = HashMap::with_capacity(missing.len());
            for event in store.events_by_ids(&missing).await? {
                let json = serde_json::to_string(&event)
                    .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", event.id)))?;
                fresh.insert(event.id, Arc::<str>::from(json));
            }
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            for (id, json) in &mut found {
                if json.is_none()
                    && let Some(j) = fresh.remove(id)
                {
                    inner.insert(*id, Arc::clone(&j));
                    *json = Some(j);
                }
            }
        }
        Ok(found
            .into_iter()
            .filter_map(|(id, json)| json.map(|j| (id, j)))
            .collect())
    }
}

impl Rendered {
    fn lookup(&self, ids: &[i64]) -> Vec<(i64, Option<Arc<str>>)> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        ids.iter()
            .map(|id| (*id, inner.by_id.get(id).cloned()))
            .collect()
    }
}

impl Inner {
    fn insert(&mut self, id: i64, json: Arc<str>) {
        let len = json.len();
        if self.by_id.insert(id, json).is_some() {
            return;
        }
        self.order.push_back(id);
        self.bytes += len;
        while self.bytes > MAX_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(j) = self.by_id.remove(&old) {
                self.bytes -= j.len();
            }
        }
    }
}
