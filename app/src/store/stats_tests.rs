//! The proof that the view statistics mean what they say: random events in a real store, random
//! views (time ranges, event names, filters), and facets, counts and histograms from SQL must equal
//! a plain Rust computation over the same events with [`Filter::matches`]. Runs on SQLite always and
//! on PostgreSQL when `AUDITLOG_TEST_PG_URL` is set; the same seed gives the same events on both,
//! so the two stores are also held to the same answers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::testing::TestDatabase;
use super::testing::append_all;
use super::{SAMPLE_EVERY, SamplePolicy, Store};
use crate::events::model::{Event, parse_event};
use crate::events::query::{EventQuery, MAX_LIMIT};
use crate::events::stats::{Bucket, COUNT_CAP, Count, FacetKey, Facets, MAX_BARS};
use crate::filters::testgen::{self, Rng};

const EVENTS: usize = 400;
const VIEWS: usize = 150;
const DAY: i64 = 86_400_000;

/// Stores random events: most within the last two days, some over the last three years (so that
/// month and year buckets have several bars), and returns them as stored.
async fn seed(store: &Store, rng: &mut Rng, now_ms: i64) -> Vec<Event> {
    seed_n(store, rng, now_ms, EVENTS).await
}

/// [`seed`] with `total` events (a multiple of 100).
async fn seed_n(store: &Store, rng: &mut Rng, now_ms: i64, total: usize) -> Vec<Event> {
    let now = DateTime::from_timestamp_millis(now_ms).expect("now");
    for _ in 0..total / 100 {
        let items = (0..100)
            .map(|_| {
                let back = if rng.chance(70) {
                    (rng.next() % (2 * DAY as u64)) as i64
                } else {
                    (rng.next() % (3 * 365 * DAY as u64)) as i64
                };
                // Many events share a minute, a few share a millisecond.
                let at = (now_ms - back) / 1000 * 1000;
                Ok(parse_event(&testgen::event_json(rng, at), now).expect("valid event"))
            })
            .collect();
        append_all(store, "stats", items).await;
    }
    let mut events = Vec::new();
    let mut q = EventQuery {
        limit: MAX_LIMIT,
        ..EventQuery::default()
    };
    loop {
        let page = store.list(&q).await.expect("list");
        events.extend(page.events);
        match page.next_cursor {
            Some(c) => q.cursor = Some(crate::events::query::Cursor::decode(&c).expect("cursor")),
            None => break,
        }
    }
    assert_eq!(events.len(), total);
    events
}

fn ms(e: &Event) -> i64 {
    e.body.occurred_at.timestamp_millis()
}

fn in_time(q: &EventQuery, t: i64) -> bool {
    q.start.is_none_or(|s| t >= s.timestamp_millis())
        && q.end.is_none_or(|e| t < e.timestamp_millis())
}

/// The reference view: the events `q` selects.
fn view<'a>(events: &'a [Event], q: &EventQuery) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|e| in_time(q, ms(e)))
        .filter(|e| q.event.as_ref().is_none_or(|n| &e.body.event == n))
        .filter(|e| q.filter.matches(e))
        .collect()
}

fn facet_value(key: FacetKey, e: &Event) -> String {
    match key {
        FacetKey::Event => e.body.event.clone(),
        FacetKey::Category => e.body.category.clone(),
        FacetKey::User => e.body.actor.name.clone(),
        FacetKey::Outcome => e.body.outcome.as_str().to_string(),
    }
}

fn expected_facets(hits: &[&Event], limit: usize) -> Facets {
    let fields = FacetKey::ALL
        .into_iter()
        .map(|key| {
            let mut counts: HashMap<String, u64> = HashMap::new();
            for e in hits {
                *counts.entry(facet_value(key, e)).or_default() += 1;
            }
            let mut values: Vec<(String, u64)> = counts.into_iter().collect();
            // Most frequent first, then by value in byte order (Rust's `str` order).
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            values.truncate(limit);
            crate::events::stats::FacetField { field: key, values }
        })
        .collect();
    Facets { fields }
}

/// The histogram range by its definition: the view's bounds, a missing one from the events within
/// the view's time bounds (ignoring the rest of the view).
fn expected_range(events: &[Event], q: &EventQuery) -> Option<(i64, i64)> {
    let times = || events.iter().map(ms).filter(|t| in_time(q, *t));
    let start = q
        .start
        .map(|t| t.timestamp_millis())
        .or_else(|| times().min())?;
    let end = q
        .end
        .map(|t| t.timestamp_millis())
        .or_else(|| times().max().map(|m| m + 1))?;
    (start < end).then_some((start, end))
}

