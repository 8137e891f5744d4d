//! Demo data: a deterministic generator of realistic audit events, shaped as the ingest API's JSON.
//!
//! `auditlog demo --events N` seeds a database with it so the page looks alive, and the HTTP
//! benchmark uses it for request bodies. The same seed and `now` always give the same events, so
//! benchmark runs compare like with like and a demo database can be rebuilt exactly.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, SecondsFormat, Utc, Weekday};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

/// How many days before `now` events may lie.
const SPAN_DAYS: u64 = 400;
const USERS: usize = 200;
/// Chance that any event other than "Login Failed" fails; with those, about 3% of all events.
const FAILURE_RATE: f64 = 0.02;
/// Share of the activity a generic user accounts for, against the app and system actors' weights.
const USER_WEIGHT: f64 = 88.0;

/// One kind of event. `weight` is its frequency among user actions (0 = only bots emit it);
/// `verb`/`done` phrase the description and carry the target's noun, since phrasing differs per event.
struct Kind {
    name: &'static str,
    category: &'static str,
    action: &'static str,
    weight: f64,
    target: &'static str,
    verb: &'static str,
    done: &'static str,
}

const fn k(
    name: &'static str,
    category: &'static str,
    action: &'static str,
    weight: f64,
    target: &'static str,
    verb: &'static str,
    done: &'static str,
) -> Kind {
    Kind {
        name,
        category,
        action,
        weight,
        target,
        verb,
        done,
    }
}

#[rustfmt::skip]
const KINDS: &[Kind] = &[
    k("Login", "Authentication", "login", 300.0, "", "sign in", "signed in"),
    k("Login Failed", "Authentication", "login", 14.0, "", "sign in", "signed in"),
    k("Logout", "Authentication", "logout", 120.0, "", "sign out", "signed out"),
    k("MFA Enabled", "Authentication", "enabled", 6.0, "", "enable MFA", "enabled MFA"),
    k("Password Reset", "Authentication", "reset", 8.0, "", "reset their password", "reset their password"),
    k("Access Checked", "Access", "checked", 150.0, "resource", "access", "was granted access to"),
    k("Resource Read", "Access", "read", 220.0, "resource", "read", "read"),
    k("Role Created", "Roles", "created", 6.0, "role", "create role", "created role"),
    k("Role Edited", "Roles", "updated", 8.0, "role", "edit role", "edited role"),
    k("Role Changed", "Roles", "changed", 6.0, "role", "change the permissions of role", "changed the permissions of role"),
    k("Role Deleted", "Roles", "deleted", 2.0, "role", "delete role", "deleted role"),
    k("API Key Created", "API Keys", "created", 10.0, "api_key", "create API key", "created API key"),
    k("API Key Rotated", "API Keys", "rotated", 6.0, "api_key", "rotate API key", "rotated API key"),
    k("API Key Deleted", "API Keys", "deleted", 3.0, "api_key", "delete API key", "deleted API key"),
    k("Integration Added", "Integrations", "added", 5.0, "integration", "add integration", "added integration"),
    k("Integration Edited", "Integrations", "updated", 6.0, "integration", "edit integration", "edited integration"),
    k("Integration Deleted", "Integrations", "deleted", 2.0, "integration", "delete integration", "deleted integration"),
    k("Model Deployed", "Models", "deployed", 20.0, "model", "deploy model", "deployed model"),
    k("Model Updated", "Models", "updated", 12.0, "model", "update model", "updated model"),
    k("Model Undeployed", "Models", "undeployed", 5.0, "model", "undeploy model", "undeployed model"),
    k("Workflow Created", "Workflows", "created", 10.0, "workflow", "create workflow", "created workflow"),
    k("Workflow Deployed", "Workflows", "deployed", 15.0, "workflow", "deploy workflow", "deployed workflow"),
    k("Workflow Triggered", "Workflows", "triggered", 8.0, "workflow", "trigger workflow", "triggered workflow"),
    k("Workflow Deleted", "Workflows", "deleted", 2.0, "workflow", "delete workflow", "deleted workflow"),
    k("User Invited", "Users", "invited", 10.0, "user", "invite", "invited"),
    k("User Role Changed", "Users", "changed", 6.0, "user", "change the role of", "changed the role of"),
    k("User Suspended", "Users", "suspended", 1.5, "user", "suspend", "suspended"),
    k("User Deleted", "Users", "deleted", 2.0, "user", "delete user", "deleted user"),
    k("Prompt Created", "Prompts", "created", 15.0, "prompt", "create prompt", "created prompt"),
    k("Prompt Updated", "Prompts", "updated", 12.0, "prompt", "update prompt", "updated prompt"),
    k("Prompt Shared", "Prompts", "shared", 10.0, "prompt", "share prompt", "shared prompt"),
    k("Prompt Deleted", "Prompts", "deleted", 3.0, "prompt", "delete prompt", "deleted prompt"),
    k("Dataset Uploaded", "Datasets", "uploaded", 10.0, "dataset", "upload dataset", "uploaded dataset"),
    k("Dataset Exported", "Datasets", "exported", 6.0, "dataset", "export dataset", "exported dataset"),
    k("Dataset Deleted", "Datasets", "deleted", 2.0, "dataset", "delete dataset", "deleted dataset"),
    k("Guardrails Deployed", "Guardrails", "deployed", 5.0, "guardrail", "deploy guardrail", "deployed guardrail"),
    k("Guardrails Edited", "Guardrails", "updated", 6.0, "guardrail", "edit guardrail", "edited guardrail"),
    k("Guardrails Triggered", "Guardrails", "blocked", 0.0, "guardrail", "block a request with guardrail", "blocked a request with guardrail"),
    k("Settings Changed", "Settings", "changed", 5.0, "workspace", "change the settings of workspace", "changed the settings of workspace"),
    k("SSO Configured", "Settings", "configured", 1.0, "sso_connection", "configure SSO connection", "configured SSO connection"),
    k("Retention Changed", "Settings", "changed", 1.0, "workspace", "change the retention of workspace", "changed the retention of workspace"),
    k("Audit Log Exported", "Settings", "exported", 2.0, "workspace", "export the audit log of workspace", "exported the audit log of workspace"),
];

