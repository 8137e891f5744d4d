//! The demo generator's data: event kinds, app and system actors, names, user agents, targets.

pub(super) type S = &'static str;

/// (event, category, action, weight among user actions, target type, verb, past tense).
/// A weight of 0 means only bots emit it; the verb phrases carry the target's noun because the
/// wording differs per event ("was granted access to", "changed the role of").
pub(super) type Kind = (S, S, S, f64, S, S, S);

#[rustfmt::skip]
pub(super) const KINDS: &[Kind] = &[
    ("Login", "Authentication", "login", 300.0, "", "sign in", "signed in"),
    ("Login Failed", "Authentication", "login", 14.0, "", "sign in", "signed in"),
    ("Logout", "Authentication", "logout", 120.0, "", "sign out", "signed out"),
    ("MFA Enabled", "Authentication", "enabled", 6.0, "", "enable MFA", "enabled MFA"),
    ("Password Reset", "Authentication", "reset", 8.0, "", "reset their password", "reset their password"),
    ("Access Checked", "Access", "checked", 150.0, "resource", "access", "was granted access to"),
    ("Resource Read", "Access", "read", 220.0, "resource", "read", "read"),
    ("Role Created", "Roles", "created", 6.0, "role", "create role", "created role"),
    ("Role Edited", "Roles", "updated", 8.0, "role", "edit role", "edited role"),
    ("Role Changed", "Roles", "changed", 6.0, "role", "change the permissions of role", "changed the permissions of role"),
    ("Role Deleted", "Roles", "deleted", 2.0, "role", "delete role", "deleted role"),
    ("API Key Created", "API Keys", "created", 10.0, "api_key", "create API key", "created API key"),
    ("API Key Rotated", "API Keys", "rotated", 6.0, "api_key", "rotate API key", "rotated API key"),
    ("API Key Deleted", "API Keys", "deleted", 3.0, "api_key", "delete API key", "deleted API key"),
    ("Integration Added", "Integrations", "added", 5.0, "integration", "add integration", "added integration"),
    ("Integration Edited", "Integrations", "updated", 6.0, "integration", "edit integration", "edited integration"),
    ("Integration Deleted", "Integrations", "deleted", 2.0, "integration", "delete integration", "deleted integration"),
    ("Model Deployed", "Models", "deployed", 20.0, "model", "deploy model", "deployed model"),
    ("Model Updated", "Models", "updated", 12.0, "model", "update model", "updated model"),
    ("Model Undeployed", "Models", "undeployed", 5.0, "model", "undeploy model", "undeployed model"),
    ("Workflow Created", "Workflows", "created", 10.0, "workflow", "create workflow", "created workflow"),
    ("Workflow Deployed", "Workflows", "deployed", 15.0, "workflow", "deploy workflow", "deployed workflow"),
    ("Workflow Triggered", "Workflows", "triggered", 8.0, "workflow", "trigger workflow", "triggered workflow"),
    ("Workflow Deleted", "Workflows", "deleted", 2.0, "workflow", "delete workflow", "deleted workflow"),
    ("User Invited", "Users", "invited", 10.0, "user", "invite", "invited"),
    ("User Role Changed", "Users", "changed", 6.0, "user", "change the role of", "changed the role of"),
    ("User Suspended", "Users", "suspended", 1.5, "user", "suspend", "suspended"),
    ("User Deleted", "Users", "deleted", 2.0, "user", "delete user", "deleted user"),
    ("Prompt Created", "Prompts", "created", 15.0, "prompt", "create prompt", "created prompt"),
    ("Prompt Updated", "Prompts", "updated", 12.0, "prompt", "update prompt", "updated prompt"),
    ("Prompt Shared", "Prompts", "shared", 10.0, "prompt", "share prompt", "shared prompt"),
    ("Prompt Deleted", "Prompts", "deleted", 3.0, "prompt", "delete prompt", "deleted prompt"),
    ("Dataset Uploaded", "Datasets", "uploaded", 10.0, "dataset", "upload dataset", "uploaded dataset"),
    ("Dataset Exported", "Datasets", "exported", 6.0, "dataset", "export dataset", "exported dataset"),
    ("Dataset Deleted", "Datasets", "deleted", 2.0, "dataset", "delete dataset", "deleted dataset"),
    ("Guardrails Deployed", "Guardrails", "deployed", 5.0, "guardrail", "deploy guardrail", "deployed guardrail"),
    ("Guardrails Edited", "Guardrails", "updated", 6.0, "guardrail", "edit guardrail", "edited guardrail"),
    ("Guardrails Triggered", "Guardrails", "blocked", 0.0, "guardrail", "block a request with guardrail", "blocked a request with guardrail"),
    ("Settings Changed", "Settings", "changed", 5.0, "workspace", "change the settings of workspace", "changed the settings of workspace"),
    ("SSO Configured", "Settings", "configured", 1.0, "sso_connection", "configure SSO connection", "configured SSO connection"),
    ("Retention Changed", "Settings", "changed", 1.0, "workspace", "change the retention of workspace", "changed the retention of workspace"),
    ("Audit Log Exported", "Settings", "exported", 2.0, "workspace", "export the audit log of workspace", "exported the audit log of workspace"),
];

