//! Who sees what, route by route: every read route, the live tail, exports, the page's server
//! functions and the page itself, tried with no credentials, an unknown and a revoked API key, an
//! expired session, and a session of each role. Each answer must have the right status, and no
//! body may hold an event the caller may not see: a Member sees only the events they performed
//! plus those of system actors; a user without the Audit Logs permission sees none.

use crate::common;

use app::accounts::session;
use app::accounts::{KeyScopes, Role};
use common::{TestApp, spawn_app};
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};

/// Text only the events a Member may not see carry.
const SECRET: &str = "usr_someone_else";

fn by(actor: &str, kind: &str, name: &str) -> Value {
    json!({
        "event": name, "category": "Access", "action": "read",
        "actor": {"id": actor, "name": actor, "type": kind},
        "description": "matrix"
    })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Nobody,
    UnknownKey,
    RevokedKey,
    /// A key past its expiry.
    ExpiredKey,
    /// A key that may only send events.
    IngestKey,
    Key,
    Expired,
    Owner,
    Auditor,
    Member,
    NoAccess,
}

struct Credentials {
    key: String,
    revoked: String,
    expired: String,
    ingest_only: String,
    cookies: Vec<(Caller, String)>,
}

async fn credentials(app: &TestApp) -> Credentials {
    let (revoked_key, revoked) = app.store.create_api_key("old").await.unwrap();
    app.store.revoke_api_key(revoked_key.id).await.unwrap();
    let an_hour_ago = chrono::Utc::now().timestamp_millis() - 3600 * 1000;
    let (_, expired) = app
        .store
        .create_api_key_with("expired", KeyScopes::ALL, Some(an_hour_ago))
        .await
        .unwrap();
    let ingest = KeyScopes {
        ingest: true,
        read: false,
    };
    let (_, ingest_only) = app
        .store
        .create_api_key_with("ingest only", ingest, None)
        .await
        .unwrap();
    let mut cookies = vec![
        (Caller::Owner, app.session("o", Role::Owner, "usr_o").await),
        (
            Caller::Auditor,
            app.session("a", Role::Auditor, "usr_a").await,
        ),
        (
            Caller::Member,
            app.session("m", Role::Member, "usr_member").await,
        ),
        (
            Caller::NoAccess,
            app.session("n", Role::None, "usr_n").await,
        ),
    ];
    // A session started 13 hours ago: past the default 12-hour absolute limit.
    let user = app.store.user_with_hash("o").await.unwrap().unwrap().0;
    let token = session::new_token();
    let long_ago = chrono::Utc::now().timestamp_millis() - 13 * 3600 * 1000;
    app.store
        .add_session(&session::token_hash(&token), user.id, long_ago)
        .await
        .unwrap();
    cookies.push((Caller::Expired, format!("{}={token}", session::COOKIE)));
    Credentials {
        key: app.key.clone(),
        revoked,
        expired,
        ingest_only,
        cookies,
    }
}

fn request(
    app: &TestApp,
    c: &Credentials,
    who: Caller,
    build: reqwest::RequestBuilder,
) -> reqwest::RequestBuilder {
    let _ = app;
    let build = build.header("Sec-Fetch-Site", "same-origin");
    match who {
        Caller::Nobody => build,
        Caller::UnknownKey => build.bearer_auth("alk_unknown"),
        Caller::RevokedKey => build.bearer_auth(&c.revoked),
        Caller::ExpiredKey => build.bearer_auth(&c.expired),
        Caller::IngestKey => build.bearer_auth(&c.ingest_only),
        Caller::Key => build.bearer_auth(&c.key),
        _ => {
            let cookie = &c.cookies.iter().find(|(w, _)| *w == who).unwrap().1;
            build.header("Cookie", cookie)
        }
    }
}

/// What each caller may get from a read route: 401 without valid credentials, 403 without the
/// permission (or a key without the `read` scope), else 200.
fn read_status(who: Caller) -> u16 {
    match who {
        Caller::Nobody
        | Caller::UnknownKey
        | Caller::RevokedKey
        | Caller::ExpiredKey
        | Caller::Expired => 401,
        Caller::NoAccess | Caller::IngestKey => 403,
        _ => 200,
    }
}

