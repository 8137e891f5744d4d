//! The typed filter: fields, operators, conditions, one level of grouping, and their limits.
//!
//! # Semantics (the reference for both stores)
//!
//! Every field has an optional *text value*: the column's text, or for `metadata.<key>` the value of
//! that key when it is a JSON string, an integer within i64 (its decimal text) or a boolean
//! (`true`/`false`). Other metadata values (objects, arrays, other numbers, `null`) have no text
//! value.
//!
//! - `is` / `any of` compare exactly (case and all); a missing value never matches.
//! - `contains` / `starts with` ignore the case of ASCII letters (`A`–`Z`; other letters compare
//!   exactly, the same in Rust, SQLite and PostgreSQL); a missing value never matches.
//! - `is not`, `does not contain`, `none of` are the exact negations of `is`, `contains`, `any of`:
//!   a missing value *matches* them (a missing value is not equal to X).
//! - `exists` is true when the field has a value; for metadata, when the key is present and not
//!   JSON `null` (whatever its type). `does not exist` is its negation.
//! - `in CIDR range` (IP only) matches addresses of the same family inside the range.
//!
//! [`Filter::matches`] implements exactly this on an [`Event`]; the SQL compilation in the store is
//! tested against it.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cidr::Cidr;
use crate::events::model::Event;

/// Most conditions in one filter, counting those inside groups.
pub const MAX_CONDITIONS: usize = 20;
/// Most values one condition may list.
pub const MAX_VALUES: usize = 50;
/// Longest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 1024;
/// Longest metadata key, in characters.
pub const MAX_METADATA_KEY: usize = 64;

/// What a condition looks at.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    Event,
    Category,
    Action,
    Outcome,
    ActorName,
    ActorId,
    ActorType,
    ActorEmail,
    TargetType,
    TargetId,
    TargetName,
    Ip,
    Source,
    Description,
    /// One key of the event's metadata object.
    Metadata(String),
}

impl Field {
    /// Every field except metadata keys, in the order a picker would offer them.
    pub const FIXED: [Field; 14] = [
        Field::Event,
        Field::Category,
        Field::Action,
        Field::Outcome,
        Field::ActorName,
        Field::ActorId,
        Field::ActorType,
        Field::ActorEmail,
        Field::TargetType,
        Field::TargetId,
        Field::TargetName,
        Field::Ip,
        Field::Source,
        Field::Description,
    ];

    /// The stable text key used in URLs (`user.name`, `metadata.plan`).
    pub fn key(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Field::Event => "event",
            Field::Category => "category",
            Field::Action => "action",
            Field::Outcome => "outcome",
            Field::ActorName => "user.name",
            Field::ActorId => "user.id",
            Field::ActorType => "user.type",
            Field::ActorEmail => "user.email",
            Field::TargetType => "target.type",
            Field::TargetId => "target.id",
            Field::TargetName => "target.name",
            Field::Ip => "ip",
            Field::Source => "source",
            Field::Description => "description",
            Field::Metadata(k) => return Cow::Owned(format!("metadata.{k}")),
        })
    }

    /// The name shown in the UI.
    pub fn label(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Field::Event => "Event",
            Field::Category => "Category",
            Field::Action => "Action",
            Field::Outcome => "Outcome",
            Field::ActorName => "User name",
            Field::ActorId => "User ID",
            Field::ActorType => "User type",
            Field::ActorEmail => "User email",
            Field::TargetType => "Target type",
            Field::TargetId => "Target ID",
            Field::TargetName => "Target name",
            Field::Ip => "IP address",
            Field::Source => "Source",
            Field::Description => "Description",
            Field::Metadata(k) => return Cow::Owned(format!("Metadata: {k}")),
        })
    }

    /// The field with this key; metadata keys are checked by [`valid_metadata_key`].
    pub fn parse(key: &str) -> Option<Field> {
        if let Some(k) = key.strip_prefix("metadata.") {
            return valid_metadata_key(k).then(|| Field::Metadata(k.to_string()));
        }
        Self::FIXED.into_iter().find(|f| f.key() == key)
    }

    /// The values `is`-like operators accept, for fields with a fixed set.
    pub fn allowed_values(&self) -> Option<&'static [&'static str]> {
        match self {
            Field::Outcome => Some(&["success", "failure"]),
            Field::ActorType => Some(&["user", "app", "system"]),
            _ => None,
        }
    }
}

/// 1–64 characters of `[A-Za-z0-9_.-]`: safe inside a quoted JSON path and a URL.
pub fn valid_metadata_key(k: &str) -> bool {
    (1..=MAX_METADATA_KEY).contains(&k.len())
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// How a condition compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    Is,
    IsNot,
    Contains,
    NotContains,
    StartsWith,
    AnyOf,
    NoneOf,
    Exists,
    NotExists,
    /// IP only.
    InCidr,
}

/// How many values an operator takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    None,
    One,
    OneOrMore,
}

