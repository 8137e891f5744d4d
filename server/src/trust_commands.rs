//! The trust commands of `auditlog`: `verify`, `checkpoints`, `retention` and `purge`, each
//! recorded in the log like every administrative command.

use anyhow::Context as _;
use app::accounts::Actor;
use app::store::Store;
use clap::Subcommand;
use server::progress::Progress;

use crate::{record_command, utc_minute};

#[derive(Subcommand)]
pub(crate) enum RetentionCommand {
    /// Print the retention in days.
    Show,
    /// Keep events this many days from their receipt (at least 1; recorded as an event).
    Set {
        #[arg(value_parser = clap::value_parser!(u32).range(1..=36_500))]
        days: u32,
    },
}

#[derive(Subcommand)]
pub(crate) enum CheckpointsCommand {
    /// List the checkpoints.
    List,
    /// Print the checkpoints and the public key as JSON, for checking them outside.
    Export,
    /// Sign a checkpoint of where the chain stands now.
    Create,
}

/// The checkpoint signing key from `path`, created there if absent (and said so).
pub(crate) fn load_signer(
    path: &std::path::Path,
) -> anyhow::Result<app::store::checkpoints::Signer> {
    let (signer, created) = app::store::checkpoints::Signer::load_or_create(path)
        .with_context(|| format!("reading the signing key {}", path.display()))?;
    if created {
        eprintln!(
            "Created the checkpoint signing key {} (public key {}). Back it up, apart from the \
             database.",
            path.display(),
            app::store::chain::hex(&signer.public_key())
        );
    }
    Ok(signer)
}

/// `auditlog verify`: recomputes the chain, checks the checkpoints, prints the outcome and
/// records it; an error (exit status 1) when the chain is broken.
pub(crate) async fn verify(
    store: &Store,
    signing_key: &std::path::Path,
    from: Option<i64>,
    to: Option<i64>,
    public_key: Option<String>,
) -> anyhow::Result<()> {
    use app::store::verify::VerifyOptions;
    let public_key = match public_key {
        Some(hex) => Some(
            app::store::chain::from_hex(hex.trim())
                .context("--public-key must be 64 hex digits")?,
        ),
        None if signing_key.exists() => Some(load_signer(signing_key)?.public_key()),
        None => None,
    };
    let total = store.chain_head().await?.map_or(0, |(id, _)| id);
    let mut progress = Progress::new("Verifying the chain", usize::try_from(total).unwrap_or(0));
    let opts = VerifyOptions {
        from,
        to,
        public_key,
    };
    let v = store
        .verify(&opts, |done| {
            progress.set(usize::try_from(done).unwrap_or(0))
        })
        .await?;
    progress.finish();
    let range = match (v.first, v.through) {
        (Some(a), Some(b)) => format!("#{a}–#{b}"),
        _ => "no events".into(),
    };
    let result = match &v.broken {
        None => {
            println!(
                "Verified {range}: {} events and {} checkpoints; the chain is intact.",
                v.events, v.checkpoints
            );
            Ok(())
        }
        Some(b) => {
            println!(
                "BROKEN at event #{}: {}
(checked {} events and {} checkpoints before it)",
                b.event_id, b.reason, v.events, v.checkpoints
            );
            Err(anyhow::anyhow!(
                "the chain is broken at event #{}",
                b.event_id
            ))
        }
    };
    let metadata = serde_json::json!({
        "from": v.first, "through": v.through, "events": v.events,
        "checkpoints": v.checkpoints,
        "broken_at": v.broken.as_ref().map(|b| b.event_id),
        "reason": v.broken.as_ref().map(|b| b.reason.clone()),
    });
    let target = ("chain", range.clone(), format!("events {range}"));
    record_command(
        store,
        "Audit Log Verified",
        "verified",
        target,
        metadata,
        &result,
    )
    .await;
    result
}

/// `auditlog retention show|set`.
pub(crate) async fn retention(store: &Store, command: RetentionCommand) -> anyhow::Result<()> {
    match command {
        RetentionCommand::Show => {
            println!("Events are kept {} days.", store.retention_days().await?);
        }
        RetentionCommand::Set { days } => {
            let before = store.retention_days().await?;
            let result = store
                .set_setting(app::store::purge::RETENTION_SETTING, &days.to_string())
                .await
                .map_err(anyhow::Error::from);
            let target = (
                "setting",
                app::store::purge::RETENTION_SETTING.to_string(),
                "retention".to_string(),
            );
            let metadata = serde_json::json!({"old": before, "new": days});
            record_command(
                store,
                "Retention Changed",
                "changed",
                target,
                metadata,
                &result,
            )
            .await;
            result?;
            println!("Events are now kept {days} days (were {before}).");
        }
    }
    Ok(())
}

