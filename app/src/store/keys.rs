//! API keys and the small reads both stores answer alike, written once over any sqlx database:
//! `QueryBuilder` emits each backend's placeholders (`?` or `$n`), so the SQL text is shared and
//! each store only runs the query on its own pool.

use chrono::Utc;
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::ApiKey;
use crate::accounts::KeyScopes;

/// The columns [`KeyRow`] reads, in its order.
const COLUMNS: &str =
    "id, name, prefix, created_at, revoked_at, scope_ingest, scope_read, expires_at, last_used_at";

/// One `api_keys` row as [`COLUMNS`] reads it.
pub(super) type KeyRow = (
    i64,
    String,
    String,
    i64,
    Option<i64>,
    bool,
    bool,
    Option<i64>,
    Option<i64>,
);

pub(super) fn to_key(
    (id, name, prefix, created_at, revoked_at, ingest, read, expires_at, last_used_at): KeyRow,
) -> ApiKey {
    ApiKey {
        id,
        name,
        prefix,
        created_at,
        revoked: revoked_at.is_some(),
        scopes: KeyScopes { ingest, read },
        expires_at,
        last_used_at,
    }
}

/// A key about to be stored: its secret's hash, never the secret.
pub(super) struct NewKey {
    pub name: String,
    pub hash: String,
    pub prefix: String,
    pub scopes: KeyScopes,
    pub expires_at: Option<i64>,
}

/// The key (not revoked) whose secret hashes to `hash`.
pub(super) fn find<'a, DB>(hash: &str) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    String: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::<DB>::new(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE secret_hash = "
    ));
    sql.push_bind(hash.to_string())
        .push(" AND revoked_at IS NULL");
    sql
}

/// Every key, oldest first.
pub(super) fn list<'a, DB: Database>() -> QueryBuilder<'a, DB> {
    QueryBuilder::new(format!("SELECT {COLUMNS} FROM api_keys ORDER BY id"))
}

/// Stores a new key; `RETURNING` (SQLite ≥ 3.35) reads it back as stored.
pub(super) fn insert<'a, DB>(new: NewKey) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    Option<i64>: Encode<'a, DB> + Type<DB>,
    bool: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::<DB>::new(
        "INSERT INTO api_keys (name, secret_hash, prefix, created_at, scope_ingest, scope_read, \
         expires_at) ",
    );
    sql.push_values([new], |mut row, new| {
        row.push_bind(new.name)
            .push_bind(new.hash)
            .push_bind(new.prefix)
            .push_bind(Utc::now().timestamp_millis())
            .push_bind(new.scopes.ingest)
            .push_bind(new.scopes.read)
            .push_bind(new.expires_at);
    });
    sql.push(format!(" RETURNING {COLUMNS}"));
    sql
}

/// Records that key `id` was used at `now`, unless that is already known to the minute (see
/// [`super::KEY_USE_RESOLUTION_MS`]).
pub(super) fn touch<'a, DB>(id: i64, now: i64) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::<DB>::new("UPDATE api_keys SET last_used_at = ");
    sql.push_bind(now)
        .push(" WHERE id = ")
        .push_bind(id)
        .push(" AND (last_used_at IS NULL OR last_used_at < ")
        .push_bind(now - super::KEY_USE_RESOLUTION_MS)
        .push(")");
    sql
}

/// Event names seen so far, alphabetically.
pub(super) const EVENT_NAMES: &str = "SELECT name FROM event_names ORDER BY name";
/// Whether any event is stored.
pub(super) const ANY_EVENT: &str = "SELECT EXISTS (SELECT 1 FROM events)";
