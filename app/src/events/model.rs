//! The audit event: what a stored event looks like, and how an incoming one is checked.
//!
//! Parsing works on a `serde_json::Value` field by field (rather than a derived `Deserialize`) so that
//! every rejection names the exact field (`actor.email`, `metadata`) and the limit it broke.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::net::IpAddr;

/// Longest accepted string field, in bytes.
pub const MAX_STRING_BYTES: usize = 1024;
/// Longest accepted description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
/// Most keys in `metadata` (and fields in `changes`).
pub const MAX_METADATA_KEYS: usize = 64;
/// Largest serialized `metadata` (and `changes`), in bytes.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// How far in the future `occurred_at` may lie (clock skew allowance), in milliseconds.
pub const MAX_FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// Who performed an action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ActorKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The kind of actor: a person, an application (API key, integration) or the system itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    User,
    App,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::App => "app",
            ActorKind::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(ActorKind::User),
            "app" => Some(ActorKind::App),
            "system" => Some(ActorKind::System),
            _ => None,
        }
    }
}

/// What an action was performed on. Every part is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Target {
    pub fn is_empty(&self) -> bool {
        self.kind.is_none() && self.id.is_none() && self.name.is_none()
    }
}

/// Whether the recorded action succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            _ => None,
        }
    }
}

/// The fields an event carries, as validated; shared by new and stored events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventBody {
    pub occurred_at: DateTime<Utc>,
    pub event: String,
    pub category: String,
    pub action: String,
    pub outcome: Outcome,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Always a JSON object (empty when the sender gave none).
    pub metadata: Map<String, Value>,
    /// `{ field: { "old": .., "new": .. } }` when the sender described a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Map<String, Value>>,
}

/// A validated event on its way into the store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub body: EventBody,
    pub received_at: DateTime<Utc>,
    /// The sender's per-event retry key, unique per API key.
    pub idempotency_key: Option<String>,
}

/// An event as stored and shown: its sequence number, when it arrived, and its body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Monotonic sequence number ("Seq").
    pub id: i64,
    pub received_at: DateTime<Utc>,
    #[serde(flatten)]
    pub body: EventBody,
}

/// Why an incoming event was refused: a message a sender can act on, and the field it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error}")]
pub struct FieldError {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            field: Some(field.into()),
        }
    }
}

const TOP_LEVEL_FIELDS: &[&str] = &[
    "occurred_at",
    "event",
    "category",
    "action",
    "outcome",
    "actor",
    "target",
    "ip",
    "user_agent",
    "source",
    "description",
    "metadata",
    "changes",
    "idempotency_key",
];

/// Checks one incoming event (a JSON value) against the model and its limits.
///
/// `now` is the receipt time: the default for `occurred_at` and the reference for the future-skew limit.
pub fn parse_event(value: &Value, now: DateTime<Utc>) -> Result<NewEvent, FieldError> {
    let Some(obj) = value.as_object() else {
        return Err(FieldError {
            error: "each event must be a JSON object".into(),
            field: None,
        });
    };
    if let Some(unknown) = obj.keys().find(|k| !TOP_LEVEL_FIELDS.contains(&k.as_str())) {
        return Err(FieldError::new(
            unknown.clone(),
            format!("unknown field `{unknown}`"),
        ));
    }
    let now = truncate_ms(now);
    let occurred_at = match obj.get("occurred_at") {
        None | Some(Value::Null) => now,
        Some(v) => parse_time(v).map_err(|e| FieldError::new("occurred_at", e))?,
    };
    if occurred_at.timestamp_millis() > now.timestamp_millis() + MAX_FUTURE_SKEW_MS {
        return Err(FieldError::new(
            "occurred_at",
            "occurred_at is more than 5 minutes in the future",
        ));
    }
    let outcome = match opt_str(obj, "outcome", "outcome", MAX_STRING_BYTES)? {
        None => Outcome::Success,
        Some(s) => Outcome::parse(&s).ok_or_else(|| {
            FieldError::new("outcome", "outcome must be \"success\" or \"failure\"")
        })?,
    };
    let ip = match opt_str(obj, "ip", "ip", MAX_STRING_BYTES)? {
        None => None,
        Some(s) => Some(
            s.parse::<IpAddr>()
                .map_err(|_| FieldError::new("ip", "ip must be an IPv4 or IPv6 address"))?
                .to_string(),
        ),
    };
    let body = EventBody {
        occurred_at,
        event: req_str(obj, "event", "event", MAX_STRING_BYTES)?,
        category: req_str(obj, "category", "category", MAX_STRING_BYTES)?,
        action: req_str(obj, "action", "action", MAX_STRING_BYTES)?.to_lowercase(),
        outcome,
        actor: parse_actor(obj.get("actor"))?,
        target: parse_target(obj.get("target"))?,
        ip,
        user_agent: opt_str(obj, "user_agent", "user_agent", MAX_STRING_BYTES)?,
        source: opt_str(obj, "source", "source", MAX_STRING_BYTES)?,
        description: opt_str(obj, "description", "description", MAX_DESCRIPTION_BYTES)?,
        metadata: parse_metadata(obj.get("metadata"))?,
        changes: parse_changes(obj.get("changes"))?,
    };
    Ok(NewEvent {
        body,
        received_at: now,
        idempotency_key: opt_str(obj, "idempotency_key", "idempotency_key", 255)?,
    })
}

fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(t.timestamp_millis())
        .single()
        .unwrap_or(t)
}