#[tokio::test]
async fn every_route_answers_each_caller_with_only_what_they_may_see() {
    let app = spawn_app().await;
    let ids = common::tail::ingest(
        &app,
        vec![
            by("usr_member", "user", "Own Event"),
            by(SECRET, "user", "Other Event"),
            by("backup-service", "system", "System Event"),
        ],
    )
    .await;
    let (own, other) = (ids[0], ids[1]);
    let c = credentials(&app).await;
    let list_events = <app::events::api::ListEvents as ServerFn>::PATH;
    let get_event = <app::events::api::GetEvent as ServerFn>::PATH;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let callers = [
        Caller::Nobody,
        Caller::UnknownKey,
        Caller::RevokedKey,
        Caller::ExpiredKey,
        Caller::IngestKey,
        Caller::Key,
        Caller::Expired,
        Caller::Owner,
        Caller::Auditor,
        Caller::Member,
        Caller::NoAccess,
    ];
    // Before any export adds its own audit event: the count says 3 events, or the Member's 2.
    for who in callers {
        let full = matches!(who, Caller::Key | Caller::Owner | Caller::Auditor);
        if read_status(who) == 200 {
            let stats: Value = request(
                &app,
                &c,
                who,
                app.client.get(app.url("/api/v1/events/stats?start=0")),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
            assert_eq!(stats["count"]["value"], if full { 3 } else { 2 }, "{who:?}");
        }
    }
    let day_ago = (chrono::Utc::now() - chrono::Duration::days(1)).timestamp_millis();
    let mut checked = 0;
    for who in callers {
        let full = matches!(who, Caller::Key | Caller::Owner | Caller::Auditor);
        let reads = [
            "/api/v1/events?start=0".to_string(),
            "/api/v1/events?start=0&q=matrix".into(),
            "/api/v1/events?start=0&join=any&f=event:is:Own%20Event&f=event:is:Other%20Event"
                .into(),
            "/api/v1/events/stats?start=0&facet_limit=10".into(),
            format!("/api/v1/events/export?start={day_ago}&format=csv"),
            format!("/api/v1/events/export?start={day_ago}&format=ndjson"),
            "/api/v1/events/poll?after=0".into(),
            format!("/api/v1/events/{own}"),
        ];
        for path in &reads {
            let resp = request(&app, &c, who, app.client.get(app.url(path)))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            assert_eq!(status, read_status(who), "{who:?} {path}: {body}");
            if status == 200 {
                // The one-event route asks for the caller's own event only.
                let one = path.starts_with("/api/v1/events/") && !path.contains('?');
                assert_eq!(
                    body.contains(SECRET),
                    full && !one,
                    "{who:?} {path}: {body}"
                );
                if !path.contains("stats") {
                    assert!(body.contains("Own Event"), "{who:?} {path}: {body}");
                }
            } else {
                assert!(!body.contains("Event\""), "{who:?} {path} leaked: {body}");
            }
            checked += 1;
        }
        // Another's event by id: as if it did not exist.
        let resp = request(
            &app,
            &c,
            who,
            app.client.get(app.url(&format!("/api/v1/events/{other}"))),
        )
        .send()
        .await
        .unwrap();
        let expected = match read_status(who) {
            200 if !full => 404,
            s => s,
        };
        assert_eq!(resp.status().as_u16(), expected, "{who:?} event {other}");
        assert_eq!(
            resp.text().await.unwrap().contains(SECRET),
            full && expected == 200
        );

        // Server exports (jobs): API keys, Owners and Auditors only.
        let resp = request(&app, &c, who, app.client.get(app.url("/api/v1/exports")))
            .send()
            .await
            .unwrap();
        let jobs = match read_status(who) {
            200 if !full => 403,
            s => s,
        };
        assert_eq!(resp.status().as_u16(), jobs, "{who:?} exports");
        let resp = request(
            &app,
            &c,
            who,
            app.client
                .post(app.url("/api/v1/exports"))
                .json(&json!({"name": "x", "view": format!("start={day_ago}"), "format": "csv"})),
        )
        .send()
        .await
        .unwrap();
        let created = if jobs == 200 { 202 } else { jobs };
        assert_eq!(resp.status().as_u16(), created, "{who:?} export create");

        // The page's server functions (session only: a key is not a page's caller).
        let session_status = match who {
            Caller::Owner | Caller::Auditor | Caller::Member => 200,
            Caller::NoAccess => 403,
            _ => 401,
        };
        for (path, form) in [
            (list_events, "filter=&quiet=false&sort=".to_string()),
            (get_event, format!("id={other}")),
        ] {
            let resp = request(
                &app,
                &c,
                who,
                app.client
                    .post(app.url(path))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(form),
            )
            .send()
            .await
            .unwrap();
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            let status_ok = if matches!(
                who,
                Caller::Key
                    | Caller::UnknownKey
                    | Caller::RevokedKey
                    | Caller::ExpiredKey
                    | Caller::IngestKey
            ) {
                status >= 400
            } else if who == Caller::Member && path == get_event {
                // Another's event: refused, said as "no access".
                status == 403 && body.contains("no access")
            } else {
                status == session_status
            };
            assert!(status_ok, "{who:?} {path}: {status} {body}");
            let sees_secret = matches!(who, Caller::Owner | Caller::Auditor);
            assert_eq!(body.contains(SECRET), sees_secret, "{who:?} {path}: {body}");
            checked += 1;
        }

        // The page: to the sign-in page without a session, "no access" without the permission.
        let resp = request(&app, &c, who, plain.get(app.url("/settings/audit-logs")))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        match who {
            Caller::Owner | Caller::Auditor | Caller::Member => assert_eq!(status, 200, "{who:?}"),
            Caller::NoAccess => {
                assert_eq!(status, 403);
                assert!(resp.text().await.unwrap().contains("No access"));
            }
            _ => {
                assert_eq!(status, 303, "{who:?} page");
                let to = resp.headers()["location"].to_str().unwrap();
                assert!(to.starts_with("/sign-in?next="), "{to}");
            }
        }
    }
    assert!(checked > 80, "{checked} checks");
    app.stop().await;
}

#[tokio::test]
async fn the_member_tail_streams_only_their_events() {
    let app = spawn_app().await;
    let cookie = app.session("m", Role::Member, "usr_member").await;
    let resp = app
        .client
        .get(app.url("/api/v1/events/stream?after=0"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    common::tail::ingest(
        &app,
        vec![
            by(SECRET, "user", "Other Event"),
            by("usr_member", "user", "Own Event"),
        ],
    )
    .await;
    let mut reader = common::sse::SseReader::new(resp);
    let deadline = common::tail::deadline(20);
    let mut seen = String::new();
    while !seen.contains("Own Event") {
        let frame = common::tail::next_message(&mut reader, deadline).await;
        seen.push_str(&format!("{frame:?}"));
    }
    assert!(!seen.contains(SECRET), "{seen}");
    app.stop().await;
}

#[tokio::test]
async fn a_members_event_name_suggestions_name_only_events_they_may_see() {
    let app = spawn_app().await;
    common::tail::ingest(
        &app,
        vec![
            by("usr_member", "user", "Own Event"),
            by(SECRET, "user", "Other Event"),
            by("backup-service", "system", "System Event"),
        ],
    )
    .await;
    let path = <app::events::api::EventNames as ServerFn>::PATH;
    for (role, expected) in [
        (Role::Member, vec!["Own Event", "System Event"]),
        (
            Role::Auditor,
            vec!["Other Event", "Own Event", "System Event"],
        ),
    ] {
        let cookie = app.session(role.as_str(), role, "usr_member").await;
        let resp = app
            .client
            .post(app.url(path))
            .header("Sec-Fetch-Site", "same-origin")
            .header("Cookie", &cookie)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{role:?}");
        let names: Vec<String> = resp.json().await.unwrap();
        assert_eq!(names, expected, "{role:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn only_owners_manage_users_and_keys_and_other_sites_cannot_call_server_functions() {
    let app = spawn_app().await;
    let create_key = <app::accounts::settings::CreateKey as ServerFn>::PATH;
    let list_users = <app::accounts::settings::ListUsers as ServerFn>::PATH;
    for (role, allowed) in [
        (Role::Owner, true),
        (Role::Auditor, false),
        (Role::Member, false),
        (Role::None, false),
    ] {
        let cookie = app
            .session(&format!("u-{}", role.as_str()), role, "usr_x")
            .await;
        for (path, form) in [
            (
                create_key,
                "name=from-the-page&ingest=true&read=false&days=0",
            ),
            (list_users, ""),
        ] {
            let resp = app.server_fn(path, &cookie, form).await;
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            if allowed {
                assert_eq!(status, 200, "{role:?} {path}: {body}");
            } else {
                assert_eq!(status, 403, "{role:?} {path}: {body}");
                assert!(!body.contains("alk_"), "{body}");
            }
        }
    }
    // The Owner's own session, from another site's page: refused before anything runs.
    let owner = app.session("u-owner", Role::Owner, "usr_x").await;
    let before = app.store.list_api_keys().await.unwrap().len();
    for site in ["cross-site", "same-site"] {
        let resp = app
            .client
            .post(app.url(create_key))
            .header("Sec-Fetch-Site", site)
            .header("Cookie", &owner)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("name=forged&ingest=true&read=true&days=0")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{site}");
    }
    let resp = app
        .client
        .post(app.url(create_key))
        .header("Origin", "https://evil.example")
        .header("Cookie", &owner)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("name=forged&ingest=true&read=true&days=0")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "Origin of another site");
    assert_eq!(app.store.list_api_keys().await.unwrap().len(), before);
    app.stop().await;
}
