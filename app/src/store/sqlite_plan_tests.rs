//! SQLite's plans for the list's common shapes, read with EXPLAIN QUERY PLAN on a real file: a
//! click on a value (facet or table cell) with the default newest-first order, with and without a
//! time range, and a deep page of a column sort, must each walk one index in order and never sort
//! the matching rows (`USE TEMP B-TREE FOR ORDER BY`), which costs a full sort of every match on
//! every page of a large log. Of two conditions with such an index, the selective one leads.

use chrono::Utc;
use serde_json::json;
use sqlx::{Execute as _, Sqlite};

use super::filter_sql::Dialect;
use super::rows;
use super::sqlite::SqliteStore;
use super::{AppendOutcome, AppendRequest};
use crate::events::model::parse_event;
use crate::events::query::{Cursor, Dir, EventQuery, Sort, SortKey};
use crate::filters::{Combine, Condition, Field, Filter, Item, Op};

fn batch(now_ms: i64) -> AppendRequest {
    let now = Utc::now();
    AppendRequest {
        scope: "1".into(),
        request_key: None,
        items: (0..500)
            .map(|i| {
                let v = json!({
                    "event": format!("Event {}", i % 7),
                    "category": format!("Category {}", i % 3),
                    "action": "created",
                    "outcome": if i % 10 == 0 { "failure" } else { "success" },
                    "actor": {"id": format!("usr_{}", i % 50), "name": format!("User {}", i % 50), "type": "user"},
                    "target": {"type": "doc", "id": "d", "name": format!("Doc {}", i % 20)},
                    "ip": format!("10.0.0.{}", i % 30),
                    "occurred_at": now_ms - i * 60_000,
                });
                parse_event(&v, now)
            })
            .collect(),
    }
}

async fn plan(store: &SqliteStore, q: &EventQuery) -> String {
    let mut sql = rows::packed_list_query::<Sqlite>(q, Dialect::Sqlite).unwrap();
    let mut built = sql.build();
    let text = format!("EXPLAIN QUERY PLAN {}", built.sql());
    let args = built.take_arguments().unwrap().unwrap();
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as_with(&text, args)
        .fetch_all(&store.pool)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
}

/// A store on a file in `dir` holding [`batch`] up to now, with the statistics the writer
/// writes after it.
async fn sample_store(dir: &tempfile::TempDir) -> (SqliteStore, chrono::DateTime<Utc>) {
    let store = SqliteStore::open(dir.path().join("plans.db").to_str().unwrap())
        .await
        .unwrap();
    let now = Utc::now();
    let outcome = store.append(batch(now.timestamp_millis())).await.unwrap();
    assert!(matches!(outcome, AppendOutcome::Done { .. }));
    wait_for_statistics(&store).await;
    (store, now)
}

/// The writer writes the planner's statistics after it has answered the commit that grew the
/// table; waits for them (a second at most).
async fn wait_for_statistics(store: &SqliteStore) {
    for _ in 0..100 {
        let n: Result<i64, _> = sqlx::query_scalar("SELECT count(*) FROM sqlite_stat1")
            .fetch_one(&store.pool)
            .await;
        if n.is_ok_and(|n| n > 0) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no statistics were written");
}

fn is(field: Field, value: &str) -> Filter {
    Filter {
        combine: Combine::All,
        items: vec![Item::Condition(Condition {
            field,
            op: Op::Is,
            values: vec![value.into()],
        })],
    }
}

#[tokio::test]
async fn a_value_click_and_a_deep_column_page_walk_one_index_without_sorting() {
    let dir = tempfile::tempdir().unwrap();
    let (store, now) = sample_store(&dir).await;

    let last_30_days = Some(now - chrono::Duration::days(30));
    for (field, value, index) in [
        (Field::Outcome, "success", "events_sort_outcome"),
        (Field::Category, "Category 1", "events_sort_category"),
        (Field::ActorName, "User 7", "events_sort_user"),
        (Field::Event, "Event 3", "events_sort_event"),
        // The target's sort index is on COALESCE(target_name, ''), which `target_name = ?` does
        // not use: the page walks the time index and tests each row, still without a sort.
        (Field::TargetName, "Doc 4", "events_time"),
    ] {
        for start in [None, last_30_days] {
            let q = EventQuery {
                filter: is(field.clone(), value),
                start,
                ..EventQuery::default()
            };
            let p = plan(&store, &q).await;
            assert!(
                p.contains(index),
                "{field:?} is {value}, from {start:?}:\n{p}"
            );
            assert!(!p.contains("TEMP B-TREE FOR ORDER BY"), "{field:?}:\n{p}");
        }
    }

    // Page after page of "sort by user": the cursor seeks into the index past its value's start.
    let all = store.list(&EventQuery::default()).await.unwrap().events;
    for dir in [Dir::Asc, Dir::Desc] {
        let sort = Sort::new(SortKey::User, dir);
        let q = EventQuery {
            sort,
            cursor: Some(Cursor::after(&all[10], sort)),
            ..EventQuery::default()
        };
        let p = plan(&store, &q).await;
        assert!(p.contains("events_sort_user (actor_name"), "{dir:?}:\n{p}");
        assert!(!p.contains("TEMP B-TREE FOR ORDER BY"), "{dir:?}:\n{p}");
    }
    store.close().await;
}

/// Two conditions that each have an index serving them in time order: the planner's statistics
/// (`store::sqlite_stats`) make it pick the selective one. Without them it took the outcome index
/// and tested the event name on every success.
#[tokio::test]
async fn of_two_indexed_conditions_the_selective_one_leads() {
    let dir = tempfile::tempdir().unwrap();
    let (store, now) = sample_store(&dir).await;
    // Every index but the unique ones has a line, so a new index cannot go without.
    let unlisted: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' \
         AND sql NOT LIKE 'CREATE UNIQUE%' \
         AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE tbl = 'events')",
    )
    .fetch_all(&store.pool)
    .await
    .unwrap();
    assert!(unlisted.is_empty(), "no statistics for {unlisted:?}");
    let condition = |field, value: &str| {
        Item::Condition(Condition {
            field,
            op: Op::Is,
            values: vec![value.into()],
        })
    };
    let filter = Filter {
        combine: Combine::All,
        items: vec![
            condition(Field::Outcome, "success"),
            condition(Field::Event, "Event 1"),
            condition(Field::ActorType, "user"),
        ],
    };
    for start in [None, Some(now - chrono::Duration::days(30))] {
        let q = EventQuery {
            filter: filter.clone(),
            start,
            ..EventQuery::default()
        };
        let p = plan(&store, &q).await;
        assert!(p.contains("events_sort_event (event=?"), "{p}");
        assert!(!p.contains("TEMP B-TREE FOR ORDER BY"), "{p}");
    }
    store.close().await;
}
