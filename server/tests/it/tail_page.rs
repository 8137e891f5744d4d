//! The Audit Logs page's live tail asks the polling fallback and the stream for its view with
//! `app::tail::view_query`: the server must read that view exactly as the list reads the same view,
//! and a tail opened without `after` by mistake must not replay history. Real server, both stores.

use crate::common;

use app::filters::{Combine, Condition, Field, Filter, Item, Op};
use app::tail::view_query;
use common::{event, get_events, spawn_app};
use serde_json::{Value, json};

fn ids(events: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

fn with(name: &str, minutes_ago: i64, actor: &str, description: &str) -> Value {
    let mut e = event(name, minutes_ago);
    e["actor"]["name"] = json!(actor);
    e["description"] = json!(description);
    e
}

#[tokio::test]
async fn the_pages_tail_query_means_what_the_list_means() {
    let app = spawn_app().await;
    let batch = vec![
        with("Login", 5, "Grace Hopper", "signed in from the office"),
        with("Login Failed", 4, "Grace Hopper", "wrong password"),
        with("Role Updated", 3, "Alan Turing", "billing admin & owner"),
        with("Access Checked", 2, "Alan Turing", "routine check"),
        with("Login", 90, "Alan Turing", "an older sign-in"),
        with(
            "Export Created",
            1,
            "Ada Lovelace",
            "quarterly billing export",
        ),
    ];
    let resp = app.post(&Value::Array(batch)).await;
    assert_eq!(resp.status(), 201);
    let now = chrono::Utc::now().timestamp_millis();

    let any_of = Filter {
        combine: Combine::Any,
        items: vec![
            Item::Condition(Condition::new(Field::Event, Op::Is, &["Login Failed"])),
            Item::Group {
                combine: Combine::All,
                conditions: vec![
                    Condition::new(Field::ActorName, Op::Contains, &["Turing"]),
                    Condition::new(Field::Event, Op::IsNot, &["Access Checked"]),
                ],
            },
        ],
    };
    // (start, end, event, filter, search), each compared with the list's answer for the same view.
    type View<'a> = (
        Option<i64>,
        Option<i64>,
        Option<&'a str>,
        Filter,
        Option<&'a str>,
    );
    let views: Vec<View> = vec![
        (None, None, None, Filter::default(), None),
        (
            Some(now - 60 * 60_000),
            Some(now + 60_000),
            None,
            Filter::default(),
            None,
        ),
        (None, None, Some("Login"), Filter::default(), None),
        (None, None, None, any_of.clone(), None),
        (Some(now - 60 * 60_000), None, None, any_of, None),
        (None, None, None, Filter::default(), Some("billing")),
    ];
    for (start, end, name, filter, search) in views {
        let query = view_query(start, end, name, &filter, search, false);
        let tail = app.poll(&format!("{query}&after=0")).await;
        assert_eq!(tail["more"], false);

        let mut pairs = vec![("limit".to_string(), "2000".to_string())];
        pairs.push(("start".into(), start.unwrap_or(0).to_string()));
        if let Some(end) = end {
            pairs.push(("end".into(), end.to_string()));
        }
        if let Some(name) = name {
            pairs.push(("event".into(), name.into()));
        }
        if let Some(q) = search {
            pairs.push(("q".into(), q.into()));
        }
        pairs.extend(filter.to_query());
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, list) = get_events(&app, &borrowed).await;
        assert_eq!(status, 200, "{pairs:?}: {list}");
        assert_eq!(ids(&tail["events"]), ids(&list["events"]), "{query}");
        assert!(
            !ids(&list["events"]).is_empty() || search.is_some(),
            "{query}"
        );
    }

    // "Hide noisy events" on the page is `quiet` on the tail.
    let quiet = app
        .poll(&format!(
            "{}&after=0",
            view_query(None, None, None, &Filter::default(), None, true)
        ))
        .await;
    let names: Vec<&str> = quiet["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"Access Checked"), "{names:?}");
    assert_eq!(names.len(), 5);
    app.stop().await;
}
