//! The proof that both stores search as the reference says: random events in a real store, random
//! searches (prefixes, several words, odd case, punctuation, FTS and tsquery syntax), sometimes
//! with a filter, and the store must return exactly the ids, in the same order, that
//! [`matches_search`] (and [`Filter::matches`]) select. Runs on SQLite always and on PostgreSQL
//! when `AUDITLOG_TEST_PG_URL` is set.

use chrono::Utc;
use serde_json::{Value, json};

use super::Store;
use super::testing::TestDatabase;
use super::testing::append_all;
use crate::events::model::{Event, parse_event};
use crate::events::query::{Cursor, Dir, EventQuery, MAX_LIMIT, Sort, SortKey};
use crate::filters::testgen::Rng;
use crate::filters::{Filter, matches_search};

pub(super) const EVENTS: usize = 300;
const SEARCHES: usize = 400;

/// Words the events are made of: ASCII letters and digits, mixed case, the accented letters both
/// stores fold (see `search::FOLD`), and words that are operators in FTS5 or tsquery syntax.
const VOCAB: &[&str] = &[
    "Model", "Deployed", "deploy", "mod", "MODEL", "Café", "cafe", "ÉCOLE", "école", "naïve",
    "Ñandú", "user42", "42", "4", "x1y2", "Role", "Created", "or", "AND", "not", "near", "alpha",
    "Alphabet", "al",
];
/// What joins words inside one field: anything that is not a letter or digit.
const SEPARATORS: &[&str] = &[
    " ", "-", ".", "_", "/", "'", "\"", "*", ":", "(", ")", "&", "|",
];
/// What joins words of a search: the same, plus plain spaces.
const QUERY_SEPARATORS: &[&str] = &[" ", "  ", ",", "-", "\"", "*", ":*", " & ", " | ", "!", "("];

/// One to three vocabulary words joined by separators.
fn phrase(rng: &mut Rng) -> String {
    phrase_of(rng, VOCAB, SEPARATORS)
}

fn maybe_phrase(rng: &mut Rng) -> Value {
    maybe_phrase_of(rng, VOCAB, SEPARATORS)
}

/// One to three words of `vocab` joined by `separators`.
pub(super) fn phrase_of(rng: &mut Rng, vocab: &[&str], separators: &[&str]) -> String {
    let mut text = rng.pick(vocab).to_string();
    for _ in 0..rng.below(3) {
        text.push_str(rng.pick::<&str>(separators));
        text.push_str(rng.pick::<&str>(vocab));
    }
    text
}

/// [`phrase_of`], or null three times in ten.
pub(super) fn maybe_phrase_of(rng: &mut Rng, vocab: &[&str], separators: &[&str]) -> Value {
    if rng.chance(30) {
        Value::Null
    } else {
        json!(phrase_of(rng, vocab, separators))
    }
}

fn event_json(rng: &mut Rng, at: i64) -> Value {
    let local = rng.pick(&["alice", "bob.Smith", "naive_42", "mod-x"]);
    let domain = rng.pick(&["example.com", "Deploy.io", "cafe42.org"]);
    json!({
        "occurred_at": at,
        "event": phrase(rng),
        "category": "Search",
        "action": rng.pick(&["created", "deleted"]),
        "actor": {
            "id": phrase(rng),
            "name": phrase(rng),
            "type": rng.pick(&["user", "app", "system"]),
            "email": if rng.chance(30) { Value::Null } else { json!(format!("{local}@{domain}")) },
        },
        "target": {"type": "thing", "name": maybe_phrase(rng)},
        "description": maybe_phrase(rng),
        // Not searched: a hit here must not count.
        "source": phrase(rng),
    })
}

