//! The event store: the one boundary between the product and its database.
//!
//! Callers (server functions, HTTP routes, the CLI) see only [`Store`]; which database sits behind it
//! is chosen from the database URL: an embedded SQLite file ([`sqlite`]) or a PostgreSQL database
//! shared by one or more server processes ([`postgres`]). Every write of events goes through one
//! writer task per store, which batches concurrent requests into one transaction (group commit) and
//! is the single place where sequence numbers, and later the hash chain, are assigned in commit
//! order. After each commit the store announces the new ids on its change feed ([`Store::subscribe`]).

/// Builds a query for the store's dialect with `$build` (a [`QueryBuilder`] over the dialect named
/// `$d`), runs it on the store's reader pool with `$run` (`fetch_all`, `fetch_one`, …) and decodes
/// it with `$as` (`build_query_as` or `build_query_scalar`) into the type the caller annotates.
/// Used by the reads written once for both stores ([`stats`], [`tail`]); `Backend`, `Dialect`,
/// `QueryBuilder`, `Sqlite` and `Postgres` must be in scope where it is used.
macro_rules! run {
    ($store:expr, $as:ident, $run:ident, |$d:ident| $build:expr) => {
        match &$store.backend {
            Backend::Sqlite(s) => {
                let $d = Dialect::Sqlite;
                let mut sql: QueryBuilder<'_, Sqlite> = $build;
                sql.$as().$run(&s.pool).await?
            }
            Backend::Postgres(s) => {
                let $d = Dialect::Postgres;
                let mut sql: QueryBuilder<'_, Postgres> = $build;
                sql.$as().$run(&s.pool).await?
            }
        }
    };
}

mod accounts;
#[cfg(test)]
mod accounts_tests;
mod branches;
pub mod chain;
pub mod checkpoints;
#[cfg(test)]
mod contains_tests;
mod exports;
mod filter_sql;
#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod get_tests;
mod keys;
mod postgres;
pub mod purge;
mod rows;
mod search_sql;
#[cfg(test)]
mod search_tests;
mod sort_sql;
#[cfg(test)]
mod sort_tests;
mod sqlite;
mod sqlite_chain;
mod sqlite_ip;
#[cfg(test)]
mod sqlite_plan_tests;
mod sqlite_search;
mod sqlite_stats;
mod sqlite_writer;
mod stats;
pub mod verify;
#[cfg(test)]
mod verify_tests;
pub use exports::ExportUpdate;
pub use stats::{SAMPLE_EVERY, SamplePolicy};
#[cfg(test)]
mod stats_tests;
mod tail;
#[cfg(test)]
mod tail_tests;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use serde::{Deserialize, Serialize};

use crate::events::model::{Event, FieldError, NewEvent};
use crate::events::query::{EventPage, EventQuery};
pub use accounts::{AddUserError, SessionRecord};

/// How long request-level idempotency records are kept at least.
pub const IDEMPOTENCY_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// How many unread [`Committed`] notices a subscriber may fall behind before it sees `Lagged`.
const FEED_CAPACITY: usize = 4096;

/// A contiguous range of event ids committed in one transaction, announced on the change feed.
///
/// It carries ids, not events: a subscriber that wants the rows reads them (and may find some
/// filtered out by its own query).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The smallest id stored by the transaction.
    pub first_id: i64,
    /// The largest id stored by the transaction (equal to `first_id` for a single event).
    pub last_id: i64,
}

/// A failure of the store itself. Its text is for logs, never for clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL `{0}`")]
    UnsupportedUrl(String),
    #[error("the writer has stopped")]
    WriterGone,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The query's filter (or search text, `field` "q") is invalid or uses what this store cannot
    /// evaluate; safe to show.
    #[error("invalid filter: {0}")]
    InvalidFilter(crate::filters::FilterError),
    /// The query is inconsistent (a cursor issued for another sort); safe to show, names the field.
    #[error("invalid query: {0}")]
    InvalidQuery(crate::events::query::QueryError),
}

/// One ingest request as the writer sees it.
#[derive(Debug)]
pub struct AppendRequest {
    /// Whose retry keys these are (the API key's id); keys never collide across senders.
    pub scope: String,
    /// The `Idempotency-Key` header and a hash of the request body it was sent with.
    pub request_key: Option<RequestKey>,
    /// Every item of the request in order: valid ones are stored, invalid ones reported as they are.
    pub items: Vec<Result<NewEvent, FieldError>>,
}

