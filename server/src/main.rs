//! `auditlog`: runs the Audit Logs server and its administrative commands.

use std::net::SocketAddr;

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

#[derive(Subcommand)]
enum UsersCommand {
    /// Add a user. Prints a generated password once unless --password-stdin gives one.
    Add {
        name: String,
        /// owner, auditor, member or none.
        #[arg(long, default_value = "member")]
        role: String,
        /// The actor id of the events this person performs (what a Member sees); their name by
        /// default.
        #[arg(long)]
        actor_id: Option<String>,
        /// Read the password from standard input (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users and their roles.
    List,
    /// Change a user's role (effective on their next request).
    SetRole { name: String, role: String },
    /// Give a user a new password (generated, or from standard input); ends their sessions.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user and end their sessions.
    Remove { name: String },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key; its secret is printed once and only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        /// What the key may do: `ingest` (send events), `read` (read, tail and export events) or
        /// both, comma-separated.
        #[arg(long, default_value = "ingest,read")]
        scopes: String,
        /// The key stops working this many days from now (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
        /// Print only the secret (for scripts).
        #[arg(long)]
        quiet: bool,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its number (`keys list` shows it): refused from the next request on.
    Revoke { id: i64 },
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

/// The password to set: one line of standard input, or a generated one (returned to be shown).
fn new_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((password::generate(), true));
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    app::accounts::check_password(&password).map_err(anyhow::Error::msg)?;
    Ok((password, false))
}

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::parse(role)
        .with_context(|| format!("unknown role `{role}`: use owner, auditor, member or none"))
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

async fn users(store: &Store, command: UsersCommand) -> anyhow::Result<()> {
    let (event, action, name, metadata) = match &command {
        UsersCommand::List => return run_users(store, command).await,
        UsersCommand::Add { name, role, .. } => (
            "User Added",
            "added",
            name,
            serde_json::json!({"role": role}),
        ),
        UsersCommand::SetRole { name, role } => (
            "Role Changed",
            "role_changed",
            name,
            serde_json::json!({"role": role}),
        ),
        UsersCommand::Passwd { name, .. } => (
            "Password Changed",
            "password_changed",
            name,
            serde_json::json!({}),
        ),
        UsersCommand::Remove { name } => ("User Removed", "removed", name, serde_json::json!({})),
    };
    let target = ("user", name.clone(), name.clone());
    let result = run_users(store, command).await;
    record_command(store, event, action, target, metadata, &result).await;
    result
}

async fn run_users(store: &Store, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add {
            name,
            role,
            actor_id,
            password_stdin,
        } => {
            app::accounts::check_name(&name).map_err(anyhow::Error::msg)?;
            let role = parse_role(&role)?;
            let (password, generated) = new_password(password_stdin)?;
            let hash = password::hash(&password);
            let actor = actor_id.unwrap_or_else(|| name.clone());
            let user = store.add_user(&name, role, &actor, &hash).await?;
            println!(
                "Added {} ({}, actor id {}).",
                user.name,
                user.role.label(),
                user.actor_id
            );
            if generated {
                println!("Password (shown only now): {password}");
            }
        }
        UsersCommand::List => {
            for u in store.users().await? {
                let created =
                    chrono::DateTime::from_timestamp_millis(u.created_at).unwrap_or_default();
                println!(
                    "{:<24} {:<9} actor {:<24} added {}",
                    u.name,
                    u.role.label(),
                    u.actor_id,
                    created.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        UsersCommand::SetRole { name, role } => {
            let role = parse_role(&role)?;
            let user = store
                .set_role(&name, role)
                .await?
                .with_context(|| format!("no user named `{name}`"))?;
            println!("{} is now {}.", user.name, user.role.label());
        }
        UsersCommand::Passwd {
            name,
            password_stdin,
        } => {
            let (password, generated) = new_password(password_stdin)?;
            store
                .set_password(&name, &password::hash(&password))
                .await?
                .with_context(|| format!("no user named `{name}`"))?;
            println!("{name}'s password was changed and their sessions ended.");
            if generated {
                println!("Password (shown only now): {password}");
            }
        }
        UsersCommand::Remove { name } => {
            store
                .remove_user(&name)
                .await?
                .with_context(|| format!("no user named `{name}`"))?;
            println!("Removed {name}; their sessions ended.");
        }
    }
    Ok(())
}

async fn keys(store: &Store, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create {
            name,
            scopes,
            expires_in_days,
            quiet,
        } => {
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.len() <= 200,
                "--name must be 1 to 200 characters"
            );
            let scopes = app::accounts::KeyScopes::parse(&scopes)
                .map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let expires_at = expires_in_days.map(|days| {
                (chrono::Utc::now() + chrono::Duration::days(i64::from(days))).timestamp_millis()
            });
            let created = store.create_api_key_with(name, scopes, expires_at).await;
            let result = created
                .as_ref()
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("{e}"));
            let id = created
                .as_ref()
                .map_or(String::new(), |(k, _)| k.id.to_string());
            let target = ("api_key", id, name.to_string());
            record_command(
                store,
                "API Key Created",
                "created",
                target,
                serde_json::json!({"scopes": scopes.label(), "expires_at": expires_at}),
                &result,
            )
            .await;
            let (key, secret) = created?;
            if quiet {
                println!("{secret}");
            } else {
                println!(
                    "Created API key #{} \"{}\" (scopes: {}{}). Its secret is shown only now:\n\n  {secret}\n",
                    key.id,
                    key.name,
                    key.scopes.label(),
                    key.expires_at
                        .map(|t| format!("; expires {}", utc_minute(t)))
                        .unwrap_or_default(),
                );
                println!("Send events with:  Authorization: Bearer {secret}");
            }
        }
        KeysCommand::Revoke { id } => {
            let result = match store.revoke_api_key(id).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(anyhow::anyhow!("no live API key #{id}")),
                Err(e) => Err(e.into()),
            };
            let target = ("api_key", id.to_string(), format!("#{id}"));
            record_command(
                store,
                "API Key Revoked",
                "revoked",
                target,
                serde_json::json!({}),
                &result,
            )
            .await;
            result?;
            println!("Revoked API key #{id}.");
        }
        KeysCommand::List => {
            let keys = store.list_api_keys().await?;
            if keys.is_empty() {
                println!("No API keys. Create one with: auditlog keys create --name NAME");
            }
            let now = chrono::Utc::now().timestamp_millis();
            for k in keys {
                let status = if k.revoked {
                    "  (revoked)".to_string()
                } else if k.expired(now) {
                    "  (expired)".to_string()
                } else {
                    String::new()
                };
                println!(
                    "#{:<4} {:<30} {}…  {:<13} created {}  expires {}  last used {}{status}",
                    k.id,
                    k.name,
                    k.prefix,
                    k.scopes.label(),
                    utc_minute(k.created_at),
                    k.expires_at.map_or("never".into(), utc_minute),
                    k.last_used_at.map_or("never".into(), utc_minute),
                );
            }
        }
    }
    Ok(())
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