impl Op {
    pub const ALL: [Op; 10] = [
        Op::Is,
        Op::IsNot,
        Op::Contains,
        Op::NotContains,
        Op::StartsWith,
        Op::AnyOf,
        Op::NoneOf,
        Op::Exists,
        Op::NotExists,
        Op::InCidr,
    ];

    /// The stable text key used in URLs.
    pub fn key(self) -> &'static str {
        match self {
            Op::Is => "is",
            Op::IsNot => "is_not",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::StartsWith => "starts_with",
            Op::AnyOf => "any_of",
            Op::NoneOf => "none_of",
            Op::Exists => "exists",
            Op::NotExists => "not_exists",
            Op::InCidr => "in_cidr",
        }
    }

    /// The words shown in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Op::Is => "is",
            Op::IsNot => "is not",
            Op::Contains => "contains",
            Op::NotContains => "does not contain",
            Op::StartsWith => "starts with",
            Op::AnyOf => "is any of",
            Op::NoneOf => "is none of",
            Op::Exists => "exists",
            Op::NotExists => "does not exist",
            Op::InCidr => "is in CIDR range",
        }
    }

    pub fn parse(key: &str) -> Option<Op> {
        Self::ALL.into_iter().find(|o| o.key() == key)
    }

    pub fn arity(self) -> Arity {
        match self {
            Op::Exists | Op::NotExists => Arity::None,
            Op::AnyOf | Op::NoneOf => Arity::OneOrMore,
            _ => Arity::One,
        }
    }

    /// Whether the operator applies to `field`.
    pub fn applies_to(self, field: &Field) -> bool {
        self != Op::InCidr || *field == Field::Ip
    }
}

/// One test on one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    /// None for exists/does not exist, one or more for any of/none of, exactly one otherwise.
    #[serde(default)]
    pub values: Vec<String>,
}

/// How the parts of a filter or group combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    #[default]
    All,
    Any,
}

impl Combine {
    pub fn key(self) -> &'static str {
        match self {
            Combine::All => "all",
            Combine::Any => "any",
        }
    }

    pub fn parse(key: &str) -> Option<Combine> {
        match key {
            "all" => Some(Combine::All),
            "any" => Some(Combine::Any),
            _ => None,
        }
    }
}

/// A part of a filter: a condition, or a group of conditions with its own combine (one level only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Item {
    Condition(Condition),
    Group {
        combine: Combine,
        conditions: Vec<Condition>,
    },
}

/// "All of: A, B, and any of: C, D". The default (no items) matches every event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub combine: Combine,
    pub items: Vec<Item>,
}

/// Why a filter was refused: a message naming the condition and the limit, and the request
/// parameter it concerns (`f`, `join`, `g1`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error}")]
pub struct FilterError {
    pub error: String,
    pub field: Option<String>,
}

impl FilterError {
    pub fn new(field: impl Into<String>, error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            field: Some(field.into()),
        }
    }
}

