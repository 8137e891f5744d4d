//! HTTP benchmark: batch ingest of N events (default 1,000,000) through `POST /api/v1/events`
//! with fsync'd group commits, then first-page latency of `GET /api/v1/events` at that size.
//!
//! Run with `scripts/bench.sh` (or `cargo bench -p server --bench http`); `BENCH_EVENTS` sets N.
//! Results replace this benchmark's section of `BENCHMARKS.md`, with the machine they came from.

use std::time::{Duration, Instant};

use app::store::Store;
use server::demo::Generator;
use support::{
    LATENCY_SAMPLES, bench_database, database_size, latency, machine, ms, pct, serve, write_section,
};

mod support;

const BATCH: usize = 1000;
const CLIENTS: usize = 8;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let batches = total.div_ceil(BATCH);
    // BENCH_STORE=postgres measures PostgreSQL (a fresh database through AUDITLOG_TEST_PG_URL).
    let (postgres, db) = bench_database().await;
    let store = Store::open(&db.url).await?;
    let (_, key) = store.create_api_key("bench").await?;
    let (base, stop_tx, server) = serve(store.clone()).await?;

    // Live ingest: services report events as they happen, so a stream arrives roughly in time
    // order. The generator's events, sorted by occurred_at, stand for that stream.
    eprintln!("generating {total} events in {batches} request bodies…");
    let mut generator = Generator::new(42, chrono::Utc::now());
    let mut events: Vec<serde_json::Value> = (0..total).map(|_| generator.next_event()).collect();
    events.sort_by(|a, b| a["occurred_at"].as_str().cmp(&b["occurred_at"].as_str()));
    let bodies: Vec<Vec<u8>> = events
        .chunks(BATCH)
        .map(|c| serde_json::to_vec(c).unwrap_or_default())
        .collect();
    drop(events);
    let avg_body = bodies.iter().map(Vec::len).sum::<usize>() / bodies.len().max(1);
    let client = reqwest::Client::new();
    eprintln!("ingesting in time order with {CLIENTS} concurrent clients…");
    let (elapsed, mut batch_latencies) = ingest(&client, &[base.as_str()], &key, bodies).await?;
    let rate = total as f64 / elapsed.as_secs_f64();
    eprintln!(
        "ingest: {total} events in {:.1} s = {rate:.0} events/s",
        elapsed.as_secs_f64()
    );

    eprintln!("measuring first-page latency…");
    let newest = latency(
        &client,
        &format!("{base}/api/v1/events?limit=50"),
        &key,
        LATENCY_SAMPLES,
    )
    .await?;
    let by_name = latency(
        &client,
        &format!("{base}/api/v1/events?limit=50&event=Role%20Deleted"),
        &key,
        LATENCY_SAMPLES,
    )
    .await?;
    let page_html = latency(
        &client,
        &format!("{base}/settings/audit-logs"),
        &key,
        LATENCY_SAMPLES,
    )
    .await?;

    // Backfill: an import of history in no particular order, so every index insert lands
    // somewhere in the past. Measured after the first page, on top of the same store.
    let backfill = total / 5;
    eprintln!("backfilling {backfill} events in random time order…");
    let bodies: Vec<Vec<u8>> = (0..backfill.div_ceil(BATCH))
        .map(|b| {
            let n = BATCH.min(backfill - b * BATCH);
            let chunk: Vec<_> = (0..n).map(|_| generator.next_event()).collect();
            serde_json::to_vec(&chunk).unwrap_or_default()
        })
        .collect();
    let (backfill_elapsed, _) = ingest(&client, &[base.as_str()], &key, bodies).await?;
    let backfill_rate = backfill as f64 / backfill_elapsed.as_secs_f64();
    eprintln!("backfill: {backfill_rate:.0} events/s");

    // PostgreSQL only: a second node on the same database, the clients split between the two.
    let mut two_nodes = String::new();
    if postgres {
        let (base_b, stop_b, served_b) = serve(Store::open(&db.url).await?).await?;
        let n = total / 5;
        let mut events: Vec<serde_json::Value> = (0..n).map(|_| generator.next_event()).collect();
        events.sort_by(|a, b| a["occurred_at"].as_str().cmp(&b["occurred_at"].as_str()));
        let bodies = events
            .chunks(BATCH)
            .map(|c| serde_json::to_vec(c).unwrap_or_default())
            .collect();
        eprintln!("ingesting {n} events through two nodes…");
        let (elapsed, _) = ingest(&client, &[base.as_str(), base_b.as_str()], &key, bodies).await?;
        let _ = stop_b.send(());
        served_b.await??;
        two_nodes = format!(
            "| live ingest through two nodes on this database ({n} events, clients split between them) | {:.0} events/s | |\n",
            n as f64 / elapsed.as_secs_f64()
        );
    }

    let _ = stop_tx.send(());
    server.await??;
    let db_bytes = database_size(&db.url).await;

    let section = format!(
        "## Foundation: HTTP ingest and first page ({store_name})\n\n\
         Measured {date} with `scripts/bench.sh` (`cargo bench -p server --bench http`); server and load\n\
         generator share the machine below.\n\n\
         {machine}\n\
         | figure | value | target |\n|---|---|---|\n\
         | live ingest: {total} events in time order, batches of {BATCH} ({avg_kib} KiB bodies), {CLIENTS} clients | **{rate:.0} events/s** ({secs:.1} s) | ≥ 50,000/s |\n\
         | backfill: {backfill} more events in random time order over 400 days, same batches | {backfill_rate:.0} events/s | |\n\
         | ingest request latency (1,000 events, fsync'd) p50 / p95 / p99 | {b50} / {b95} / {b99} | |\n\
         | first page `GET /api/v1/events?limit=50`, all time, {total} events: p50 / p95 / p99 | {n50} / **{n95}** / {n99} | p95 ≤ 5 ms |\n\
         | first page filtered by a rare event name (`event=Role Deleted`): p50 / p95 / p99 | {e50} / {e95} / {e99} | |\n\
         | the page itself (`/settings/audit-logs`, server-rendered, Last 30 Days): p50 / p95 / p99 | {h50} / {h95} / {h99} | |\n\
         {two_nodes}\
         | database size at the end | {db_mib:.0} MiB | |\n",
        date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine = machine(),
        store_name = if postgres { "PostgreSQL" } else { "SQLite" },
        avg_kib = avg_body / 1024,
        secs = elapsed.as_secs_f64(),
        b50 = ms(pct(&mut batch_latencies, 50.0)),
        b95 = ms(pct(&mut batch_latencies, 95.0)),
        b99 = ms(pct(&mut batch_latencies, 99.0)),
        n50 = ms(newest[0]),
        n95 = ms(newest[1]),
        n99 = ms(newest[2]),
        e50 = ms(by_name[0]),
        e95 = ms(by_name[1]),
        e99 = ms(by_name[2]),
        h50 = ms(page_html[0]),
        h95 = ms(page_html[1]),
        h99 = ms(page_html[2]),
        db_mib = db_bytes as f64 / 1_048_576.0,
    );
    write_section(
        if postgres {
            "foundation-http-postgres"
        } else {
            "foundation-http"
        },
        &section,
    )?;
    println!("{section}");
    Ok(())
}

/// Posts every body (in order, `CLIENTS` at a time, the clients spread over `nodes`); returns the wall time and each request's latency.
async fn ingest(
    client: &reqwest::Client,
    nodes: &[&str],
    key: &str,
    bodies: Vec<Vec<u8>>,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(
        bodies,
    )));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, queue, key) = (client.clone(), queue.clone(), key.to_string());
        let url = format!("{}/api/v1/events", nodes[c % nodes.len()]);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let body = queue
                    .lock()
                    .map_err(|_| anyhow::anyhow!("queue poisoned"))?
                    .pop_front();
                let Some(body) = body else {
                    return anyhow::Ok(latencies);
                };
                let t = Instant::now();
                let resp = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(resp.status() == 201, "ingest answered {}", resp.status());
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    Ok((started.elapsed(), latencies))
}
