//! Tamper evidence: every stored event carries `chain`, a SHA-256 over the previous event's chain
//! and the canonical encoding of the event as stored. The writer computes it in commit order (on
//! PostgreSQL under the writers' advisory lock, so several nodes still make one chain), so
//! changing, removing, inserting or reordering any stored event breaks the chain from that event
//! on; signed checkpoints ([`super::checkpoints`]) pin it so that removing the newest events is
//! seen too.
//!
//! # The encoding (version 1), for anyone re-implementing the check
//!
//! Events are chained in ascending `id`. For each event, the bytes hashed are
//!
//! ```text
//! chain(n) = SHA-256( chain(n-1) || "auditlog.event.v1" || 0x00 || fields )
//! chain(before the first event) = 32 zero bytes
//! ```
//!
//! where `fields` is, in this order, `id`, `occurred_at` and `received_at` (epoch milliseconds) as
//! 8-byte big-endian signed integers, then these 17 text columns exactly as stored: `event`,
//! `category`, `action`, `outcome`, `actor_id`, `actor_name`, `actor_type`, `actor_email`,
//! `target_type`, `target_id`, `target_name`, `ip`, `user_agent`, `source`, `description`,
//! `metadata`, `changes`; each one as the byte `0x00` when it is absent (NULL), else the byte
//! `0x01`, its UTF-8 length as a 4-byte big-endian unsigned integer, and its UTF-8 bytes.
//! `metadata` and `changes` are the stored JSON text: compact, object keys in ascending byte order
//! (what the event API returns for them, re-serialized compactly with sorted keys).
//!
//! After a retention purge the chain continues from the purge's checkpoint: its `chain` is the
//! chain of the last removed event.

use sha2::{Digest, Sha256};

use crate::events::model::NewEvent;

/// The chain before the first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// The encoding's name and version, hashed after the previous chain value.
const DOMAIN: &[u8] = b"auditlog.event.v1\0";

/// The text columns, in the order the encoding takes them.
pub const TEXT_COLUMNS: [&str; 17] = [
    "event",
    "category",
    "action",
    "outcome",
    "actor_id",
    "actor_name",
    "actor_type",
    "actor_email",
    "target_type",
    "target_id",
    "target_name",
    "ip",
    "user_agent",
    "source",
    "description",
    "metadata",
    "changes",
];

/// One event's chained fields, borrowed from wherever they are (a new event, a stored row).
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    pub id: i64,
    pub occurred_at: i64,
    pub received_at: i64,
    /// In the order of [`TEXT_COLUMNS`].
    pub text: [Option<&'a str>; 17],
}

impl<'a> Fields<'a> {
    /// A new event about to be stored as `id`, with its metadata and changes as the writer stores
    /// them ([`json_text`]).
    pub fn of_new(id: i64, ev: &'a NewEvent, metadata: &'a str, changes: Option<&'a str>) -> Self {
        let b = &ev.body;
        let target = b.target.as_ref();
        Self {
            id,
            occurred_at: b.occurred_at.timestamp_millis(),
            received_at: ev.received_at.timestamp_millis(),
            text: [
                Some(b.event.as_str()),
                Some(b.category.as_str()),
                Some(b.action.as_str()),
                Some(b.outcome.as_str()),
                Some(b.actor.id.as_str()),
                Some(b.actor.name.as_str()),
                Some(b.actor.kind.as_str()),
                b.actor.email.as_deref(),
                target.and_then(|t| t.kind.as_deref()),
                target.and_then(|t| t.id.as_deref()),
                target.and_then(|t| t.name.as_deref()),
                b.ip.as_deref(),
                b.user_agent.as_deref(),
                b.source.as_deref(),
                b.description.as_deref(),
                Some(metadata),
                changes,
            ],
        }
    }
}

/// The stored text of a JSON object: compact, keys sorted (serde_json's map is ordered by key).
pub fn json_text(map: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".into())
}