/// An app or system actor and the few events it typically emits. `source` overrides the category's
/// service (a job reports itself); `net` is the /16 its hosts live in.
pub(super) struct Bot {
    pub(super) id: S,
    pub(super) name: S,
    pub(super) kind: S,
    pub(super) weight: f64,
    pub(super) ua: S,
    pub(super) source: S,
    pub(super) net: [u8; 2],
    pub(super) events: &'static [S],
}

#[rustfmt::skip]
pub(super) const BOTS: &[Bot] = &[
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
pub(super) const FIRST: &[S] = &[
    "Alice", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Isabel", "James", "Kavya",
    "Liam", "Maria", "Noah", "Olivia", "Pedro", "Quinn", "Rachel", "Samir", "Tara", "Umar", "Valeria",
    "Wei", "Yusuf", "Zoe", "Amara", "Lukas", "Mei", "Omar", "Priya", "Sofia", "Tomas", "Nadia",
    "Ethan", "Ingrid", "Kofi", "Lena", "Marco", "Aisha", "Jonas",
];
#[rustfmt::skip]
pub(super) const LAST: &[S] = &[
    "Martin", "Nguyen", "Schmidt", "Garcia", "Kowalski", "Okafor", "Tanaka", "Rossi", "Johnson",
    "Patel", "Dubois", "Larsen", "Silva", "Chen", "Novak", "Haddad", "Murphy", "Ivanova", "Kim",
    "Andersson", "Fischer", "Moreau", "Santos", "Walker", "Yilmaz", "Brennan", "Costa", "Weber",
    "Kaur", "Mendes", "Ortiz", "Sato", "Horvat", "Mensah", "Lindqvist", "Bauer", "Reyes", "Park",
    "Clarke", "Ahmed",
];
/// Mostly the company's own domain, plus its lab and a partner's contractors.
#[rustfmt::skip]
pub(super) const DOMAINS: &[S] = &["acme.io", "acme.io", "acme.io", "acme.io", "acme-labs.dev", "northwind-partners.com"];
#[rustfmt::skip]
pub(super) const DESKTOP_UAS: &[S] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
];
#[rustfmt::skip]
pub(super) const MOBILE_UAS: &[S] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
];
/// Relative activity per UTC hour: a working day with a lunch dip and a quiet night.
#[rustfmt::skip]
pub(super) const HOURS: [f64; 24] = [
    1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0, 6.0, 10.0, 14.0, 15.0, 15.0,
    13.0, 15.0, 15.0, 14.0, 12.0, 10.0, 7.0, 4.0, 3.0, 2.0, 2.0, 1.0,
];
pub(super) const ROLE_NAMES: &[S] = &[
    "Viewer",
    "Editor",
    "Admin",
    "Billing Admin",
    "Security Auditor",
];
/// Why an action failed and the code a service would log; doubled entries are the common ones.
#[rustfmt::skip]
pub(super) const FAILURES: &[(S, S)] = &[
    ("Permission denied", "permission_denied"), ("Permission denied", "permission_denied"),
    ("Conflict: it was changed concurrently", "conflict"), ("Rate limit exceeded", "rate_limited"),
    ("Upstream service timed out", "timeout"), ("Quota exceeded for this workspace", "quota_exceeded"),
];
#[rustfmt::skip]
pub(super) const BAD_LOGINS: &[(S, S)] = &[
    ("Invalid password", "invalid_credentials"), ("Invalid password", "invalid_credentials"),
    ("MFA code rejected", "mfa_failed"), ("Account locked after repeated attempts", "account_locked"),
    ("SSO assertion expired", "sso_expired"),
];

/// The id prefix and plausible names for a target type.
#[rustfmt::skip]
pub(super) fn pool(target: &str) -> (S, &'static [S]) {
    match target {
        "role" => ("rol", &["Billing Admin", "Read Only", "Support Agent", "Security Auditor", "ML Engineer", "Data Steward"]),
        "api_key" => ("key", &["ci-deploy", "prod-ingest", "analytics-export", "staging-readonly", "terraform", "mobile-backend"]),
        "integration" => ("int", &["Slack", "PagerDuty", "Datadog", "GitHub", "Jira", "Snowflake", "Splunk HEC"]),
        "model" => ("mdl", &["support-router", "fraud-scorer", "embedding-small-v3", "churn-predictor", "ticket-classifier"]),
        "workflow" => ("wf", &["Invoice Triage", "Nightly Eval Suite", "Support Summarizer", "Lead Enrichment", "PII Redaction"]),
        "prompt" => ("prm", &["refund-policy-answer", "sql-generator", "meeting-notes-summary", "tone-rewriter", "code-review-helper"]),
        "dataset" => ("ds", &["support-tickets-2024", "eval-golden-set", "customer-feedback-q3", "product-catalog", "fraud-labels-v2"]),
        "guardrail" => ("gr", &["PII Filter", "Toxicity Block", "Prompt Injection Shield", "Topic Allowlist", "Jailbreak Detector"]),
        "sso_connection" => ("sso", &["Okta", "Azure AD", "Google Workspace"]),
        "workspace" => ("ws", &["Production", "Staging", "Research"]),
        _ => ("res", &["Q3 Board Deck", "customer-export.csv", "Salary Bands 2025", "Incident Postmortem #412", "reports/weekly-usage"]),
    }
}

/// The service that emits a category's events.
pub(super) fn source_for(category: &str) -> S {
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
