//! Live tail benchmark: ingest-to-client latency of `GET /api/v1/events/stream` at 1,000 events/s
//! with 1 and with 50 stream clients, and the server's memory per idle stream.
//!
//! The server runs in a child process (this binary again, see [`child`]), so that its resident
//! memory is its own. The store first gets `BENCH_EVENTS` demo events (default 1,000,000) so the
//! tail reads a table of realistic size. Then events are posted through the HTTP API in batches of
//! 10 every 10 ms; each carries its send time (microseconds since the benchmark started) in its
//! metadata, and every client notes, per event, how long after that it received it. Latency is
//! therefore ingest request + group commit (fsync) + change feed + the stream's read + delivery.
//!
//! Run with `scripts/bench.sh` (or `cargo bench -p server --bench stream`); `BENCH_STORE=postgres`
//! measures PostgreSQL; `BENCH_SECONDS` (default 20) sets the measured time per client count.
//!
//! Then backpressure (TRUST_TESTS T18): ingest at 2,000 events/s for `BENCH_T18_SECONDS` (default
//! 60) with no stream client, then with 50 of which one never reads past its `ready` message;
//! the ingest requests' latency of both runs, what the stuck client is told once it reads again,
//! and the server's memory meanwhile.
//! Results replace this benchmark's section of `BENCHMARKS.md`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use app::store::Store;
use serde_json::{Value, json};
use support::child::{Server, child, child_database};
use support::{bench_database, bench_events, machine, ms, pct, seed_demo, write_section};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[path = "../tests/it/common/sse.rs"]
mod sse;
mod support;

/// Events per second posted during a measurement.
const RATE: u64 = 1000;
/// Events per request (one request every `BATCH * 1000 / RATE` ms).
const BATCH: u64 = 10;
/// Not measured at the start of each run.
const WARM_UP: Duration = Duration::from_secs(3);
/// Idle streams opened for the memory figure.
const IDLE_STREAMS: usize = 1000;
/// The latency target of the issue.
const TARGET_P99: Duration = Duration::from_millis(250);

fn clock() -> &'static Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now)
}