/// An app or system actor with the few events it typically emits. `source` overrides the
/// category's service (a system job reports itself); `net` is the first two octets of its hosts.
struct Bot {
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    weight: f64,
    ua: &'static str,
    source: &'static str,
    net: [u8; 2],
    events: &'static [&'static str],
}

#[rustfmt::skip]
const BOTS: &[Bot] = &[
    Bot { id: "app_ci_deploy", name: "CI Deploy Bot", kind: "app", weight: 2.5, ua: "GitHub-Actions/2.319.1 ci-deploy-bot/3.4.0", source: "", net: [52, 14],
        events: &["Model Deployed", "Model Updated", "Workflow Deployed", "Guardrails Deployed"] },
    Bot { id: "app_terraform", name: "Terraform Provider", kind: "app", weight: 1.5, ua: "Terraform/1.9.5 terraform-provider-auditlog/0.14.2", source: "", net: [34, 102],
        events: &["Role Created", "Role Edited", "Integration Added", "Integration Edited", "Settings Changed", "SSO Configured", "API Key Rotated"] },
    Bot { id: "app_billing_sync", name: "Billing Sync", kind: "app", weight: 2.0, ua: "billing-sync/2.8.0 python-requests/2.32.3", source: "", net: [35, 190],
        events: &["Resource Read", "Access Checked", "Dataset Exported"] },
    Bot { id: "app_okta_scim", name: "Okta SCIM", kind: "app", weight: 1.0, ua: "Okta SCIM Client 1.0.0", source: "", net: [44, 234],
        events: &["User Invited", "User Role Changed", "User Suspended", "User Deleted"] },
    Bot { id: "sys_scheduler", name: "Scheduler", kind: "system", weight: 2.0, ua: "scheduler/4.2.0", source: "scheduler", net: [10, 20],
        events: &["Workflow Triggered"] },
    Bot { id: "sys_retention", name: "Retention Job", kind: "system", weight: 0.6, ua: "retention-worker/1.7.3", source: "retention-worker", net: [10, 20],
        events: &["Dataset Deleted", "Prompt Deleted"] },
    Bot { id: "sys_key_rotation", name: "Key Rotation Service", kind: "system", weight: 0.5, ua: "secrets-manager/3.0.1", source: "secrets-manager", net: [10, 30],
        events: &["API Key Rotated"] },
    Bot { id: "sys_guardrails", name: "Guardrails Engine", kind: "system", weight: 1.5, ua: "guardrails-engine/2.11.0", source: "", net: [10, 40],
        events: &["Guardrails Triggered"] },
    Bot { id: "sys_autoscaler", name: "Autoscaler", kind: "system", weight: 0.7, ua: "autoscaler/1.29.4", source: "", net: [10, 50],
        events: &["Model Updated"] },
];

