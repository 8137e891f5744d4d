//! The viewer audits itself: sign-ins (and failures), sign-outs and the management of users and
//! API keys become events in the same store, through the same write path as every other event,
//! with source "auditlog", who did it, from where, and the outcome. A failed sign-in records the
//! name that was tried, never the password.

use chrono::Utc;
use serde_json::{Value, json};

use super::Actor;
use crate::store::{AppendRequest, Store, StoreError};

impl Actor {
    /// The command line: the operating-system user and host that ran it.
    pub fn command_line() -> Self {
        let os_user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "unknown-host".into());
        let who = format!("{os_user}@{host}");
        Self {
            id: who.clone(),
            name: who,
            kind: "system",
            ip: None,
            user_agent: Some("auditlog command line".into()),
        }
    }
}

/// What happened.
#[derive(Clone, Debug)]
pub struct Action {
    /// The event name ("Signed In", "User Added", …).
    pub event: &'static str,
    /// The action verb ("signed_in", "added", …).
    pub action: &'static str,
    pub success: bool,
    /// What it was done to: (type, id, name).
    pub target: Option<(&'static str, String, String)>,
    pub description: String,
    pub metadata: Value,
}

/// The event (ingest form) recording `action` by `actor`.
pub fn event(actor: &Actor, action: &Action) -> Value {
    let mut e = json!({
        "occurred_at": Utc::now().to_rfc3339(),
        "event": action.event,
        "category": "Audit Logs",
        "action": action.action,
        "outcome": if action.success { "success" } else { "failure" },
        "actor": {"id": actor.id, "name": actor.name, "type": actor.kind},
        "source": "auditlog",
        "description": action.description,
        "metadata": action.metadata,
    });
    if let Some((kind, id, name)) = &action.target {
        e["target"] = json!({"type": kind, "id": id, "name": name});
    }
    if let Some(ip) = actor
        .ip
        .as_deref()
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
    {
        e["ip"] = json!(ip);
    }
    if let Some(ua) = &actor.user_agent {
        e["user_agent"] = json!(ua.chars().take(500).collect::<String>());
    }
    e
}

/// Records `action` by `actor` through the store's one write path.
pub async fn record(store: &Store, actor: &Actor, action: Action) -> Result<(), StoreError> {
    let now = Utc::now();
    let item = crate::events::model::parse_event(&event(actor, &action), now);
    store
        .append(AppendRequest {
            scope: "auditlog".into(),
            request_key: None,
            items: vec![item],
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_sign_in_names_the_attempt_and_passes_validation() {
        let actor = Actor {
            id: "mallory".into(),
            name: "mallory".into(),
            kind: "user",
            ip: Some("203.0.113.9".into()),
            user_agent: Some("curl/8".into()),
        };
        let e = event(
            &actor,
            &Action {
                event: "Sign-in Failed",
                action: "sign_in",
                success: false,
                target: None,
                description: "A sign-in as mallory failed".into(),
                metadata: json!({"name": "mallory"}),
            },
        );
        let parsed = crate::events::model::parse_event(&e, Utc::now()).expect("valid");
        assert_eq!(parsed.body.outcome.as_str(), "failure");
        assert_eq!(parsed.body.ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(parsed.body.source.as_deref(), Some("auditlog"));
        // Not an address: left out rather than rejected.
        let odd = Actor {
            ip: Some("unknown".into()),
            ..actor
        };
        assert!(
            event(
                &odd,
                &Action {
                    event: "Signed Out",
                    action: "sign_out",
                    success: true,
                    target: None,
                    description: String::new(),
                    metadata: json!({})
                }
            )
            .get("ip")
            .is_none()
        );
        let cli = Actor::command_line();
        assert!(cli.id.contains('@') && cli.kind == "system");
    }
}
