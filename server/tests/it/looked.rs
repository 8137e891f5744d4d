//! Who looked (TRUST_TESTS T13's "reads produce audit events"): with the server recording reads,
//! an Auditor's and an API key's reads through the REST API, the live tail and the page's server
//! functions each become one "Audit Logs Viewed" / "Audit Log Event Viewed" event per distinct
//! view and window, with who, from where and what they looked at; paging the same view adds none.

use crate::common;

use std::time::Duration;

use app::accounts::Role;
use app::accounts::looked::ReadAudit;
use app::events::query::EventQuery;
use app::store::testing::TestDatabase;
use common::{TestApp, spawn_app_configured};
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};

fn by(actor: &str, name: &str) -> Value {
    json!({
        "event": name, "category": "Looked", "action": "tested",
        "actor": {"id": actor, "name": actor, "type": "user"}
    })
}

/// The read records, oldest first, as (actor id, event, view or target id, via).
async fn views(app: &TestApp) -> Vec<(String, String, String, String)> {
    let q = EventQuery {
        filter: app::filters::Filter::from_query(&[(
            "f".to_string(),
            "event:any_of:Audit Logs Viewed|Audit Log Event Viewed".to_string(),
        )])
        .unwrap(),
        limit: 500,
        ..Default::default()
    };
    let mut rows: Vec<_> = app
        .store
        .list(&q)
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|e| {
            let what = match &e.body.target {
                Some(t) => t.id.clone().unwrap_or_default(),
                None => e.body.metadata["view"].as_str().unwrap().to_string(),
            };
            (
                e.body.actor.id,
                e.body.event,
                what,
                e.body.metadata["via"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.reverse();
    rows
}

#[tokio::test]
async fn each_distinct_read_is_recorded_once_with_the_reader() {
    let db = TestDatabase::from_env().await;
    let app = spawn_app_configured(db, |s| {
        s.with_read_audit(ReadAudit::every(Duration::from_secs(600)))
    })
    .await;
    let ids =
        common::tail::ingest(&app, vec![by("usr_a", "Thing Done"), by("usr_b", "Other")]).await;
    let auditor = app.session("aud", Role::Auditor, "usr_aud").await;
    let get = |path: String, cookie: Option<&str>| {
        let mut req = app
            .client
            .get(app.url(&path))
            .header("User-Agent", "looked-test/1");
        req = match cookie {
            Some(c) => req.header("Cookie", c),
            None => req.bearer_auth(&app.key),
        };
        req.send()
    };
    // The Auditor reads a view three times (the second a later page of it), its statistics,
    // one event twice, and polls the tail of another view.
    for path in [
        "/api/v1/events?event=Thing%20Done".to_string(),
        "/api/v1/events?event=Thing%20Done&limit=1&start=0".into(),
        "/api/v1/events/stats?event=Thing%20Done".into(),
        format!("/api/v1/events/{}", ids[0]),
        format!("/api/v1/events/{}", ids[0]),
        "/api/v1/events/poll?after=0&f=user.id:is:usr_b".into(),
    ] {
        let resp = get(path.clone(), Some(&auditor)).await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
    }
    // An API key reads everything.
    assert_eq!(
        get("/api/v1/events".into(), None).await.unwrap().status(),
        200
    );
    // The page's list, twice (a second page of the same view), and its event drawer.
    let list = <app::events::api::ListEvents as ServerFn>::PATH;
    let one = <app::events::api::GetEvent as ServerFn>::PATH;
    for (path, form) in [
        (list, "filter=&quiet=false&sort=&search=thing".to_string()),
        (list, "filter=&quiet=false&sort=&search=thing".to_string()),
        (one, format!("id={}", ids[1])),
    ] {
        let resp = app.server_fn(path, &auditor, &form).await;
        assert_eq!(resp.status(), 200, "{path}");
    }
    let s = |x: &str| x.to_string();
    assert_eq!(
        views(&app).await,
        vec![
            (
                s("usr_aud"),
                s("Audit Logs Viewed"),
                s("event=Thing Done"),
                s("api")
            ),
            (
                s("usr_aud"),
                s("Audit Log Event Viewed"),
                ids[0].to_string(),
                s("api")
            ),
            (
                s("usr_aud"),
                s("Audit Logs Viewed"),
                s("f=user.id:is:usr_b"),
                s("live tail")
            ),
            (s("key_1"), s("Audit Logs Viewed"), s(""), s("api")),
            (
                s("usr_aud"),
                s("Audit Logs Viewed"),
                s("q=thing"),
                s("page")
            ),
            (
                s("usr_aud"),
                s("Audit Log Event Viewed"),
                ids[1].to_string(),
                s("page")
            ),
        ]
    );
    // Who, from where, with what.
    let (_, body) = common::get_events(&app, &[("event", "Audit Log Event Viewed")]).await;
    let e = &body["events"][1];
    assert_eq!(e["actor"]["name"], "aud");
    assert_eq!(e["ip"], "127.0.0.1");
    assert_eq!(e["user_agent"], "looked-test/1");
    assert_eq!(e["source"], "auditlog");
    app.stop().await;
}