fn now_us() -> i64 {
    i64::try_from(clock().elapsed().as_micros()).unwrap_or(i64::MAX)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if let Some(url) = child_database() {
        return child(&url, |state| state).await;
    }
    let total = bench_events();
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let (postgres, db) = bench_database().await;

    let store = Store::open(&db.url).await?;
    let (_, key) = store.create_api_key("bench").await?;
    seed_demo(&store, total, 11).await?;
    store.close().await;
    drop(store);
    support::analyze(postgres, &db.url).await?;

    let server = Server::start(&db.url).await?;
    let base = server.base.clone();
    let client = reqwest::Client::new();

    let mut rows = String::new();
    for clients in [1usize, 50] {
        eprintln!("{clients} stream client(s), {RATE} events/s for {seconds} s…");
        let Run {
            mut samples,
            posted,
            fewest,
            skipped,
        } = latency_run(&client, &base, &key, clients, Duration::from_secs(seconds)).await?;
        let p50 = pct(&mut samples, 50.0);
        let p99 = pct(&mut samples, 99.0);
        let max = samples.last().copied().unwrap_or_default();
        eprintln!(
            "  p50 {} p99 {} max {}, skipped {skipped}",
            ms(p50),
            ms(p99),
            ms(max)
        );
        rows.push_str(&format!(
            "| ingest-to-client latency, {clients} client{s}: p50 / **p99** / max ({n} samples; {posted} events posted, each client received at least {fewest}, {skipped} skipped in all) | {} / **{}** / {} | p99 < 250 ms{met} |\n",
            ms(p50),
            ms(p99),
            ms(max),
            s = if clients == 1 { "" } else { "s" },
            n = samples.len(),
            met = if p99 < TARGET_P99 { " ✓" } else { " ✗" },
        ));
    }

    eprintln!("opening {IDLE_STREAMS} idle streams…");
    let before = server.rss_kib()?;
    let idle = open_idle(&base, &key, IDLE_STREAMS).await?;
    let after = server.rss_kib()?;
    let per_stream = (after.saturating_sub(before)) as f64 * 1024.0 / IDLE_STREAMS as f64;
    eprintln!("  RSS {before} KiB → {after} KiB");
    rows.push_str(&format!(
        "| server memory per idle stream: resident set of the server process before and after opening {IDLE_STREAMS} idle streams, divided | **{:.1} KiB** ({:.1} MiB → {:.1} MiB) | |\n",
        per_stream / 1024.0,
        before as f64 / 1024.0,
        after as f64 / 1024.0,
    ));
    drop(idle);

    let t18_seconds: u64 = std::env::var("BENCH_T18_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let t18 = Duration::from_secs(t18_seconds);
    eprintln!("backpressure: {T18_RATE} events/s for {t18_seconds} s, no stream client…");
    let mut alone = backpressure_run(&client, &server, &key, 0, t18).await?;
    eprintln!("backpressure: the same with {T18_STREAMS} stream clients, one never reading…");
    let mut crowded = backpressure_run(&client, &server, &key, T18_STREAMS, t18).await?;
    let (a99, c99) = (
        pct(&mut alone.latencies, 99.0),
        pct(&mut crowded.latencies, 99.0),
    );
    let (a50, c50) = (
        pct(&mut alone.latencies, 50.0),
        pct(&mut crowded.latencies, 50.0),
    );
    let ratio = c99.as_secs_f64() / a99.as_secs_f64().max(1e-9);
    rows.push_str(&format!(
        "| T18: ingest request latency at {T18_RATE} events/s ({BATCH} per request) for {t18_seconds} s, no stream client: p50 / **p99** ({} requests, {} not 201) | {} / **{}** | |\n",
        alone.latencies.len(),
        alone.failed,
        ms(a50),
        ms(a99),
    ));
    rows.push_str(&format!(
        "| T18: the same with {T18_STREAMS} stream clients, one of which never reads: p50 / **p99** ({} requests, {} not 201) | {} / **{}** ({:+.0} % at p99) | p99 within 10 % of the run without clients{} |\n",
        crowded.latencies.len(),
        crowded.failed,
        ms(c50),
        ms(c99),
        (ratio - 1.0) * 100.0,
        if ratio <= 1.10 { " ✓" } else { " ✗" },
    ));
    rows.push_str(&format!(
        "| T18: the client that never read, once it reads again | {} | lagged or dropped with a notice |\n",
        crowded.stuck,
    ));
    rows.push_str(&format!(
        "| T18: server resident memory during each run: before → highest | {:.1} → {:.1} MiB without clients; {:.1} → {:.1} MiB with them | bounded |\n",
        alone.rss_before as f64 / 1024.0,
        alone.rss_peak as f64 / 1024.0,
        crowded.rss_before as f64 / 1024.0,
        crowded.rss_peak as f64 / 1024.0,
    ));
    server.stop().await?;

    let name = if postgres { "PostgreSQL" } else { "SQLite" };
    let section = format!(
        "## Live tail: ingest-to-client latency and memory per stream ({name})\n\n\
         Measured {date} with `scripts/bench.sh` (`cargo bench -p server --bench stream`): the server\n\
         in its own process over {total} demo events; events posted through the HTTP API at {RATE}/s in\n\
         batches of {BATCH}, each stamped with its send time; latency is from that stamp to the event's\n\
         arrival at a client of `GET /api/v1/events/stream` (ingest, fsync'd commit, change feed, the\n\
         stream's read, delivery), over {seconds} s per row after {warm} s of warm-up. The load generator\n\
         and the clients share the machine with the server.\n\n\
         {machine}\n\
         | figure | value | target |\n|---|---|---|\n\
         {rows}",
        date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine = machine(),
        warm = WARM_UP.as_secs(),
    );
    write_section(
        if postgres {
            "live-tail-postgres"
        } else {
            "live-tail-sqlite"
        },
        &section,
    )?;
    println!("{section}");
    drop(db);
    Ok(())
}

/// One event to post, stamped with the time it is sent.
fn stamped() -> Value {
    json!({
        "event": "Bench Tick",
        "category": "Bench",
        "action": "created",
        "actor": {"id": "svc_bench", "name": "Bench", "type": "app"},
        "target": {"type": "tick", "id": "tick_1", "name": "Tick"},
        "ip": "203.0.113.7",
        "source": "bench",
        "metadata": {"bench_sent_us": now_us()}
    })
}

/// The send stamp of an event's JSON, found without parsing the whole event.
fn stamp_of(data: &str) -> Option<i64> {
    let rest = &data[data.find("\"bench_sent_us\":")? + "\"bench_sent_us\":".len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// What one latency run measured.
struct Run {
    /// Latencies measured after the warm-up, all clients together.
    samples: Vec<Duration>,
    /// Events posted.
    posted: usize,
    /// The fewest events any client received.
    fewest: usize,
    /// Events the server skipped, all clients together (a client fell more than 1,000 behind).
    skipped: usize,
}

/// Opens `clients` streams, posts at [`RATE`] for the warm-up and `duration`, and waits until every
/// client has every event (or was told it skipped some).
async fn latency_run(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    let last_acked = std::sync::Arc::new(AtomicI64::new(i64::MAX));
    let measure_from = now_us() + i64::try_from(WARM_UP.as_micros())?;
    let mut readers = Vec::new();
    for _ in 0..clients {
        let mut reader = open_stream(client, base, key).await?;
        let ready = reader
            .next()
            .await
            .ok_or_else(|| anyhow::anyhow!("no ready"))?;
        anyhow::ensure!(ready.is("ready"), "first message {ready:?}");
        let last_acked = last_acked.clone();
        readers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut received = 0usize;
            let mut skipped = 0usize;
            loop {
                let frame = tokio::time::timeout(Duration::from_secs(30), reader.next())
                    .await
                    .map_err(|_| anyhow::anyhow!("no event for 30 s"))?
                    .ok_or_else(|| anyhow::anyhow!("stream ended"))?;
                if frame.is("skipped") {
                    let n = serde_json::from_str::<Value>(&frame.data)?["skipped"]
                        .as_u64()
                        .unwrap_or(0);
                    skipped += usize::try_from(n)?;
                    if frame.id() >= last_acked.load(Ordering::Relaxed) {
                        return anyhow::Ok((samples, received, skipped));
                    }
                    continue;
                }
                if frame.comments.is_empty() && !frame.is("audit_event") {
                    anyhow::bail!("unexpected message {frame:?}");
                }
                if !frame.is("audit_event") {
                    continue;
                }
                let at = now_us();
                received += 1;
                if let Some(sent) = stamp_of(&frame.data)
                    && sent >= measure_from
                {
                    samples.push(Duration::from_micros(u64::try_from(at - sent).unwrap_or(0)));
                }
                if frame.id() >= last_acked.load(Ordering::Relaxed) {
                    return anyhow::Ok((samples, received, skipped));
                }
            }
        }));
    }

    // Posts run concurrently so that one slow commit does not lower the rate.
    let mut ticker = tokio::time::interval(Duration::from_millis(BATCH * 1000 / RATE));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = Instant::now() + WARM_UP + duration;
    let mut posts = tokio::task::JoinSet::new();
    let mut posted = 0usize;
    while Instant::now() < end {
        ticker.tick().await;
        let body: Vec<Value> = (0..BATCH).map(|_| stamped()).collect();
        posted += body.len();
        let req = client
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(key)
            .json(&body);
        posts.spawn(async move {
            let resp = req.send().await?;
            anyhow::ensure!(resp.status() == 201, "ingest answered {}", resp.status());
            let body: Value = resp.json().await?;
            let max = body["results"]
                .as_array()
                .and_then(|r| r.iter().filter_map(|r| r["id"].as_i64()).max())
                .unwrap_or(0);
            anyhow::Ok(max)
        });
    }
    let mut newest = 0;
    while let Some(done) = posts.join_next().await {
        newest = newest.max(done??);
    }
    last_acked.store(newest, Ordering::Relaxed);
    // One more event wakes readers that already had everything when `last_acked` was set.
    let resp = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(key)
        .json(
            &json!([{"event": "Bench End", "category": "Bench", "action": "ended",
                       "actor": {"id": "svc_bench", "type": "app"}}]),
        )
        .send()
        .await?;
    anyhow::ensure!(resp.status() == 201);

    let mut samples = Vec::new();
    let mut fewest = usize::MAX;
    let mut skipped = 0;
    for r in readers {
        let (s, received, k) = r.await??;
        samples.extend(s);
        // The end marker is not one of the posted events.
        fewest = fewest.min(received.saturating_sub(usize::from(received > posted)));
        skipped += k;
    }
    Ok(Run {
        samples,
        posted,
        fewest,
        skipped,
    })
}

