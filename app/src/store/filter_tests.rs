//! The proof that the SQL compilation means what the model says: random events in a real store,
//! random filters over every field and operator (groups, all/any), and the store must return exactly
//! the ids, in the same order, that [`Filter::matches`] selects from the same events sorted newest
//! first. Runs on SQLite always and on PostgreSQL when `AUDITLOG_TEST_PG_URL` is set.

use chrono::Utc;

use super::Store;
use super::testing::TestDatabase;
use super::testing::append_all;
use crate::events::model::{Event, parse_event};
use crate::events::query::{Cursor, EventQuery, MAX_LIMIT};
use crate::filters::testgen::{self, Rng};
use crate::filters::{Combine, Condition, Field, Filter, Item, Op};

const EVENTS: usize = 300;
const FILTERS: usize = 400;

/// Stores `EVENTS` random events (many sharing a millisecond) and returns them as stored.
async fn seed(store: &Store, rng: &mut Rng) -> Vec<Event> {
    let now = Utc::now();
    let now_ms = now.timestamp_millis();
    for _ in 0..EVENTS / 100 {
        let items = (0..100)
            .map(|_| {
                let at = now_ms - (rng.below(120) as i64) * 60_000;
                Ok(parse_event(&testgen::event_json(rng, at), now).expect("valid event"))
            })
            .collect();
        append_all(store, "filters", items).await;
    }
    let all = EventQuery {
        limit: MAX_LIMIT,
        ..EventQuery::default()
    };
    let events = store.list(&all).await.expect("list").events;
    assert_eq!(events.len(), EVENTS);
    events
}

/// The ids `filter` selects by the reference semantics, newest first (sorted here, not by the store).
fn expected(events: &[Event], filter: &Filter) -> Vec<i64> {
    let mut hits: Vec<&Event> = events.iter().filter(|e| filter.matches(e)).collect();
    hits.sort_by_key(|e| std::cmp::Reverse((e.body.occurred_at.timestamp_millis(), e.id)));
    hits.iter().map(|e| e.id).collect()
}

/// Follows cursors with a small page size; the pages must add up to the one-page answer.
async fn paged(store: &Store, filter: &Filter) -> Vec<i64> {
    let mut q = EventQuery {
        filter: filter.clone(),
        limit: 17,
        ..EventQuery::default()
    };
    let mut ids = Vec::new();
    loop {
        let page = store.list(&q).await.expect("list a page");
        ids.extend(page.events.iter().map(|e| e.id));
        match page.next_cursor {
            Some(c) => q.cursor = Some(Cursor::decode(&c).expect("own cursor")),
            None => return ids,
        }
    }
}

async fn sql_agrees_with_the_evaluator(db: &TestDatabase, seed_value: u64) {
    let store = Store::open(&db.url).await.expect("open store");
    let mut rng = Rng::new(seed_value);
    let events = seed(&store, &mut rng).await;
    let (mut compared, mut selective, mut cidr) = (0, 0, 0);
    for i in 0..FILTERS {
        let filter = testgen::filter(&mut rng);
        let q = EventQuery {
            filter: filter.clone(),
            limit: MAX_LIMIT,
            ..EventQuery::default()
        };
        if filter.conditions().any(|c| c.op == Op::InCidr) {
            cidr += 1;
        }
        match store.list(&q).await {
            Err(e) => panic!("filter {i} {:?}: {e}", filter.to_query()),
            Ok(page) => {
                let got: Vec<i64> = page.events.iter().map(|e| e.id).collect();
                let want = expected(&events, &filter);
                assert_eq!(got, want, "filter {i}: {:?}", filter.to_query());
                if !want.is_empty() && want.len() < EVENTS {
                    selective += 1;
                }
                if i % 20 == 0 {
                    assert_eq!(paged(&store, &filter).await, want, "paged filter {i}");
                }
            }
        }
        compared += 1;
    }
    eprintln!("compared {compared} filters ({selective} selective, {cidr} with CIDR ranges)");
    // The vocabulary is small on purpose: many filters must select some events but not all (a fifth
    // of the generated filters are empty, and wide `any` combinations often select everything).
    assert!(
        selective * 5 > compared * 2,
        "only {selective} of {compared} filters were selective"
    );
    assert!(cidr > 0, "in_cidr was exercised");
    store.close().await;
}

/// Views that ask for any of a few event names, alone or with another condition (read one page per
/// name and merged, see `store::branches`): whole answer and paged, against the reference.
async fn name_disjunctions_agree_with_the_evaluator(db: &TestDatabase, seed_value: u64) {
    let store = Store::open(&db.url).await.expect("open store");
    let mut rng = Rng::new(seed_value);
    let events = seed(&store, &mut rng).await;
    let mut names: Vec<String> = events.iter().map(|e| e.body.event.clone()).collect();
    names.sort();
    names.dedup();
    for i in 0..60 {
        let picked: Vec<String> = (0..2 + rng.below(3))
            .map(|_| rng.pick(&names).clone())
            .collect();
        let is = |name: &String| Condition {
            field: Field::Event,
            op: Op::Is,
            values: vec![name.clone()],
        };
        let names_item = match i % 3 {
            0 => Item::Condition(Condition {
                field: Field::Event,
                op: Op::AnyOf,
                values: picked.clone(),
            }),
            _ => Item::Group {
                combine: Combine::Any,
                conditions: picked.iter().map(is).collect(),
            },
        };
        let filter = match i % 4 {
            0 => Filter {
                combine: Combine::Any,
                items: picked.iter().map(|n| Item::Condition(is(n))).collect(),
            },
            1 => Filter {
                combine: Combine::All,
                items: vec![names_item],
            },
            _ => Filter {
                combine: Combine::All,
                items: vec![Item::Condition(testgen::condition(&mut rng)), names_item],
            },
        };
        let q = EventQuery {
            filter: filter.clone(),
            limit: MAX_LIMIT,
            ..EventQuery::default()
        };
        let distinct = picked
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        assert_eq!(
            super::branches::split(&q).is_some(),
            distinct > 1,
            "filter {i} {:?} is read per name",
            filter.to_query()
        );
        let got: Vec<i64> = store
            .list(&q)
            .await
            .expect("list")
            .events
            .iter()
            .map(|e| e.id)
            .collect();
        let want = expected(&events, &filter);
        assert_eq!(got, want, "filter {i}: {:?}", filter.to_query());
        assert_eq!(paged(&store, &filter).await, want, "paged filter {i}");
    }
    store.close().await;
}

#[tokio::test]
async fn name_disjunctions_agree_with_the_evaluator_on_sqlite() {
    name_disjunctions_agree_with_the_evaluator(&TestDatabase::sqlite(), 13).await;
}

#[tokio::test]
async fn name_disjunctions_agree_with_the_evaluator_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    name_disjunctions_agree_with_the_evaluator(&TestDatabase::postgres(&admin).await, 13).await;
}

#[tokio::test]
async fn sql_filters_agree_with_the_evaluator_on_sqlite() {
    let db = TestDatabase::sqlite();
    sql_agrees_with_the_evaluator(&db, 11).await;
    sql_agrees_with_the_evaluator(&TestDatabase::sqlite(), 12).await;
}

#[tokio::test]
async fn sql_filters_agree_with_the_evaluator_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    sql_agrees_with_the_evaluator(&TestDatabase::postgres(&admin).await, 11).await;
    sql_agrees_with_the_evaluator(&TestDatabase::postgres(&admin).await, 12).await;
}
