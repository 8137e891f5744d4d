//! The proof that every sort pages correctly: random events (missing targets and IPs, many equal
//! values, shared milliseconds) in a real store, random sort, direction, time range and filter,
//! followed page by small page through the cursors. The concatenated pages must equal a Rust
//! reference order exactly: the key's value (missing target or IP as "", text compared bytewise, as
//! Rust's `str` does), then (for a column) the time, then id, in the chosen direction. Also: paging while new events arrive
//! returns each earlier event exactly once. Runs on SQLite always and on PostgreSQL when
//! `AUDITLOG_TEST_PG_URL` is set.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::testing::TestDatabase;
use super::{AppendOutcome, AppendRequest, Store};
use crate::events::model::{Event, parse_event};
use crate::events::query::{Cursor, Dir, EventQuery, MAX_LIMIT, Sort, SortKey, SortValue};
use crate::filters::Filter;
use crate::filters::testgen::{self, Rng};

const EVENTS: usize = 240;
const RUNS: usize = 120;

async fn append(store: &Store, rng: &mut Rng, n: usize, now: DateTime<Utc>) {
    let now_ms = now.timestamp_millis();
    let items = (0..n)
        .map(|_| {
            let at = now_ms - (rng.below(120) as i64) * 60_000;
            Ok(parse_event(&testgen::event_json(rng, at), now).expect("valid event"))
        })
        .collect();
    let outcome = store
        .append(AppendRequest {
            scope: "sort".into(),
            request_key: None,
            items,
        })
        .await
        .expect("append");
    assert!(matches!(outcome, AppendOutcome::Done { .. }));
}

async fn all_events(store: &Store) -> Vec<Event> {
    let q = EventQuery {
        limit: MAX_LIMIT,
        ..EventQuery::default()
    };
    store.list(&q).await.expect("list").events
}

/// The reference: written out here rather than through `SortKey::value_of`, so a mistake there
/// shows as a mismatch.
fn reference_value(e: &Event, key: SortKey) -> SortValue {
    let b = &e.body;
    let t = |s: Option<&str>| SortValue::Text(s.unwrap_or("").to_string());
    match key {
        SortKey::Time => SortValue::Int(b.occurred_at.timestamp_millis()),
        SortKey::Seq => SortValue::Int(e.id),
        SortKey::Event => t(Some(&b.event)),
        SortKey::Category => t(Some(&b.category)),
        SortKey::User => t(Some(&b.actor.name)),
        SortKey::Outcome => t(Some(b.outcome.as_str())),
        SortKey::Target => t(b.target.as_ref().and_then(|x| x.name.as_deref())),
        SortKey::Ip => t(b.ip.as_deref()),
    }
}

fn in_range(e: &Event, q: &EventQuery) -> bool {
    q.start.is_none_or(|s| e.body.occurred_at >= s) && q.end.is_none_or(|x| e.body.occurred_at < x)
}

fn expected(events: &[Event], q: &EventQuery) -> Vec<i64> {
    let mut hits: Vec<&Event> = events
        .iter()
        .filter(|e| in_range(e, q) && q.filter.matches(e))
        .collect();
    hits.sort_by(|a, b| {
        // Ties by time, then id; time and seq need no tie-breaker beyond the id.
        let time = |e: &Event| match q.sort.key {
            SortKey::Time | SortKey::Seq => 0,
            _ => e.body.occurred_at.timestamp_millis(),
        };
        let ka = (reference_value(a, q.sort.key), time(a), a.id);
        let kb = (reference_value(b, q.sort.key), time(b), b.id);
        match q.sort.dir {
            Dir::Asc => ka.cmp(&kb),
            Dir::Desc => kb.cmp(&ka),
        }
    });
    hits.iter().map(|e| e.id).collect()
}

/// Follows the cursors from `q`; every cursor must name `q`'s sort.
async fn paged(store: &Store, mut q: EventQuery) -> Vec<i64> {
    let mut ids = Vec::new();
    loop {
        let page = store.list(&q).await.expect("list a page");
        assert!(page.events.len() <= q.effective_limit() as usize);
        ids.extend(page.events.iter().map(|e| e.id));
        match page.next_cursor {
            Some(c) => {
                let c = Cursor::decode(&c).expect("own cursor");
                assert_eq!(c.sort, q.sort);
                q.cursor = Some(c);
            }
            None => return ids,
        }
    }
}

fn random_sort(rng: &mut Rng) -> Sort {
    let dir = if rng.chance(50) { Dir::Asc } else { Dir::Desc };
    Sort::new(*rng.pick(&SortKey::ALL), dir)
}

