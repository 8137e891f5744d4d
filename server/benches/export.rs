//! Export benchmark: `GET /api/v1/events/export` streaming every event of a large view as CSV and
//! as NDJSON — rows per second at the client, and how much the server's resident memory grows
//! while it streams (it should not grow with the export's size).
//!
//! The server runs in a child process (see `support::child`) with export limits wide enough for
//! the whole store. The store first gets `BENCH_EVENTS` demo events (default 1,000,000) over the
//! demo's 400 days. `BENCH_STORE=postgres` measures PostgreSQL. Results replace this benchmark's
//! section of `BENCHMARKS.md`.
//!
//! Then TRUST_TESTS T19: a filtered CSV export (`outcome is success`) while another client keeps
//! ingesting demo events (back-dated over the same 400 days, so they land all over the range being
//! read); the export must hold exactly the view's events up to its `X-Chain-Through` (counted
//! afterwards with SQL), and the server's memory is sampled meanwhile.

use std::time::Instant;

use app::export::ExportLimits;
use app::store::Store;
use support::child::{Server, child, child_database};
use support::{bench_database, bench_events, machine, seed_demo, write_section};

mod support;

/// The goal of the issue, rows per second streamed.
const TARGET_ROWS_PER_S: f64 = 500_000.0;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if let Some(url) = child_database() {
        return child(&url, |state| {
            state.with_export(ExportLimits {
                max_days: 100_000,
                max_rows: u64::MAX / 2,
                ..Default::default()
            })
        })
        .await;
    }
    let total = bench_events();
    let (postgres, db) = bench_database().await;
    let store = Store::open(&db.url).await?;
    let (_, key) = store.create_api_key("bench").await?;
    seed_demo(&store, total, 5).await?;
    store.close().await;
    drop(store);
    support::analyze(postgres, &db.url).await?;

    let server = Server::start(&db.url).await?;
    let client = reqwest::Client::new();
    let mut rows = String::new();
    // Newest first by time (the page's default order), then by Seq: the demo history is written in
    // random time order, so time order reads rows all over the table while Seq order reads them
    // in storage order, as a history written live would be read in time order.
    for (format, sort) in [("csv", "-time"), ("ndjson", "-time"), ("csv", "-seq")] {
        let before = server.rss_kib()?;
        let started = Instant::now();
        let resp = client
            .get(format!(
                "{}/api/v1/events/export?format={format}&start=0&sort={sort}",
                server.base
            ))
            .bearer_auth(&key)
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 200, "export answered {}", resp.status());
        let mut resp = resp;
        let (mut bytes, mut lines) = (0u64, 0u64);
        while let Some(chunk) = resp.chunk().await? {
            bytes += chunk.len() as u64;
            lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        }
        let secs = started.elapsed().as_secs_f64();
        let peak = server.peak_rss_kib()?;
        // CSV: a header line; quoted fields may hold line breaks (the demo's do not).
        let events = if format == "csv" { lines - 1 } else { lines };
        let per_s = events as f64 / secs;
        eprintln!(
            "  {format} sorted {sort}: {events} events, {:.1} MiB in {secs:.2} s = {per_s:.0} rows/s; RSS {before} KiB before, peak {peak} KiB",
            bytes as f64 / 1_048_576.0
        );
        rows.push_str(&format!(
            "| streamed {format}, sorted by {order}: {events} events, {:.0} MiB | **{per_s:.0} rows/s** ({secs:.2} s){met} | server resident set {:.1} MiB before, peak {:.1} MiB during |\n",
            bytes as f64 / 1_048_576.0,
            before as f64 / 1024.0,
            peak as f64 / 1024.0,
            met = if per_s >= TARGET_ROWS_PER_S { " ✓" } else { " ✗ (target 500,000)" },
            order = if sort == "-seq" { "Seq" } else { "time" },
        ));
    }

    // T19: a filtered export while ingest continues.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ingest = {
        let (client, base, key, stop) = (
            client.clone(),
            server.base.clone(),
            key.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut generator = server::demo::Generator::new(99, chrono::Utc::now());
            let mut posted = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let batch: Vec<_> = (0..100).map(|_| generator.next_event()).collect();
                let resp = client
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(&key)
                    .json(&batch)
                    .send()
                    .await?;
                anyhow::ensure!(resp.status() == 201, "ingest answered {}", resp.status());
                posted += 100;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            anyhow::Ok(posted)
        })
    };
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let before = server.rss_kib()?;
    let mut peak = before;
    let started = Instant::now();
    let resp = client
        .get(format!(
            "{}/api/v1/events/export?format=csv&start=0&f=outcome:is:success",
            server.base
        ))
        .bearer_auth(&key)
        .send()
        .await?;
    anyhow::ensure!(resp.status() == 200, "export answered {}", resp.status());
    let through: i64 = resp
        .headers()
        .get("x-chain-through")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no x-chain-through"))?;
    let mut resp = resp;
    let (mut lines, mut last_sample) = (0u64, Instant::now());
    while let Some(chunk) = resp.chunk().await? {
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if last_sample.elapsed().as_millis() >= 250 {
            peak = peak.max(server.rss_kib()?);
            last_sample = Instant::now();
        }
    }
    let secs = started.elapsed().as_secs_f64();
    peak = peak.max(server.rss_kib()?);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let posted = ingest.await??;
    let exported = lines - 1;
    let sql = "SELECT count(*) FROM events WHERE outcome = 'success' AND id <= $1";
    let expected: i64 = if postgres {
        let pool = sqlx::PgPool::connect(&db.url).await?;
        sqlx::query_scalar(sql)
            .bind(through)
            .fetch_one(&pool)
            .await?
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url).await?;
        sqlx::query_scalar(sql)
            .bind(through)
            .fetch_one(&pool)
            .await?
    };
    eprintln!(
        "  T19: {exported} rows exported in {secs:.1} s, count through #{through} = {expected}; {posted} events posted meanwhile; RSS {before} → {peak} KiB"
    );
    anyhow::ensure!(
        u64::try_from(expected)? == exported,
        "the export held {exported} rows; the view through #{through} holds {expected}"
    );
    rows.push_str(&format!(
        "| T19: csv of `outcome is success` while another client ingests back-dated events ({posted} posted during it) | {exported} rows in {secs:.1} s = **{:.0} rows/s**; `COUNT(*)` of the view through `X-Chain-Through` #{through}: **{expected}** (equal) | server resident set {:.1} MiB before, **{:.1} MiB** at most during (sampled every 0.25 s) |\n",
        exported as f64 / secs,
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
    ));
    server.stop().await?;

    let name = if postgres { "PostgreSQL" } else { "SQLite" };
    let section = format!(
        "## Export: streamed rows per second and server memory ({name})\n\n\
         Measured {date} with `cargo bench -p server --bench export`: the server in its own process\n\
         over {total} demo events; one client downloads `GET /api/v1/events/export?start=0` (every\n\
         event, newest first, read in keyset pages of 2,000) and counts the lines. The demo history is\n\
         written in random time order, so reading it by time touches rows all over the table; by Seq\n\
         it reads them in storage order (as time order would on a history written live). Peak memory\n\
         is the server's VmHWM, which includes its start-up and the store's caches.\n\n\
         {machine}\n\
         | export | speed | memory |\n|---|---|---|\n\
         {rows}",
        date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine = machine(),
    );
    write_section(
        if postgres {
            "export-postgres"
        } else {
            "export-sqlite"
        },
        &section,
    )?;
    println!("{section}");
    drop(db);
    Ok(())
}