/// Each bar counted by walking bar edges, not by SQL's arithmetic.
fn expected_histogram(
    hits: &[&Event],
    bucket: Bucket,
    (start, end): (i64, i64),
) -> Vec<(i64, u64)> {
    bucket
        .starts(start, end)
        .into_iter()
        .map(|bar| {
            let next = bucket.next(bar);
            let n = hits
                .iter()
                .map(|e| ms(e))
                .filter(|t| *t >= bar && *t < next && *t >= start && *t < end)
                .count();
            (bar, n as u64)
        })
        .collect()
}

/// A random view: bounds from a few kinds of range, sometimes an event name, often a filter.
fn random_view(rng: &mut Rng, now_ms: i64, names: &[String]) -> EventQuery {
    let time = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms);
    let span = *rng.pick(&[3_600_000, DAY, 7 * DAY, 90 * DAY, 400 * DAY, 4 * 365 * DAY]);
    let end = now_ms - (rng.next() % (span as u64 / 2 + 1)) as i64;
    let start = end - span - (rng.next() % 60_000) as i64;
    let (start, end) = match rng.below(5) {
        0 => (None, None),
        1 => (Some(start), None),
        2 => (None, Some(end)),
        _ => (Some(start), Some(end)),
    };
    EventQuery {
        start: start.and_then(time),
        end: end.and_then(time),
        event: rng.chance(15).then(|| rng.pick(names).clone()),
        filter: if rng.chance(60) {
            testgen::filter(rng)
        } else {
            Default::default()
        },
        ..EventQuery::default()
    }
}

async fn stats_agree_with_rust(db: &TestDatabase, seed_value: u64) {
    let store = Store::open(&db.url).await.expect("open store");
    let mut rng = Rng::new(seed_value);
    let now_ms = Utc::now().timestamp_millis();
    let events = seed(&store, &mut rng, now_ms).await;
    let names: Vec<String> = events
        .iter()
        .take(20)
        .map(|e| e.body.event.clone())
        .collect();
    let (mut nonempty, mut bars_checked) = (0, 0);
    for i in 0..VIEWS {
        let q = random_view(&mut rng, now_ms, &names);
        let hits = view(&events, &q);
        let label = format!(
            "view {i}: {:?} {:?} {:?} {:?}",
            q.start,
            q.end,
            q.event,
            q.filter.to_query()
        );
        if !hits.is_empty() {
            nonempty += 1;
        }

        let limit = 1 + rng.below(6);
        let facets = store.facets(&q, limit as u32).await.expect("facets");
        assert_eq!(facets, expected_facets(&hits, limit), "{label}");

        let count = store.count(&q).await.expect("count");
        assert_eq!(
            count,
            Count::capped(hits.len() as u64, COUNT_CAP),
            "{label}"
        );
        let cap = rng.below(EVENTS) as u64;
        let capped = store.count_up_to(&q, cap).await.expect("capped count");
        assert_eq!(
            capped,
            Count::capped(hits.len() as u64, cap),
            "{label} cap {cap}"
        );

        let range = expected_range(&events, &q);
        assert_eq!(
            store.histogram_range(&q).await.expect("range"),
            range,
            "{label}"
        );
        let (bucket, auto) = store.view_histogram(&q).await.expect("histogram");
        match range {
            None => assert!(auto.is_empty(), "{label}"),
            Some((start, end)) => {
                assert_eq!(bucket, Bucket::for_range(start, end), "{label}");
                assert!(auto.len() as u64 <= MAX_BARS || bucket == Bucket::Year);
                assert_eq!(
                    auto,
                    expected_histogram(&hits, bucket, (start, end)),
                    "{label}"
                );
                let in_range = hits
                    .iter()
                    .filter(|e| ms(e) >= start && ms(e) < end)
                    .count();
                assert_eq!(auto.iter().map(|b| b.1).sum::<u64>(), in_range as u64);
                // Every other bucket that gives a reasonable number of bars, too.
                for b in Bucket::ALL {
                    if b.bars(start, end) > 5_000 || b == bucket {
                        continue;
                    }
                    let got = store.histogram(&q, b).await.expect("histogram");
                    assert_eq!(
                        got,
                        expected_histogram(&hits, b, (start, end)),
                        "{label} {b:?}"
                    );
                    bars_checked += got.len();
                }
            }
        }
    }
    eprintln!("compared {VIEWS} views ({nonempty} non-empty), {bars_checked} extra bars");
    assert!(
        nonempty * 2 > VIEWS,
        "only {nonempty} of {VIEWS} views held events"
    );
    store.close().await;
}

