//! Settings › Integrity: an Owner checks the hash chain from the page (the same check as
//! `auditlog verify`), and sees the checkpoints, the signing key and the retention. The check
//! runs on the server, in the request, and is recorded as an "Audit Log Verified" event.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the page shows before any check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrityStatus {
    /// The newest chained event.
    pub head: Option<i64>,
    pub checkpoints: usize,
    /// The latest checkpoint: the event it covers, its kind, when (epoch milliseconds).
    pub latest: Option<(i64, String, i64)>,
    /// The key of the latest checkpoint (hex).
    pub public_key: Option<String>,
    pub retention_days: u32,
}

/// A check's outcome, as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub first: Option<i64>,
    pub through: Option<i64>,
    pub events: u64,
    pub checkpoints: u64,
    /// The first broken link: the event and why.
    pub broken: Option<(i64, String)>,
    pub checked_at: i64,
}

#[server(name = GetIntegrity)]
pub async fn integrity_status() -> Result<IntegrityStatus, ServerFnError> {
    use crate::events::api::ssr::{internal, store};
    super::settings::ssr_owner().await?;
    let store = store()?;
    let head = store
        .chain_head()
        .await
        .map_err(internal)?
        .map(|(id, _)| id);
    let cps = store.checkpoints().await.map_err(internal)?;
    let latest = cps.iter().max_by_key(|c| (c.created_at, c.id));
    Ok(IntegrityStatus {
        head,
        checkpoints: cps.len(),
        latest: latest.map(|c| (c.event_id, c.kind.as_str().to_string(), c.created_at)),
        public_key: latest.map(|c| crate::store::chain::hex(&c.public_key)),
        retention_days: store.retention_days().await.map_err(internal)?,
    })
}

/// Verifies the whole chain now (Owners only) and records that it was checked, and the outcome.
#[server(name = VerifyChain)]
pub async fn verify_chain() -> Result<CheckResult, ServerFnError> {
    use crate::accounts::audit::{self, Action};
    use crate::events::api::ssr::{internal, requesting, store};
    let owner = super::settings::ssr_owner().await?;
    let store = store()?;
    let v = store
        .verify(&Default::default(), |_| {})
        .await
        .map_err(internal)?;
    let range = match (v.first, v.through) {
        (Some(a), Some(b)) => format!("#{a}–#{b}"),
        _ => "no events".into(),
    };
    let action = Action {
        event: "Audit Log Verified",
        action: "verified",
        success: v.ok(),
        target: Some(("chain", range.clone(), format!("events {range}"))),
        description: match &v.broken {
            None => format!("{} verified events {range}: intact", owner.name),
            Some(b) => format!(
                "{} verified the chain: broken at event #{}",
                owner.name, b.event_id
            ),
        },
        metadata: serde_json::json!({
            "from": v.first, "through": v.through, "events": v.events,
            "checkpoints": v.checkpoints,
            "broken_at": v.broken.as_ref().map(|b| b.event_id),
            "reason": v.broken.as_ref().map(|b| b.reason.clone()),
        }),
    };
    audit::record(&store, &requesting(&owner), action)
        .await
        .map_err(internal)?;
    Ok(CheckResult {
        first: v.first,
        through: v.through,
        events: v.events,
        checkpoints: v.checkpoints,
        broken: v.broken.map(|b| (b.event_id, b.reason)),
        checked_at: v.checked_at,
    })
}

fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// Settings › Integrity.
#[component]
pub fn IntegrityPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| integrity_status());
    let check = Action::new(|_: &()| verify_chain());
    view! {
        <section class="page settings-page">
            <p class="breadcrumb">"Settings"</p>
            <h1>"Integrity"</h1>
            <p class="muted">"Every event carries a SHA-256 hash over the one before it and its own stored content; signed checkpoints pin the chain. Changing, removing, inserting or reordering any stored event breaks it from that event on. The same check runs from the command line: " <code>"auditlog verify"</code> "."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || status.get().map(|r| match r {
                    Err(e) => view! { <p class="auth-error" role="alert">{crate::events::page::clean_error(&e.to_string())}</p> }.into_any(),
                    Ok(s) => view! {
                        <table class="settings-table kv-table" data-testid="integrity-status">
                            <tbody>
                                <tr><th>"Newest event"</th><td>{s.head.map_or_else(|| "none yet".to_string(), |h| format!("#{h}"))}</td></tr>
                                <tr><th>"Checkpoints"</th><td data-testid="checkpoint-count">{s.checkpoints}</td></tr>
                                <tr><th>"Latest checkpoint"</th><td>{s.latest.clone().map_or_else(|| "none yet".to_string(), |(id, kind, at)| format!("after #{id} ({kind}), {}", date(at)))}</td></tr>
                                <tr><th>"Signing key"</th><td><code>{s.public_key.clone().unwrap_or_else(|| "—".into())}</code></td></tr>
                                <tr><th>"Retention"</th><td>{format!("{} days", s.retention_days)}</td></tr>
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
            <p>
                <button class="btn btn-primary" data-testid="verify-chain" disabled=move || check.pending().get() on:click=move |_| { check.dispatch(()); }>
                    {move || if check.pending().get() { "Verifying…" } else { "Verify now" }}
                </button>
            </p>
            {move || check.value().get().map(|r| match r {
                Err(e) => view! { <p class="auth-error" role="alert">{crate::events::page::clean_error(&e.to_string())}</p> }.into_any(),
                Ok(c) => match c.broken {
                    None => view! {
                        <p class="verified" data-testid="verify-result">
                            {match c.through {
                                Some(n) => format!("Verified through #{n} at {}: {} events and {} checkpoints, the chain is intact.", date(c.checked_at), c.events, c.checkpoints),
                                None => format!("Verified at {}: no events yet.", date(c.checked_at)),
                            }}
                        </p>
                    }.into_any(),
                    Some((id, reason)) => view! {
                        <p class="broken" role="alert" data-testid="verify-result">{format!("Broken at event #{id}: {reason}")}</p>
                    }.into_any(),
                },
            })}
        </section>
    }
}
