//! Free-text search on `GET /api/v1/events` (`q=`), over real HTTP, on the store the environment
//! selects (SQLite by default).

use crate::common;

use common::{TestApp, event, get_events, names, spawn_app};
use serde_json::json;

/// Four events, newest first: Model Deployed, Role Created, Café Opened, Login.
async fn seeded() -> TestApp {
    let app = spawn_app().await;
    let mut login = event("Login", 40);
    login["actor"] =
        json!({"id": "usr_7", "name": "Grace Hopper", "type": "user", "email": "grace@navy.mil"});
    login["target"] = json!({"type": "session", "name": "Web session"});
    let mut cafe = event("Café Opened", 30);
    cafe["description"] = json!("Opened the école's café");
    cafe["actor"] = json!({"id": "usr_8", "name": "Zoë", "type": "user"});
    cafe["outcome"] = json!("failure");
    let mut role = event("Role Created", 20);
    role["actor"] = json!({"id": "k1", "name": "Deploy bot", "type": "app"});
    role["source"] = json!("model-service"); // not searched
    let deployed = event("Model Deployed", 10); // actor Ada Lovelace, target Billing Admin
    let resp = app.post(&json!([login, cafe, role, deployed])).await;
    assert_eq!(resp.status(), 201);
    app
}

#[tokio::test]
async fn words_and_prefixes_match_case_and_accent_insensitively() {
    let app = seeded().await;
    // Whole words and prefixes of the name; case does not matter.
    assert_eq!(names(&app, &[("q", "deployed")]).await, ["Model Deployed"]);
    assert_eq!(
        names(&app, &[("q", "DEPLO")]).await,
        ["Model Deployed", "Role Created"],
        "the name, and the actor name \"Deploy bot\""
    );
    // Every word must match (AND), in any order.
    assert_eq!(names(&app, &[("q", "deplo mod")]).await, ["Model Deployed"]);
    assert!(names(&app, &[("q", "deplo mod grace")]).await.is_empty());
    // The description, the actor's name, email and id, the target's name.
    assert_eq!(names(&app, &[("q", "ecole")]).await, ["Café Opened"]);
    assert_eq!(names(&app, &[("q", "hopper")]).await, ["Login"]);
    assert_eq!(names(&app, &[("q", "navy")]).await, ["Login"]);
    assert_eq!(names(&app, &[("q", "usr_8")]).await, ["Café Opened"]);
    assert_eq!(names(&app, &[("q", "web sess")]).await, ["Login"]);
    // Accents are ignored both ways.
    assert_eq!(names(&app, &[("q", "CAFE")]).await, ["Café Opened"]);
    assert_eq!(names(&app, &[("q", "zoe")]).await, ["Café Opened"]);
    // The source is not searched; a word must start where a word starts.
    assert!(names(&app, &[("q", "service")]).await.is_empty());
    assert!(names(&app, &[("q", "eployed")]).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn punctuation_separates_words_and_never_acts_as_syntax() {
    let app = seeded().await;
    assert_eq!(
        names(&app, &[("q", "grace@navy.mil")]).await,
        ["Login"],
        "an email is its words"
    );
    assert_eq!(
        names(&app, &[("q", "\"model\" -deployed*")]).await,
        ["Model Deployed"]
    );
    for hostile in [
        "\"",
        "*",
        "a\" OR \"b",
        "NEAR(a b)",
        "x:* | !y",
        "'; DROP TABLE events; --",
    ] {
        let (status, body) = get_events(&app, &[("q", hostile)]).await;
        assert_eq!(status, 200, "{hostile}: {body}");
    }
    // Punctuation only: no words, no search.
    assert_eq!(names(&app, &[("q", "*!?")]).await.len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn search_combines_with_filters_time_and_paging() {
    let app = seeded().await;
    assert_eq!(
        names(&app, &[("q", "o"), ("f", "outcome:is:failure")]).await,
        ["Café Opened"]
    );
    assert_eq!(
        names(&app, &[("q", "ada"), ("event", "Model Deployed")]).await,
        ["Model Deployed"]
    );
    let since = (chrono::Utc::now() - chrono::Duration::minutes(25)).to_rfc3339();
    assert_eq!(
        names(&app, &[("q", "deplo"), ("start", &since)]).await,
        ["Model Deployed", "Role Created"]
    );
    // Pages of one follow the search.
    let (status, first) = get_events(&app, &[("q", "deplo"), ("limit", "1")]).await;
    assert_eq!(status, 200);
    let cursor = first["next_cursor"].as_str().expect("a second page");
    assert_eq!(
        names(&app, &[("q", "deplo"), ("limit", "1"), ("cursor", cursor)]).await,
        ["Role Created"]
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_q_is_a_400_naming_it() {
    let app = seeded().await;
    let (status, body) = get_events(&app, &[("q", &"a".repeat(201))]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "q");
    let (status, body) = get_events(&app, &[("q", "a"), ("q", "b")]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "q");
    // Blank is no search; 200 characters (after trimming) is fine.
    assert_eq!(names(&app, &[("q", "   ")]).await.len(), 4);
    let long = format!("  {}  ", "a".repeat(200));
    assert_eq!(get_events(&app, &[("q", &long)]).await.0, 200);
    app.stop().await;
}