#[tokio::test]
async fn view_stats_agree_with_rust_on_sqlite() {
    stats_agree_with_rust(&TestDatabase::sqlite(), 21).await;
    stats_agree_with_rust(&TestDatabase::sqlite(), 22).await;
}

#[tokio::test]
async fn view_stats_agree_with_rust_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    stats_agree_with_rust(&TestDatabase::postgres(&admin).await, 21).await;
    stats_agree_with_rust(&TestDatabase::postgres(&admin).await, 22).await;
}

/// `view_stats` under a policy small enough for a test store: a view whose range holds more than
/// ten sampled events and which matches at least three of them is described by exactly the events
/// whose id is a multiple of 64, scaled up by 64 and labelled as estimated; any other view exactly.
async fn sampled_stats_are_the_sample_scaled_up(db: &TestDatabase, seed_value: u64) {
    let store = Store::open(&db.url).await.expect("open store");
    let mut rng = Rng::new(seed_value);
    let now_ms = Utc::now().timestamp_millis();
    let events = seed_n(&store, &mut rng, now_ms, 3_000).await;
    let names: Vec<String> = events
        .iter()
        .take(20)
        .map(|e| e.body.event.clone())
        .collect();
    let policy = SamplePolicy {
        exact_scan_rows: 10 * SAMPLE_EVERY,
        min_sampled_matches: 3,
    };
    let sampled = |e: &&Event| e.id % SAMPLE_EVERY as i64 == 0;
    let scale = |mut f: Facets| {
        for field in &mut f.fields {
            for v in &mut field.values {
                v.1 *= SAMPLE_EVERY;
            }
        }
        f
    };
    let (mut estimated, mut exact) = (0, 0);
    for i in 0..60 {
        let q = random_view(&mut rng, now_ms, &names);
        let label = format!(
            "view {i}: {:?} {:?} {:?}",
            q.start,
            q.end,
            q.filter.to_query()
        );
        let hits = view(&events, &q);
        let range_sampled = events
            .iter()
            .filter(|e| in_time(&q, ms(e)))
            .filter(sampled)
            .count() as u64;
        let hits_sampled: Vec<&Event> = hits.iter().copied().filter(sampled).collect();
        let got = store
            .view_stats_with(&q, 5, policy)
            .await
            .expect("view stats");
        let range = expected_range(&events, &q);
        let bars = |of: &[&Event]| match range {
            Some(r) => expected_histogram(of, Bucket::for_range(r.0, r.1), r),
            None => Vec::new(),
        };
        if range_sampled > 10 && hits_sampled.len() as u64 >= 3 {
            estimated += 1;
            assert_eq!(got.sample, Some(SAMPLE_EVERY), "{label}");
            assert_eq!(
                got.count,
                Count::estimate(hits_sampled.len() as u64 * SAMPLE_EVERY),
                "{label}"
            );
            assert_eq!(
                got.facets,
                scale(expected_facets(&hits_sampled, 5)),
                "{label}"
            );
            let want: Vec<(i64, u64)> = bars(&hits_sampled)
                .into_iter()
                .map(|(t, n)| (t, n * SAMPLE_EVERY))
                .collect();
            assert_eq!(got.histogram, want, "{label}");
        } else {
            exact += 1;
            assert_eq!(got.sample, None, "{label}");
            assert_eq!(
                got.count,
                Count::capped(hits.len() as u64, COUNT_CAP),
                "{label}"
            );
            assert_eq!(got.facets, expected_facets(&hits, 5), "{label}");
            assert_eq!(got.histogram, bars(&hits), "{label}");
        }
    }
    eprintln!("{estimated} views estimated from the sample, {exact} exact");
    assert!(
        estimated >= 10 && exact >= 10,
        "{estimated} estimated, {exact} exact"
    );
    store.close().await;
}

#[tokio::test]
async fn sampled_view_stats_on_sqlite() {
    sampled_stats_are_the_sample_scaled_up(&TestDatabase::sqlite(), 31).await;
}

#[tokio::test]
async fn sampled_view_stats_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    sampled_stats_are_the_sample_scaled_up(&TestDatabase::postgres(&admin).await, 31).await;
}

#[tokio::test]
async fn an_empty_store_has_no_bars_and_a_zero_count() {
    let db = TestDatabase::sqlite();
    let store = Store::open(&db.url).await.expect("open store");
    let q = EventQuery::default();
    assert_eq!(store.view_histogram(&q).await.expect("histogram").1, vec![]);
    assert_eq!(
        store.count(&q).await.expect("count"),
        Count {
            value: 0,
            exact: true,
            estimated: false
        }
    );
    let facets = store.facets(&q, 5).await.expect("facets");
    assert!(facets.fields.iter().all(|f| f.values.is_empty()));
    store.close().await;
}
