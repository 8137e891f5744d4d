//! Users and sessions in a real store: names are unique, a role change applies to a live session,
//! removing a user ends their sessions, and a Member's scope reaches every read of the store.
//! Runs on SQLite always and on PostgreSQL when `AUDITLOG_TEST_PG_URL` is set.

use chrono::Utc;
use serde_json::json;

use super::testing::{TestDatabase, append_all};
use super::{AddUserError, Store};
use crate::accounts::{Role, member_scope};
use crate::events::model::parse_event;
use crate::events::query::{EventQuery, MAX_LIMIT};

async fn users_and_sessions(db: &TestDatabase) {
    let store = Store::open(&db.url).await.expect("open");
    assert_eq!(store.user_count().await.unwrap(), 0);
    let ann = store
        .add_user("ann", Role::Member, "usr_ann", "$argon2id$fake")
        .await
        .expect("add");
    assert_eq!((ann.role, ann.actor_id.as_str()), (Role::Member, "usr_ann"));
    assert!(matches!(
        store.add_user("ann", Role::Owner, "x", "h").await,
        Err(AddUserError::Taken(_))
    ));
    let (found, hash) = store.user_with_hash("ann").await.unwrap().expect("found");
    assert_eq!((found, hash.as_str()), (ann.clone(), "$argon2id$fake"));
    assert!(store.user_with_hash("nobody").await.unwrap().is_none());

    store.add_session("h1", ann.id, 1_000).await.unwrap();
    let s = store.session("h1").await.unwrap().expect("session");
    assert_eq!(
        (s.user.role, s.created_at, s.last_seen_at),
        (Role::Member, 1_000, 1_000)
    );
    store.touch_session("h1", 2_000).await.unwrap();
    assert_eq!(
        store.session("h1").await.unwrap().unwrap().last_seen_at,
        2_000
    );
    // A new role applies to the session at once.
    store
        .set_role("ann", Role::Auditor)
        .await
        .unwrap()
        .expect("changed");
    assert_eq!(
        store.session("h1").await.unwrap().unwrap().user.role,
        Role::Auditor
    );
    assert!(
        store
            .set_role("nobody", Role::Owner)
            .await
            .unwrap()
            .is_none()
    );
    // A new password ends the sessions.
    store
        .set_password("ann", "$argon2id$new")
        .await
        .unwrap()
        .expect("set");
    assert!(store.session("h1").await.unwrap().is_none());
    store.add_session("h2", ann.id, 3_000).await.unwrap();
    store.end_session("h2").await.unwrap();
    assert!(store.session("h2").await.unwrap().is_none());
    // Removing a user removes their sessions.
    store.add_session("h3", ann.id, 3_000).await.unwrap();
    assert!(store.remove_user("ann").await.unwrap().is_some());
    assert!(store.session("h3").await.unwrap().is_none());
    assert!(store.remove_user("ann").await.unwrap().is_none());
    assert_eq!(store.users().await.unwrap(), vec![]);
    store.close().await;
}

async fn a_member_scope_bounds_every_read(db: &TestDatabase) {
    let store = Store::open(&db.url).await.expect("open");
    let now = Utc::now();
    let ev = |actor: &str, kind: &str, name: &str| {
        Ok(parse_event(
            &json!({"event": name, "category": "C", "action": "a",
                    "actor": {"id": actor, "name": actor, "type": kind}, "description": "deploy"}),
            now,
        )
        .expect("valid"))
    };
    append_all(
        &store,
        "scope",
        vec![
            ev("usr_ann", "user", "Login"),
            ev("usr_bob", "user", "Login"),
            ev("svc", "system", "Backup"),
            ev("usr_bob", "user", "Logout"),
        ],
    )
    .await;
    let scoped = |q: EventQuery| EventQuery {
        scope: member_scope("usr_ann"),
        limit: MAX_LIMIT,
        ..q
    };
    let actors = |page: crate::events::query::EventPage| {
        page.events
            .into_iter()
            .map(|e| e.body.actor.id)
            .collect::<Vec<_>>()
    };
    let all = store.list(&scoped(EventQuery::default())).await.unwrap();
    assert_eq!(actors(all), ["svc", "usr_ann"]);
    // Through free text, the per-name merge and the statistics alike.
    let q = EventQuery {
        search: Some("deploy".into()),
        ..EventQuery::default()
    };
    assert_eq!(
        actors(store.list(&scoped(q)).await.unwrap()),
        ["svc", "usr_ann"]
    );
    let q = EventQuery {
        filter: crate::filters::Filter {
            combine: crate::filters::Combine::Any,
            items: ["Login", "Logout"]
                .map(|n| {
                    crate::filters::Item::Condition(crate::filters::Condition {
                        field: crate::filters::Field::Event,
                        op: crate::filters::Op::Is,
                        values: vec![n.into()],
                    })
                })
                .into(),
        },
        ..EventQuery::default()
    };
    assert_eq!(actors(store.list(&scoped(q)).await.unwrap()), ["usr_ann"]);
    let stats = store
        .view_stats(&scoped(EventQuery::default()), 10)
        .await
        .expect("stats");
    assert_eq!(stats.count.value, 2);
    store.close().await;
}

#[tokio::test]
async fn users_and_sessions_on_sqlite() {
    users_and_sessions(&TestDatabase::sqlite()).await;
    a_member_scope_bounds_every_read(&TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn users_and_sessions_on_postgres() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        eprintln!("AUDITLOG_TEST_PG_URL is not set; skipping the PostgreSQL run");
        return;
    };
    users_and_sessions(&TestDatabase::postgres(&admin).await).await;
    a_member_scope_bounds_every_read(&TestDatabase::postgres(&admin).await).await;
}
