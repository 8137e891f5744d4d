//! The live streams' reads of "which ids of this view come after this one", shared: streams of
//! the same view woken by the same commit all ask the same question at once, and one query answers
//! them all. With 50 clients on one view that is one query per commit instead of 50.
//!
//! A read is keyed by the view, the position it starts after and its limit. Its answer holds the
//! ids and the newest committed id it read up to (`upto`). A stream that knows of a newer commit
//! than `upto` takes the answer and moves only to `upto`, then reads again from there (that read
//! is shared too); one that knows of an older commit moves on to `upto` all the same, since every
//! id up to `upto` was committed. Either way each id is read for a stream exactly once, in order,
//! as when it reads alone.
//!
//! Answers are kept for [`KEEP`] and at most [`MAX_ENTRIES`] of them; a read that fails is not
//! kept, and every stream waiting for it gets the error.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use app::events::query::EventQuery;
use app::store::{Store, StoreError};
use tokio::sync::OnceCell;

/// How long an answer is offered to other streams.
const KEEP: Duration = Duration::from_secs(2);
/// Answers kept at most; the oldest go first.
const MAX_ENTRIES: usize = 4096;

/// The ids of the view after a position, and the committed id they were read up to.
#[derive(Clone, Debug)]
pub(super) struct IdsAfter {
    pub ids: Arc<[i64]>,
    pub upto: i64,
}

type Key = (Arc<str>, i64, u32);
type Cell = Arc<OnceCell<IdsAfter>>;

#[derive(Debug, Default)]
pub struct SharedReads {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    cells: HashMap<Key, (Instant, Cell)>,
    order: VecDeque<Key>,
}

/// The key of a view: everything that decides which events it holds, nothing of where a client is
/// in it (cursor, limit, sort).
pub(super) fn view_key(query: &EventQuery) -> Arc<str> {
    let view = EventQuery {
        cursor: None,
        limit: 0,
        sort: Default::default(),
        ..query.clone()
    };
    Arc::from(format!("{view:?}"))
}

impl SharedReads {
    /// The ids of `query`'s view (`view` is its [`view_key`]) after `pos` up to `known`, at most
    /// `limit`; or another stream's answer to the same question asked with a `known` of its own.
    pub(super) async fn ids_after(
        &self,
        store: &Store,
        view: &Arc<str>,
        query: &EventQuery,
        pos: i64,
        known: i64,
        limit: u32,
    ) -> Result<IdsAfter, StoreError> {
        let key = (Arc::clone(view), pos, limit);
        let cell = self.cell(&key);
        let read = cell
            .get_or_try_init(|| async {
                let ids = store.ids_after(query, pos, known, limit).await?;
                Ok::<_, StoreError>(IdsAfter {
                    ids: ids.into(),
                    upto: known,
                })
            })
            .await;
        match read {
            Ok(answer) => Ok(answer.clone()),
            Err(e) => {
                self.forget(&key, &cell);
                Err(e)
            }
        }
    }

    /// The cell of `key`: the one being filled or filled recently, else a new one.
    fn cell(&self, key: &Key) -> Cell {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        // Answers past their time go first, then the oldest while there are too many.
        while let Some(oldest) = inner.order.front().cloned() {
            let stale = inner
                .cells
                .get(&oldest)
                .is_none_or(|(at, _)| now.duration_since(*at) > KEEP);
            if !stale && inner.order.len() < MAX_ENTRIES {
                break;
            }
            inner.order.pop_front();
            inner.cells.remove(&oldest);
        }
        if let Some((_, cell)) = inner.cells.get(key) {
            return Arc::clone(cell);
        }
        let cell = Cell::default();
        inner.cells.insert(key.clone(), (now, Arc::clone(&cell)));
        inner.order.push_back(key.clone());
        cell
    }

    /// Drops `key`'s cell if it is still `cell` (a failed read is not offered to others).
    fn forget(&self, key: &Key, cell: &Cell) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner
            .cells
            .get(key)
            .is_some_and(|(_, c)| Arc::ptr_eq(c, cell))
        {
            inner.cells.remove(key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .cells
            .len()
    }
}

#[cfg(test)]
mod tests {
    use app::events::model::parse_event;
    use app::store::AppendRequest;
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    async fn store_with(n: usize) -> (tempfile::TempDir, Store, Vec<i64>) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        let now = Utc::now();
        let items = (0..n)
            .map(|i| {
                let name = if i % 2 == 0 { "Even" } else { "Odd" };
                parse_event(
                    &json!({"event": name, "category": "T", "action": "a",
                        "actor": {"id": "u", "type": "user"}}),
                    now,
                )
            })
            .collect();
        store
            .append(AppendRequest {
                scope: "t".into(),
                request_key: None,
                items,
            })
            .await
            .unwrap();
        // A new store numbers its events from 1.
        let newest = store.newest_id().await.unwrap();
        assert_eq!(newest, n as i64);
        (dir, store, (1..=newest).collect())
    }

    fn view(event: Option<&str>) -> EventQuery {
        EventQuery {
            event: event.map(str::to_string),
            ..EventQuery::default()
        }
    }

    #[tokio::test]
    async fn one_read_answers_every_stream_of_the_view_asking_after_the_same_id() {
        let (_dir, store, ids) = store_with(10).await;
        let reads = SharedReads::default();
        let even = view(Some("Even"));
        let key = view_key(&even);
        let newest = *ids.last().unwrap();
        let (a, b) = tokio::join!(
            reads.ids_after(&store, &key, &even, 0, newest, 101),
            reads.ids_after(&store, &key, &even, 0, newest, 101),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(Arc::ptr_eq(&a.ids, &b.ids), "one read for both");
        let expected: Vec<i64> = ids.iter().copied().step_by(2).collect();
        assert_eq!(&a.ids[..], &expected[..]);
        assert_eq!(a.upto, newest);

        // A stream that knows less is answered up to what the first one knew: all committed.
        let c = reads
            .ids_after(&store, &key, &even, 0, ids[3], 101)
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&a.ids, &c.ids));
        assert_eq!(c.upto, newest);
        assert_eq!(reads.len(), 1);
    }

    #[tokio::test]
    async fn other_views_positions_and_limits_read_for_themselves() {
        let (_dir, store, ids) = store_with(6).await;
        let reads = SharedReads::default();
        let (all, odd) = (view(None), view(Some("Odd")));
        let newest = *ids.last().unwrap();
        let whole = reads
            .ids_after(&store, &view_key(&all), &all, 0, newest, 101)
            .await
            .unwrap();
        assert_eq!(&whole.ids[..], &ids[..]);
        let odds = reads
            .ids_after(&store, &view_key(&odd), &odd, 0, newest, 101)
            .await
            .unwrap();
        assert_eq!(&odds.ids[..], &[ids[1], ids[3], ids[5]]);
        let later = reads
            .ids_after(&store, &view_key(&all), &all, ids[2], newest, 101)
            .await
            .unwrap();
        assert_eq!(&later.ids[..], &ids[3..]);
        let short = reads
            .ids_after(&store, &view_key(&all), &all, 0, newest, 2)
            .await
            .unwrap();
        assert_eq!(&short.ids[..], &ids[..2]);
        assert_eq!(reads.len(), 4);
        // The sort, cursor and limit of a query are not part of its view.
        let sorted = EventQuery {
            limit: 7,
            ..view(Some("Odd"))
        };
        assert_eq!(view_key(&sorted), view_key(&odd));
    }
}
