//! Filters on `GET /api/v1/events` (`f=`, `join=`, `gN=`), over real HTTP, on the store the
//! environment selects (SQLite by default).

use crate::common;

use common::{TestApp, event, get_events, names, spawn_app};
use serde_json::json;

/// Four events, newest first: D, C, B, A.
async fn seeded() -> TestApp {
    let app = spawn_app().await;
    let mut a = event("A Login", 40);
    a["actor"] =
        json!({"id": "u1", "name": "Alice Smith", "type": "user", "email": "alice@example.com"});
    a["metadata"] = json!({"plan": "pro", "seats": 5});
    a["ip"] = json!("10.1.2.3");
    let mut b = event("B Login", 30);
    b["actor"] = json!({"id": "u2", "name": "Bob", "type": "user"});
    b["outcome"] = json!("failure");
    b["metadata"] = json!({"plan": "free"});
    b["ip"] = json!("192.168.0.9");
    let mut c = event("C Role Created", 20);
    c["actor"] = json!({"id": "k1", "name": "Deploy bot", "type": "app"});
    c["description"] = json!("granted 100% of seats_total: yes");
    c["metadata"] = json!({});
    c.as_object_mut().expect("object").remove("target");
    let mut d = event("D Logout", 10);
    d["actor"] = json!({"id": "u1", "name": "alice smith", "type": "user"});
    d["metadata"] = json!({"plan": "pro"});
    let resp = app.post(&json!([a, b, c, d])).await;
    assert_eq!(resp.status(), 201);
    app
}

#[tokio::test]
async fn conditions_combine_with_all_any_and_one_level_of_groups() {
    let app = seeded().await;
    // All (the default): both must hold.
    assert_eq!(
        names(
            &app,
            &[("f", "user.id:is:u1"), ("f", "event:contains:login")]
        )
        .await,
        ["A Login"]
    );
    // Any.
    assert_eq!(
        names(
            &app,
            &[
                ("join", "any"),
                ("f", "outcome:is:failure"),
                ("f", "user.type:is:app")
            ]
        )
        .await,
        ["C Role Created", "B Login"]
    );
    // All of (plan is pro, any of (user name is Alice Smith, event starts with d)).
    assert_eq!(
        names(
            &app,
            &[
                ("f", "metadata.plan:is:pro"),
                ("g1", "any"),
                ("f", "g1.user.name:is:Alice Smith"),
                ("f", "g1.event:starts_with:d"),
            ]
        )
        .await,
        ["D Logout", "A Login"]
    );
    // The old `event=` parameter still works, alongside a filter.
    assert_eq!(
        names(&app, &[("event", "A Login"), ("f", "user.id:is:u1")]).await,
        ["A Login"]
    );
    app.stop().await;
}

#[tokio::test]
async fn each_operator_over_http() {
    let app = seeded().await;
    // "is" is exact; "contains" ignores case.
    assert_eq!(
        names(&app, &[("f", "user.name:is:alice smith")]).await,
        ["D Logout"]
    );
    assert_eq!(
        names(&app, &[("f", "user.name:contains:ALICE")]).await,
        ["D Logout", "A Login"]
    );
    // A missing email is "not" anything: only A has this one.
    assert_eq!(
        names(&app, &[("f", "user.email:is_not:alice@example.com")]).await,
        ["D Logout", "C Role Created", "B Login"]
    );
    assert_eq!(
        names(&app, &[("f", "user.email:not_contains:example")]).await,
        ["D Logout", "C Role Created", "B Login"]
    );
    // `%`, `_` and `:` in a value are literal.
    assert_eq!(
        names(
            &app,
            &[("f", "description:contains:100% of seats_total: y")]
        )
        .await,
        ["C Role Created"]
    );
    assert!(
        names(&app, &[("f", "description:contains:1_0")])
            .await
            .is_empty()
    );
    assert_eq!(
        names(
            &app,
            &[
                ("f", "outcome:any_of:failure|success"),
                ("f", "event:none_of:A Login|D Logout")
            ]
        )
        .await,
        ["C Role Created", "B Login"]
    );
    assert_eq!(
        names(&app, &[("f", "target.name:not_exists")]).await,
        ["C Role Created"]
    );
    // Values are bound, never SQL text.
    for hostile in ["x' OR '1'='1", "x\" OR 1=1 --", "'); DROP TABLE events; --"] {
        let (status, body) = get_events(&app, &[("f", &format!("event:is:{hostile}"))]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["events"].as_array().map(Vec::len), Some(0), "{body}");
    }
    assert_eq!(names(&app, &[]).await.len(), 4);
    // Metadata keys: strings and integers by their text; existence of any value.
    assert_eq!(
        names(&app, &[("f", "metadata.plan:is:pro")]).await,
        ["D Logout", "A Login"]
    );
    assert_eq!(
        names(&app, &[("f", "metadata.seats:is:5")]).await,
        ["A Login"]
    );
    assert_eq!(
        names(&app, &[("f", "metadata.plan:exists")]).await,
        ["D Logout", "B Login", "A Login"]
    );
    app.stop().await;
}

