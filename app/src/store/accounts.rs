//! Users and sessions (migrations sqlite/0010, postgres/0008), written once over both databases
//! as in `keys.rs`.

use super::keys::touch as touch_key;
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::{Backend, Store, StoreError};
use crate::accounts::{Role, User};

/// The columns [`to_user`] reads, in its order.
type UserRow = (i64, String, String, String, i64);
const USER_COLUMNS: &str = "users.id, users.name, users.role, users.actor_id, users.created_at";

fn to_user((id, name, role, actor_id, created_at): UserRow) -> Result<User, StoreError> {
    let role = Role::parse(&role)
        .ok_or_else(|| StoreError::Corrupt(format!("user {id} has the unknown role `{role}`")))?;
    Ok(User {
        id,
        name,
        role,
        actor_id,
        created_at,
    })
}

/// A session as stored: its user, when it began and when it was last used (epoch ms).
#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub user: User,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// Runs `$sql` (a function of the database type returning a `QueryBuilder`) on whichever pool the
/// store has, with `$run` (`fetch_one`, `fetch_optional`, `fetch_all`, `execute`) after `$as`.
macro_rules! on_pool {
    ($store:expr, $sql:ident($($arg:expr),*), build, execute) => {
        match &$store.backend {
            Backend::Sqlite(s) => {
                let mut q = $sql::<sqlx::Sqlite>($($arg),*);
                q.build().execute(&s.pool).await.map_err(StoreError::from)?.rows_affected()
            }
            Backend::Postgres(s) => {
                let mut q = $sql::<sqlx::Postgres>($($arg),*);
                q.build().execute(&s.pool).await.map_err(StoreError::from)?.rows_affected()
            }
        }
    };
    ($store:expr, $sql:ident($($arg:expr),*), $as:ident, $run:ident) => {
        match &$store.backend {
            Backend::Sqlite(s) => {
                let mut q = $sql::<sqlx::Sqlite>($($arg),*);
                q.$as().$run(&s.pool).await.map_err(StoreError::from)?
            }
            Backend::Postgres(s) => {
                let mut q = $sql::<sqlx::Postgres>($($arg),*);
                q.$as().$run(&s.pool).await.map_err(StoreError::from)?
            }
        }
    };
}

fn select_user<'a, DB: Database>(by: &'static str, value: String) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(format!(
        "SELECT {USER_COLUMNS}, users.password_hash FROM users WHERE users.{by} = "
    ));
    sql.push_bind(value);
    sql
}

fn all_users<'a, DB: Database>() -> QueryBuilder<'a, DB> {
    QueryBuilder::new(format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY users.id"
    ))
}

fn count_users<'a, DB: Database>() -> QueryBuilder<'a, DB> {
    QueryBuilder::new("SELECT COUNT(*) FROM users")
}

fn insert_user<'a, DB: Database>(
    name: String,
    role: Role,
    actor_id: String,
    hash: String,
    now: i64,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(
        "INSERT INTO users (name, role, actor_id, password_hash, created_at) VALUES (",
    );
    sql.push_bind(name)
        .push(", ")
        .push_bind(role.as_str().to_string())
        .push(", ")
        .push_bind(actor_id)
        .push(", ")
        .push_bind(hash)
        .push(", ")
        .push_bind(now)
        .push(format!(") RETURNING {USER_COLUMNS}"));
    sql
}

fn update_user<'a, DB: Database>(
    name: String,
    column: &'static str,
    value: String,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(format!("UPDATE users SET {column} = "));
    sql.push_bind(value)
        .push(" WHERE name = ")
        .push_bind(name)
        .push(format!(" RETURNING {USER_COLUMNS}"));
    sql
}

fn delete_user<'a, DB: Database>(name: String) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new("DELETE FROM users WHERE name = ");
    sql.push_bind(name)
        .push(format!(" RETURNING {USER_COLUMNS}"));
    sql
}

fn insert_session<'a, DB: Database>(hash: String, user_id: i64, now: i64) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES (",
    );
    sql.push_bind(hash)
        .push(", ")
        .push_bind(user_id)
        .push(", ")
        .push_bind(now)
        .push(", ")
        .push_bind(now)
        .push(")");
    sql
}

fn select_session<'a, DB: Database>(hash: String) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(format!(
        "SELECT {USER_COLUMNS}, sessions.created_at, sessions.last_seen_at \
         FROM sessions JOIN users ON users.id = sessions.user_id WHERE sessions.token_hash = "
    ));
    sql.push_bind(hash);
    sql
}

fn touch_session<'a, DB: Database>(hash: String, now: i64) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new("UPDATE sessions SET last_seen_at = ");
    sql.push_bind(now)
        .push(" WHERE token_hash = ")
        .push_bind(hash);
    sql
}

fn delete_session<'a, DB: Database>(hash: String) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new("DELETE FROM sessions WHERE token_hash = ");
    sql.push_bind(hash);
    sql
}

fn delete_sessions_of<'a, DB: Database>(user_id: i64) -> QueryBuilder<'a, DB>
where
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new("DELETE FROM sessions WHERE user_id = ");
    sql.push_bind(user_id);
    sql
}

