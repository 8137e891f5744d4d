//! Fresh databases for tests (feature `test-support`): a SQLite file in a temporary folder, or a
//! PostgreSQL database of its own, dropped when the value is dropped — also when a test panics.
//!
//! `TestDatabase::from_env()` lets one test suite run against either store: with
//! `AUDITLOG_TEST_BACKEND=postgres` it creates a database through `AUDITLOG_TEST_PG_URL` (an admin
//! connection such as `postgres://postgres@127.0.0.1:5432/postgres`); otherwise SQLite.

use sqlx::{Connection, Executor, PgConnection};

use super::{AppendOutcome, AppendRequest, ItemResult, Store};
use crate::events::model::{FieldError, NewEvent};

/// Prefix of every database the tests create; `scripts/test.sh` removes leftovers by it.
pub const PG_PREFIX: &str = "auditlog_t_";

/// A database that exists for one test.
pub struct TestDatabase {
    /// What to hand to `Store::open`.
    pub url: String,
    backend: Kind,
}

enum Kind {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// The store the environment asks for (see the module doc).
    pub async fn from_env() -> Self {
        match std::env::var("AUDITLOG_TEST_BACKEND").as_deref() {
            Ok("postgres") => {
                let admin = std::env::var("AUDITLOG_TEST_PG_URL")
                    .expect("AUDITLOG_TEST_BACKEND=postgres needs AUDITLOG_TEST_PG_URL");
                Self::postgres(&admin).await
            }
            _ => Self::sqlite(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Kind::Postgres { .. })
    }

    /// Runs `sql` (one or more statements) on a connection of its own, as someone with direct
    /// access to the database would: the error's text when the database refuses.
    pub async fn raw(&self, sql: &str) -> Result<(), String> {
        match &self.backend {
            Kind::Sqlite(_) => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .map_err(|e| e.to_string())?;
                let r = sqlx::raw_sql(sql).execute(&mut c).await;
                let _ = c.close().await;
                r.map(|_| ()).map_err(|e| e.to_string())
            }
            Kind::Postgres { .. } => {
                let mut c = PgConnection::connect(&self.url)
                    .await
                    .map_err(|e| e.to_string())?;
                let r = sqlx::raw_sql(sql).execute(&mut c).await;
                let _ = c.close().await;
                r.map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }

    /// A new SQLite file in a temporary folder.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("auditlog.db").display());
        Self {
            url,
            backend: Kind::Sqlite(dir),
        }
    }

    /// A new PostgreSQL database created through `admin_url`.
    pub async fn postgres(admin_url: &str) -> Self {
        let name = format!("{PG_PREFIX}{:016x}", rand::random::<u64>());
        let mut admin = PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin_url}: {e}"));
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        let url = with_database(admin_url, &name);
        Self {
            url,
            backend: Kind::Postgres {
                admin_url: admin_url.to_string(),
                name,
            },
        }
    }
}

impl Drop for TestDatabase {
    /// Drops a PostgreSQL database. `WITH (FORCE)` ends sessions a store that was not closed still
    /// holds. Runs on a thread of its own: the test's runtime may be shutting down.
    fn drop(&mut self) {
        let Kind::Postgres { admin_url, name } = &self.backend else {
            return;
        };
        let admin_url = admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                admin.execute(sql.as_str()).await?;
                admin.close().await
            })
            .map_err(|e| e.to_string())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {name}: {dropped:?}");
        }
    }
}

/// `url` with its database name replaced by `name` (query string kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{root}/{name}{query}")
}

/// Appends `items` through the writer and asserts that every one was stored (test data is valid
/// and carries no retry keys).
pub async fn append_all(store: &Store, scope: &str, items: Vec<Result<NewEvent, FieldError>>) {
    let outcome = store
        .append(AppendRequest {
            scope: scope.into(),
            request_key: None,
            items,
        })
        .await
        .expect("append");
    let AppendOutcome::Done { results, .. } = outcome else {
        panic!("no idempotency key was sent");
    };
    assert!(
        results
            .iter()
            .all(|r| matches!(r, ItemResult::Stored { .. }))
    );
}
