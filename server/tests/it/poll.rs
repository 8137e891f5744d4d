//! The live tail's polling fallback, `GET /api/v1/events/poll`: what followed an id, in pages,
//! and where to continue; against the real server on both stores.

use crate::common;

use common::spawn_app;
use common::tail::{ids_of, ingest, named};
use serde_json::{Value, json};

#[tokio::test]
async fn polling_pages_through_what_followed_an_id_and_says_where_to_continue() {
    let app = spawn_app().await;
    let empty = app.poll("").await;
    assert_eq!(
        empty,
        json!({"events": [], "resume_after": 0, "more": false})
    );

    let ids = ingest(&app, named("Polled", 5)).await;
    let others = ingest(&app, named("Other", 2)).await;
    // Without `after`: nothing, and where to start.
    let start = app.poll("event=Polled").await;
    assert_eq!(start["events"], json!([]));
    assert_eq!(start["resume_after"], others[1]);

    let first = app.poll("after=0&event=Polled&limit=3").await;
    assert_eq!(ids_of(first["events"].as_array().unwrap()), ids[..3]);
    assert_eq!(first["more"], true);
    assert_eq!(first["resume_after"], ids[2]);
    let rest = app
        .poll(&format!("after={}&event=Polled&limit=3", ids[2]))
        .await;
    assert_eq!(ids_of(rest["events"].as_array().unwrap()), ids[3..]);
    assert_eq!(rest["more"], false);
    // A complete answer continues after the newest id, past the events outside the view.
    assert_eq!(rest["resume_after"], others[1]);
    let none = app.poll(&format!("after={}&event=Polled", others[1])).await;
    assert_eq!(none["events"], json!([]));
    assert_eq!(none["resume_after"], others[1]);

    // The events are those of the list.
    let (_, list) = app.list("limit=2000&start=0&event=Polled").await;
    let mut listed = list["events"].as_array().unwrap().clone();
    listed.reverse();
    let all = app.poll("after=0&event=Polled").await;
    assert_eq!(all["events"], Value::Array(listed));
    app.stop().await;
}
