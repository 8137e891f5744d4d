//! Signing in and out over real HTTP, and the viewer auditing itself: a good password starts a
//! session (HttpOnly, SameSite=Strict cookie) and records "Signed In" with the address and user
//! agent; a wrong one records "Sign-in Failed" with the name tried and never the password; repeated
//! failures are slowed down; a form from another site is refused; sign-out ends the session. The
//! command line's user management is audited too, naming the operating-system user and host.

use crate::common;

use app::accounts::{Role, password};
use app::events::query::{EventQuery, MAX_LIMIT};
use common::{TestApp, spawn_app};

const PASSWORD: &str = "a long sign-in password";

fn plain() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn post_sign_in(app: &TestApp, name: &str, pw: &str, site: &str) -> reqwest::Response {
    plain()
        .post(app.url("/auth/sign-in"))
        .header("Sec-Fetch-Site", site)
        .header("User-Agent", "sign-in-test/1.0")
        .form(&[
            ("name", name),
            ("password", pw),
            ("next", "/settings/audit-logs?f=x"),
        ])
        .send()
        .await
        .unwrap()
}

async fn audit_events(app: &TestApp) -> Vec<app::events::model::Event> {
    let q = EventQuery {
        limit: MAX_LIMIT,
        ..EventQuery::default()
    };
    let mut events = app.store.list(&q).await.unwrap().events;
    events.retain(|e| e.body.source.as_deref() == Some("auditlog"));
    events.reverse();
    events
}

#[tokio::test]
async fn sign_in_and_out_start_and_end_a_session_and_are_audited() {
    let app = spawn_app().await;
    app.store
        .add_user("ann", Role::Auditor, "usr_ann", &password::hash(PASSWORD))
        .await
        .unwrap();

    let wrong = post_sign_in(&app, "ann", "not her password", "same-origin").await;
    assert_eq!(wrong.status(), 303);
    let to = wrong.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/sign-in?error=invalid"), "{to}");
    assert!(wrong.headers().get("set-cookie").is_none());
    // An unknown name fails the same way.
    let unknown = post_sign_in(&app, "nobody", PASSWORD, "same-origin").await;
    assert!(
        unknown.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/sign-in?error=invalid")
    );

    let ok = post_sign_in(&app, "ann", PASSWORD, "same-origin").await;
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/settings/audit-logs?f=x");
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();

    let page = plain()
        .get(app.url("/api/v1/events?limit=1"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    // Signing in again from the same browser rotates the session: the old id stops working.
    let again = plain()
        .post(app.url("/auth/sign-in"))
        .header("Sec-Fetch-Site", "same-origin")
        .header("Cookie", &session)
        .form(&[("name", "ann"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let rotated = again.headers()["set-cookie"].to_str().unwrap();
    let rotated = rotated.split(';').next().unwrap().to_string();
    assert_ne!(rotated, session);
    let old = plain()
        .get(app.url("/api/v1/events?limit=1"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401, "the session before sign-in ended");
    let session = rotated;

    // Sign-out from another site's form is refused; from the page it ends the session.
    let forged = plain()
        .post(app.url("/auth/sign-out"))
        .header("Sec-Fetch-Site", "cross-site")
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let out = plain()
        .post(app.url("/auth/sign-out"))
        .header("Sec-Fetch-Site", "same-origin")
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = plain()
        .get(app.url("/api/v1/events?limit=1"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401, "the session ended");

    let events = audit_events(&app).await;
    let names: Vec<&str> = events.iter().map(|e| e.body.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "Sign-in Failed",
            "Sign-in Failed",
            "Signed In",
            "Signed In",
            "Signed Out"
        ]
    );
    let failed = &events[0];
    assert_eq!(failed.body.outcome.as_str(), "failure");
    assert_eq!(failed.body.actor.name, "ann");
    assert_eq!(failed.body.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(failed.body.user_agent.as_deref(), Some("sign-in-test/1.0"));
    assert_eq!(events[1].body.actor.name, "nobody");
    assert_eq!(events[2].body.actor.id, "usr_ann");
    let all = serde_json::to_string(&events).unwrap();
    assert!(
        !all.contains("not her password") && !all.contains(PASSWORD),
        "{all}"
    );
    app.stop().await;
}

#[tokio::test]
async fn repeated_failures_wait_and_other_sites_cannot_sign_in() {
    let app = spawn_app().await;
    app.store
        .add_user("bob", Role::Member, "usr_bob", &password::hash(PASSWORD))
        .await
        .unwrap();
    let cross = post_sign_in(&app, "bob", PASSWORD, "cross-site").await;
    assert!(
        cross.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=origin")
    );
    assert!(cross.headers().get("set-cookie").is_none());

    for _ in 0..app::accounts::session::FREE_FAILURES {
        let r = post_sign_in(&app, "bob", "wrong password!", "same-origin").await;
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .contains("error=invalid")
        );
    }
    // Now even the right password waits, and says for how long.
    let r = post_sign_in(&app, "bob", PASSWORD, "same-origin").await;
    let to = r.headers()["location"].to_str().unwrap();
    assert!(
        to.contains("error=throttled&") || to.contains("error=throttled"),
        "{to}"
    );
    assert!(r.headers().get("retry-after").is_some());
    assert!(r.headers().get("set-cookie").is_none());
    let page = plain()
        .get(app.url(to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Too many failed attempts"), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn command_line_user_management_is_audited_with_the_os_user_and_host() {
    let app = spawn_app().await;
    let db = app.stop_keeping_database().await;
    let bin = env!("CARGO_BIN_EXE_auditlog");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .arg("--database-url")
            .arg(&db.url)
            .args(args)
            .env("USER", "ops")
            .output()
            .expect("run auditlog")
    };
    let added = run(&["users", "add", "cara", "--role", "member"]);
    assert!(added.status.success(), "{added:?}");
    assert!(String::from_utf8_lossy(&added.stdout).contains("Password (shown only now): "));
    assert!(
        run(&["users", "set-role", "cara", "auditor"])
            .status
            .success()
    );
    let missing = run(&["users", "remove", "nobody"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user named `nobody`"));
    let listed = run(&["users", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("cara"));

    let store = app::store::Store::open(&db.url).await.unwrap();
    let q = EventQuery {
        limit: MAX_LIMIT,
        ..EventQuery::default()
    };
    let mut events = store.list(&q).await.unwrap().events;
    events.reverse();
    let seen: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            (
                e.body.event.clone(),
                e.body.outcome.as_str().to_string(),
                e.body
                    .target
                    .as_ref()
                    .and_then(|t| t.name.clone())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("User Added".into(), "success".into(), "cara".into()),
            ("Role Changed".into(), "success".into(), "cara".into()),
            ("User Removed".into(), "failure".into(), "nobody".into()),
        ]
    );
    for e in &events {
        assert!(e.body.actor.id.starts_with("ops@"), "{:?}", e.body.actor);
        assert_eq!(e.body.actor.kind.as_str(), "system");
        assert_eq!(e.body.source.as_deref(), Some("auditlog"));
    }
    store.close().await;
}
