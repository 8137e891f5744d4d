//! The proof that "contains" and "starts with" find exactly what the reference finds when SQLite
//! narrows them through the search index (`sqlite_search::required_runs`): random events whose
//! text runs words together in awkward ways (letters that change length or split a word when
//! lower-cased, ASCII look-alikes, separators inside values), random values cut from that text or
//! chosen to cross words, miss, or be too common to narrow, in every shape of filter, order and
//! time window. Runs on SQLite always and on PostgreSQL when `AUDITLOG_TEST_PG_URL` is set.

use chrono::Utc;
use serde_json::{Value, json};

use super::Store;
use super::search_tests::{EVENTS, expected, maybe_phrase_of, paged, phrase_of, seed_with};
use super::sqlite_search;
use super::testing::TestDatabase;
use crate::events::model::Event;
use crate::events::query::{Dir, EventQuery, MAX_LIMIT, Sort, SortKey};
use crate::filters::testgen::Rng;
use crate::filters::{Combine, Condition, Field, Filter, Item, Op};

const FILTERS: usize = 300;

/// Words of the events: "İ" lower-cases to "i" and a combining dot (which is no letter, so it cuts
/// the indexed word), "K" (Kelvin) lower-cases to an ASCII "k" that "contains" does not fold, "ß"
/// and "Ü" are letters outside ASCII, and "billing" recurs inside longer words.
const VOCAB: &[&str] = &[
    "billing",
    "Rebilling",
    "BILLINGS",
    "İbilling",
    "billİng",
    "\u{212a}elvin",
    "Kelvin",
    "straße",
    "ÜNÏ",
    "ünï",
    "user42",
    "x1y2",
    "Invoice",
    "invoices",
    "login",
    "Login",
    "a",
    "ab",
    "abc",
    "abd",
    "abe",
    "abf",
    "abg",
    "abh",
];
const SEPARATORS: &[&str] = &[" ", "-", ".", "_", "@", "'", "\"", ":", "%"];

fn phrase(rng: &mut Rng) -> String {
    phrase_of(rng, VOCAB, SEPARATORS)
}

fn event_json(rng: &mut Rng, at: i64) -> Value {
    json!({
        "occurred_at": at,
        "event": phrase(rng),
        "category": "Contains",
        "action": rng.pick(&["created", "deleted"]),
        "actor": {
            "id": phrase(rng),
            "name": phrase(rng),
            "type": "user",
            "email": if rng.chance(30) { Value::Null } else { json!(rng.pick(&["billing.team@example.com", "Rebilling@Billing.io", "ab@abc.org", "x1y2@example.com"]).to_string()) },
        },
        "target": {"type": "thing", "name": maybe_phrase_of(rng, VOCAB, SEPARATORS)},
        "description": maybe_phrase_of(rng, VOCAB, SEPARATORS),
        // Not in the search index: a value here is found by the plain plan.
        "source": phrase(rng),
    })
}

/// A value to look for: a piece of some event's text in any case, or one chosen to cross words,
/// miss, or be too common to narrow anything.
fn value(rng: &mut Rng, events: &[Event]) -> String {
    if rng.chance(30) {
        return rng
            .pick(&[
                "billing",
                "BILL",
                "lli",
                "ing-",
                "g x",
                "İb",
                "i̇billing",
                "k",
                "K",
                "ß",
                "ünï",
                "Ünï",
                "zzz",
                "a",
                "b",
                "42",
                "x1y",
                "voice",
                "ab",
                "e@",
            ])
            .to_string();
    }
    let e = rng.pick(events);
    let text = rng
        .pick(&[
            Some(e.body.event.clone()),
            e.body.description.clone(),
            Some(e.body.actor.name.clone()),
        ])
        .clone()
        .unwrap_or_else(|| "billing".to_string());
    let chars: Vec<char> = text.chars().collect();
    let from = rng.below(chars.len());
    let to = from + 1 + rng.below((chars.len() - from).min(8));
    let piece: String = chars[from..to].iter().collect();
    match rng.below(3) {
        0 => piece.to_ascii_uppercase(),
        1 => piece.to_ascii_lowercase(),
        _ => piece,
    }
}

