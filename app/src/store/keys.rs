//! API keys and the small reads both stores answer alike, written once over any sqlx database:
//! `QueryBuilder` emits each backend's placeholders (`?` or `$n`), so the SQL text is shared and
//! each store only runs the query on its own pool.

use chrono::Utc;
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::ApiKey;

/// The columns [`KeyRow`] reads, in its order.
pub(super) type KeyRow = (i64, String, String, i64, Option<i64>);

pub(super) fn to_key((id, name, prefix, created_at, revoked_at): KeyRow) -> ApiKey {
    ApiKey {
        id,
        name,
        prefix,
        created_at,
        revoked: revoked_at.is_some(),
    }
}

/// The live (not revoked) key whose secret hashes to `hash`.
pub(super) fn find<'a, DB>(hash: &str) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    String: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::<DB>::new(
        "SELECT id, name, prefix, created_at, revoked_at FROM api_keys WHERE secret_hash = ",
    );
    sql.push_bind(hash.to_string())
        .push(" AND revoked_at IS NULL");
    sql
}

/// Every key, oldest first.
pub(super) fn list<'a, DB: Database>() -> QueryBuilder<'a, DB> {
    QueryBuilder::new("SELECT id, name, prefix, created_at, revoked_at FROM api_keys ORDER BY id")
}

/// Stores a new key (its secret's hash only); `RETURNING` (SQLite ≥ 3.35) reads it back as stored.
pub(super) fn insert<'a, DB>(name: &str, hash: &str, prefix: &str) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql =
        QueryBuilder::<DB>::new("INSERT INTO api_keys (name, secret_hash, prefix, created_at) ");
    sql.push_values([(name, hash, prefix)], |mut row, (name, hash, prefix)| {
        row.push_bind(name.to_string())
            .push_bind(hash.to_string())
            .push_bind(prefix.to_string())
            .push_bind(Utc::now().timestamp_millis());
    });
    sql.push(" RETURNING id, name, prefix, created_at, revoked_at");
    sql
}

/// Event names seen so far, alphabetically.
pub(super) const EVENT_NAMES: &str = "SELECT name FROM event_names ORDER BY name";
/// Whether any event is stored.
pub(super) const ANY_EVENT: &str = "SELECT EXISTS (SELECT 1 FROM events)";