#[tokio::test]
async fn cidr_ranges_select_addresses_of_their_family() {
    let app = seeded().await;
    // A: 10.1.2.3, B: 192.168.0.9, C and D: 203.0.113.7 (the common event's address).
    assert_eq!(
        names(&app, &[("f", "ip:in_cidr:10.0.0.0/8")]).await,
        ["A Login"]
    );
    assert_eq!(
        names(
            &app,
            &[
                ("f", "ip:in_cidr:192.168.0.0/16"),
                ("f", "user.type:is:user")
            ]
        )
        .await,
        ["B Login"]
    );
    // Host bits in the range are ignored, as PostgreSQL's `inet` does.
    assert_eq!(
        names(&app, &[("f", "ip:in_cidr:203.0.113.200/24")]).await,
        ["D Logout", "C Role Created"]
    );
    assert_eq!(
        names(&app, &[("f", "ip:in_cidr:0.0.0.0/0")]).await.len(),
        4,
        "every IPv4 address"
    );
    assert!(
        names(&app, &[("f", "ip:in_cidr:::/0")]).await.is_empty(),
        "no IPv6 address"
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_filters_are_400s_that_name_the_parameter() {
    let app = seeded().await;
    let long = format!("event:is:{}", "x".repeat(1025));
    let many: Vec<(&str, &str)> = vec![("f", "event:is:x"); 21];
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("f", "colour:is:red")], "f", "unknown field"),
        (vec![("f", "event:equals:x")], "f", "unknown operator"),
        (vec![("f", "event:is")], "f", "needs exactly one value"),
        (vec![("f", "outcome:is:maybe")], "f", "not one of"),
        (
            vec![("f", "user.name:in_cidr:10.0.0.0/8")],
            "f",
            "applies to ip only",
        ),
        (vec![("f", "ip:in_cidr:300.0.0.0/8")], "f", "CIDR"),
        (vec![("f", "metadata.a\"b:is:x")], "f", "metadata key"),
        (vec![("f", &long)], "f", "limit is 1024"),
        (many, "f", "20"),
        (vec![("join", "maybe")], "join", "`all` or `any`"),
        (vec![("g1", "any")], "g1", "without conditions"),
        (vec![("g12345", "any")], "g12345", "unknown query parameter"),
    ];
    for (pairs, field, msg) in cases {
        let (status, body) = get_events(&app, &pairs).await;
        assert_eq!(status, 400, "{pairs:?}: {body}");
        assert_eq!(body["field"], field, "{pairs:?}: {body}");
        let error = body["error"].as_str().expect("error text");
        assert!(error.contains(msg), "{pairs:?}: {error}");
        assert!(
            !error.contains("database"),
            "never a database error: {error}"
        );
    }
    app.stop().await;
}