/// A search: one to three prefixes of vocabulary words, odd case and separators; sometimes noise.
fn search(rng: &mut Rng) -> String {
    if rng.chance(3) {
        return rng
            .pick(&["\"", "*", "::", "&|!", "NEAR(", "'"])
            .to_string();
    }
    let mut text = String::new();
    for i in 0..1 + rng.below(3) {
        if i > 0 || rng.chance(10) {
            text.push_str(rng.pick::<&str>(QUERY_SEPARATORS));
        }
        let word: Vec<char> = rng.pick(VOCAB).chars().collect();
        let prefix: String = word[..1 + rng.below(word.len())].iter().collect();
        text.push_str(&match rng.below(3) {
            0 => prefix.to_uppercase(),
            1 => prefix.to_lowercase(),
            _ => prefix,
        });
    }
    text
}

async fn seed(store: &Store, rng: &mut Rng) -> Vec<Event> {
    seed_with(store, rng, event_json).await
}

/// Stores [`EVENTS`] events made by `make` (given a time within the last two hours, many sharing a
/// minute) and returns them as stored.
pub(super) async fn seed_with(
    store: &Store,
    rng: &mut Rng,
    make: fn(&mut Rng, i64) -> Value,
) -> Vec<Event> {
    let now = Utc::now();
    let now_ms = now.timestamp_millis();
    for _ in 0..EVENTS / 100 {
        let items = (0..100)
            .map(|_| {
                let at = now_ms - (rng.below(120) as i64) * 60_000;
                Ok(parse_event(&make(rng, at), now).expect("valid event"))
            })
            .collect();
        append_all(store, "search", items).await;
    }
    let all = EventQuery {
        limit: MAX_LIMIT,
        ..EventQuery::default()
    };
    let events = store.list(&all).await.expect("list").events;
    assert_eq!(events.len(), EVENTS);
    events
}

/// The reference: the events matching the search, filter and time range, in the order of
/// `q.sort` (only the orders by time and by Seq occur here).
pub(super) fn expected(events: &[Event], q: &EventQuery) -> Vec<i64> {
    let text = q.search.as_deref().unwrap_or_default();
    let ms = |e: &Event| e.body.occurred_at.timestamp_millis();
    let mut hits: Vec<&Event> = events
        .iter()
        .filter(|e| matches_search(e, text) && q.filter.matches(e))
        .filter(|e| q.start.is_none_or(|s| ms(e) >= s.timestamp_millis()))
        .filter(|e| q.end.is_none_or(|t| ms(e) < t.timestamp_millis()))
        .collect();
    match q.sort.key {
        SortKey::Seq => hits.sort_by_key(|e| e.id),
        _ => hits.sort_by_key(|e| (ms(e), e.id)),
    }
    if q.sort.dir == Dir::Desc {
        hits.reverse();
    }
    hits.iter().map(|e| e.id).collect()
}

/// A random order by time or Seq and, half the time, a window of the two hours the events span:
/// the orders SQLite serves by walking the time range in chunks (`sqlite_search`).
fn order_and_window(rng: &mut Rng, q: EventQuery) -> EventQuery {
    let key = if rng.chance(50) {
        SortKey::Time
    } else {
        SortKey::Seq
    };
    let dir = if rng.chance(50) { Dir::Desc } else { Dir::Asc };
    let now = Utc::now().timestamp_millis();
    let at = |mins: i64| chrono::DateTime::from_timestamp_millis(now - mins * 60_000);
    let (start, end) = if rng.chance(50) {
        let a = rng.below(130) as i64;
        let b = rng.below(130) as i64;
        (at(a.max(b)), at(a.min(b)))
    } else {
        (None, None)
    };
    EventQuery {
        sort: Sort::new(key, dir),
        start,
        end,
        ..q
    }
}

