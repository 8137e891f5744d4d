//! The live tail over HTTP: `GET /api/v1/events/stream` (Server-Sent Events) and its polling
//! fallback `GET /api/v1/events/poll`, against the real server on both stores.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use app::accounts::Role;
use app::store::testing::TestDatabase;
use common::tail::{
    deadline, events_until, ids_of, ingest, ingested_ids, named, next_message, open, open_at, ready,
};
use common::{TestApp, event, spawn_app, spawn_app_with, start};
use serde_json::{Value, json};
use server::api::LiveConfig;
use tokio::time::{Instant, timeout_at};

const STREAM: &str = "/api/v1/events/stream";
const POLL: &str = "/api/v1/events/poll";

#[tokio::test]
async fn new_events_arrive_in_id_order_rendered_as_the_list_renders_them() {
    let app = spawn_app().await;
    let before = ingest(&app, named("Before", 3)).await;
    let mut reader = open(&app, "", None).await;
    let start = ready(&mut reader).await;
    assert_eq!(
        start, before[2],
        "without after, the stream starts at the newest id"
    );

    let mut sent = Vec::new();
    for i in 0..5 {
        sent.extend(ingest(&app, named(&format!("Batch {i}"), 4)).await);
    }
    let got = events_until(&mut reader, *sent.last().unwrap()).await;
    assert_eq!(ids_of(&got), sent, "every new event once, in id order");

    let (status, list) = app.list("limit=2000&start=0").await;
    assert_eq!(status, 200);
    let listed: HashMap<i64, &Value> = list["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id"].as_i64().unwrap(), e))
        .collect();
    for e in &got {
        assert_eq!(Some(&e), listed.get(&e["id"].as_i64().unwrap()));
    }
    drop(reader);
    app.stop().await;
}

#[tokio::test]
async fn after_replays_what_followed_an_id_then_goes_on_live() {
    let app = spawn_app().await;
    let old = ingest(&app, named("Old", 6)).await;
    let mut reader = open(&app, &format!("after={}", old[1]), None).await;
    assert_eq!(ready(&mut reader).await, old[1]);
    let replayed = events_until(&mut reader, old[5]).await;
    assert_eq!(ids_of(&replayed), old[2..]);
    let new = ingest(&app, named("New", 2)).await;
    assert_eq!(ids_of(&events_until(&mut reader, new[1]).await), new);
    drop(reader);
    app.stop().await;
}

