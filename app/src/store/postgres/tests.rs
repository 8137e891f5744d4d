//! Tests of the PostgreSQL store against a real server. They run only when `AUDITLOG_TEST_PG_URL`
//! names a database to connect to (e.g. `postgres://postgres@127.0.0.1:5432/postgres`); each test
//! creates its own database there and drops it at the end.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{Datelike, Utc};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use tokio::sync::broadcast;

use super::writer::Writer;
use crate::events::model::parse_event;
use crate::events::query::{Cursor, EventQuery};
use crate::store::testing::{TestDatabase, with_database};
use crate::store::{AppendOutcome, AppendRequest, Committed, ItemResult, RequestKey, Store};

/// A database of its own for one test; None (after saying so) when no PostgreSQL is configured.
struct TestDb(TestDatabase);

impl TestDb {
    async fn create() -> Option<Self> {
        match std::env::var("AUDITLOG_TEST_PG_URL") {
            Ok(admin) => Some(Self(TestDatabase::postgres(&admin).await)),
            Err(_) => {
                println!("skipped: AUDITLOG_TEST_PG_URL not set");
                None
            }
        }
    }

    async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.0.url).await.unwrap()
    }
}

impl std::ops::Deref for TestDb {
    type Target = TestDatabase;
    fn deref(&self) -> &TestDatabase {
        &self.0
    }
}

fn event(name: &str, at: chrono::DateTime<Utc>, key: Option<&str>) -> Value {
    let mut v = json!({
        "occurred_at": at.to_rfc3339(),
        "event": name,
        "category": "Tests",
        "action": "created",
        "actor": {"id": "usr_1", "name": "Ada", "type": "user"},
        "metadata": {"name": name}
    });
    if let Some(k) = key {
        v["idempotency_key"] = json!(k);
    }
    v
}

fn request(items: &[Value], request_key: Option<&str>) -> AppendRequest {
    let now = Utc::now();
    AppendRequest {
        scope: "1".into(),
        request_key: request_key.map(|k| RequestKey {
            key: k.into(),
            body_hash: crate::store::sha256_hex(
                Value::Array(items.to_vec()).to_string().as_bytes(),
            ),
        }),
        items: items.iter().map(|v| parse_event(v, now)).collect(),
    }
}

fn stored_ids(outcome: &AppendOutcome) -> Vec<i64> {
    match outcome {
        AppendOutcome::Done { results, .. } => results
            .iter()
            .filter_map(|r| match r {
                ItemResult::Stored { id, .. } => Some(*id),
                ItemResult::Rejected(_) => None,
            })
            .collect(),
        AppendOutcome::KeyReused => Vec::new(),
    }
}

/// Every event id newest first, one page of `limit` at a time.
async fn all_ids(store: &Store, limit: u32) -> Vec<i64> {
    let mut q = EventQuery {
        limit,
        ..EventQuery::default()
    };
    let mut ids = Vec::new();
    loop {
        let page = store.list(&q).await.unwrap();
        ids.extend(page.events.iter().map(|e| e.id));
        match page.next_cursor {
            Some(c) => q.cursor = Some(Cursor::decode(&c).unwrap()),
            None => return ids,
        }
    }
}

/// Receives notices until the ids in `want` are all covered, or fails after a while.
async fn receive_until(
    rx: &mut broadcast::Receiver<Committed>,
    want: &HashSet<i64>,
) -> Vec<Committed> {
    let mut got = Vec::new();
    let mut seen = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !want.is_subset(&seen) {
        let c = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the change feed delivered every commit in time")
            .unwrap();
        seen.extend(c.first_id..=c.last_id);
        got.push(c);
    }
    got
}

