//! Query benchmark: first-page latency over HTTP for the query shapes users build (no filter, is,
//! is not, AND of three, OR of two, contains, metadata key, free text, a sort), each over Last 30
//! Days and All Time; page 200 of the plain list; and count + facets + chart for Last 30 Days.
//!
//! `scripts/bench.sh` runs it; `BENCH_EVENTS` (default 1,000,000) sets the store's size and
//! `BENCH_STORE=postgres` measures PostgreSQL. Events are written straight through the store's
//! writer (ingest is measured by the `http` benchmark), then queried through the real server.
//! `BENCH_STORE_DIR=DIR` (SQLite) keeps the store in `DIR` and measures it again on a later run
//! instead of seeding anew (ten million events take most of an hour to write); "Last 30 Days"
//! then means the 30 days before the first run's seeding.

use app::store::Store;
use support::{
    bench_database, database_size, latency, machine, ms, seed_demo, serve, write_section,
};

mod support;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let samples: usize = std::env::var("BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let (postgres, db) = bench_database().await;
    // SQLite only: a PostgreSQL run always has a fresh database (`bench_database`).
    let kept = std::env::var("BENCH_STORE_DIR").ok().filter(|_| !postgres);
    let url = match &kept {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            format!("sqlite://{dir}/auditlog.db")
        }
        None => db.url.clone(),
    };
    let store = Store::open(&url).await?;
    let (_, key) = store.create_api_key("bench").await?;

    // A kept store records when it was seeded and with how many events.
    let marker = kept.as_ref().map(|dir| format!("{dir}/seeded"));
    let previous = marker
        .as_ref()
        .and_then(|m| std::fs::read_to_string(m).ok())
        .and_then(|text| {
            let (n, at) = text.trim().split_once(' ')?;
            (n.parse::<usize>().ok()? == total).then_some(at.to_string())
        })
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok());
    let now = match previous {
        Some(at) => {
            eprintln!(
                "measuring the store kept in {} again",
                kept.as_deref().unwrap_or("")
            );
            at.with_timezone(&chrono::Utc)
        }
        None => {
            let now = seed_demo(&store, total, 7).await?;
            if let Some(m) = &marker {
                std::fs::write(m, format!("{total} {}\n", now.to_rfc3339()))?;
            }
            now
        }
    };

    // The statistics autovacuum would gather within minutes of such a load (PostgreSQL).
    support::analyze(postgres, &url).await?;
    let (base, stop_tx, served) = serve(store.clone()).await?;
    let client = reqwest::Client::new();
    let last_30 = (now - chrono::Duration::days(30)).timestamp_millis();

    let shapes: [(&str, &str); 13] = [
        ("no filter", ""),
        ("one \"is\" (event is Login)", "&f=event:is:Login"),
        ("\"is not\" (event is not Login)", "&f=event:is_not:Login"),
        (
            "AND of three (event, outcome, user type)",
            "&f=event:is:Model%20Deployed&f=outcome:is:success&f=user.type:is:user",
        ),
        (
            "OR of two rare events",
            "&join=any&f=event:is:Role%20Deleted&f=event:is:API%20Key%20Deleted",
        ),
        (
            "contains (description contains \"billing\")",
            "&f=description:contains:billing",
        ),
        (
            "contains, rare (description contains \"quota\")",
            "&f=description:contains:quota",
        ),
        (
            "contains, no match (description contains \"zzzz\")",
            "&f=description:contains:zzzz",
        ),
        (
            "metadata key (environment is production)",
            "&f=metadata.environment:is:production",
        ),
        ("free text (q=deploy)", "&q=deploy"),
        ("sorted by user, descending", "&sort=-user"),
        ("value click (outcome is success)", "&f=outcome:is:success"),
        (
            "value click (category is Authentication)",
            "&f=category:is:Authentication",
        ),
    ];
    let mut rows = String::new();
    for (name, params) in shapes {
        let mut cells = Vec::new();
        for start in [Some(last_30), None] {
            let range = start.map(|s| format!("&start={s}")).unwrap_or_default();
            let url = format!("{base}/api/v1/events?limit=50{range}{params}");
            let [p50, p95, _] = latency(&client, &url, &key, samples).await?;
            cells.push(format!("{} / {}", ms(p50), ms(p95)));
        }
        eprintln!("{name}: {cells:?}");
        rows.push_str(&format!("| {name} | {} | {} |\n", cells[0], cells[1]));
    }

    // Page 200 of the plain list: follow 199 cursors, then time the 200th page itself.
    let mut cursor = String::new();
    for _ in 0..199 {
        let page: serde_json::Value = client
            .get(format!("{base}/api/v1/events?limit=50&start=0{cursor}"))
            .bearer_auth(&key)
            .send()
            .await?
            .json()
            .await?;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let deep = latency(
        &client,
        &format!("{base}/api/v1/events?limit=50&start=0{cursor}"),
        &key,
        samples,
    )
    .await?;
    let stats = latency(
        &client,
        &format!("{base}/api/v1/events/stats?start={last_30}"),
        &key,
        samples.min(100),
    )
    .await?;

    let _ = stop_tx.send(());
    served.await??;
    let size = database_size(&url).await as f64 / 1_048_576.0;
    let store_name = if postgres { "PostgreSQL" } else { "SQLite" };
    let section = format!(
        "## Query experience: first page by query shape ({store_name}, {total} events)\n\n\
         Measured {date} with `scripts/bench.sh` (`cargo bench -p server --bench queries`): {total} demo\n\
         events spread over 400 days, then `GET /api/v1/events?limit=50…` over HTTP, {samples} requests\n\
         per cell after a warm-up; p50 / p95.\n\n{machine}- Database size: {size:.0} MiB.\n\n\
         | query shape | Last 30 Days | All Time |\n|---|---|---|\n{rows}\
         | page 200 of the plain list (all time) | {d50} / **{d95}** | |\n\
         | count + facets + chart together (`/api/v1/events/stats`, Last 30 Days) | {s50} / **{s95}** | |\n",
        date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine = machine(),
        d50 = ms(deep[0]),
        d95 = ms(deep[1]),
        s50 = ms(stats[0]),
        s95 = ms(stats[1]),
    );
    let name = format!(
        "queries-{}-{}",
        if postgres { "postgres" } else { "sqlite" },
        total
    );
    write_section(&name, &section)?;
    println!("{section}");
    Ok(())
}