pub(super) async fn paged(store: &Store, q: &EventQuery) -> Vec<i64> {
    let mut q = EventQuery {
        limit: 17,
        ..q.clone()
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

async fn search_agrees_with_the_reference(db: &TestDatabase, seed_value: u64) {
    let store = Store::open(&db.url).await.expect("open store");
    let mut rng = Rng::new(seed_value);
    let events = seed(&store, &mut rng).await;
    let (mut selective, mut multi) = (0, 0);
    for i in 0..SEARCHES {
        let text = search(&mut rng);
        let filter = if rng.chance(20) {
            Filter::from_query(&[("f".to_string(), "action:is:created".to_string())])
                .expect("valid filter")
        } else {
            Filter::default()
        };
        let q = EventQuery {
            search: EventQuery::parse_search(&text).expect("valid search"),
            filter,
            limit: MAX_LIMIT,
            ..EventQuery::default()
        };
        let got: Vec<i64> = match store.list(&q).await {
            Ok(page) => page.events.iter().map(|e| e.id).collect(),
            Err(e) => panic!("search {i} {text:?}: {e}"),
        };
        let want = expected(&events, &q);
        assert_eq!(got, want, "search {i}: {text:?}");
        if !want.is_empty() && want.len() < EVENTS {
            selective += 1;
        }
        if crate::filters::search::words(&text).len() > 1 {
            multi += 1;
        }
        if i % 25 == 0 {
            assert_eq!(paged(&store, &q).await, want, "paged search {i}");
        }
        // The same search in another order and window, paged: SQLite walks it in chunks.
        if i % 4 == 0 {
            let q = order_and_window(&mut rng, q);
            let want = expected(&events, &q);
            assert_eq!(
                paged(&store, &q).await,
                want,
                "search {i} {text:?} {:?}",
                q.sort
            );
        }
    }
    eprintln!("compared {SEARCHES} searches ({selective} selective, {multi} multi-word)");
    assert!(selective * 2 > SEARCHES, "only {selective} selective");
    assert!(multi * 4 > SEARCHES, "only {multi} multi-word");
    store.close().await;
}

/// Events stored before migration 0003 are indexed again after migration 0012 (by the store, as
/// it opens), with the words cut exactly as the reference cuts them, in any script.
#[tokio::test]
async fn sqlite_migration_indexes_events_stored_before_it() {
    use sqlx::Connection as _;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

    let db = TestDatabase::sqlite();
    let path = db.url.strip_prefix("sqlite://").expect("a sqlite URL");
    let mut before = sqlx::migrate!("../migrations/sqlite");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < 3)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .expect("connect");
    before.run(&mut conn).await.expect("migrations 1 and 2");
    let now = Utc::now().timestamp_millis();
    sqlx::query(
        "INSERT INTO events (id, occurred_at, received_at, event, category, action, outcome, \
         actor_id, actor_name, actor_type, actor_email, target_name, description, source) \
         VALUES (1, ?, ?, 'Model Deployed', 'C', 'a', 'success', 'usr_9', 'Grace', 'user', \
         'g@navy.mil', 'Billing', 'École ΩMEGA-Straße', 'elsewhere')",
    )
    .bind(now)
    .bind(now)
    .execute(&mut conn)
    .await
    .expect("an event stored the old way");
    conn.close().await.expect("close");

    let store = Store::open(&db.url).await.expect("open and migrate");
    for (text, hits) in [
        ("deplo mod", 1),
        ("ecole", 1),
        ("ωme", 1),
        ("Ωmega straß", 1),
        ("omega", 0),
        ("navy", 1),
        ("usr 9", 1),
        ("grace", 1),
        ("bill", 1),
        ("elsewhere", 0),
    ] {
        let q = EventQuery {
            search: Some(text.into()),
            ..EventQuery::default()
        };
        let page = store.list(&q).await.expect("list");
        assert_eq!(page.events.len(), hits, "{text}");
    }
    store.close().await;
}

#[tokio::test]
async fn search_agrees_with_the_reference_on_sqlite() {
    search_agrees_with_the_reference(&TestDatabase::sqlite(), 21).await;
    search_agrees_with_the_reference(&TestDatabase::sqlite(), 22).await;
}

#[tokio::test]
async fn search_agrees_with_the_reference_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    search_agrees_with_the_reference(&TestDatabase::postgres(&admin).await, 21).await;
    search_agrees_with_the_reference(&TestDatabase::postgres(&admin).await, 22).await;
}