#[tokio::test]
async fn the_filter_is_applied_on_the_server_like_the_list_applies_it() {
    let app = spawn_app().await;
    // Failures of Login or Role Deleted, searched for "billing", without noisy events.
    let view = "f=outcome:is:failure&f=event:any_of:Login|Role%20Deleted|Access%20Checked\
                &q=billing&quiet=1";
    let mut reader = open(&app, view, None).await;
    let start = ready(&mut reader).await;

    let mut batch = Vec::new();
    for (i, name) in ["Login", "Role Deleted", "Access Checked", "Logout"]
        .iter()
        .cycle()
        .take(40)
        .enumerate()
    {
        let mut e = event(name, 0);
        if i % 3 != 0 {
            e["outcome"] = json!("failure");
        }
        // "Billing Admin" is the target's name in common::event; some get another one.
        if i % 5 == 0 {
            e["target"]["name"] = json!("Support Lead");
        }
        batch.push(e);
    }
    let ids = ingest(&app, batch.clone()).await;
    let wanted: Vec<i64> = ids
        .iter()
        .zip(&batch)
        .enumerate()
        .filter(|(i, (_, e))| {
            i % 3 != 0
                && i % 5 != 0
                && ["Login", "Role Deleted"].contains(&e["event"].as_str().unwrap())
        })
        .map(|(_, (id, _))| *id)
        .collect();
    assert!(wanted.len() >= 10 && wanted.len() < ids.len() / 2);
    // A last matching event marks the end, so the test knows nothing else is coming.
    let mut last = event("Login", 0);
    last["outcome"] = json!("failure");
    let end = ingest(&app, vec![last]).await[0];

    let got = events_until(&mut reader, end).await;
    let mut expected = wanted.clone();
    expected.push(end);
    assert_eq!(ids_of(&got), expected, "only matching events were sent");

    // The list holds the same events for the same view (`quiet` is the page's: the list's filter
    // leaves out the noisy Access Checked instead).
    let (status, list) = app
        .list(
            "limit=2000&start=0&f=outcome:is:failure&f=event:any_of:Login|Role%20Deleted&q=billing",
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let mut listed: Vec<i64> = list["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .filter(|id| *id > start)
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, expected);
    drop(reader);
    app.stop().await;
}

#[tokio::test]
async fn quiet_hides_the_noisy_events_as_the_page_does() {
    let app = spawn_app().await;
    let mut reader = open(&app, "quiet=1", None).await;
    ready(&mut reader).await;
    let ids = ingest(
        &app,
        vec![
            event("Access Checked", 0),
            event("Login", 0),
            event("Resource Read", 0),
            event("Logout", 0),
        ],
    )
    .await;
    let got = events_until(&mut reader, ids[3]).await;
    assert_eq!(ids_of(&got), [ids[1], ids[3]]);
    drop(reader);
    app.stop().await;
}

/// Ingests through the HTTP API in small batches until told to stop; returns the acknowledged ids.
fn keep_ingesting(app: &TestApp, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Vec<i64>> {
    let (client, url, key) = (
        app.client.clone(),
        app.url("/api/v1/events"),
        app.key.clone(),
    );
    tokio::spawn(async move {
        let mut acked = Vec::new();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) || acked.len() < 100 {
            n += 1;
            let batch: Vec<Value> = (0..1 + n % 4).map(|_| event("Busy", 0)).collect();
            let resp = client
                .post(&url)
                .bearer_auth(&key)
                .json(&batch)
                .send()
                .await
                .expect("post");
            assert_eq!(resp.status(), 201);
            acked.extend(ingested_ids(&resp.json().await.expect("json")));
        }
        acked
    })
}

#[tokio::test]
async fn resuming_with_last_event_id_loses_and_repeats_nothing_while_events_keep_arriving() {
    let app = spawn_app().await;
    let mut reader = open(&app, "", None).await;
    let start = ready(&mut reader).await;
    let stop = Arc::new(AtomicBool::new(false));
    let ingester = keep_ingesting(&app, Arc::clone(&stop));

    let mut received: Vec<i64> = Vec::new();
    // Disconnect after a few events, several times, resuming from the last id received (the
    // `ready` id when none was): by Last-Event-ID, by `after`, and by both (the header wins).
    for (round, take) in [3usize, 1, 7, 2, 5].into_iter().enumerate() {
        let mut last = received.last().copied().unwrap_or(start);
        for _ in 0..take {
            let frame = next_message(&mut reader, deadline(20)).await;
            assert!(frame.is("audit_event"), "{frame:?}");
            received.push(frame.id());
            last = frame.id();
        }
        drop(reader);
        reader = match round % 3 {
            0 => open(&app, "", Some(last)).await,
            1 => open(&app, &format!("after={last}"), None).await,
            _ => open(&app, &format!("after={start}"), Some(last)).await,
        };
        assert_eq!(ready(&mut reader).await, last);
    }
    stop.store(true, Ordering::Relaxed);
    let acked = ingester.await.expect("ingester");
    let last = *acked.iter().max().unwrap();
    received.extend(ids_of(&events_until(&mut reader, last).await));

    let mut expected = acked.clone();
    expected.sort_unstable();
    assert_eq!(received, expected, "every acknowledged id once, in order");
    drop(reader);
    app.stop().await;
}

#[tokio::test]
async fn many_streams_of_two_views_each_get_their_views_events_once_in_order_while_events_arrive() {
    let app = spawn_app().await;
    // Streams of one view share their reads of the store: each must still get every event of its
    // view exactly once, in order.
    let mut readers = Vec::new();
    for i in 0..12 {
        let query = if i % 2 == 0 { "" } else { "event=Calm" };
        let mut reader = open(&app, query, None).await;
        ready(&mut reader).await;
        readers.push(tokio::spawn(async move {
            let until = deadline(60);
            let mut got = Vec::new();
            loop {
                let frame = next_message(&mut reader, until).await;
                assert!(frame.is("audit_event"), "{frame:?}");
                let e = frame.json();
                got.push((frame.id(), e["event"].as_str().unwrap().to_string()));
                if e["metadata"]["last"] == true {
                    return got;
                }
            }
        }));
    }
    let mut acked: Vec<(i64, String)> = Vec::new();
    for n in 0..120usize {
        let mut batch: Vec<Value> = (0..1 + n % 4)
            .map(|k| event(if (n + k) % 3 == 0 { "Calm" } else { "Busy" }, 0))
            .collect();
        if n == 119 {
            let mut last = event("Calm", 0);
            last["metadata"] = json!({"last": true});
            batch.push(last);
        }
        let names: Vec<String> = batch
            .iter()
            .map(|e| e["event"].as_str().unwrap().to_string())
            .collect();
        acked.extend(ingest(&app, batch).await.into_iter().zip(names));
    }
    acked.sort_unstable();
    let calm: Vec<(i64, String)> = acked.iter().filter(|(_, n)| n == "Calm").cloned().collect();
    for (i, reader) in readers.into_iter().enumerate() {
        let got = reader.await.expect("reader");
        let expected = if i % 2 == 0 { &acked } else { &calm };
        assert_eq!(
            &got, expected,
            "stream {i}: its view's events, once each, in order"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_skipped_past_its_backlog_and_stalls_no_one() {
    let app = spawn_app().await;
    let max_backlog = LiveConfig::default().max_backlog as usize;
    let mut slow = open(&app, "", None).await;
    let start = ready(&mut slow).await;
    let mut fast = open(&app, "", None).await;
    ready(&mut fast).await;

    // The slow client reads nothing from here. Its socket buffers fill, and then the server pulls
    // no more events for it: `sent` grows by exactly what the fast client gets. Events come in
    // steps the fast client reads completely, so it is never more than one step behind.
    const STEP: usize = 500;
    let mut all: Vec<i64> = Vec::new();
    let mut quiet_rounds = 0;
    for round in 0.. {
        assert!(
            round < 30,
            "the server kept pulling events for a client that reads nothing"
        );
        let sent_before = app.live.sent();
        for _ in 0..4 {
            let ids = ingest(&app, named("Flood", STEP)).await;
            let got = events_until(&mut fast, *ids.last().unwrap()).await;
            assert_eq!(ids_of(&got), ids, "the fast client is not held up");
            all.extend(&ids);
        }
        let pulled_for_slow = app.live.sent() - sent_before - 4 * STEP as u64;
        quiet_rounds = if pulled_for_slow == 0 {
            quiet_rounds + 1
        } else {
            0
        };
        // Two rounds without a pull: its backlog (in the database) is past the limit.
        if quiet_rounds == 2 {
            break;
        }
    }
    let newest = *all.last().unwrap();

    // Reading again: what was already on its way arrives, then the rest is skipped, counted.
    let mut before_skip = Vec::new();
    let skipped = loop {
        let frame = next_message(&mut slow, deadline(30)).await;
        if frame.is("skipped") {
            break frame;
        }
        assert!(frame.is("audit_event"), "{frame:?}");
        before_skip.push(frame.id());
    };
    let body = skipped.json();
    let resume_after = body["resume_after"].as_i64().unwrap();
    assert_eq!(
        skipped.id(),
        resume_after,
        "a reconnection continues after the skip"
    );
    assert_eq!(resume_after, newest, "the stream jumps to the newest id");
    assert_eq!(body["exact"], true);
    assert_eq!(
        before_skip,
        all[..before_skip.len()],
        "what arrived is in order from the start"
    );
    assert!(before_skip.first().is_none_or(|id| *id > start));
    let n = body["skipped"].as_u64().unwrap() as usize;
    eprintln!(
        "{} events ingested; the slow client got {} ({} KiB) before the skip, {n} skipped",
        all.len(),
        before_skip.len(),
        slow.bytes / 1024
    );
    assert_eq!(
        before_skip.len() + n,
        all.len(),
        "every event arrived or was counted"
    );
    assert!(n > max_backlog, "skipped {n}");
    assert_eq!(app.live.skipped(), n as u64);

    // The stream goes on live after the skip.
    let after = ingest(&app, named("After", 3)).await;
    assert_eq!(ids_of(&events_until(&mut slow, after[2]).await), after);
    drop((slow, fast));
    app.stop().await;
}

#[tokio::test]
async fn an_idle_stream_sends_keep_alive_comments() {
    let live = LiveConfig {
        keep_alive: Duration::from_millis(100),
        ..LiveConfig::default()
    };
    let app = spawn_app_with(TestDatabase::from_env().await, live).await;
    let mut reader = open(&app, "", None).await;
    ready(&mut reader).await;
    let until = deadline(10);
    let mut comments = 0;
    while comments < 2 {
        let frame = timeout_at(until, reader.next())
            .await
            .expect("keep-alive before the deadline")
            .expect("open");
        assert_eq!(frame.event, None, "nothing but comments on an idle stream");
        assert_eq!(frame.comments, ["keep-alive"]);
        comments += 1;
    }
    assert_eq!(app.live.open(), 1);
    drop(reader);
    app.stop().await;
}

#[tokio::test]
async fn only_a_key_or_the_page_itself_may_read_the_tail() {
    let app = spawn_app().await;
    for path in [STREAM, POLL] {
        let get = || app.client.get(app.url(path));
        let resp = get().send().await.unwrap();
        assert_eq!(resp.status(), 401, "{path} without a key");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("Authorization"));

        let resp = get().bearer_auth("alk_wrong").send().await.unwrap();
        assert_eq!(resp.status(), 401, "{path} with a wrong key");
        // A key that is wrong is refused even from the page.
        let resp = get()
            .bearer_auth("alk_wrong")
            .header("Sec-Fetch-Site", "same-origin")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        for site in ["cross-site", "same-site", "none"] {
            let resp = get().header("Sec-Fetch-Site", site).send().await.unwrap();
            assert_eq!(resp.status(), 401, "{path} from {site}");
        }

        // The page's own requests (same origin, no key) need its session.
        let resp = get()
            .header("Sec-Fetch-Site", "same-origin")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{path} from the page without a session");
        let cookie = app.session("viewer", Role::Auditor, "usr_v").await;
        let resp = get()
            .header("Sec-Fetch-Site", "same-origin")
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path} from the page, signed in");
        drop(resp);
        let resp = get().bearer_auth(&app.key).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path} with the key");
        drop(resp);
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_field() {
    let app = spawn_app().await;
    let long = "x".repeat(201);
    let cases: Vec<(&str, String, Option<&str>, &str)> = vec![
        (STREAM, "sort=-time".into(), None, "sort"),
        (STREAM, "cursor=abc".into(), None, "cursor"),
        (STREAM, "limit=10".into(), None, "limit"),
        (STREAM, "after=-1".into(), None, "after"),
        (STREAM, "after=ten".into(), None, "after"),
        (STREAM, "after=1&after=2".into(), None, "after"),
        (STREAM, "quiet=maybe".into(), None, "quiet"),
        (STREAM, String::new(), Some("abc"), "Last-Event-ID"),
        (STREAM, "f=colour:is:red".into(), None, "f"),
        (STREAM, format!("q={long}"), None, "q"),
        (STREAM, "start=yesterday".into(), None, "start"),
        (STREAM, "color=red".into(), None, "color"),
        (POLL, "sort=seq".into(), None, "sort"),
        (POLL, "after=0&limit=0".into(), None, "limit"),
        (POLL, "after=0&limit=2001".into(), None, "limit"),
        (POLL, "after=x".into(), None, "after"),
        (POLL, "f=event:is".into(), None, "f"),
    ];
    for (path, query, last_event_id, field) in cases {
        let mut req = app
            .client
            .get(app.url(&format!("{path}?{query}")))
            .bearer_auth(&app.key);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 400, "{path}?{query}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["field"], field, "{path}?{query}: {body}");
    }
    app.stop().await;
}

/// Stores `n` events through the server's own store (its writer session, no new connection).
async fn app_store_append(app: &TestApp, n: usize) -> Vec<i64> {
    use app::events::model::parse_event;
    use app::store::{AppendOutcome, AppendRequest, ItemResult};
    let now = chrono::Utc::now();
    let items = (0..n)
        .map(|_| parse_event(&event("While down", 0), now))
        .collect();
    let outcome = app
        .store
        .append(AppendRequest {
            scope: "test".into(),
            request_key: None,
            items,
        })
        .await
        .expect("append");
    let AppendOutcome::Done { results, .. } = outcome else {
        panic!("no idempotency key was sent");
    };
    results
        .iter()
        .map(|r| match r {
            ItemResult::Stored { id, .. } => *id,
            ItemResult::Rejected(e) => panic!("{e:?}"),
        })
        .collect()
}

#[tokio::test]
async fn a_stream_follows_the_change_feed_across_a_lost_postgres_listener() {
    let db = TestDatabase::from_env().await;
    if !db.is_postgres() {
        println!("skipped: the listener is PostgreSQL's (AUDITLOG_TEST_BACKEND=postgres)");
        return;
    }
    let app = common::spawn_app_on(db).await;
    let mut reader = open(&app, "", None).await;
    ready(&mut reader).await;
    let first = ingest(&app, named("Before", 1)).await;
    events_until(&mut reader, first[0]).await;

    // End the listener's session while the database takes no new connections, and commit: that
    // commit's notice reaches no one. The sessions the store already has (writer, readers) go on.
    use sqlx::Connection as _;
    let name: String = {
        let mut own = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
        let name = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&mut own)
            .await
            .unwrap();
        own.close().await.unwrap();
        name
    };
    // A database cannot refuse connections to itself: this session is on the admin database.
    let admin = std::env::var("AUDITLOG_TEST_PG_URL").expect("AUDITLOG_TEST_PG_URL");
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    let allow = |yes: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {yes}");
    sqlx::query(&allow(false)).execute(&mut conn).await.unwrap();
    let listening = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND query LIKE 'LISTEN%'"
    );
    let killed: Vec<bool> =
        sqlx::query_scalar(&listening.replace("count(*)", "pg_terminate_backend(pid)"))
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(killed, [true]);
    let until = deadline(10);
    while sqlx::query_scalar::<_, i64>(&listening)
        .fetch_one(&mut conn)
        .await
        .unwrap()
        > 0
    {
        assert!(Instant::now() < until, "the listener's session ended");
        tokio::task::yield_now().await;
    }
    let lost = app_store_append(&app, 2).await;
    sqlx::query(&allow(true)).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    // No later commit announces anything: the stream learns of these when the listener is back.
    assert_eq!(ids_of(&events_until(&mut reader, lost[1]).await), lost);
    drop(reader);
    app.stop().await;
}

#[tokio::test]
async fn a_client_of_one_node_sees_the_events_ingested_through_another() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        println!("skipped: AUDITLOG_TEST_PG_URL not set (the multi-node test needs PostgreSQL)");
        return;
    };
    let db = TestDatabase::postgres(&admin).await;
    let (a, a_store, a_stop, a_served) = start(&db.url).await;
    let (b, _b_store, b_stop, b_served) = start(&db.url).await;
    let (_, key) = a_store.create_api_key("nodes").await.expect("key");
    let client = common::client();

    let mut on_b = open_at(&client, &b, &key, "event=Via%20A", None).await;
    ready(&mut on_b).await;
    let mut acked = Vec::new();
    for i in 0..5 {
        let body = json!([event("Via A", 0), event("Elsewhere", 0), event("Via A", i)]);
        let resp = client
            .post(format!("{a}/api/v1/events"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let ids = ingested_ids(&resp.json().await.unwrap());
        acked.extend([ids[0], ids[2]]);
    }
    let got = events_until(&mut on_b, *acked.last().unwrap()).await;
    assert_eq!(ids_of(&got), acked);

    drop(on_b);
    for stop in [a_stop, b_stop] {
        let _ = stop.send(());
    }
    let _ = a_served.await;
    let _ = b_served.await;
}
