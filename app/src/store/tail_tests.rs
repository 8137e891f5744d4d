//! The live tail's reads against the reference: random events in a real store, random views
//! (filters, sometimes an event name, a time range, a search) and random id ranges; `events_after`
//! must return exactly the ids in the range that [`Filter::matches`] (and [`matches_search`])
//! select, ascending and cut at the limit, and `count_after` must count them. Runs on SQLite
//! always and on PostgreSQL when `AUDITLOG_TEST_PG_URL` is set.

use chrono::{DateTime, Utc};

use super::Store;
use super::testing::{TestDatabase, append_all};
use crate::events::model::{Event, parse_event};
use crate::events::query::{EventQuery, MAX_LIMIT};
use crate::filters::testgen::{self, Rng};
use crate::filters::{Filter, matches_search};

const EVENTS: usize = 300;
const VIEWS: usize = 200;

fn in_view(q: &EventQuery, e: &Event) -> bool {
    let at = e.body.occurred_at;
    q.start.is_none_or(|s| at >= s)
        && q.end.is_none_or(|end| at < end)
        && q.event.as_ref().is_none_or(|n| *n == e.body.event)
        && q.filter.matches(e)
        && q.search.as_ref().is_none_or(|s| matches_search(e, s))
}

async fn tail_reads_agree_with_the_reference(db: &TestDatabase, seed: u64) {
    let store = Store::open(&db.url).await.expect("open store");
    assert_eq!(store.newest_id().await.unwrap(), 0, "an empty store");
    let mut rng = Rng::new(seed);
    let now = Utc::now();
    let now_ms = now.timestamp_millis();
    for _ in 0..EVENTS / 100 {
        let items = (0..100)
            .map(|_| {
                let at = now_ms - (rng.below(120) as i64) * 60_000;
                Ok(parse_event(&testgen::event_json(&mut rng, at), now).expect("valid event"))
            })
            .collect();
        append_all(&store, "tail", items).await;
    }
    let mut events = store
        .list(&EventQuery {
            limit: MAX_LIMIT,
            ..EventQuery::default()
        })
        .await
        .expect("list")
        .events;
    events.sort_by_key(|e| e.id);
    let newest = events.last().map(|e| e.id).unwrap();
    assert_eq!(store.newest_id().await.unwrap(), newest);
    let names: Vec<String> = events.iter().map(|e| e.body.event.clone()).collect();

    let (mut nonempty, mut cut) = (0, 0);
    let time = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms);
    for i in 0..VIEWS {
        let q = EventQuery {
            filter: if rng.chance(70) {
                testgen::filter(&mut rng)
            } else {
                Filter::default()
            },
            event: rng.chance(20).then(|| rng.pick(&names).clone()),
            start: rng
                .chance(30)
                .then(|| time(now_ms - rng.below(120) as i64 * 60_000))
                .flatten(),
            end: rng
                .chance(20)
                .then(|| time(now_ms - rng.below(60) as i64 * 60_000))
                .flatten(),
            search: rng.chance(15).then(|| rng.pick(testgen::WORDS).to_string()),
            ..EventQuery::default()
        };
        let after = events[rng.below(EVENTS)].id - 1;
        let upto = (after + rng.below(EVENTS) as i64).min(newest + 5);
        let limit = if rng.chance(50) {
            1 + rng.below(20) as u32
        } else {
            1000
        };
        let all: Vec<i64> = events
            .iter()
            .filter(|e| e.id > after && e.id <= upto && in_view(&q, e))
            .map(|e| e.id)
            .collect();
        let got: Vec<i64> = store
            .events_after(&q, after, upto, limit)
            .await
            .unwrap_or_else(|e| panic!("view {i}: {e}"))
            .iter()
            .map(|e| e.id)
            .collect();
        let want: Vec<i64> = all.iter().take(limit as usize).copied().collect();
        assert_eq!(got, want, "view {i} ({after}, {upto}] limit {limit}: {q:?}");
        let ids = store.ids_after(&q, after, upto, limit).await.unwrap();
        assert_eq!(ids, want, "ids of view {i}");
        let by_id = store.events_by_ids(&ids).await.unwrap();
        let expected: Vec<&Event> = events.iter().filter(|e| ids.contains(&e.id)).collect();
        assert_eq!(
            by_id.iter().collect::<Vec<_>>(),
            expected,
            "events of view {i}"
        );
        nonempty += usize::from(!want.is_empty());
        cut += usize::from(all.len() > want.len());
        let count = store.count_after(&q, after, upto, 50).await.unwrap();
        assert_eq!(count.value, all.len().min(50) as u64, "count of view {i}");
        assert_eq!(count.exact, all.len() <= 50);
    }
    assert!(
        nonempty > VIEWS / 4 && cut > VIEWS / 10,
        "{nonempty} non-empty, {cut} cut"
    );
    // An empty or inverted range reads nothing.
    let any = EventQuery::default();
    assert!(store.events_after(&any, 5, 5, 10).await.unwrap().is_empty());
    assert!(store.events_after(&any, 9, 3, 10).await.unwrap().is_empty());
    assert_eq!(store.count_after(&any, 9, 3, 10).await.unwrap().value, 0);
    store.close().await;
}

#[tokio::test]
async fn tail_reads_agree_with_the_reference_on_sqlite() {
    tail_reads_agree_with_the_reference(&TestDatabase::sqlite(), 21).await;
}

#[tokio::test]
async fn tail_reads_agree_with_the_reference_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    tail_reads_agree_with_the_reference(&TestDatabase::postgres(&admin).await, 21).await;
}