#[tokio::test]
async fn back_dated_and_current_events_are_stored_partitioned_and_listed_newest_first() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    assert!(store.is_empty().await.unwrap());
    let now = Utc::now();
    let three_years = now - chrono::Duration::days(3 * 365);
    let items = [
        event("Old", three_years, None),
        event("Now", now - chrono::Duration::seconds(1), None),
        event("Older", three_years - chrono::Duration::days(40), None),
        event("Last Year", now - chrono::Duration::days(400), None),
    ];
    let outcome = store.append(request(&items, None)).await.unwrap();
    let ids = stored_ids(&outcome);
    assert_eq!(ids.len(), 4);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids follow item order: {ids:?}"
    );
    assert!(!store.is_empty().await.unwrap());

    // Newest first, across partitions, one event per page.
    let listed = all_ids(&store, 1).await;
    assert_eq!(listed, [ids[1], ids[3], ids[0], ids[2]]);
    let page = store.list(&EventQuery::default()).await.unwrap();
    let names: Vec<&str> = page.events.iter().map(|e| e.body.event.as_str()).collect();
    assert_eq!(names, ["Now", "Last Year", "Old", "Older"]);
    assert_eq!(page.events[0].body.metadata["name"], "Now");
    assert_eq!(
        store.event_names().await.unwrap(),
        ["Last Year", "Now", "Old", "Older"]
    );

    // A time range and an event name filter read through the same query.
    let recent = store
        .list(&EventQuery {
            start: Some(now - chrono::Duration::days(30)),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(recent.events.len(), 1);
    let old = store
        .list(&EventQuery {
            event: Some("Old".into()),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(old.events.len(), 1);
    assert_eq!(old.events[0].id, ids[0]);

    let mut conn = db.connect().await;
    let partitions: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'events'::regclass ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let month = |t: chrono::DateTime<Utc>| format!("events_p{:04}{:02}", t.year(), t.month());
    let mut expected: Vec<String> = [
        three_years,
        three_years - chrono::Duration::days(40),
        now - chrono::Duration::days(400),
    ]
    .into_iter()
    .map(month)
    .collect();
    // This month and the next three are created ahead, even with no events in them yet.
    let (mut y, mut m) = (now.year(), now.month());
    for _ in 0..4 {
        expected.push(format!("events_p{y:04}{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    expected.sort();
    expected.dedup();
    assert_eq!(partitions, expected);
    // Each event sits in its month's partition.
    let (old_id,): (i64,) = sqlx::query_as(&format!("SELECT id FROM {}", month(three_years)))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(old_id, ids[0]);
    conn.close().await.unwrap();

    store.close().await;
}

/// `Store::get` reads by id alone, so no partition can be pruned: every partition must answer
/// `id = $1` from an index (its primary key, which leads with id), never by scanning its rows.
/// With sequential scans disabled the planner still picks one when no index fits, so a "Seq Scan"
/// in the plan would mean a partition without such an index.
#[tokio::test]
async fn lookup_by_id_probes_an_index_in_every_partition() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    let now = Utc::now();
    let items = [
        event("Now", now - chrono::Duration::seconds(1), None),
        event("Last Year", now - chrono::Duration::days(400), None),
    ];
    let ids = stored_ids(&store.append(request(&items, None)).await.unwrap());
    assert_eq!(
        store.get(ids[1]).await.unwrap().unwrap().body.event,
        "Last Year"
    );

    let mut conn = db.connect().await;
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN SELECT {} FROM events WHERE id = {}",
        crate::store::rows::EVENT_COLUMNS,
        ids[1]
    ))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let plan = plan.join("\n");
    let partitions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(partitions >= 5, "{partitions} partitions");
    assert!(!plan.contains("Seq Scan"), "{plan}");
    assert_eq!(
        plan.matches("Index Cond: (id = ").count() as i64,
        partitions,
        "one index probe per partition: {plan}"
    );
    conn.close().await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn two_nodes_get_unique_ids_in_commit_order_and_see_each_others_commits() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let a = Store::open(&db.url).await.unwrap();
    // The other spelling of the scheme reaches PostgreSQL too.
    let b = Store::open(&db.url.replacen("postgres://", "postgresql://", 1))
        .await
        .unwrap();
    let mut feed_a = a.subscribe();
    let mut feed_b = b.subscribe();

    let mut tasks = Vec::new();
    for node in [a.clone(), b.clone()] {
        for r in 0..20 {
            let node = node.clone();
            tasks.push(tokio::spawn(async move {
                let items: Vec<Value> = (0..5)
                    .map(|i| event(&format!("E{r}-{i}"), Utc::now(), None))
                    .collect();
                node.append(request(&items, None)).await.unwrap()
            }));
        }
    }
    let mut all = Vec::new();
    for t in tasks {
        let ids = stored_ids(&t.await.unwrap());
        assert_eq!(ids.len(), 5);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "item order: {ids:?}");
        all.extend(ids);
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(unique.len(), 200, "ids are unique across nodes");

    for feed in [&mut feed_a, &mut feed_b] {
        let notices = receive_until(feed, &unique).await;
        // One notice per transaction, in commit order: ranges ascend and never overlap.
        assert!(
            notices.windows(2).all(|w| w[0].last_id < w[1].first_id),
            "{notices:?}"
        );
        let covered: usize = notices
            .iter()
            .map(|c| (c.last_id - c.first_id + 1) as usize)
            .sum();
        assert_eq!(covered, 200, "every range holds only committed ids");
    }
    // Both nodes read the same log.
    assert_eq!(all_ids(&a, 2000).await, all_ids(&b, 2000).await);

    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn idempotency_keys_hold_across_nodes() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let a = Store::open(&db.url).await.unwrap();
    let b = Store::open(&db.url).await.unwrap();
    let items = [
        event("A", Utc::now(), None),
        event("B", Utc::now(), Some("ev-1")),
    ];

    // The same request through both nodes at once: stored once, both answers equal.
    let (ra, rb) = tokio::join!(
        a.append(request(&items, Some("req-1"))),
        b.append(request(&items, Some("req-1")))
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let replayed = |o: &AppendOutcome| matches!(o, AppendOutcome::Done { replayed: true, .. });
    assert_eq!(
        [replayed(&ra), replayed(&rb)]
            .iter()
            .filter(|r| **r)
            .count(),
        1,
        "exactly one of them stored: {ra:?} {rb:?}"
    );
    assert_eq!(stored_ids(&ra), stored_ids(&rb));
    assert_eq!(all_ids(&a, 50).await.len(), 2);

    // A later retry through either node replays; another body under the key is refused.
    let again = b.append(request(&items, Some("req-1"))).await.unwrap();
    assert_eq!(stored_ids(&again), stored_ids(&ra));
    assert!(replayed(&again));
    let other = a
        .append(request(&[event("C", Utc::now(), None)], Some("req-1")))
        .await
        .unwrap();
    assert_eq!(other, AppendOutcome::KeyReused);

    // A per-event key sent again through the other node maps to the first id.
    let ev_id = stored_ids(&ra)[1];
    let dup = b
        .append(request(&[event("B", Utc::now(), Some("ev-1"))], None))
        .await
        .unwrap();
    assert_eq!(
        dup,
        AppendOutcome::Done {
            results: vec![ItemResult::Stored {
                id: ev_id,
                duplicate: true
            }],
            replayed: false
        }
    );
    assert_eq!(all_ids(&b, 50).await.len(), 2);

    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn one_group_keeps_item_order_rejections_and_in_group_duplicates() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    let mut bad = event("Bad", Utc::now(), None);
    bad["outcome"] = json!("maybe");
    let items = [
        event("X", Utc::now(), Some("k")),
        bad,
        event("X", Utc::now(), Some("k")),
        event("Y", Utc::now(), None),
    ];
    // Many identical requests at once land in few groups; all must get the same answer.
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            let items = items.clone();
            tokio::spawn(async move { store.append(request(&items, Some("same"))).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let AppendOutcome::Done { results, .. } = &outcomes[0] else {
        panic!("stored: {:?}", outcomes[0]);
    };
    assert!(matches!(
        results[0],
        ItemResult::Stored {
            duplicate: false,
            ..
        }
    ));
    assert!(
        matches!(&results[1], ItemResult::Rejected(e) if e.field.as_deref() == Some("outcome"))
    );
    let first = stored_ids(&outcomes[0])[0];
    assert_eq!(
        results[2],
        ItemResult::Stored {
            id: first,
            duplicate: true
        }
    );
    for o in &outcomes {
        let AppendOutcome::Done { results: r, .. } = o else {
            panic!("stored: {o:?}");
        };
        assert_eq!(r, results);
    }
    assert_eq!(all_ids(&store, 50).await.len(), 2);

    store.close().await;
}

#[tokio::test]
async fn requests_of_one_group_see_each_others_keys() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    // Open once for the schema, then drive a writer directly so the group is exactly these four.
    Store::open(&db.url).await.unwrap().close().await;
    let mut w = Writer {
        pool: PgPoolOptions::new()
            .max_connections(1)
            .connect(&db.url)
            .await
            .unwrap(),
        known_names: HashSet::new(),
        partitions: HashSet::new(),
    };
    w.create_ahead().await.unwrap();
    let body = [
        event("A", Utc::now(), Some("k1")),
        event("B", Utc::now(), None),
    ];
    let first = request(&body, Some("r"));
    let retry = request(&body, Some("r"));
    let reused = request(&[event("C", Utc::now(), None)], Some("r"));
    let per_event = request(
        &[
            event("D", Utc::now(), None),
            event("A", Utc::now(), Some("k1")),
        ],
        None,
    );
    let done = w
        .commit_group(&[&first, &retry, &reused, &per_event], None)
        .await
        .unwrap();
    let [a, b] = stored_ids(&done.outcomes[0])[..] else {
        panic!("{:?}", done.outcomes[0]);
    };
    assert_eq!(
        done.outcomes[1],
        AppendOutcome::Done {
            results: vec![
                ItemResult::Stored {
                    id: a,
                    duplicate: false
                },
                ItemResult::Stored {
                    id: b,
                    duplicate: false
                }
            ],
            replayed: true
        }
    );
    assert_eq!(done.outcomes[2], AppendOutcome::KeyReused);
    let d = b + 1;
    assert_eq!(
        done.outcomes[3],
        AppendOutcome::Done {
            results: vec![
                ItemResult::Stored {
                    id: d,
                    duplicate: false
                },
                ItemResult::Stored {
                    id: a,
                    duplicate: true
                }
            ],
            replayed: false
        }
    );
    assert_eq!(
        done.committed,
        Some(Committed {
            first_id: a,
            last_id: d
        })
    );
    // The request record holds the first answer, so a retry in a later group replays it.
    let later = w.commit_group(&[&retry], None).await.unwrap();
    assert_eq!(later.outcomes[0], done.outcomes[1]);
    assert_eq!(later.committed, None);
    w.pool.close().await;
}

#[tokio::test]
async fn the_change_feed_survives_a_lost_connection() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    let mut feed = store.subscribe();
    let mut conn = db.connect().await;
    let listening: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(listening, 1, "one listening session");
    // Every session of the store goes: listener, writer and readers (as in a server restart).
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(killed.len() >= 2 && killed.iter().all(|k| *k), "{killed:?}");
    conn.close().await.unwrap();

    // The writer and readers re-connect on their next use; commits made before the listener is
    // back may be missed, and once it is, notices flow again.
    assert!(store.is_empty().await.unwrap());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let ids = stored_ids(
            &store
                .append(request(&[event("After", Utc::now(), None)], None))
                .await
                .unwrap(),
        );
        let seen = tokio::time::timeout(Duration::from_millis(300), feed.recv()).await;
        if let Ok(Ok(c)) = seen {
            assert!(c.last_id <= ids[0]);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listener came back"
        );
    }
    store.close().await;
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://u@h:5432/postgres", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u@h/postgres?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}