#[rustfmt::skip]
const FIRST: &[&str] = &[
    "Alice", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Isabel", "James", "Kavya",
    "Liam", "Maria", "Noah", "Olivia", "Pedro", "Quinn", "Rachel", "Samir", "Tara", "Umar", "Valeria",
    "Wei", "Yusuf", "Zoe", "Amara", "Lukas", "Mei", "Omar", "Priya", "Sofia", "Tomas", "Nadia",
    "Ethan", "Ingrid", "Kofi", "Lena", "Marco", "Aisha", "Jonas",
];
#[rustfmt::skip]
const LAST: &[&str] = &[
    "Martin", "Nguyen", "Schmidt", "Garcia", "Kowalski", "Okafor", "Tanaka", "Rossi", "Johnson",
    "Patel", "Dubois", "Larsen", "Silva", "Chen", "Novak", "Haddad", "Murphy", "Ivanova", "Kim",
    "Andersson", "Fischer", "Moreau", "Santos", "Walker", "Yilmaz", "Brennan", "Costa", "Weber",
    "Kaur", "Mendes", "Ortiz", "Sato", "Horvat", "Mensah", "Lindqvist", "Bauer", "Reyes", "Park",
    "Clarke", "Ahmed",
];
/// Mostly the company's own domain, plus contractors and a partner.
#[rustfmt::skip]
const DOMAINS: &[&str] = &["acme.io", "acme.io", "acme.io", "acme.io", "acme-labs.dev", "northwind-partners.com"];
#[rustfmt::skip]
const DESKTOP_UAS: &[&str] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
];
#[rustfmt::skip]
const MOBILE_UAS: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
];
/// Relative activity per UTC hour: a working day with a lunch dip and a quiet night.
#[rustfmt::skip]
const HOURS: [f64; 24] = [
    1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0, 6.0, 10.0, 14.0, 15.0, 15.0,
    13.0, 15.0, 15.0, 14.0, 12.0, 10.0, 7.0, 4.0, 3.0, 2.0, 2.0, 1.0,
];
const ROLE_NAMES: &[&str] = &[
    "Viewer",
    "Editor",
    "Admin",
    "Billing Admin",
    "Security Auditor",
];
/// Why an action failed, and the code a service would log; doubled entries are the common ones.
#[rustfmt::skip]
const FAILURES: &[(&str, &str)] = &[
    ("Permission denied", "permission_denied"), ("Permission denied", "permission_denied"),
    ("Validation failed: name already in use", "conflict"), ("Rate limit exceeded", "rate_limited"),
    ("Upstream service timed out", "timeout"), ("Quota exceeded for this workspace", "quota_exceeded"),
];
#[rustfmt::skip]
const LOGIN_FAILURES: &[(&str, &str)] = &[
    ("Invalid password", "invalid_credentials"), ("Invalid password", "invalid_credentials"),
    ("MFA code rejected", "mfa_failed"), ("Account locked after repeated attempts", "account_locked"),
    ("SSO assertion expired", "sso_expired"),
];