/// A client of `GET /api/v1/events/stream`, answered 200.
async fn open_stream(
    client: &reqwest::Client,
    base: &str,
    key: &str,
) -> anyhow::Result<sse::SseReader> {
    let resp = client
        .get(format!("{base}/api/v1/events/stream"))
        .bearer_auth(key)
        .send()
        .await?;
    anyhow::ensure!(resp.status() == 200, "stream answered {}", resp.status());
    Ok(sse::SseReader::new(resp))
}

/// Events per second during the backpressure runs (T18), and the stream clients of the second.
const T18_RATE: u64 = 2000;
const T18_STREAMS: usize = 50;

/// What one backpressure run saw.
struct Backpressure {
    /// Each ingest request's time to its answer.
    latencies: Vec<Duration>,
    /// Ingest requests not answered 201.
    failed: usize,
    /// What the client that never read was told once it read again (empty without clients).
    stuck: String,
    rss_before: u64,
    rss_peak: u64,
}

/// Posts `T18_RATE` events/s for `duration` while `streams` clients are connected (all but one
/// reading everything, one never reading), and times every ingest request.
async fn backpressure_run(
    client: &reqwest::Client,
    server: &Server,
    key: &str,
    streams: usize,
    duration: Duration,
) -> anyhow::Result<Backpressure> {
    let base = server.base.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..streams.saturating_sub(1) {
        let mut reader = open_stream(client, &base, key).await?;
        let stop = stop.clone();
        readers.push(tokio::spawn(async move {
            let mut frames = 0usize;
            while !stop.load(Ordering::Relaxed) {
                match tokio::time::timeout(Duration::from_millis(500), reader.next()).await {
                    Ok(Some(_)) => frames += 1,
                    Ok(None) => break,
                    Err(_) => {}
                }
            }
            frames
        }));
    }
    let mut stuck = if streams > 0 {
        open_idle(&base, key, 1).await?
    } else {
        Vec::new()
    };
    let rss_before = server.rss_kib()?;
    let mut rss_peak = rss_before;
    let mut ticker = tokio::time::interval(Duration::from_millis(BATCH * 1000 / T18_RATE));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut last_sample = started;
    let mut posts = tokio::task::JoinSet::new();
    while started.elapsed() < duration {
        ticker.tick().await;
        if last_sample.elapsed() >= Duration::from_secs(1) {
            rss_peak = rss_peak.max(server.rss_kib()?);
            last_sample = Instant::now();
        }
        let body: Vec<Value> = (0..BATCH).map(|_| stamped()).collect();
        let req = client
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(key)
            .json(&body);
        posts.spawn(async move {
            let sent = Instant::now();
            let ok = req.send().await.map(|r| r.status() == 201).unwrap_or(false);
            (sent.elapsed(), ok)
        });
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    while let Some(done) = posts.join_next().await {
        let (took, ok) = done?;
        latencies.push(took);
        failed += usize::from(!ok);
    }
    rss_peak = rss_peak.max(server.rss_kib()?);
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.await?;
    }
    // The stuck client reads again: first what the socket buffers held, then what the server says.
    let stuck = match stuck.pop() {
        None => String::new(),
        Some(mut s) => {
            let mut tail = String::new();
            let mut buf = vec![0u8; 64 * 1024];
            let mut read = 0usize;
            let until = Instant::now() + Duration::from_secs(20);
            loop {
                if Instant::now() > until {
                    break "still connected 20 s later, no notice".to_string();
                }
                match tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => {
                        break format!("disconnected by the server after {read} bytes");
                    }
                    Ok(Ok(n)) => {
                        read += n;
                        tail.push_str(&String::from_utf8_lossy(&buf[..n]));
                        if let Some(at) = tail.find("event: skipped") {
                            let notice: String =
                                tail[at..].lines().take(3).collect::<Vec<_>>().join(" ");
                            break format!(
                                "read {read} bytes of buffered events, then the notice `{notice}`"
                            );
                        }
                        let keep = tail.len().saturating_sub(256);
                        tail.drain(..tail.floor_char_boundary(keep));
                    }
                    Err(_) => {}
                }
            }
        }
    };
    Ok(Backpressure {
        latencies,
        failed,
        stuck,
        rss_before,
        rss_peak,
    })
}

/// Opens `n` streams with a bare HTTP/1.1 client (a socket each, nothing else held on this side)
/// and waits until every one has received its `ready` message.
async fn open_idle(base: &str, key: &str, n: usize) -> anyhow::Result<Vec<tokio::net::TcpStream>> {
    let addr = base.trim_start_matches("http://").to_string();
    let request = format!(
        "GET /api/v1/events/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Accept: text/event-stream\r\n\r\n"
    );
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = tokio::net::TcpStream::connect(&addr).await?;
        s.write_all(request.as_bytes()).await?;
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&got).contains("event: ready") {
            let k = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await??;
            anyhow::ensure!(k > 0, "stream closed before its ready message");
            got.extend_from_slice(&buf[..k]);
        }
        streams.push(s);
    }
    Ok(streams)
}