fn condition(rng: &mut Rng, events: &[Event]) -> Condition {
    let field = rng
        .pick(&[
            Field::Description,
            Field::Description,
            Field::Event,
            Field::ActorName,
            Field::ActorEmail,
            Field::ActorId,
            Field::TargetName,
            Field::Source,
        ])
        .clone();
    // Mostly the operators that narrow the walk, and some that must not.
    let op = *rng.pick(&[
        Op::Contains,
        Op::Contains,
        Op::Contains,
        Op::Contains,
        Op::StartsWith,
        Op::StartsWith,
        Op::NotContains,
        Op::Is,
    ]);
    Condition {
        field,
        op,
        values: vec![value(rng, events)],
    }
}

/// One of the shapes a filter with such a condition takes: alone, with another condition that
/// must hold, in a group, or where it need not hold (any of).
fn filter(rng: &mut Rng, events: &[Event]) -> Filter {
    let c = Item::Condition(condition(rng, events));
    let created = Condition {
        field: Field::Action,
        op: Op::Is,
        values: vec!["created".to_string()],
    };
    match rng.below(5) {
        0 | 1 => Filter {
            combine: Combine::All,
            items: vec![c],
        },
        2 => Filter {
            combine: Combine::All,
            items: vec![Item::Condition(created), c],
        },
        3 => Filter {
            combine: Combine::All,
            items: vec![Item::Group {
                combine: if rng.chance(50) {
                    Combine::All
                } else {
                    Combine::Any
                },
                conditions: vec![condition(rng, events), condition(rng, events)],
            }],
        },
        _ => Filter {
            combine: Combine::Any,
            items: vec![Item::Condition(created), c],
        },
    }
}

/// `searches`: sometimes add a free-text search too. Not on PostgreSQL, whose words differ from the
/// reference's outside Latin-1 (see `filters::search`), and these events are made of such words.
async fn contains_agrees_with_the_reference(db: &TestDatabase, seed_value: u64, searches: bool) {
    let store = Store::open(&db.url).await.expect("open store");
    let mut rng = Rng::new(seed_value);
    let events = seed_with(&store, &mut rng, event_json).await;
    let (mut walked, mut selective) = (0, 0);
    let now = Utc::now().timestamp_millis();
    let at = |mins: i64| chrono::DateTime::from_timestamp_millis(now - mins * 60_000);
    for i in 0..FILTERS {
        let filter = filter(&mut rng, &events);
        let (start, end) = if rng.chance(40) {
            let a = rng.below(130) as i64;
            let b = rng.below(130) as i64;
            (at(a.max(b)), at(a.min(b)))
        } else {
            (None, None)
        };
        let search =
            (searches && rng.chance(20)).then(|| rng.pick(&["bill", "login", "ab"]).to_string());
        let dir = if rng.chance(70) { Dir::Desc } else { Dir::Asc };
        let q = EventQuery {
            filter,
            search,
            start,
            end,
            sort: Sort::new(SortKey::Time, dir),
            limit: MAX_LIMIT,
            ..EventQuery::default()
        };
        if sqlite_search::serves(&q) && q.search.is_none() {
            walked += 1;
        }
        let want = expected(&events, &q);
        let got: Vec<i64> = match store.list(&q).await {
            Ok(page) => page.events.iter().map(|e| e.id).collect(),
            Err(e) => panic!("filter {i} {:?}: {e}", q.filter.to_query()),
        };
        assert_eq!(
            got,
            want,
            "filter {i}: {:?} {:?}",
            q.filter.to_query(),
            q.search
        );
        if i % 5 == 0 {
            assert_eq!(paged(&store, &q).await, want, "paged filter {i}");
        }
        if !want.is_empty() && want.len() < EVENTS / 2 {
            selective += 1;
        }
    }
    eprintln!("compared {FILTERS} filters ({walked} walk the index, {selective} selective)");
    assert!(walked * 3 > FILTERS, "only {walked} walk the index");
    assert!(selective * 3 > FILTERS, "only {selective} selective");
    store.close().await;
}

#[tokio::test]
async fn contains_agrees_with_the_reference_on_sqlite() {
    contains_agrees_with_the_reference(&TestDatabase::sqlite(), 21, true).await;
    contains_agrees_with_the_reference(&TestDatabase::sqlite(), 22, true).await;
}

#[tokio::test]
async fn contains_agrees_with_the_reference_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    contains_agrees_with_the_reference(&TestDatabase::postgres(&admin).await, 21, false).await;
}