/// Latest accepted timestamp: year 9999, so every stored time renders as four-digit-year RFC 3339.
const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// Accepts RFC 3339 text or epoch milliseconds; keeps millisecond precision.
pub fn parse_time(v: &Value) -> Result<DateTime<Utc>, String> {
    let ms = match v {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| format!("`{}` is not an RFC 3339 timestamp", clip(s)))?
            .timestamp_millis(),
        // `1700000000000.0` is a whole number too (JSON does not tell integers from floats, and
        // some encoders write every number with a point).
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| "timestamp must be whole epoch milliseconds".to_string())?,
        _ => return Err("timestamp must be RFC 3339 text or epoch milliseconds".into()),
    };
    if !(0..=MAX_TIME_MS).contains(&ms) {
        return Err("timestamp must lie between 1970-01-01 and 9999-12-31".into());
    }
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| "timestamp out of range".into())
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

fn check_text(path: &str, s: &str, max: usize) -> Result<(), FieldError> {
    if s.len() > max {
        return Err(FieldError::new(
            path,
            format!("{path} is {} bytes; the limit is {max}", s.len()),
        ));
    }
    if s.contains('\0') {
        return Err(FieldError::new(
            path,
            format!("{path} must not contain NUL characters"),
        ));
    }
    Ok(())
}

fn opt_str(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            check_text(path, s, max)?;
            let t = s.trim();
            Ok(if t.is_empty() {
                None
            } else {
                Some(t.to_string())
            })
        }
        Some(_) => Err(FieldError::new(path, format!("{path} must be a string"))),
    }
}

fn req_str(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Result<String, FieldError> {
    opt_str(obj, key, path, max)?
        .ok_or_else(|| FieldError::new(path, format!("{path} is required")))
}

fn parse_actor(v: Option<&Value>) -> Result<Actor, FieldError> {
    let obj = match v {
        None | Some(Value::Null) => return Err(FieldError::new("actor", "actor is required")),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(FieldError::new("actor", "actor must be an object")),
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["id", "name", "type", "email"].contains(&k.as_str()))
    {
        return Err(FieldError::new(
            format!("actor.{k}"),
            format!("unknown field `actor.{k}`"),
        ));
    }
    let id = req_str(obj, "id", "actor.id", MAX_STRING_BYTES)?;
    let kind_text = req_str(obj, "type", "actor.type", MAX_STRING_BYTES)?;
    let kind = ActorKind::parse(&kind_text).ok_or_else(|| {
        FieldError::new(
            "actor.type",
            "actor.type must be \"user\", \"app\" or \"system\"",
        )
    })?;
    let email = opt_str(obj, "email", "actor.email", MAX_STRING_BYTES)?;
    if let Some(e) = &email {
        let valid = e
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty());
        if !valid || e.chars().any(char::is_whitespace) {
            return Err(FieldError::new(
                "actor.email",
                "actor.email is not an email address",
            ));
        }
    }
    let name = opt_str(obj, "name", "actor.name", MAX_STRING_BYTES)?.unwrap_or_else(|| id.clone());
    Ok(Actor {
        id,
        name,
        kind,
        email,
    })
}

fn parse_target(v: Option<&Value>) -> Result<Option<Target>, FieldError> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(FieldError::new("target", "target must be an object")),
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["id", "name", "type"].contains(&k.as_str()))
    {
        return Err(FieldError::new(
            format!("target.{k}"),
            format!("unknown field `target.{k}`"),
        ));
    }
    let target = Target {
        kind: opt_str(obj, "type", "target.type", MAX_STRING_BYTES)?,
        id: opt_str(obj, "id", "target.id", MAX_STRING_BYTES)?,
        name: opt_str(obj, "name", "target.name", MAX_STRING_BYTES)?,
    };
    Ok(if target.is_empty() {
        None
    } else {
        Some(target)
    })
}

fn check_object_limits(path: &str, obj: &Map<String, Value>) -> Result<(), FieldError> {
    if obj.len() > MAX_METADATA_KEYS {
        return Err(FieldError::new(
            path,
            format!(
                "{path} has {} keys; the limit is {MAX_METADATA_KEYS}",
                obj.len()
            ),
        ));
    }
    let size = serde_json::to_string(obj)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    if size > MAX_METADATA_BYTES {
        return Err(FieldError::new(
            path,
            format!("{path} is {size} bytes serialized; the limit is {MAX_METADATA_BYTES}"),
        ));
    }
    if obj.keys().any(|k| k.contains('\0')) || contains_nul(&Value::Object(obj.clone())) {
        return Err(FieldError::new(
            path,
            format!("{path} must not contain NUL characters"),
        ));
    }
    Ok(())
}

fn contains_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(contains_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

fn parse_metadata(v: Option<&Value>) -> Result<Map<String, Value>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => {
            check_object_limits("metadata", o)?;
            Ok(o.clone())
        }
        Some(_) => Err(FieldError::new(
            "metadata",
            "metadata must be a JSON object",
        )),
    }
}

fn parse_changes(v: Option<&Value>) -> Result<Option<Map<String, Value>>, FieldError> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(FieldError::new("changes", "changes must be a JSON object")),
    };
    check_object_limits("changes", obj)?;
    for (field, change) in obj {
        let ok = change
            .as_object()
            .is_some_and(|c| c.keys().all(|k| k == "old" || k == "new") && !c.is_empty());
        if !ok {
            return Err(FieldError::new(
                format!("changes.{field}"),
                format!("changes.{field} must be an object with \"old\" and/or \"new\""),
            ));
        }
    }
    Ok(if obj.is_empty() {
        None
    } else {
        Some(obj.clone())
    })
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