#[derive(Debug, Clone)]
pub struct RequestKey {
    pub key: String,
    pub body_hash: String,
}

/// The result for one item of a request, in the request's order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ItemResult {
    Stored {
        id: i64,
        /// True when a per-event `idempotency_key` matched an event stored earlier.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        duplicate: bool,
    },
    Rejected(FieldError),
}

/// What the writer answers for one request.
#[derive(Clone, Debug, PartialEq)]
pub enum AppendOutcome {
    /// Stored now, or replayed from an earlier request with the same `Idempotency-Key`.
    Done {
        results: Vec<ItemResult>,
        replayed: bool,
    },
    /// The `Idempotency-Key` was used before with a different body.
    KeyReused,
}

/// An API key as listed (the secret is never kept).
#[derive(Clone, Debug, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub revoked: bool,
    /// What it may do.
    pub scopes: crate::accounts::KeyScopes,
    /// When it stops working (epoch milliseconds), if ever.
    pub expires_at: Option<i64>,
    /// When it was last used, to the minute (epoch milliseconds).
    pub last_used_at: Option<i64>,
}

impl ApiKey {
    /// Whether it has expired at `now` (epoch milliseconds).
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

/// How often a key's "last used" time is written: at most once per this many milliseconds.
pub const KEY_USE_RESOLUTION_MS: i64 = 60_000;

#[derive(Clone)]
enum Backend {
    Sqlite(Arc<sqlite::SqliteStore>),
    Postgres(Arc<postgres::PgStore>),
}

/// The WHERE fragments `filter` compiles to for SQLite and for PostgreSQL (values are bound
/// parameters, never text), or why it is refused; for tools and the fuzz targets.
pub fn compile_filter(
    filter: &crate::filters::Filter,
) -> Result<[String; 2], crate::filters::FilterError> {
    filter_sql::check(filter)?;
    let mut lite = sqlx::QueryBuilder::<sqlx::Sqlite>::new("");
    filter_sql::push_filter(&mut lite, filter, filter_sql::Dialect::Sqlite);
    let mut pg = sqlx::QueryBuilder::<sqlx::Postgres>::new("");
    filter_sql::push_filter(&mut pg, filter, filter_sql::Dialect::Postgres);
    Ok([lite.sql().to_string(), pg.sql().to_string()])
}

/// A handle to the store; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Per API key, when this process last wrote (or began writing) its "last used" time.
    key_uses: Arc<std::sync::Mutex<HashMap<i64, i64>>>,
}

