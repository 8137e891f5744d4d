//! `auditlog`: runs the Audit Logs server and its administrative commands.

use std::net::SocketAddr;

use account_commands::{KeysCommand, UsersCommand, keys, users};
use anyhow::Context as _;
use app::accounts::Actor;
use app::accounts::audit::{self, Action};
use app::accounts::{Role, password};
use app::events::model::parse_event;
use app::events::noise::NoisyEvents;
use app::export::ExportLimits;
use app::store::{AppendOutcome, AppendRequest, Store};
use clap::{Parser, Subcommand};
use server::AppState;
use server::demo::Generator;
use server::progress::Progress;
use tracing_subscriber::EnvFilter;
use trust_commands::{
    CheckpointsCommand, RetentionCommand, checkpoints, export_range, load_signer, purge, retention,
    verify,
};

mod account_commands;
mod trust_commands;

#[derive(Parser)]
#[command(
    name = "auditlog",
    version,
    about = "Audit Logs: receive, store and show audit events"
)]
struct Cli {
    /// Where events are stored: a SQLite file path or `sqlite://path`, or a PostgreSQL URL
    /// (`postgres://…`), which several servers may share.
    #[arg(
        long,
        env = "AUDITLOG_DATABASE_URL",
        default_value = "sqlite://data/auditlog.db",
        global = true
    )]
    database_url: String,
    /// The Ed25519 key that signs the hash chain's checkpoints: a file outside the database
    /// (created with mode 0600 on first use). Back it up; keep it away from the database's backups.
    #[arg(
        long,
        env = "AUDITLOG_SIGNING_KEY",
        default_value = "data/auditlog-signing.key",
        global = true
    )]
    signing_key: std::path::PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the page and the API (the default).
    Serve(ServeArgs),
    /// Manage the people who sign in to the page.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Recompute the hash chain over the stored events and check every signed checkpoint;
    /// reports the first broken link and exits with status 1 if there is one.
    Verify {
        /// The first event to check (default: the oldest).
        #[arg(long)]
        from: Option<i64>,
        /// The last event to check (default: the newest).
        #[arg(long)]
        to: Option<i64>,
        /// Checkpoints must be signed by this public key (64 hex digits; `checkpoints export`
        /// prints it). Default: the key of the signing key file, if it exists.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// How long events are kept (the daily purge removes older ones).
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Remove the events past retention now (the server does it daily).
    Purge {
        /// Only say how many events would be removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// The hash chain's signed checkpoints.
    Checkpoints {
        #[command(subcommand)]
        command: CheckpointsCommand,
    },
    /// Write the stored events with ids from --from to --to, in id order, as NDJSON (the API's
    /// event form), for checking outside with scripts/verify-export.py against `checkpoints
    /// export`. Recorded as "Audit Logs Exported".
    Export {
        /// The first event (default: the oldest).
        #[arg(long)]
        from: Option<i64>,
        /// The last event (default: the newest).
        #[arg(long)]
        to: Option<i64>,
        /// The file to write (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Write realistic demo events.
    Demo {
        /// How many events to write.
        #[arg(long, default_value_t = 50_000)]
        events: usize,
        /// Only write them when the store holds no events yet.
        #[arg(long)]
        if_empty: bool,
        /// Seed for the generator (same seed, same events).
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

#[derive(Parser)]
struct ServeArgs {
    /// Address to listen on: loopback by default; `0.0.0.0:3000` for every interface.
    #[arg(long, env = "AUDITLOG_ADDR", default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "AUDITLOG_SESSION_IDLE_MINUTES", default_value_t = 60)]
    session_idle_minutes: u64,
    /// Hours after sign-in after which a session ends, however busy.
    #[arg(long, env = "AUDITLOG_SESSION_MAX_HOURS", default_value_t = 12)]
    session_max_hours: u64,
    /// Events per second each API key may send (a token bucket; 0 turns the limit off). A key
    /// over it gets 429 with Retry-After.
    #[arg(long, env = "AUDITLOG_INGEST_RATE", default_value_t = 5_000)]
    ingest_rate: u32,
    /// How many events a key may send at once above its rate (the bucket's size).
    #[arg(long, env = "AUDITLOG_INGEST_BURST", default_value_t = 50_000)]
    ingest_burst: u32,
    /// Reads of the log are recorded as events ("Audit Logs Viewed"): the same view or event read
    /// again by the same caller within this many minutes is not recorded again.
    #[arg(long, env = "AUDITLOG_READ_AUDIT_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=1440))]
    read_audit_minutes: u64,
    /// The longest time range, in days, that one read of the list or its statistics may span
    /// (0: no limit; "All Time" then needs a start). Server exports have their own limit.
    #[arg(long, env = "AUDITLOG_MAX_RANGE_DAYS", default_value_t = 0)]
    max_range_days: u32,
    /// Sign a checkpoint of the hash chain after this many new events…
    #[arg(
        long,
        env = "AUDITLOG_CHECKPOINT_EVERY_EVENTS",
        default_value_t = 10_000
    )]
    checkpoint_every_events: i64,
    /// …or after this many minutes, when any event is new.
    #[arg(long, env = "AUDITLOG_CHECKPOINT_EVERY_MINUTES", default_value_t = 60)]
    checkpoint_every_minutes: u64,
    /// The server is reached over HTTPS (behind a proxy that terminates TLS): session cookies are
    /// marked Secure.
    #[arg(long, env = "AUDITLOG_HTTPS")]
    https: bool,
    /// Folder holding the built site (`pkg/` with the wasm, js and css).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    site_root: String,
    /// Event names that "Hide noisy events" hides on the page (comma-separated).
    #[arg(
        long,
        env = "AUDITLOG_NOISY_EVENTS",
        default_value = "Access Checked,Resource Read,Audit Logs Viewed,Audit Log Event Viewed"
    )]
    noisy_events: String,
    /// The longest time range one server export may cover, in days.
    #[arg(long, env = "AUDITLOG_EXPORT_MAX_DAYS", default_value_t = 90)]
    export_max_days: u32,
    /// The most events one server export may hold.
    #[arg(long, env = "AUDITLOG_EXPORT_MAX_ROWS", default_value_t = 1_000_000)]
    export_max_rows: u64,
    /// The most events one PDF report may hold.
    #[arg(long, env = "AUDITLOG_PDF_MAX_ROWS", default_value_t = 10_000)]
    pdf_max_rows: u64,
    /// Above this many events, the page offers the server's export instead of writing the CSV in
    /// the browser.
    #[arg(long, env = "AUDITLOG_BROWSER_EXPORT_ROWS", default_value_t = 100_000)]
    browser_export_rows: u64,
    /// Folder the server exports' files are written into.
    #[arg(long, env = "AUDITLOG_EXPORTS_DIR", default_value = "data/exports")]
    exports_dir: String,
    /// Hours a completed server export's file is kept before it is deleted.
    #[arg(long, env = "AUDITLOG_EXPORT_KEEP_HOURS", default_value_t = 168)]
    export_keep_hours: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let store = Store::open(&cli.database_url)
        .await
        .with_context(|| format!("opening the store at {}", cli.database_url))?;
    let result = match cli.command {
        None => {
            let args = ServeArgs::parse_from(["serve"]);
            serve(store.clone(), args, &cli.signing_key).await
        }
        Some(Command::Serve(args)) => serve(store.clone(), args, &cli.signing_key).await,
        Some(Command::Keys { command }) => keys(&store, command).await,
        Some(Command::Users { command }) => users(&store, command).await,
        Some(Command::Verify {
            from,
            to,
            public_key,
        }) => verify(&store, &cli.signing_key, from, to, public_key).await,
        Some(Command::Retention { command }) => retention(&store, command).await,
        Some(Command::Purge { dry_run }) => purge(&store, &cli.signing_key, dry_run).await,
        Some(Command::Checkpoints { command }) => {
            checkpoints(&store, &cli.signing_key, command).await
        }
        Some(Command::Export { from, to, out }) => export_range(&store, from, to, out).await,
        Some(Command::Demo {
            events,
            if_empty,
            seed,
        }) => demo(&store, events, if_empty, seed).await,
    };
    store.close().await;
    result
}

