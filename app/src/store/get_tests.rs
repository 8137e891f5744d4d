//! Reading one event by its sequence number (`Store::get`), the lookup behind the page's event
//! drawer and `GET /api/v1/events/{id}`: every stored field comes back exactly as the list returns
//! it, across months (PostgreSQL partitions), and an unknown id is `None`, not an error. Runs on
//! SQLite always and on PostgreSQL when `AUDITLOG_TEST_PG_URL` is set.

use chrono::{Duration, Utc};
use serde_json::json;

use super::Store;
use super::testing::{TestDatabase, append_all};
use crate::events::model::parse_event;
use crate::events::query::{EventQuery, MAX_LIMIT};

async fn get_returns_each_event_as_listed_and_none_for_unknown_ids(db: &TestDatabase) {
    let store = Store::open(&db.url).await.expect("open");
    let now = Utc::now();
    let full = json!({
        "occurred_at": (now - Duration::minutes(5)).to_rfc3339(),
        "event": "Role Updated",
        "category": "Roles",
        "action": "updated",
        "outcome": "failure",
        "actor": {"id": "usr_1", "name": "Ada", "type": "user", "email": "ada@example.com"},
        "target": {"type": "role", "id": "role_7", "name": "Billing Admin"},
        "ip": "2001:db8::7",
        "user_agent": "curl/8.5",
        "source": "identity-service",
        "description": "<img src=x onerror=alert(1)>",
        "metadata": {"plan": "pro", "seats": 12, "flags": {"beta": true, "tags": ["a", "b"]}},
        "changes": {"name": {"old": "Billing", "new": "Billing Admin"}, "seats": {"new": 12}}
    });
    let bare = |days: i64| {
        json!({
            "occurred_at": (now - Duration::days(days)).to_rfc3339(),
            "event": format!("Bare {days}"),
            "category": "Tests",
            "action": "created",
            "actor": {"id": "sys", "type": "system"}
        })
    };
    // Months apart, so on PostgreSQL the events sit in different partitions.
    let items = [full, bare(70), bare(400)]
        .iter()
        .map(|v| Ok(parse_event(v, now).expect("valid event")))
        .collect();
    append_all(&store, "get", items).await;

    let listed = store
        .list(&EventQuery {
            limit: MAX_LIMIT,
            ..EventQuery::default()
        })
        .await
        .expect("list")
        .events;
    assert_eq!(listed.len(), 3);
    for e in &listed {
        let got = store.get(e.id).await.expect("get").expect("found");
        assert_eq!(&got, e);
    }
    let full = &listed[0];
    assert_eq!(full.body.event, "Role Updated");
    assert_eq!(
        full.body.description.as_deref(),
        Some("<img src=x onerror=alert(1)>")
    );
    assert_eq!(full.body.metadata["flags"]["tags"], json!(["a", "b"]));
    assert_eq!(
        full.body.changes.as_ref().expect("changes")["seats"],
        json!({"new": 12})
    );

    let max = listed.iter().map(|e| e.id).max().expect("ids");
    for unknown in [max + 1, 0, -1, i64::MAX] {
        assert_eq!(store.get(unknown).await.expect("get"), None, "id {unknown}");
    }
    store.close().await;
}

#[tokio::test]
async fn get_by_id_on_sqlite() {
    get_returns_each_event_as_listed_and_none_for_unknown_ids(&TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn get_by_id_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    get_returns_each_event_as_listed_and_none_for_unknown_ids(
        &TestDatabase::postgres(&admin).await,
    )
    .await;
}