/// The id prefix and plausible names for a target type.
#[rustfmt::skip]
fn pool(target: &str) -> (&'static str, &'static [&'static str]) {
    match target {
        "role" => ("rol", &["Billing Admin", "Read Only", "Support Agent", "Security Auditor", "ML Engineer", "Workspace Owner", "Data Steward"]),
        "api_key" => ("key", &["ci-deploy", "prod-ingest", "analytics-export", "staging-readonly", "terraform", "mobile-backend"]),
        "integration" => ("int", &["Slack", "PagerDuty", "Datadog", "GitHub", "Jira", "Snowflake", "Splunk HEC"]),
        "model" => ("mdl", &["support-router", "fraud-scorer", "embedding-small-v3", "churn-predictor", "ticket-classifier", "llama-3-8b-finetune"]),
        "workflow" => ("wf", &["Invoice Triage", "Nightly Eval Suite", "Support Summarizer", "Lead Enrichment", "PII Redaction Pipeline"]),
        "prompt" => ("prm", &["refund-policy-answer", "sql-generator", "meeting-notes-summary", "tone-rewriter", "code-review-helper"]),
        "dataset" => ("ds", &["support-tickets-2024", "eval-golden-set", "customer-feedback-q3", "product-catalog", "fraud-labels-v2"]),
        "guardrail" => ("gr", &["PII Filter", "Toxicity Block", "Prompt Injection Shield", "Topic Allowlist", "Jailbreak Detector"]),
        "sso_connection" => ("sso", &["Okta", "Azure AD", "Google Workspace"]),
        "workspace" => ("ws", &["Production", "Staging", "Research"]),
        _ => ("res", &["Q3 Board Deck", "customer-export.csv", "Salary Bands 2025", "Incident Postmortem #412", "Pricing Model.xlsx", "reports/weekly-usage"]),
    }
}

/// The service that emits a category's events.
fn source_for(category: &str) -> &'static str {
    match category {
        "Authentication" | "Roles" | "Users" => "identity-service",
        "API Keys" | "Access" => "api-gateway",
        "Integrations" => "integrations-service",
        "Models" => "model-registry",
        "Workflows" => "workflow-engine",
        "Prompts" => "prompt-studio",
        "Datasets" => "data-service",
        "Guardrails" => "guardrails-service",
        _ => "admin-console",
    }
}

/// Cumulative weights, to draw an index in proportion to its weight.
struct Weighted(Vec<f64>);