/// `auditlog purge`: removes the events past retention now, with progress; recorded.
pub(crate) async fn purge(
    store: &Store,
    signing_key: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let days = store.retention_days().await?;
    let cutoff = server::trust::retention_cutoff(days);
    let through = store.purge_point(cutoff).await?;
    if dry_run {
        match through {
            Some(id) => println!(
                "Would remove the events up to #{id} (received more than {days} days ago)."
            ),
            None => println!("Nothing is older than {days} days."),
        }
        return Ok(());
    }
    let signer = load_signer(signing_key)?;
    let total = usize::try_from(through.unwrap_or(0)).unwrap_or(0);
    let mut progress = Progress::new("Purging", total);
    let report = server::trust::purge_recorded(store, &signer, &Actor::command_line(), true, |n| {
        progress.set(usize::try_from(n).unwrap_or(0))
    })
    .await;
    progress.finish();
    let removed = report?.removed;
    println!("Removed {removed} events received more than {days} days ago.");
    Ok(())
}

/// `auditlog checkpoints list|export|create`.
pub(crate) async fn checkpoints(
    store: &Store,
    signing_key: &std::path::Path,
    command: CheckpointsCommand,
) -> anyhow::Result<()> {
    match command {
        CheckpointsCommand::List => {
            let all = store.checkpoints().await?;
            if all.is_empty() {
                println!("No checkpoints yet.");
            }
            for cp in all {
                println!(
                    "#{:<5} after event #{:<10} {:<8} {}  chain {}…  key {}…",
                    cp.id,
                    cp.event_id,
                    cp.kind.as_str(),
                    utc_minute(cp.created_at),
                    &app::store::chain::hex(&cp.chain)[..16],
                    &app::store::chain::hex(&cp.public_key)[..16],
                );
            }
        }
        CheckpointsCommand::Export => {
            let all = store.checkpoints().await?;
            let key = if signing_key.exists() {
                Some(app::store::chain::hex(
                    &load_signer(signing_key)?.public_key(),
                ))
            } else {
                None
            };
            let doc = serde_json::json!({
                "format": "auditlog.checkpoints.v1",
                "public_key": key,
                "checkpoints": all,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        CheckpointsCommand::Create => {
            let signer = load_signer(signing_key)?;
            let made = store
                .checkpoint(&signer, app::store::checkpoints::Kind::Manual)
                .await?;
            match made {
                Some(cp) => println!("Checkpoint #{} signed after event #{}.", cp.id, cp.event_id),
                None => println!("No events yet: nothing to sign."),
            }
        }
    }
    Ok(())
}

/// `auditlog export`: the events with ids from `from` to `to`, in id order, one JSON object per
/// line as the API gives them; with progress, and recorded ("Audit Logs Exported"). Consecutive
/// events from the oldest one or from just after a checkpoint are what `scripts/verify-export.py`
/// checks against the signed checkpoints.
pub(crate) async fn export_range(
    store: &Store,
    from: Option<i64>,
    to: Option<i64>,
    out: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    use app::events::query::{Cursor, Dir, EventQuery, MAX_LIMIT, Sort, SortKey, SortValue};
    use std::io::Write as _;

    let last = store.chain_head().await?.map_or(0, |(id, _)| id);
    let to = to.unwrap_or(last).min(last);
    let from = from.unwrap_or(1).max(1);
    let mut file: Box<dyn std::io::Write> = match &out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let sort = Sort::new(SortKey::Seq, Dir::Asc);
    let mut q = EventQuery {
        sort,
        limit: MAX_LIMIT,
        cursor: Some(Cursor {
            sort,
            value: SortValue::Int(from - 1),
            time: 0,
            id: from - 1,
        }),
        ..EventQuery::default()
    };
    let total = usize::try_from(to - from + 1).unwrap_or(0);
    let mut progress = Progress::new("Exporting", total);
    let (mut rows, mut first, mut through) = (0u64, None, None);
    let result: anyhow::Result<()> = async {
        'pages: loop {
            let page = store.list(&q).await?;
            for e in &page.events {
                if e.id > to {
                    break 'pages;
                }
                serde_json::to_writer(&mut file, e)?;
                file.write_all(b"\n")?;
                rows += 1;
                first.get_or_insert(e.id);
                through = Some(e.id);
            }
            progress.set(usize::try_from(rows).unwrap_or(0));
            match page.events.last() {
                Some(e) if page.next_cursor.is_some() => q.cursor = Some(Cursor::after(e, sort)),
                _ => break,
            }
        }
        file.flush()?;
        Ok(())
    }
    .await;
    drop(file);
    progress.finish();
    let range = match (first, through) {
        (Some(a), Some(b)) => format!("#{a}–#{b}"),
        _ => "no events".to_string(),
    };
    let metadata = serde_json::json!({
        "format": "ndjson", "from": first, "through": through, "rows": rows,
        "file": out.as_ref().map(|p| p.display().to_string()),
    });
    record_command(
        store,
        "Audit Logs Exported",
        "exported",
        ("chain", range.clone(), format!("events {range}")),
        metadata,
        &result,
    )
    .await;
    result?;
    eprintln!("Exported {rows} events ({range}).");
    Ok(())
}