async fn every_sort_pages_like_the_reference(db: &TestDatabase, seed: u64) {
    let store = Store::open(&db.url).await.expect("open store");
    let mut rng = Rng::new(seed);
    // Whole milliseconds, as stored, so that range bounds fall exactly on events' times.
    let now = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now");
    for _ in 0..EVENTS / 80 {
        append(&store, &mut rng, 80, now).await;
    }
    let events = all_events(&store).await;
    assert_eq!(events.len(), EVENTS);
    let mut covered = HashSet::new();
    for i in 0..RUNS {
        let sort = random_sort(&mut rng);
        covered.insert(sort);
        let filter = if rng.chance(50) {
            Filter::default()
        } else {
            testgen::filter(&mut rng)
        };
        let (start, end) = if rng.chance(50) {
            let a = now - Duration::minutes(rng.below(120) as i64);
            let b = a + Duration::minutes(1 + rng.below(90) as i64);
            (Some(a), Some(b))
        } else {
            (None, None)
        };
        let q = EventQuery {
            start,
            end,
            filter,
            sort,
            limit: 1 + rng.below(19) as u32,
            ..EventQuery::default()
        };
        let want = expected(&events, &q);
        let got = paged(&store, q.clone()).await;
        assert_eq!(
            got,
            want,
            "run {i}: sort {} limit {} filter {:?}",
            sort.to_param(),
            q.limit,
            q.filter.to_query()
        );
    }
    assert_eq!(covered.len(), 16, "every key in both directions");
    store.close().await;
}

/// Pages through every sort with new events stored between pages: each event stored before the
/// first page appears exactly once, in the reference order among themselves.
async fn paging_while_events_arrive(db: &TestDatabase) {
    let store = Store::open(&db.url).await.expect("open store");
    let mut rng = Rng::new(99);
    let now = Utc::now();
    append(&store, &mut rng, 100, now).await;
    let before = all_events(&store).await;
    let known: HashSet<i64> = before.iter().map(|e| e.id).collect();
    for key in SortKey::ALL {
        for dir in [Dir::Asc, Dir::Desc] {
            let mut q = EventQuery {
                sort: Sort::new(key, dir),
                limit: 9,
                ..EventQuery::default()
            };
            let want = expected(&before, &q);
            let mut seen = Vec::new();
            loop {
                append(&store, &mut rng, 3, Utc::now()).await;
                let page = store.list(&q).await.expect("list");
                seen.extend(page.events.iter().map(|e| e.id));
                match page.next_cursor {
                    Some(c) => q.cursor = Some(Cursor::decode(&c).expect("own cursor")),
                    None => break,
                }
            }
            let unique: HashSet<i64> = seen.iter().copied().collect();
            assert_eq!(unique.len(), seen.len(), "{key:?} {dir:?}: no repeats");
            let old: Vec<i64> = seen.into_iter().filter(|id| known.contains(id)).collect();
            assert_eq!(
                old, want,
                "{key:?} {dir:?}: every earlier event once, in order"
            );
        }
    }
    store.close().await;
}

#[tokio::test]
async fn every_sort_pages_like_the_reference_on_sqlite() {
    every_sort_pages_like_the_reference(&TestDatabase::sqlite(), 21).await;
    every_sort_pages_like_the_reference(&TestDatabase::sqlite(), 22).await;
    paging_while_events_arrive(&TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn every_sort_pages_like_the_reference_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    every_sort_pages_like_the_reference(&TestDatabase::postgres(&admin).await, 21).await;
    every_sort_pages_like_the_reference(&TestDatabase::postgres(&admin).await, 22).await;
    paging_while_events_arrive(&TestDatabase::postgres(&admin).await).await;
}

#[tokio::test]
async fn a_cursor_from_another_sort_is_refused_by_the_store() {
    let db = TestDatabase::sqlite();
    let store = Store::open(&db.url).await.expect("open store");
    let mut rng = Rng::new(5);
    append(&store, &mut rng, 10, Utc::now()).await;
    let mut q = EventQuery {
        sort: Sort::new(SortKey::Event, Dir::Asc),
        limit: 3,
        ..EventQuery::default()
    };
    let page = store.list(&q).await.expect("list");
    let c = page.next_cursor.expect("a next page");
    q.cursor = Some(Cursor::decode(&c).expect("own cursor"));
    q.sort = Sort::new(SortKey::Event, Dir::Desc);
    match store.list(&q).await {
        Err(super::StoreError::InvalidQuery(e)) => assert_eq!(e.field.as_deref(), Some("cursor")),
        other => panic!("expected a refusal, got {other:?}"),
    }
    store.close().await;
}