impl Weighted {
    fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        Self(
            weights
                .into_iter()
                .scan(0.0, |total, w| Some(*total + w).inspect(|t| *total = *t))
                .collect(),
        )
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let x = rng.r#gen::<f64>() * self.0.last().copied().unwrap_or(0.0);
        let i = self.0.partition_point(|&c| c <= x);
        i.min(self.0.len().saturating_sub(1))
    }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn hex(rng: &mut StdRng) -> String {
    format!("{:016x}", rng.r#gen::<u64>())
}

/// A stable, id-like hash (FNV-1a) of a target's name, so an entity keeps its id across events.
fn stable_id(prefix: &str, name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{prefix}_{:08x}", h >> 32)
}

/// An address in the `a.b.0.0/16` network.
fn host(rng: &mut StdRng, [a, b]: [u8; 2]) -> String {
    format!(
        "{a}.{b}.{}.{}",
        rng.gen_range(0..=255),
        rng.gen_range(1..=254)
    )
}

/// A public-looking address: private, loopback, CGNAT and link-local first octets are skipped.
fn public_ip(rng: &mut StdRng) -> String {
    if rng.gen_bool(0.15) {
        let [a, b, c, d] = [0; 4].map(|_| rng.gen_range(1..=0xffff_u32));
        return format!("2a02:{a:x}:{b:x}:{c:x}::{d:x}");
    }
    loop {
        let a = rng.gen_range(23..=223_u8);
        if ![100, 127, 169, 172, 192].contains(&a) {
            return host(rng, [a, rng.r#gen()]);
        }
    }
}

struct User {
    id: String,
    name: String,
    email: String,
    ips: Vec<String>,
    ua: &'static str,
    mobile_ua: Option<&'static str>,
}

/// Generates audit events from a fixed cast of users, apps and system jobs.
pub struct Generator {
    rng: StdRng,
    now: DateTime<Utc>,
    first_day: NaiveDate,
    users: Vec<User>,
    /// Zipf-like: a few users do most of the work.
    user_pick: Weighted,
    /// Index 0 is "a user"; `i` is `BOTS[i - 1]`.
    actor_pick: Weighted,
    kind_pick: Weighted,
    day_pick: Weighted,
    hour_pick: Weighted,
}

impl Generator {
    /// `now` = the newest possible occurred_at; events spread over the 400 days before it.
    pub fn new(seed: u64, now: DateTime<Utc>) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut emails = HashSet::new();
        let mut users = Vec::with_capacity(USERS);
        for i in 0..USERS {
            let (first, last) = (*pick(&mut rng, FIRST), *pick(&mut rng, LAST));
            let domain = pick(&mut rng, DOMAINS);
            let mut email = format!("{first}.{last}@{domain}").to_lowercase();
            if !emails.insert(email.clone()) {
                // Namesakes get a numbered address, as mail admins do.
                email = email.replacen('@', &format!("{}@", i + 1), 1);
            }
            users.push(User {
                id: format!("usr_{:04}{}", i + 1, char::from(b'a' + (i % 26) as u8)),
                name: format!("{first} {last}"),
                email,
                ips: (0..rng.gen_range(1..=2))
                    .map(|_| public_ip(&mut rng))
                    .collect(),
                ua: pick(&mut rng, DESKTOP_UAS),
                mobile_ua: rng.gen_bool(0.4).then(|| *pick(&mut rng, MOBILE_UAS)),
            });
        }
        // Shuffle who is busiest, so activity does not simply follow id order.
        let mut ranks: Vec<usize> = (1..=USERS).collect();
        ranks.shuffle(&mut rng);
        let user_pick = Weighted::new(ranks.iter().map(|&r| 1.0 / r as f64));
        let today = now.date_naive();
        let first_day = today
            .checked_sub_days(Days::new(SPAN_DAYS - 1))
            .unwrap_or(today);
        let day_pick = Weighted::new((0..SPAN_DAYS).map(|i| {
            let rhythm = match first_day
                .checked_add_days(Days::new(i))
                .map(|d| d.weekday())
            {
                Some(Weekday::Sat) => 0.2,
                Some(Weekday::Sun) => 0.15,
                _ => 1.0,
            };
            // Slow growth toward today, with day-to-day noise so the histogram is not too smooth.
            (0.6 + 0.4 * i as f64 / (SPAN_DAYS - 1) as f64) * rhythm * rng.gen_range(0.8..1.2)
        }));
        let bots = BOTS.iter().map(|b| b.weight);
        Self {
            rng,
            now,
            first_day,
            users,
            user_pick,
            actor_pick: Weighted::new(std::iter::once(USER_WEIGHT).chain(bots)),
            kind_pick: Weighted::new(KINDS.iter().map(|k| k.weight)),
            day_pick,
            hour_pick: Weighted::new(HOURS),
        }
    }

    /// One event as the ingest API takes it (a JSON object).
    pub fn next_event(&mut self) -> Value {
        let rng = &mut self.rng;
        let (kind, actor, ip, ua, source, any_hour, user_idx);
        if let Some(bot) = self
            .actor_pick
            .sample(rng)
            .checked_sub(1)
            .and_then(|i| BOTS.get(i))
        {
            let name = pick(rng, bot.events);
            kind = KINDS.iter().find(|k| k.name == *name).unwrap_or(&KINDS[0]);
            actor = json!({"id": bot.id, "name": bot.name, "type": bot.kind});
            (ip, ua) = (host(rng, bot.net), bot.ua);
            source = Some(bot.source).filter(|s| !s.is_empty());
            // Jobs run around the clock; people and their CI follow the working day.
            (any_hour, user_idx) = (bot.kind == "system", None);
        } else {
            let i = self.user_pick.sample(rng);
            let u = &self.users[i];
            kind = &KINDS[self.kind_pick.sample(rng)];
            actor = json!({"id": u.id, "name": u.name, "type": "user", "email": u.email});
            // Now and then a user works from a café or a phone hotspot.
            ip = if rng.gen_bool(0.05) {
                public_ip(rng)
            } else {
                pick(rng, &u.ips).clone()
            };
            ua = u.mobile_ua.filter(|_| rng.gen_bool(0.2)).unwrap_or(u.ua);
            (source, any_hour, user_idx) = (None, false, Some(i));
        }

        let target = match kind.target {
            "" => None,
            "user" => {
                // Someone other than the actor: people do not invite or suspend themselves.
                let n = self.users.len();
                let j = user_idx.map_or(rng.gen_range(0..n), |i| i + 1 + rng.gen_range(0..n - 1));
                let u = &self.users[j % n];
                Some((u.id.clone(), u.name.clone()))
            }
            t => {
                let (prefix, names) = pool(t);
                let name = *pick(rng, names);
                Some((stable_id(prefix, name), name.to_string()))
            }
        };
        let login_failed = kind.name == "Login Failed";
        let failed = login_failed || rng.gen_bool(FAILURE_RATE);
        let name = target.as_ref().map_or("", |(_, n)| n.as_str());
        let quoted = if name.is_empty() {
            String::new()
        } else {
            format!(" \"{name}\"")
        };
        let mut metadata = metadata(rng, kind, name, failed);
        let actor_name = actor["name"].as_str().unwrap_or_default();
        let description = if failed {
            let (reason, code) = *pick(
                rng,
                if login_failed {
                    LOGIN_FAILURES
                } else {
                    FAILURES
                },
            );
            metadata["error_code"] = json!(code);
            format!("{actor_name} failed to {}{quoted}: {reason}", kind.verb)
        } else {
            format!("{actor_name} {}{quoted}", kind.done)
        };
        let changes = changes(rng, kind.name);
        let occurred_at = self
            .occurred_at(any_hour)
            .to_rfc3339_opts(SecondsFormat::Millis, true);

        let mut event = json!({
            "occurred_at": occurred_at, "event": kind.name, "category": kind.category,
            "action": kind.action, "outcome": if failed { "failure" } else { "success" },
            "actor": actor, "ip": ip, "user_agent": ua,
            "source": source.unwrap_or_else(|| source_for(kind.category)),
            "description": description, "metadata": metadata,
        });
        if let Some((id, name)) = target {
            event["target"] = json!({"type": kind.target, "id": id, "name": name});
        }
        if let Some(changes) = changes {
            event["changes"] = changes;
        }
        event
    }

    /// A time in the window, following the weekly and daily rhythm; never after `now`.
    fn occurred_at(&mut self, any_hour: bool) -> DateTime<Utc> {
        let rng = &mut self.rng;
        // Today's later hours are still in the future, so a few draws may need repeating.
        for _ in 0..16 {
            let day = self
                .first_day
                .checked_add_days(Days::new(self.day_pick.sample(rng) as u64));
            let hour = if any_hour {
                rng.gen_range(0..24)
            } else {
                self.hour_pick.sample(rng) as u32
            };
            let (m, s, ms) = (
                rng.gen_range(0..60),
                rng.gen_range(0..60),
                rng.gen_range(0..1000),
            );
            let t = day
                .and_then(|d| d.and_hms_milli_opt(hour, m, s, ms))
                .map(|t| t.and_utc());
            if let Some(t) = t.filter(|t| *t <= self.now) {
                return t;
            }
        }
        self.now - Duration::milliseconds(rng.gen_range(0..3_600_000))
    }
}

/// Category-specific details, the kind a real service attaches to its audit events.
fn metadata(rng: &mut StdRng, kind: &Kind, target: &str, failed: bool) -> Value {
    let env = *pick(rng, &["production", "production", "staging", "development"]);
    let mut m = match kind.category {
        "Authentication" => json!({
            "method": pick(rng, &["sso", "sso", "password", "passkey"]), "mfa": rng.gen_bool(0.7),
        }),
        "Access" => json!({
            "permission": if kind.action == "read" { "read" } else { pick(rng, &["read", "write"]) },
            "decision": if failed { "deny" } else { "allow" }, "latency_ms": rng.gen_range(2..40),
        }),
        "Roles" => json!({
            "permissions_count": rng.gen_range(3..40),
            "scope": pick(rng, &["workspace", "organization"]),
        }),
        "API Keys" => {
            let all = [
                "events:write",
                "events:read",
                "models:deploy",
                "datasets:read",
                "admin",
            ];
            let n = rng.gen_range(1..=3);
            json!({
                "key_prefix": format!("ak_live_{:06x}", rng.gen_range(0..0x100_0000)),
                "scopes": all[..n], "expires_in_days": pick(rng, &[30, 90, 365]),
            })
        }
        "Integrations" => json!({
            "provider": target.to_lowercase().replace(' ', "_"),
            "connection_id": format!("con_{}", &hex(rng)[..10]),
        }),
        "Models" => json!({
            "model": target, "environment": env, "replicas": rng.gen_range(1..=8),
            "version": format!("v{}.{}.{}", rng.gen_range(1..5), rng.gen_range(0..20), rng.gen_range(0..10)),
            "region": pick(rng, &["us-east-1", "eu-west-1", "ap-southeast-2"]),
        }),
        "Workflows" => json!({
            "steps": rng.gen_range(2..15), "environment": env,
            "trigger": pick(rng, &["schedule", "webhook", "manual"]),
        }),
        "Users" => json!({"role": pick(rng, ROLE_NAMES), "via": pick(rng, &["email", "scim"])}),
        "Prompts" => json!({
            "version": rng.gen_range(1..30), "tokens": rng.gen_range(50..4000),
            "visibility": pick(rng, &["private", "team", "workspace"]),
        }),
        "Datasets" => {
            let rows: u64 = rng.gen_range(1_000..5_000_000);
            json!({
                "rows": rows, "size_bytes": rows * rng.gen_range(80..600),
                "format": pick(rng, &["csv", "parquet", "jsonl"]),
            })
        }
        "Guardrails" => json!({
            "policy": target, "mode": pick(rng, &["block", "monitor"]),
            "threshold": f64::from(rng.gen_range(50..95_u8)) / 100.0,
        }),
        _ => json!({"workspace": target}),
    };
    m["request_id"] = json!(format!("req_{}", hex(rng)));
    match (kind.category, failed) {
        ("Authentication", true) => m["attempt"] = json!(rng.gen_range(1..=5)),
        ("Authentication", false) => m["session_id"] = json!(format!("ses_{}", hex(rng))),
        _ => {}
    }
    m
}

/// Old and new values, for the events that edit something.
fn changes(rng: &mut StdRng, event: &str) -> Option<Value> {
    Some(match event {
        "Role Edited" => json!({"description": {
            "old": "Read access to billing", "new": "Read and export access to billing"}}),
        "Role Changed" => json!({"permissions": {
            "old": ["events:read"], "new": ["events:read", "events:export"]}}),
        "User Role Changed" => {
            let old = rng.gen_range(0..ROLE_NAMES.len());
            let new = (old + rng.gen_range(1..ROLE_NAMES.len())) % ROLE_NAMES.len();
            json!({"role": {"old": ROLE_NAMES[old], "new": ROLE_NAMES[new]}})
        }
        "Integration Edited" => json!({"notify_channel": {
            "old": "#alerts", "new": pick(rng, &["#ml-alerts", "#oncall", "#security"])}}),
        "Model Updated" => {
            let old = rng.gen_range(1..8);
            json!({"replicas": {"old": old, "new": old + rng.gen_range(1..4)}})
        }
        "Prompt Updated" => {
            let old = rng.gen_range(1..30);
            json!({"version": {"old": old, "new": old + 1}})
        }
        "Guardrails Edited" => {
            json!({"threshold": {"old": 0.8, "new": pick(rng, &[0.6, 0.7, 0.9])}})
        }
        "Settings Changed" => match rng.gen_range(0..3) {
            0 => json!({"session_timeout_minutes": {"old": 60, "new": 30}}),
            1 => json!({"mfa_required": {"old": false, "new": true}}),
            _ => json!({"ip_allowlist_enabled": {"old": false, "new": true}}),
        },
        "Retention Changed" => {
            json!({"retention_days": {"old": 365, "new": pick(rng, &[90, 180, 400, 730])}})
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::HashMap;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    fn events(seed: u64, n: usize) -> Vec<Value> {
        let mut g = Generator::new(seed, now());
        (0..n).map(|_| g.next_event()).collect()
    }

    #[test]
    fn every_event_passes_the_ingest_validator() {
        for v in events(7, 5000) {
            let e =
                app::events::model::parse_event(&v, now()).unwrap_or_else(|e| panic!("{e:?}: {v}"));
            assert!(v.get("idempotency_key").is_none());
            assert_eq!(
                v["actor"]["email"].is_string(),
                e.body.actor.kind.as_str() == "user",
                "{v}"
            );
            if e.body.changes.is_some() {
                assert!(
                    ["Edited", "Changed", "Updated"]
                        .iter()
                        .any(|s| e.body.event.ends_with(s)),
                    "{v}"
                );
            }
        }
    }

    #[test]
    fn same_seed_same_events() {
        assert_eq!(events(42, 300), events(42, 300));
        assert_ne!(events(42, 300), events(43, 300));
    }

    #[test]
    fn bots_only_emit_known_events() {
        for bot in BOTS {
            for name in bot.events {
                assert!(
                    KINDS.iter().any(|k| k.name == *name),
                    "{} emits unknown {name}",
                    bot.name
                );
            }
        }
    }

    #[test]
    fn mix_of_outcomes_names_and_categories() {
        let evs = events(1, 5000);
        let failures = evs.iter().filter(|v| v["outcome"] == "failure").count();
        let rate = failures as f64 / evs.len() as f64;
        assert!((0.01..0.06).contains(&rate), "failure rate {rate}");
        let names: HashSet<_> = evs.iter().map(|v| v["event"].as_str().unwrap()).collect();
        let categories: HashSet<_> = evs
            .iter()
            .map(|v| v["category"].as_str().unwrap())
            .collect();
        assert!(names.len() >= 30, "{} names", names.len());
        assert_eq!(categories.len(), 12, "{categories:?}");
        assert!(
            evs.iter()
                .filter(|v| v["event"] == "Login Failed")
                .all(|v| v["outcome"] == "failure")
        );
    }

    #[test]
    fn times_follow_the_window_and_the_week() {
        let (mut weekday, mut weekend, mut working_hours) = (0, 0, 0);
        let evs = events(3, 5000);
        for v in &evs {
            let s = v["occurred_at"].as_str().unwrap();
            assert!(
                s.ends_with('Z') && s.len() == "2026-11-25T12:00:00.000Z".len(),
                "{s}"
            );
            let t = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
            assert!(t <= now() && t >= now() - Duration::days(400), "{s}");
            match t.weekday() {
                Weekday::Sat | Weekday::Sun => weekend += 1,
                _ => weekday += 1,
            }
            working_hours += usize::from((8..19).contains(&chrono::Timelike::hour(&t)));
        }
        assert!(
            weekday as f64 / 5.0 > 2.0 * weekend as f64 / 2.0,
            "{weekday} vs {weekend}"
        );
        assert!(
            working_hours * 10 > evs.len() * 7,
            "{working_hours} in working hours"
        );
    }

    #[test]
    fn a_few_users_do_most_of_the_work() {
        let mut per_user: HashMap<String, usize> = HashMap::new();
        for v in events(5, 5000)
            .iter()
            .filter(|v| v["actor"]["type"] == "user")
        {
            *per_user
                .entry(v["actor"]["id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        let mut counts: Vec<usize> = per_user.into_values().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let total: usize = counts.iter().sum();
        let top: usize = counts.iter().take(USERS / 10).sum();
        assert!(
            top as f64 > 0.35 * total as f64,
            "top 10% did {top} of {total}"
        );
    }
}