/// The canonical encoding of `f` (see the module doc), without the previous chain value.
pub fn encode(f: &Fields<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        DOMAIN.len()
            + 24
            + f.text
                .iter()
                .map(|t| t.map_or(1, |s| 5 + s.len()))
                .sum::<usize>(),
    );
    out.extend_from_slice(DOMAIN);
    for n in [f.id, f.occurred_at, f.received_at] {
        out.extend_from_slice(&n.to_be_bytes());
    }
    for t in f.text {
        match t {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                out.extend_from_slice(&(s.len() as u32).to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
    out
}

/// The chain value of the event `f` after the chain value `prev`.
pub fn link(prev: &[u8; 32], f: &Fields<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(encode(f));
    h.finalize().into()
}

/// `bytes` as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 bytes from 64 hex digits.
pub fn from_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// 32 bytes from a stored chain column, or `None` when it is missing or not 32 bytes long.
pub fn from_stored(bytes: Option<&[u8]>) -> Option<[u8; 32]> {
    bytes.and_then(|b| b.try_into().ok())
}

/// The columns [`ChainRow`] reads, in its order.
pub(super) const CHAIN_COLUMNS: &str = "id, occurred_at, received_at, event, category, action, \
     outcome, actor_id, actor_name, actor_type, actor_email, target_type, target_id, target_name, \
     ip, user_agent, source, description, metadata, changes, chain";

/// One stored event with its chain value, as the chain reads it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ChainRow {
    pub id: i64,
    pub occurred_at: i64,
    pub received_at: i64,
    pub event: String,
    pub category: String,
    pub action: String,
    pub outcome: String,
    pub actor_id: String,
    pub actor_name: String,
    pub actor_type: String,
    pub actor_email: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_name: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub source: Option<String>,
    pub description: Option<String>,
    pub metadata: String,
    pub changes: Option<String>,
    pub chain: Option<Vec<u8>>,
}

impl ChainRow {
    pub fn fields(&self) -> Fields<'_> {
        Fields {
            id: self.id,
            occurred_at: self.occurred_at,
            received_at: self.received_at,
            text: [
                Some(&self.event),
                Some(&self.category),
                Some(&self.action),
                Some(&self.outcome),
                Some(&self.actor_id),
                Some(&self.actor_name),
                Some(&self.actor_type),
                self.actor_email.as_deref(),
                self.target_type.as_deref(),
                self.target_id.as_deref(),
                self.target_name.as_deref(),
                self.ip.as_deref(),
                self.user_agent.as_deref(),
                self.source.as_deref(),
                self.description.as_deref(),
                Some(&self.metadata),
                self.changes.as_deref(),
            ],
        }
    }

    /// The stored chain value, when it is one.
    pub fn stored(&self) -> Option<[u8; 32]> {
        from_stored(self.chain.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: [Option<&str>; 17]) -> Fields<'_> {
        Fields {
            id: 1,
            occurred_at: 1_700_000_000_000,
            received_at: 1_700_000_000_123,
            text,
        }
    }

    const BASE: [Option<&str>; 17] = [
        Some("Login"),
        Some("Auth"),
        Some("login"),
        Some("success"),
        Some("usr_1"),
        Some("Ada"),
        Some("user"),
        None,
        None,
        None,
        None,
        Some("192.0.2.1"),
        None,
        None,
        None,
        Some("{}"),
        None,
    ];

    /// The chain of [`BASE`] as the first event: a re-implementation must give the same.
    const GOLDEN: &str = "418d91929c5ff4fd320bf63b2f432ba2480d9eec963d2f1083098b42e5a001cb";

    /// A golden vector: a re-implementation of the encoding must give this value.
    #[test]
    fn the_first_link_of_a_known_event_is_stable() {
        let chain = link(&GENESIS, &fields(BASE));
        assert_eq!(
            hex(&chain),
            hex(&{
                let mut h = Sha256::new();
                h.update([0u8; 32]);
                h.update(b"auditlog.event.v1\0");
                h.update(1i64.to_be_bytes());
                h.update(1_700_000_000_000i64.to_be_bytes());
                h.update(1_700_000_000_123i64.to_be_bytes());
                for t in BASE {
                    match t {
                        None => h.update([0u8]),
                        Some(s) => {
                            h.update([1u8]);
                            h.update((s.len() as u32).to_be_bytes());
                            h.update(s.as_bytes());
                        }
                    }
                }
                let v: [u8; 32] = h.finalize().into();
                v
            })
        );
        assert_eq!(hex(&chain), GOLDEN);
        assert_eq!(from_hex(&hex(&chain)), Some(chain));
        assert_eq!(from_hex("zz"), None);
    }

    /// Found by the `ingest` fuzz target: without exact float parsing, `-6.666666666666667e41`
    /// read back from stored JSON became `-6.6666666666666665e41`, so metadata re-serialized from
    /// what the API returns would not hash as stored.
    #[test]
    fn stored_metadata_reads_back_to_the_same_text() {
        let text = r#"{"a":[0,2666666.666,-6333333333333,-6.666666666663333e20,-6.666666666666667e41,0.1,1e-300,1.7976931348623157e308]}"#;
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).unwrap();
        let stored = json_text(&map);
        let again: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&stored).unwrap();
        assert_eq!(json_text(&again), stored);
        assert_eq!(again, map);
    }

    #[test]
    fn any_change_of_any_field_changes_the_link() {
        let base = link(&GENESIS, &fields(BASE));
        for i in 0..17 {
            let mut text = BASE;
            text[i] = match text[i] {
                Some(s) if !s.is_empty() => Some(&s[1..]),
                Some(_) => None,
                None => Some(""),
            };
            assert_ne!(link(&GENESIS, &fields(text)), base, "{}", TEXT_COLUMNS[i]);
        }
        // Absent and empty differ; moving text between neighbouring fields differs.
        let mut a = BASE;
        a[7] = Some("");
        assert_ne!(link(&GENESIS, &fields(a)), base);
        let mut b = BASE;
        b[0] = Some("Logi");
        b[1] = Some("nAuth");
        assert_ne!(link(&GENESIS, &fields(b)), base);
        let other = Fields {
            id: 2,
            ..fields(BASE)
        };
        assert_ne!(link(&GENESIS, &other), base);
        assert_ne!(link(&[1; 32], &fields(BASE)), base);
    }
}