impl Condition {
    pub fn new(field: Field, op: Op, values: &[&str]) -> Self {
        Self {
            field,
            op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    /// Checks the operator against the field and the values against the operator and limits.
    /// `n` (1-based, in URL order) names the condition in the message.
    pub fn validate(&self, n: usize) -> Result<(), FilterError> {
        let what = format!("condition {n} ({} {})", self.field.key(), self.op.key());
        let err = |msg: String| Err(FilterError::new("f", format!("{what}: {msg}")));
        if let Field::Metadata(k) = &self.field
            && !valid_metadata_key(k)
        {
            return err("a metadata key is 1 to 64 characters of A-Z, a-z, 0-9, _ . -".into());
        }
        if !self.op.applies_to(&self.field) {
            return err(format!("`{}` applies to ip only", self.op.label()));
        }
        let n_values = self.values.len();
        match self.op.arity() {
            Arity::None if n_values != 0 => return err("takes no value".into()),
            Arity::One if n_values != 1 => return err("needs exactly one value".into()),
            Arity::OneOrMore if n_values == 0 => return err("needs at least one value".into()),
            _ => {}
        }
        if n_values > MAX_VALUES {
            return err(format!("{n_values} values; the limit is {MAX_VALUES}"));
        }
        for v in &self.values {
            if v.is_empty() {
                return err("values must not be empty".into());
            }
            if v.len() > MAX_VALUE_BYTES {
                return err(format!(
                    "a value is {} bytes; the limit is {MAX_VALUE_BYTES}",
                    v.len()
                ));
            }
            if v.contains('\0') {
                return err("values must not contain NUL characters".into());
            }
            if self.op == Op::InCidr && Cidr::parse(v).is_none() {
                return err(format!("`{v}` is not an IPv4 or IPv6 CIDR range"));
            }
            let exact = matches!(self.op, Op::Is | Op::IsNot | Op::AnyOf | Op::NoneOf);
            if let Some(allowed) = self.field.allowed_values()
                && exact
                && !allowed.contains(&v.as_str())
            {
                return err(format!("`{v}` is not one of {}", allowed.join(", ")));
            }
        }
        Ok(())
    }

    /// The reference semantics of one condition (see the module doc).
    pub fn matches(&self, event: &Event) -> bool {
        let text = text_value(&self.field, event);
        let lower = || text.as_deref().map(str::to_ascii_lowercase);
        let first = self.values.first().map(String::as_str).unwrap_or_default();
        let any_of = || {
            text.as_deref()
                .is_some_and(|t| self.values.iter().any(|v| v == t))
        };
        let contains = || lower().is_some_and(|t| t.contains(&first.to_ascii_lowercase()));
        match self.op {
            Op::Is => text.as_deref() == Some(first),
            Op::IsNot => text.as_deref() != Some(first),
            Op::Contains => contains(),
            Op::NotContains => !contains(),
            Op::StartsWith => lower().is_some_and(|t| t.starts_with(&first.to_ascii_lowercase())),
            Op::AnyOf => any_of(),
            Op::NoneOf => !any_of(),
            Op::Exists => is_present(&self.field, event),
            Op::NotExists => !is_present(&self.field, event),
            Op::InCidr => match (Cidr::parse(first), text.as_deref()) {
                (Some(net), Some(t)) => t.parse::<IpAddr>().is_ok_and(|ip| net.contains(ip)),
                _ => false,
            },
        }
    }
}

/// The text value of `field` on `event` (see the module doc).
pub fn text_value<'a>(field: &Field, e: &'a Event) -> Option<Cow<'a, str>> {
    let b = &e.body;
    let target = b.target.as_ref();
    let s = |v: &'a str| Some(Cow::Borrowed(v));
    let opt = |v: Option<&'a String>| v.map(|v| Cow::Borrowed(v.as_str()));
    match field {
        Field::Event => s(&b.event),
        Field::Category => s(&b.category),
        Field::Action => s(&b.action),
        Field::Outcome => s(b.outcome.as_str()),
        Field::ActorName => s(&b.actor.name),
        Field::ActorId => s(&b.actor.id),
        Field::ActorType => s(b.actor.kind.as_str()),
        Field::ActorEmail => opt(b.actor.email.as_ref()),
        Field::TargetType => opt(target.and_then(|t| t.kind.as_ref())),
        Field::TargetId => opt(target.and_then(|t| t.id.as_ref())),
        Field::TargetName => opt(target.and_then(|t| t.name.as_ref())),
        Field::Ip => opt(b.ip.as_ref()),
        Field::Source => opt(b.source.as_ref()),
        Field::Description => opt(b.description.as_ref()),
        Field::Metadata(k) => match b.metadata.get(k)? {
            Value::String(v) => s(v),
            Value::Bool(v) => Some(Cow::Borrowed(if *v { "true" } else { "false" })),
            Value::Number(n) if n.is_i64() => Some(Cow::Owned(n.to_string())),
            _ => None,
        },
    }
}

/// Whether `field` has a value on `event`; metadata counts any non-null value.
fn is_present(field: &Field, e: &Event) -> bool {
    match field {
        Field::Metadata(k) => e.body.metadata.get(k).is_some_and(|v| !v.is_null()),
        f => text_value(f, e).is_some(),
    }
}

impl Filter {
    /// True when the filter has no conditions (and so matches everything).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every condition, groups flattened, in URL order.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.items.iter().flat_map(|item| match item {
            Item::Condition(c) => std::slice::from_ref(c).iter(),
            Item::Group { conditions, .. } => conditions.iter(),
        })
    }

    /// Checks every condition and the limits on the whole filter.
    pub fn validate(&self) -> Result<(), FilterError> {
        let total = self.conditions().count();
        if total > MAX_CONDITIONS {
            return Err(FilterError::new(
                "f",
                format!("{total} conditions; the limit is {MAX_CONDITIONS}"),
            ));
        }
        let mut group = 0;
        for item in &self.items {
            if let Item::Group { conditions, .. } = item {
                group += 1;
                if conditions.is_empty() {
                    return Err(FilterError::new(
                        format!("g{group}"),
                        format!("group {group} has no conditions"),
                    ));
                }
            }
        }
        for (i, c) in self.conditions().enumerate() {
            c.validate(i + 1)?;
        }
        Ok(())
    }

    /// The reference semantics: whether `event` passes the filter.
    pub fn matches(&self, event: &Event) -> bool {
        // No conditions: no restriction, whichever way they would have been combined.
        if self.items.is_empty() {
            return true;
        }
        let item_matches = |item: &Item| match item {
            Item::Condition(c) => c.matches(event),
            Item::Group {
                combine,
                conditions,
            } => combine_all(*combine, conditions.iter().map(|c| c.matches(event))),
        };
        combine_all(self.combine, self.items.iter().map(item_matches))
    }
}

/// All: every part true (true when there are none). Any: some part true (false when there are none,
/// as in SQL's empty `OR`; the store never emits an empty group because validation refuses one).
fn combine_all(combine: Combine, mut parts: impl Iterator<Item = bool>) -> bool {
    match combine {
        Combine::All => parts.all(|p| p),
        Combine::Any => parts.any(|p| p),
    }
}