impl Store {
    /// Opens (creating if needed) the database named by `url`, runs migrations and starts the writer.
    ///
    /// Accepts `postgres://…` or `postgresql://…` (PostgreSQL), and `sqlite://path`, `sqlite:path`
    /// or a plain file path (SQLite).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let store = postgres::PgStore::open(url).await?;
            return Ok(Self {
                backend: Backend::Postgres(Arc::new(store)),
                key_uses: Default::default(),
            });
        }
        let path = if let Some(rest) = url.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            rest
        } else if url.contains("://") {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        } else {
            url
        };
        let store = sqlite::SqliteStore::open(path).await?;
        Ok(Self {
            backend: Backend::Sqlite(Arc::new(store)),
            key_uses: Default::default(),
        })
    }

    /// Stores the valid items of one request through the group-commit writer.
    pub async fn append(&self, req: AppendRequest) -> Result<AppendOutcome, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.append(req).await,
            Backend::Postgres(s) => s.append(req).await,
        }
    }

    /// One page of events, in the query's order (newest first by default).
    pub async fn list(&self, q: &EventQuery) -> Result<EventPage, StoreError> {
        if let Some(parts) = branches::split(q) {
            // Validates the whole query as the plain plan would: the parts leave a condition out.
            match &self.backend {
                Backend::Sqlite(_) => {
                    rows::list_query::<sqlx::Sqlite>(q, filter_sql::Dialect::Sqlite)?;
                }
                Backend::Postgres(_) => {
                    rows::list_query::<sqlx::Postgres>(q, filter_sql::Dialect::Postgres)?;
                }
            }
            let mut pages = Vec::with_capacity(parts.len());
            for part in &parts {
                pages.push(self.list_plain(part).await?);
            }
            return Ok(branches::merge(q, pages));
        }
        self.list_plain(q).await
    }

    async fn list_plain(&self, q: &EventQuery) -> Result<EventPage, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.list(q).await,
            Backend::Postgres(s) => s.list(q).await,
        }
    }

    /// The event with sequence number `id`, or `None` when there is none.
    pub async fn get(&self, id: i64) -> Result<Option<Event>, StoreError> {
        self.get_in(id, &crate::filters::Filter::default()).await
    }

    /// The event with sequence number `id` if `scope` (a caller's, see `EventQuery::scope`)
    /// admits it, else `None`, as for an id that does not exist.
    pub async fn get_in(
        &self,
        id: i64,
        scope: &crate::filters::Filter,
    ) -> Result<Option<Event>, StoreError> {
        filter_sql::check(scope).map_err(StoreError::InvalidFilter)?;
        match &self.backend {
            Backend::Sqlite(s) => s.get(id, scope).await,
            Backend::Postgres(s) => s.get(id, scope).await,
        }
    }

    /// Event names seen so far, alphabetically.
    pub async fn event_names(&self) -> Result<Vec<String>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.event_names().await,
            Backend::Postgres(s) => s.event_names().await,
        }
    }

    /// True when no event has been stored yet.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.is_empty().await,
            Backend::Postgres(s) => s.is_empty().await,
        }
    }

    /// Creates an API key that may ingest and read and does not expire; returns it and its
    /// secret, which is shown once and never stored.
    pub async fn create_api_key(&self, name: &str) -> Result<(ApiKey, String), StoreError> {
        self.create_api_key_with(name, crate::accounts::KeyScopes::ALL, None)
            .await
    }

    /// Creates an API key with these `scopes`, expiring at `expires_at` (epoch milliseconds) if
    /// given; returns it and its secret, which is shown once and never stored.
    pub async fn create_api_key_with(
        &self,
        name: &str,
        scopes: crate::accounts::KeyScopes,
        expires_at: Option<i64>,
    ) -> Result<(ApiKey, String), StoreError> {
        let secret = new_secret();
        let new = keys::NewKey {
            name: name.to_string(),
            hash: hash_secret(&secret),
            prefix: secret.chars().take(12).collect(),
            scopes,
            expires_at,
        };
        let key = match &self.backend {
            Backend::Sqlite(s) => s.insert_api_key(new).await?,
            Backend::Postgres(s) => s.insert_api_key(new).await?,
        };
        Ok((key, secret))
    }

    /// The key with this secret, if any and not revoked (it may have expired: see
    /// [`ApiKey::expired`]).
    pub async fn find_api_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        let hash = hash_secret(secret);
        match &self.backend {
            Backend::Sqlite(s) => s.find_api_key(&hash).await,
            Backend::Postgres(s) => s.find_api_key(&hash).await,
        }
    }

    /// Every API key, oldest first, revoked ones included.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.list_api_keys().await,
            Backend::Postgres(s) => s.list_api_keys().await,
        }
    }

    /// A receiver of the change feed: one [`Committed`] per transaction that stored events, sent
    /// after it committed, in commit order. With PostgreSQL it covers commits by every server
    /// process on the database, this one included.
    ///
    /// A receiver that falls more than 4096 notices behind gets `RecvError::Lagged` and should
    /// re-read from the store; so should one of a PostgreSQL store after its listener reconnected
    /// (see [`Store::feed_resets`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Committed> {
        match &self.backend {
            Backend::Sqlite(s) => s.subscribe(),
            Backend::Postgres(s) => s.subscribe(),
        }
    }

    /// A counter that grows each time the change feed may have missed commits: on PostgreSQL, when
    /// the listener's session was lost and re-established (notifications sent meanwhile are gone).
    /// It never moves on SQLite, whose feed is in-process. A subscriber that waits for notices
    /// should also wait for this to change, then re-read from the store by id.
    pub fn feed_resets(&self) -> watch::Receiver<u64> {
        match &self.backend {
            Backend::Sqlite(s) => s.feed_resets(),
            Backend::Postgres(s) => s.feed_resets(),
        }
    }

    /// Waits until every acknowledged write is on disk and the writer has stopped (and, for
    /// PostgreSQL, stops the change feed's listener).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(s) => s.close().await,
            Backend::Postgres(s) => s.close().await,
        }
    }
}

fn new_secret() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("alk_{hex}")
}

/// SHA-256 in hex; used for API key secrets and request bodies.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hash_secret(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}
