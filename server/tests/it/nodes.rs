//! Several server processes ("nodes") on one PostgreSQL database: each is the real server on its
//! own port with its own store (pools, writer, listener), as separate processes would have.
//! Runs when `AUDITLOG_TEST_PG_URL` names a PostgreSQL server; says it was skipped otherwise.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use app::store::Committed;
use app::store::testing::TestDatabase;
use common::{event, start};
use serde_json::{Value, json};

async fn post(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    body: &Value,
    idem: Option<&str>,
) -> (u16, bool, Value) {
    let mut req = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(key)
        .json(body);
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.expect("request");
    let replayed = resp.headers().contains_key("idempotent-replayed");
    (
        resp.status().as_u16(),
        replayed,
        resp.json().await.expect("json"),
    )
}

fn ids(body: &Value) -> Vec<i64> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

/// Receives feed notices until `want` ids are covered or the deadline passes.
async fn collect(
    feed: &mut tokio::sync::broadcast::Receiver<Committed>,
    want: usize,
) -> Vec<Committed> {
    let mut got = Vec::new();
    let mut covered = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while covered < want {
        match tokio::time::timeout_at(deadline, feed.recv()).await {
            Ok(Ok(c)) => {
                covered += (c.last_id - c.first_id + 1) as usize;
                got.push(c);
            }
            Ok(Err(e)) => panic!("feed failed: {e}"),
            Err(_) => panic!("feed delivered {covered} of {want} ids before the deadline: {got:?}"),
        }
    }
    got
}

#[tokio::test]
async fn two_nodes_share_sequence_idempotency_and_the_change_feed() {
    let Ok(admin) = std::env::var("AUDITLOG_TEST_PG_URL") else {
        println!("skipped: AUDITLOG_TEST_PG_URL not set (the multi-node test needs PostgreSQL)");
        return;
    };
    let db = TestDatabase::postgres(&admin).await;
    let (a, a_store, a_stop, a_served) = start(&db.url).await;
    let (b, b_store, b_stop, b_served) = start(&db.url).await;
    let (_, key) = a_store.create_api_key("nodes").await.expect("key");
    let client = common::client();
    let mut feed_b = b_store.subscribe();
    let mut feed_a = a_store.subscribe();

    // Ingest through A; B's feed hears of the commit, and B reads the events.
    let (status, _, body) = post(
        &client,
        &a,
        &key,
        &json!([event("Via A", 3), event("Via A", 2)]),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let first = ids(&body);
    let notices = collect(&mut feed_b, 2).await;
    assert_eq!(
        notices,
        [Committed {
            first_id: first[0],
            last_id: first[1]
        }]
    );
    let listed: Value = client
        .get(format!("{b}/api/v1/events?event=Via%20A"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["events"].as_array().map(Vec::len), Some(2));

    // A retry through the other node replays the original answer and stores nothing.
    let batch = json!([event("Retried", 1)]);
    let (s1, r1, once) = post(&client, &a, &key, &batch, Some("retry-1")).await;
    let (s2, r2, again) = post(&client, &b, &key, &batch, Some("retry-1")).await;
    assert_eq!((s1, r1, s2, r2), (201, false, 201, true));
    assert_eq!(once, again);
    let mut single = event("Keyed", 1);
    single["idempotency_key"] = json!("evt-1");
    let (_, _, k1) = post(&client, &a, &key, &single, None).await;
    let (_, _, k2) = post(&client, &b, &key, &single, None).await;
    assert_eq!(ids(&k1), ids(&k2));
    assert_eq!(k2["results"][0]["duplicate"], true);
    // Drain what the feeds carried so far: A's two first ids, then "Retried" and "Keyed" on both.
    let _ = collect(&mut feed_a, 4).await;
    let _ = collect(&mut feed_b, 2).await;

    // Both nodes ingesting at once: ids are unique, and each node's feed reports every commit once,
    // in commit order (ascending, non-overlapping ranges).
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (client, key) = (client.clone(), key.clone());
        let base = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let (status, _, body) = post(
                &client,
                &base,
                &key,
                &json!([event("Busy", 1), event("Busy", 1), event("Busy", 1)]),
                None,
            )
            .await;
            assert_eq!(status, 201);
            ids(&body)
        }));
    }
    let mut stored = Vec::new();
    for t in tasks {
        stored.extend(t.await.expect("task"));
    }
    assert_eq!(stored.iter().collect::<HashSet<_>>().len(), 90);
    stored.sort_unstable();
    for feed in [&mut feed_a, &mut feed_b] {
        let notices = collect(feed, 90).await;
        let covered: Vec<i64> = notices
            .iter()
            .flat_map(|c| c.first_id..=c.last_id)
            .collect();
        assert!(
            covered.windows(2).all(|w| w[0] < w[1]),
            "commit order: {notices:?}"
        );
        assert!(
            stored.iter().all(|id| covered.contains(id)),
            "every id was announced"
        );
    }

    // Both writers continued one hash chain, in commit order: it verifies end to end.
    let v = a_store
        .verify(&app::store::verify::VerifyOptions::default(), |_| {})
        .await
        .expect("verify");
    assert!(v.ok(), "{v:?}");
    assert!(v.events >= 90, "{v:?}");
    assert_eq!(v.through, stored.last().copied());

    for stop in [a_stop, b_stop] {
        let _ = stop.send(());
    }
    let _ = a_served.await;
    let _ = b_served.await;
}