async fn serve(store: Store, args: ServeArgs, signing_key: &std::path::Path) -> anyhow::Result<()> {
    let signer = load_signer(signing_key)?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    let addr = listener.local_addr()?;
    let keep = std::time::Duration::from_secs(args.export_keep_hours.saturating_mul(3600));
    let first_owner = first_owner(&store).await?;
    let state = AppState::new(store, &args.site_root)
        .with_exports(&args.exports_dir, keep)
        .with_sessions(app::accounts::session::SessionConfig {
            idle: std::time::Duration::from_secs(args.session_idle_minutes.max(1) * 60),
            absolute: std::time::Duration::from_secs(args.session_max_hours.max(1) * 3600),
            secure: args.https,
        })
        .with_ingest_limit(server::api::rate::RateConfig {
            rate: args.ingest_rate,
            burst: args.ingest_burst,
        })
        .with_read_audit(app::accounts::looked::ReadAudit::every(
            std::time::Duration::from_secs(args.read_audit_minutes * 60),
        ))
        .with_read_limits(app::events::query::ReadLimits {
            max_days: (args.max_range_days > 0).then_some(args.max_range_days),
        });
    let interrupted = state
        .exports
        .recover()
        .await
        .context("recovering exports")?;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "exports left unfinished by the last run were marked Failed"
        );
    }
    state
        .exports
        .spawn_sweeper(std::time::Duration::from_secs(600));
    server::trust::spawn_purger(
        state.store.clone(),
        signer.clone(),
        std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(24 * 3600),
    );
    server::trust::spawn_checkpointer(
        state.store.clone(),
        signer,
        server::trust::CheckpointPolicy {
            every_events: args.checkpoint_every_events.max(1),
            every: std::time::Duration::from_secs(args.checkpoint_every_minutes.max(1) * 60),
            ..Default::default()
        },
    );
    eprintln!("Audit Logs is running at http://{addr}/settings/audit-logs");
    if let Some(password) = first_owner {
        eprintln!(
            "\nNo user existed, so an Owner was created. Sign in with\n\n  name:     owner\n  \
             password: {password}\n\nThe password is shown only now; change it with \
             `auditlog users passwd owner`.\n"
        );
    }
    server::run(
        listener,
        state
            .with_noise(NoisyEvents::parse(&args.noisy_events))
            .with_export(ExportLimits {
                max_days: args.export_max_days.max(1),
                max_rows: args.export_max_rows.max(1),
                pdf_rows: args.pdf_max_rows.max(1),
                browser_rows: args.browser_export_rows,
            }),
        shutdown_signal(),
    )
    .await
    .context("serving")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    eprintln!("Shutting down: finishing requests in flight…");
}