fn revoke_key<'a, DB: Database>(id: i64, now: i64) -> QueryBuilder<'a, DB>
where
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new("UPDATE api_keys SET revoked_at = ");
    sql.push_bind(now)
        .push(" WHERE id = ")
        .push_bind(id)
        .push(" AND revoked_at IS NULL");
    sql
}

/// Why adding a user failed.
#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("a user named `{0}` already exists")]
    Taken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// How many users there are.
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, count_users(), build_query_scalar, fetch_one))
    }

    /// Adds a user whose password hashes to `password_hash` (see `accounts::password`).
    pub async fn add_user(
        &self,
        name: &str,
        role: Role,
        actor_id: &str,
        password_hash: &str,
    ) -> Result<User, AddUserError> {
        if self.user_with_hash(name).await?.is_some() {
            return Err(AddUserError::Taken(name.to_string()));
        }
        let now = chrono::Utc::now().timestamp_millis();
        let row: UserRow = on_pool!(
            self,
            insert_user(
                name.to_string(),
                role,
                actor_id.to_string(),
                password_hash.to_string(),
                now
            ),
            build_query_as,
            fetch_one
        );
        Ok(to_user(row)?)
    }

    /// The user named `name` and their password hash.
    pub async fn user_with_hash(&self, name: &str) -> Result<Option<(User, String)>, StoreError> {
        type Row = (i64, String, String, String, i64, String);
        let row: Option<Row> = on_pool!(
            self,
            select_user("name", name.to_string()),
            build_query_as,
            fetch_optional
        );
        row.map(|(id, name, role, actor, created, hash)| {
            Ok((to_user((id, name, role, actor, created))?, hash))
        })
        .transpose()
    }

    /// Every user, oldest first.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = on_pool!(self, all_users(), build_query_as, fetch_all);
        rows.into_iter().map(to_user).collect()
    }

    /// Gives `name` the role `role`; `None` when there is no such user. Takes effect on the user's
    /// next request (sessions read the role from the user, not a copy).
    pub async fn set_role(&self, name: &str, role: Role) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = on_pool!(
            self,
            update_user(name.to_string(), "role", role.as_str().to_string()),
            build_query_as,
            fetch_optional
        );
        row.map(to_user).transpose()
    }

    /// Replaces `name`'s password hash and ends their sessions; `None` when there is no such user.
    pub async fn set_password(&self, name: &str, hash: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = on_pool!(
            self,
            update_user(name.to_string(), "password_hash", hash.to_string()),
            build_query_as,
            fetch_optional
        );
        let user = row.map(to_user).transpose()?;
        if let Some(u) = &user {
            on_pool!(self, delete_sessions_of(u.id), build, execute);
        }
        Ok(user)
    }

    /// Removes `name` and their sessions; `None` when there is no such user.
    pub async fn remove_user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = on_pool!(
            self,
            delete_user(name.to_string()),
            build_query_as,
            fetch_optional
        );
        row.map(to_user).transpose()
    }

    /// Stores a session for `user_id` under the hash of its token.
    pub async fn add_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(
            self,
            insert_session(token_hash.to_string(), user_id, now),
            build,
            execute
        );
        Ok(())
    }

    /// The session stored under `token_hash`, with its user as they are now.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        type Row = (i64, String, String, String, i64, i64, i64);
        let row: Option<Row> = on_pool!(
            self,
            select_session(token_hash.to_string()),
            build_query_as,
            fetch_optional
        );
        row.map(|(id, name, role, actor, created, s_created, s_seen)| {
            Ok(SessionRecord {
                user: to_user((id, name, role, actor, created))?,
                created_at: s_created,
                last_seen_at: s_seen,
            })
        })
        .transpose()
    }

    /// Records that the session was used at `now`.
    pub async fn touch_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        on_pool!(
            self,
            touch_session(token_hash.to_string(), now),
            build,
            execute
        );
        Ok(())
    }

    /// Revokes the API key `id`: it is refused from the next request on. False when there is no
    /// such live key.
    pub async fn revoke_api_key(&self, id: i64) -> Result<bool, StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        Ok(on_pool!(self, revoke_key(id, now), build, execute) > 0)
    }

    /// Whether a use of `key` at `now` should be written (see [`Store::touch_api_key`]): its
    /// stored time is over a minute old and this process has not begun writing it within the
    /// minute. Without the second check every request of a busy key would queue a write of its
    /// own until the first one lands.
    pub fn key_use_due(&self, key: &super::ApiKey, now: i64) -> bool {
        let stale = |t: i64| now - t >= super::KEY_USE_RESOLUTION_MS;
        if !key.last_used_at.is_none_or(stale) {
            return false;
        }
        let mut uses = self.key_uses.lock().unwrap_or_else(|p| p.into_inner());
        if uses.get(&key.id).is_some_and(|t| !stale(*t)) {
            return false;
        }
        if uses.len() > 100_000 {
            uses.retain(|_, t| !stale(*t));
        }
        uses.insert(key.id, now);
        true
    }

    /// Records that API key `id` was used at `now` (epoch milliseconds); written at most once a
    /// minute per key.
    pub async fn touch_api_key(&self, id: i64, now: i64) -> Result<(), StoreError> {
        on_pool!(self, touch_key(id, now), build, execute);
        Ok(())
    }

    /// Ends the session stored under `token_hash` (sign-out, expiry).
    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, delete_session(token_hash.to_string()), build, execute);
        Ok(())
    }
}
