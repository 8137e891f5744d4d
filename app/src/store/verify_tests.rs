//! The hash chain in a real store: what the writer chains verifies, checkpoints pin it, and every
//! kind of tampering done by hand in the database (with the append-only guard opened) is found at
//! the right event. The database itself refuses UPDATE and DELETE of events. Runs on SQLite always
//! and on PostgreSQL when `AUDITLOG_TEST_PG_URL` is set.

use chrono::Utc;
use serde_json::json;

use super::Store;
use super::checkpoints::{Kind, Signer};
use super::testing::{TestDatabase, append_all};
use super::verify::VerifyOptions;
use crate::events::model::parse_event;
use crate::filters::testgen::Rng;

/// Stores `n` varied events in a few requests (some concurrently); returns their ids.
async fn seed(store: &Store, n: usize, rng: &mut Rng) {
    let now = Utc::now();
    let mut tasks = Vec::new();
    for chunk in 0..4 {
        let items: Vec<_> = (0..n / 4)
            .map(|i| {
                let mut e = json!({
                    "occurred_at": now.timestamp_millis() - rng.below(1_000_000) as i64,
                    "event": format!("Chained {}", rng.below(5)),
                    "category": "Chain",
                    "action": "tested",
                    "actor": {"id": format!("usr_{i}"), "name": "Ünïcode ✓", "type": "user"},
                    "metadata": {"b": i, "a": {"z": [1, 2.5, "x"], "y": null}, "n": chunk},
                });
                if rng.chance(50) {
                    e["description"] = json!("with \"quotes\", tabs\tand\nlines");
                    e["target"] = json!({"type": "doc", "id": format!("d{i}")});
                    e["changes"] = json!({"role": {"old": "a", "new": "b"}});
                    e["ip"] = json!("2001:db8::1");
                }
                parse_event(&e, now)
            })
            .collect();
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            append_all(&store, "chain", items).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Puts back every event from the table `saved` (a copy made before tampering).
fn restore(db: &TestDatabase) -> String {
    let columns = if db.is_postgres() {
        format!("{}, idem_scope, idem_key", super::chain::CHAIN_COLUMNS)
    } else {
        format!(
            "{}, idem_scope, idem_key, ip_bin, search_key",
            super::chain::CHAIN_COLUMNS
        )
    };
    format!("DELETE FROM events; INSERT INTO events ({columns}) SELECT {columns} FROM saved")
}

async fn verify(store: &Store) -> super::verify::Verification {
    store
        .verify(&VerifyOptions::default(), |_| {})
        .await
        .expect("verify runs")
}

/// Opens the append-only guard for this connection's statements, as someone with direct access
/// could (SQLite: a `maintenance` row; PostgreSQL: the session setting).
fn unguarded(db: &TestDatabase, sql: &str) -> String {
    if db.is_postgres() {
        format!("SET auditlog.maintenance = 'on'; {sql}")
    } else {
        format!("INSERT INTO maintenance VALUES ('test'); {sql}; DELETE FROM maintenance")
    }
}

async fn tampering_is_found_where_it_happened(db: &TestDatabase) {
    let mut rng = Rng::new(7);
    let store = Store::open(&db.url).await.expect("open");
    seed(&store, 200, &mut rng).await;
    let signer = Signer::from_seed([3; 32]);
    let cp = store
        .checkpoint(&signer, Kind::Manual)
        .await
        .unwrap()
        .expect("events exist");
    assert_eq!(cp.event_id, 200);
    let v = verify(&store).await;
    assert!(v.ok(), "{v:?}");
    assert_eq!(
        (v.first, v.through, v.events, v.checkpoints),
        (Some(1), Some(200), 200, 1)
    );
    // A range, and the key pinned.
    let part = store
        .verify(
            &VerifyOptions {
                from: Some(50),
                to: Some(60),
                public_key: Some(signer.public_key()),
            },
            |_| {},
        )
        .await
        .unwrap();
    assert!(part.ok() && part.events == 11, "{part:?}");
    let other_key = VerifyOptions {
        public_key: Some(Signer::from_seed([4; 32]).public_key()),
        ..Default::default()
    };
    assert!(!store.verify(&other_key, |_| {}).await.unwrap().ok());

    // The database refuses to change or remove events.
    for sql in [
        "UPDATE events SET action = 'forged' WHERE id = 5",
        "DELETE FROM events WHERE id = 5",
        "DELETE FROM checkpoints",
    ] {
        let err = db.raw(sql).await.expect_err(sql);
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert!(verify(&store).await.ok());

    // Each tampering, done by hand with the guard open, then undone by restoring the row.
    let cases: [(&str, &str, i64, &str); 6] = [
        (
            "a changed field",
            "UPDATE events SET actor_name = 'Mallory' WHERE id = 77",
            77,
            "was changed",
        ),
        (
            "changed metadata",
            "UPDATE events SET metadata = '{\"b\":1}' WHERE id = 120",
            120,
            "was changed",
        ),
        (
            "a changed time",
            "UPDATE events SET occurred_at = occurred_at + 1 WHERE id = 3",
            3,
            "was changed",
        ),
        (
            "a removed middle row",
            "DELETE FROM events WHERE id = 100",
            101,
            "does not follow #99",
        ),
        (
            "the first row removed",
            "DELETE FROM events WHERE id = 1",
            2,
            "the first",
        ),
        (
            "a changed chain value",
            "UPDATE events SET chain = (SELECT chain FROM events WHERE id = 9) WHERE id = 10",
            10,
            "was changed",
        ),
    ];
    for (what, sql, at, reason) in cases {
        db.raw("CREATE TABLE saved AS SELECT * FROM events")
            .await
            .unwrap();
        db.raw(&unguarded(db, sql)).await.expect(what);
        let v = verify(&store).await;
        let broken = v
            .broken
            .clone()
            .unwrap_or_else(|| panic!("{what}: not found"));
        assert_eq!(broken.event_id, at, "{what}: {broken:?}");
        assert!(broken.reason.contains(reason), "{what}: {broken:?}");
        db.raw(&unguarded(db, &restore(db))).await.expect("restore");
        db.raw("DROP TABLE saved").await.unwrap();
        assert!(verify(&store).await.ok(), "{what}: restored");
    }

    // Two rows' ids swapped.
    db.raw(&unguarded(
        db,
        "UPDATE events SET id = -1 WHERE id = 30; UPDATE events SET id = 30 WHERE id = 31; \
         UPDATE events SET id = 31 WHERE id = -1",
    ))
    .await
    .unwrap();
    let v = verify(&store).await;
    assert_eq!(v.broken.as_ref().map(|b| b.event_id), Some(30), "{v:?}");

    // A forged row after the end: caught by its own chain value.
    db.raw(&unguarded(
        db,
        "UPDATE events SET id = -1 WHERE id = 30; UPDATE events SET id = 30 WHERE id = 31; \
         UPDATE events SET id = 31 WHERE id = -1",
    ))
    .await
    .unwrap();
    assert!(verify(&store).await.ok());
    db.raw(
        "INSERT INTO events (id, occurred_at, received_at, event, category, action, outcome, \
         actor_id, actor_name, actor_type, metadata, chain) SELECT 201, occurred_at, \
         received_at, event, category, action, outcome, actor_id, actor_name, actor_type, \
         metadata, chain FROM events WHERE id = 200",
    )
    .await
    .unwrap();
    let v = verify(&store).await;
    assert_eq!(v.broken.as_ref().map(|b| b.event_id), Some(201), "{v:?}");
    db.raw(&unguarded(db, "DELETE FROM events WHERE id = 201"))
        .await
        .unwrap();

    // The last ten removed: the checkpoint (and the chain's head) still name event #200.
    db.raw(&unguarded(db, "DELETE FROM events WHERE id > 190"))
        .await
        .unwrap();
    let v = verify(&store).await;
    let broken = v.broken.expect("the removed end is found");
    assert_eq!(broken.event_id, 200, "{broken:?}");
    assert!(broken.reason.contains("removed from the end"), "{broken:?}");
    store.close().await;
}

async fn any_flipped_byte_of_any_event_breaks_the_chain_there(db: &TestDatabase) {
    let mut rng = Rng::new(11);
    let store = Store::open(&db.url).await.expect("open");
    seed(&store, 40, &mut rng).await;
    // Columns every seeded event has (never NULL, never starting with '~'; outcome and actor type
    // are held to their few values by CHECK constraints).
    let columns = [
        "event",
        "category",
        "action",
        "actor_id",
        "actor_name",
        "metadata",
    ];
    let mut tried = 0;
    for _ in 0..12 {
        let id = 1 + rng.below(40) as i64;
        let column = *rng.pick(&columns);
        // Replaces the first character with '~' (a one-byte change of these ASCII-first values).
        let sql =
            format!("UPDATE events SET {column} = '~' || substr({column}, 2) WHERE id = {id}");
        db.raw("CREATE TABLE saved AS SELECT * FROM events")
            .await
            .unwrap();
        db.raw(&unguarded(db, &sql)).await.unwrap();
        let v = verify(&store).await;
        let broken = v
            .broken
            .unwrap_or_else(|| panic!("{column} of #{id}: not found"));
        assert_eq!(broken.event_id, id, "{column} of #{id}: {broken:?}");
        tried += 1;
        db.raw(&unguarded(db, &restore(db))).await.unwrap();
        db.raw("DROP TABLE saved").await.unwrap();
    }
    assert_eq!(tried, 12);
    assert!(verify(&store).await.ok());
    store.close().await;
}

#[tokio::test]
async fn tampering_is_found_on_sqlite() {
    tampering_is_found_where_it_happened(&TestDatabase::sqlite()).await;
    any_flipped_byte_of_any_event_breaks_the_chain_there(&TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn tampering_is_found_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    tampering_is_found_where_it_happened(&TestDatabase::postgres(&admin).await).await;
    any_flipped_byte_of_any_event_breaks_the_chain_there(&TestDatabase::postgres(&admin).await)
        .await;
}

/// A retention purge removes exactly the events received before the cutoff (a prefix of the
/// chain), their search entries, and leaves a chain that verifies from the new oldest event and
/// goes on verifying as events are added.
async fn a_purge_keeps_the_chain_verifiable(db: &TestDatabase) {
    let store = Store::open(&db.url).await.expect("open");
    let now = Utc::now();
    let old = now - chrono::Duration::days(500);
    let event = |name: &str, at: chrono::DateTime<Utc>, received: chrono::DateTime<Utc>| {
        parse_event(
            &json!({
                "occurred_at": at.to_rfc3339(), "event": name, "category": "Purge",
                "action": "tested", "actor": {"id": "usr_p", "name": "Purger", "type": "user"},
                "description": format!("{name} words")
            }),
            received,
        )
    };
    let old_items: Vec<_> = (0..30)
        .map(|i| {
            let at = old + chrono::Duration::days(2 * i);
            event("Ancient", at, old + chrono::Duration::days(62))
        })
        .collect();
    append_all(&store, "p", old_items).await;
    // Received now, about a time long ago: kept (retention counts from receipt).
    let recent: Vec<_> = (0..10)
        .map(|i| event("Recent", now - chrono::Duration::minutes(i), now))
        .chain([event("Late", old + chrono::Duration::hours(2), now)])
        .collect();
    append_all(&store, "p", recent).await;
    let signer = Signer::from_seed([5; 32]);
    store.checkpoint(&signer, Kind::Periodic).await.unwrap();

    let cutoff = (now - chrono::Duration::days(365)).timestamp_millis();
    let mut steps = 0;
    let report = store.purge(cutoff, &signer, |_| steps += 1).await.unwrap();
    assert_eq!(
        (report.removed, report.through),
        (30, Some(30)),
        "{report:?}"
    );
    assert!(steps >= 1);
    if db.is_postgres() {
        // The months of only ancient events were emptied whole; the month holding the late
        // event lost its ancient rows one by one.
        assert!(report.partitions >= 1, "{report:?}");
    }
    let left = store
        .list(&crate::events::query::EventQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .events;
    assert_eq!(left.len(), 11);
    assert!(left.iter().all(|e| e.id > 30));
    for (text, hits) in [("ancient", 0), ("recent words", 10), ("late", 1)] {
        let q = crate::events::query::EventQuery {
            search: Some(text.into()),
            ..Default::default()
        };
        assert_eq!(store.list(&q).await.unwrap().events.len(), hits, "{text}");
    }
    let v = verify(&store).await;
    assert!(v.ok(), "{v:?}");
    assert_eq!((v.first, v.events), (Some(31), 11));

    // Nothing more to purge; new events continue the chain.
    let again = store.purge(cutoff, &signer, |_| {}).await.unwrap();
    assert_eq!(again.removed, 0);
    append_all(&store, "p", vec![event("After", now, now)]).await;
    store.checkpoint(&signer, Kind::Periodic).await.unwrap();
    let v = verify(&store).await;
    assert!(v.ok() && v.events == 12, "{v:?}");
    // The purge's checkpoint is what anchors the chain: without it the start looks cut.
    db.raw(if db.is_postgres() {
        "ALTER TABLE checkpoints DISABLE TRIGGER checkpoints_append_only; \
         DELETE FROM checkpoints WHERE kind = 'purge'"
    } else {
        "DROP TRIGGER checkpoints_no_delete; DELETE FROM checkpoints WHERE kind = 'purge'"
    })
    .await
    .unwrap();
    let v = verify(&store).await;
    assert_eq!(v.broken.map(|b| b.event_id), Some(31));
    store.close().await;
}

#[tokio::test]
async fn a_purge_keeps_the_chain_verifiable_on_sqlite() {
    a_purge_keeps_the_chain_verifiable(&TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn a_purge_keeps_the_chain_verifiable_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    a_purge_keeps_the_chain_verifiable(&TestDatabase::postgres(&admin).await).await;
}

/// Two processes writing to one SQLite file (the server, and a command of the CLI recording
/// what it did) continue each other's ids and chain.
#[tokio::test]
async fn two_writers_on_one_sqlite_file_make_one_chain() {
    let db = TestDatabase::sqlite();
    let a = Store::open(&db.url).await.expect("open a");
    let b = Store::open(&db.url).await.expect("open b");
    let mut rng = Rng::new(3);
    for round in 0..6 {
        let store = if round % 2 == 0 { &a } else { &b };
        seed(store, 8, &mut rng).await;
    }
    let v = verify(&a).await;
    assert!(v.ok(), "{v:?}");
    assert_eq!((v.first, v.through, v.events), (Some(1), Some(48), 48));
    a.close().await;
    b.close().await;
}