/// On the first start (no user yet), creates the Owner `owner` with a generated password and
/// returns the password to show once.
async fn first_owner(store: &Store) -> anyhow::Result<Option<String>> {
    if store.user_count().await? > 0 {
        return Ok(None);
    }
    let password = password::generate();
    let hash = password::hash(&password);
    let added = store
        .add_user("owner", Role::Owner, "owner", &hash)
        .await
        .map(|_| ())
        .map_err(anyhow::Error::from);
    let target = ("user", "owner".to_string(), "owner".to_string());
    let metadata = serde_json::json!({"role": "owner", "first_start": true});
    record_command(store, "User Added", "added", target, metadata, &added).await;
    added.context("creating the first Owner")?;
    Ok(Some(password))
}

/// Records an administrative command as a self-audit event: the operating-system user and host
/// that ran it, what it did to whom, and whether it succeeded (with the error when not).
pub(crate) async fn record_command(
    store: &Store,
    event: &'static str,
    action: &'static str,
    target: (&'static str, String, String),
    metadata: serde_json::Value,
    result: &anyhow::Result<()>,
) {
    let actor = Actor::command_line();
    let description = match result {
        Ok(()) => format!("{event} ({} {}) from the command line", target.0, target.2),
        Err(e) => format!(
            "{event} ({} {}) from the command line failed: {e}",
            target.0, target.2
        ),
    };
    let recorded = audit::record(
        store,
        &actor,
        Action {
            event,
            action,
            success: result.is_ok(),
            target: Some(target),
            description,
            metadata,
        },
    )
    .await;
    if let Err(e) = recorded {
        eprintln!("warning: the command could not be recorded in the audit log: {e}");
    }
}

/// Writes `count` demo events through the same writer as the API, in batches, with a progress bar.
async fn demo(store: &Store, count: usize, if_empty: bool, seed: u64) -> anyhow::Result<()> {
    if if_empty && !store.is_empty().await? {
        eprintln!("The store already holds events; no demo data written.");
        return Ok(());
    }
    let now = chrono::Utc::now();
    let mut generator = Generator::new(seed, now);
    let mut progress = Progress::new("Writing demo events", count);
    let mut written = 0;
    while written < count {
        let n = (count - written).min(1000);
        let items = (0..n)
            .map(|_| parse_event(&generator.next_event(), now))
            .collect::<Vec<_>>();
        let req = AppendRequest {
            scope: "demo".into(),
            request_key: None,
            items,
        };
        match store.append(req).await? {
            AppendOutcome::Done { results, .. } => {
                if let Some(app::store::ItemResult::Rejected(e)) = results
                    .iter()
                    .find(|r| matches!(r, app::store::ItemResult::Rejected(_)))
                {
                    anyhow::bail!("a generated demo event was rejected: {e:?}");
                }
            }
            AppendOutcome::KeyReused => anyhow::bail!("unexpected idempotency conflict"),
        }
        written += n;
        progress.set(written);
    }
    progress.finish();
    Ok(())
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc_minute(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}
