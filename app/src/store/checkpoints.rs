//! Signed checkpoints of the hash chain (see `store::chain`): "after event #N the chain is C",
//! signed with an Ed25519 key that lives in a file outside the database, so someone who can
//! rewrite the database cannot re-sign a rewritten chain. Periodic checkpoints pin the chain, so
//! that removing the newest events is seen; a purge records one where the chain stood after the
//! last event it removed, so the chain verifies from the new oldest event.
//!
//! The signed message (version 1), for anyone checking a checkpoint outside:
//!
//! ```text
//! auditlog.checkpoint.v1
//! event_id=<id of the last event covered>
//! chain=<its chain value, 64 lower-case hex digits>
//! kind=<periodic | purge | manual>
//! created_at=<epoch milliseconds>
//! ```
//!
//! each line ending in `\n`, signed with Ed25519 (RFC 8032) by the key whose public half the
//! checkpoint names.

use std::path::Path;

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::Serialize;

use super::chain;

/// The server's checkpoint signing key.
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", chain::hex(&self.public_key()))
    }
}

impl Signer {
    /// The key in `path` (64 hex digits: the Ed25519 secret seed), created there with mode 0600
    /// if the file does not exist. Returns whether it was created.
    pub fn load_or_create(path: &Path) -> std::io::Result<(Self, bool)> {
        let bad = |what: &str| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {what}", path.display()),
            )
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let seed = chain::from_hex(text.trim())
                    .ok_or_else(|| bad("not an Ed25519 key (64 hex digits)"))?;
                Ok((Self::from_seed(seed), false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let seed: [u8; 32] = rand::random();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path)?;
                std::io::Write::write_all(
                    &mut file,
                    format!("{}\n", chain::hex(&seed)).as_bytes(),
                )?;
                file.sync_all()?;
                Ok((Self::from_seed(seed), true))
            }
            Err(e) => Err(e),
        }
    }

    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// What made a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Every N events or every hour.
    Periodic,
    /// A retention purge: the chain after the last event it removed.
    Purge,
    /// Asked for (command line, tests).
    Manual,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Periodic => "periodic",
            Kind::Purge => "purge",
            Kind::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Periodic, Kind::Purge, Kind::Manual]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One checkpoint as stored and as exported (hex for the byte strings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub id: i64,
    pub event_id: i64,
    #[serde(serialize_with = "as_hex")]
    pub chain: [u8; 32],
    pub kind: Kind,
    pub created_at: i64,
    #[serde(serialize_with = "as_hex")]
    pub public_key: [u8; 32],
    #[serde(serialize_with = "as_hex")]
    pub signature: Vec<u8>,
}

fn as_hex<S: serde::Serializer, B: AsRef<[u8]>>(bytes: &B, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&chain::hex(bytes.as_ref()))
}

/// The signed message of a checkpoint (see the module doc).
pub fn message(event_id: i64, chain_value: &[u8; 32], kind: Kind, created_at: i64) -> String {
    format!(
        "auditlog.checkpoint.v1\nevent_id={event_id}\nchain={}\nkind={}\ncreated_at={created_at}\n",
        chain::hex(chain_value),
        kind.as_str()
    )
}

impl Checkpoint {
    /// A new checkpoint (id 0 until stored) signed by `signer`.
    pub fn sign(signer: &Signer, event_id: i64, chain_value: [u8; 32], kind: Kind) -> Self {
        let created_at = chrono::Utc::now().timestamp_millis();
        let signature = signer
            .sign(message(event_id, &chain_value, kind, created_at).as_bytes())
            .to_vec();
        Self {
            id: 0,
            event_id,
            chain: chain_value,
            kind,
            created_at,
            public_key: signer.public_key(),
            signature,
        }
    }

    /// Whether the signature is the named key's over this checkpoint's message.
    pub fn signature_ok(&self) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.public_key) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(&self.signature) else {
            return false;
        };
        let text = message(self.event_id, &self.chain, self.kind, self.created_at);
        key.verify(text.as_bytes(), &sig).is_ok()
    }
}

/// Stores a checkpoint; `$n` placeholders, which SQLite reads in order too.
pub(super) const INSERT: &str = "INSERT INTO checkpoints (event_id, chain, kind, created_at, \
     public_key, signature) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

/// Stores the checkpoint `$cp` through `$ex` (a pool or a transaction of either store); its id.
macro_rules! insert_checkpoint {
    ($ex:expr, $cp:expr) => {
        sqlx::query_scalar::<_, i64>(super::checkpoints::INSERT)
            .bind($cp.event_id)
            .bind($cp.chain.to_vec())
            .bind($cp.kind.as_str())
            .bind($cp.created_at)
            .bind($cp.public_key.to_vec())
            .bind($cp.signature.clone())
            .fetch_one($ex)
    };
}
pub(super) use insert_checkpoint;

/// A checkpoint row as the database returns it.
pub(super) type CheckpointRow = (i64, i64, Vec<u8>, String, i64, Vec<u8>, Vec<u8>);

/// The columns of [`CheckpointRow`], in its order.
pub(super) const COLUMNS: &str = "id, event_id, chain, kind, created_at, public_key, signature";

pub(super) fn from_row(
    (id, event_id, chain_value, kind, created_at, public_key, signature): CheckpointRow,
) -> Result<Checkpoint, super::StoreError> {
    let corrupt = |what: &str| super::StoreError::Corrupt(format!("checkpoint {id}: {what}"));
    Ok(Checkpoint {
        id,
        event_id,
        chain: chain::from_stored(Some(&chain_value)).ok_or_else(|| corrupt("chain"))?,
        kind: Kind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        created_at,
        public_key: chain::from_stored(Some(&public_key)).ok_or_else(|| corrupt("public key"))?,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_until_any_part_of_it_changes() {
        let signer = Signer::from_seed([7; 32]);
        let cp = Checkpoint::sign(&signer, 42, [9; 32], Kind::Periodic);
        assert!(cp.signature_ok());
        for changed in [
            Checkpoint {
                event_id: 43,
                ..cp.clone()
            },
            Checkpoint {
                chain: [8; 32],
                ..cp.clone()
            },
            Checkpoint {
                kind: Kind::Purge,
                ..cp.clone()
            },
            Checkpoint {
                created_at: cp.created_at + 1,
                ..cp.clone()
            },
            Checkpoint {
                public_key: Signer::from_seed([1; 32]).public_key(),
                ..cp.clone()
            },
        ] {
            assert!(!changed.signature_ok(), "{changed:?}");
        }
    }

    #[test]
    fn the_key_file_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/signing.key");
        let (a, created) = Signer::load_or_create(&path).unwrap();
        assert!(created);
        let (b, created) = Signer::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(a.public_key(), b.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        assert!(Signer::load_or_create(&path).is_err());
    }
}
