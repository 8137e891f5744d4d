//! What the benchmarks share: latency sampling, percentiles, the machine description, and
//! writing a section of BENCHMARKS.md.

#![allow(dead_code)] // each benchmark uses a different part

use std::time::{Duration, Instant};

use app::store::Store;
use app::store::testing::TestDatabase;
use server::AppState;
use tokio::sync::oneshot;

pub mod child;

/// Requests per latency figure (after a short warm-up).
pub const LATENCY_SAMPLES: usize = 2000;

/// p50, p95, p99 of `n` sequential GETs (after a short warm-up).
pub async fn latency(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    n: usize,
) -> anyhow::Result<[Duration; 3]> {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + 50 {
        let t = Instant::now();
        let resp = client.get(url).bearer_auth(key).send().await?;
        anyhow::ensure!(resp.status() == 200, "{url} answered {}", resp.status());
        resp.bytes().await?;
        if i >= 50 {
            samples.push(t.elapsed());
        }
    }
    Ok([
        pct(&mut samples, 50.0),
        pct(&mut samples, 95.0),
        pct(&mut samples, 99.0),
    ])
}

pub fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let idx = ((samples.len() as f64 * p / 100.0).ceil() as usize).saturating_sub(1);
    samples.get(idx).copied().unwrap_or_default()
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// CPU, cores, memory, kernel and compiler of this machine, as a Markdown list.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:")
                .and_then(|r| r.trim().trim_end_matches(" kB").parse().ok())
        })
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let pg = std::process::Command::new("psql")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .trim_start_matches("psql (PostgreSQL) ")
                .to_string()
        })
        .unwrap_or_default();
    format!(
        "- Machine: {cpu}, {cores} cores, {:.0} GiB RAM, Linux {}, {rustc}; SQLite in WAL mode with synchronous=FULL, PostgreSQL {pg} with synchronous_commit=on, both on the local disk.\n",
        mem_kib as f64 / 1_048_576.0,
        kernel.trim()
    )
}

/// Replaces (or appends) the section between this benchmark's markers in BENCHMARKS.md.
pub fn write_section(name: &str, body: &str) -> anyhow::Result<()> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let begin = format!("<!-- bench:{name}:begin -->");
    let end = format!("<!-- bench:{name}:end -->");
    let current = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| "# Benchmarks\n\nFigures measured on real hardware by the bench commands; each section says how.\n".into());
    let block = format!("{begin}\n{body}{end}");
    let next = match (current.find(&begin), current.find(&end)) {
        (Some(b), Some(e)) if e > b => {
            format!("{}{block}{}", &current[..b], &current[e + end.len()..])
        }
        _ => format!("{}\n{block}\n", current.trim_end()),
    };
    std::fs::write(&path, next)?;
    Ok(())
}

/// Bytes the store occupies: the SQLite file (with its WAL), or the PostgreSQL database.
pub async fn database_size(url: &str) -> u64 {
    if let Some(path) = url.strip_prefix("sqlite://") {
        return ["", "-wal"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(format!("{path}{suffix}")).ok())
            .map(|m| m.len())
            .sum();
    }
    let size = async {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let (bytes,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
            .fetch_one(&mut conn)
            .await?;
        anyhow::Ok(bytes)
    };
    size.await
        .ok()
        .and_then(|b| u64::try_from(b).ok())
        .unwrap_or(0)
}

/// The store under test: a fresh PostgreSQL database when `BENCH_STORE=postgres` (through
/// `AUDITLOG_TEST_PG_URL`), else a fresh SQLite file. The flag says which.
pub async fn bench_database() -> (bool, TestDatabase) {
    if std::env::var("BENCH_STORE").as_deref() == Ok("postgres") {
        let admin = std::env::var("AUDITLOG_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        (true, TestDatabase::postgres(&admin).await)
    } else {
        (false, TestDatabase::sqlite())
    }
}

/// The real server on port 0 over `store`: its base URL, the sender that stops it, and its task.
pub async fn serve(
    store: Store,
) -> anyhow::Result<(
    String,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    serve_with(store, |state| state).await
}

/// [`serve`] with the server's state changed by `configure`.
pub async fn serve_with(
    store: Store,
    configure: fn(AppState) -> AppState,
) -> anyhow::Result<(
    String,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(server::run(
        listener,
        configure(AppState::new(store, "target/site")),
        async {
            let _ = stopped.await;
        },
    ));
    Ok((base, stop, served))
}

/// After a bulk load, gives PostgreSQL the table statistics autovacuum would gather within minutes
/// (without them its planner scans whole partitions); nothing to do on SQLite.
pub async fn analyze(postgres: bool, url: &str) -> anyhow::Result<()> {
    if postgres {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query("ANALYZE").execute(&mut conn).await?;
        conn.close().await?;
    }
    Ok(())
}

/// `BENCH_EVENTS` (default 1,000,000): how many demo events a benchmark's store gets.
pub fn bench_events() -> usize {
    std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Writes `total` demo events (generator `seed`, spread over the demo's 400 days before now)
/// through the store's writer, in batches of 5,000, saying how far it got every 200,000. Returns
/// the "now" the events lie before.
pub async fn seed_demo(
    store: &Store,
    total: usize,
    seed: u64,
) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    use app::events::model::parse_event;
    use app::store::AppendRequest;
    eprintln!("writing {total} demo events through the writer…");
    let now = chrono::Utc::now();
    let mut generator = server::demo::Generator::new(seed, now);
    let started = Instant::now();
    let mut written = 0;
    while written < total {
        let n = (total - written).min(5000);
        let items = (0..n)
            .map(|_| parse_event(&generator.next_event(), now))
            .collect();
        store
            .append(AppendRequest {
                scope: "bench".into(),
                request_key: None,
                items,
            })
            .await?;
        written += n;
        if written % 200_000 == 0 {
            eprintln!(
                "  {written}/{total} ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(now)
}
