//! The history of server exports (table `exports`), written once for both stores through
//! [`run!`]: create a job, move it through its states, read the history.

use chrono::Utc;
use sqlx::{Database, Encode, FromRow, Postgres, QueryBuilder, Sqlite, Type};

use super::filter_sql::Dialect;
use super::{Backend, Store, StoreError};
use crate::export::jobs::{ExportFormat, ExportJob, ExportStatus, NewExport};

const COLUMNS: &str = "id, name, requested_by, format, view, summary, range_start, range_end, \
     status, rows, bytes, sha256, error, created_at, finished_at, expires_at, compression";

#[derive(FromRow)]
struct Row {
    id: i64,
    name: String,
    requested_by: String,
    format: String,
    view: String,
    summary: String,
    range_start: Option<i64>,
    range_end: Option<i64>,
    status: String,
    rows: Option<i64>,
    bytes: Option<i64>,
    sha256: Option<String>,
    error: Option<String>,
    created_at: i64,
    finished_at: Option<i64>,
    expires_at: Option<i64>,
    compression: Option<String>,
}

impl Row {
    fn into_job(self) -> Result<ExportJob, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("export {}: {what}", self.id));
        Ok(ExportJob {
            format: ExportFormat::parse(&self.format).ok_or_else(|| corrupt("format"))?,
            status: ExportStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            id: self.id,
            name: self.name,
            requested_by: self.requested_by,
            view: self.view,
            summary: self.summary,
            range_start: self.range_start,
            range_end: self.range_end,
            rows: self.rows.and_then(|n| u64::try_from(n).ok()),
            bytes: self.bytes.and_then(|n| u64::try_from(n).ok()),
            sha256: self.sha256,
            error: self.error,
            created_at: self.created_at,
            finished_at: self.finished_at,
            expires_at: self.expires_at,
            gzip: match self.compression.as_deref() {
                None => false,
                Some("gzip") => true,
                Some(_) => return Err(corrupt("compression")),
            },
        })
    }
}

/// How a job ends (or starts running).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportUpdate {
    Running,
    Completed {
        rows: u64,
        bytes: u64,
        sha256: String,
        expires_at: i64,
    },
    Failed {
        rows: u64,
        error: String,
    },
    Expired,
}

fn insert_sql<'a, DB>(new: &NewExport, now: i64) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    Option<i64>: Encode<'a, DB> + Type<DB>,
    Option<String>: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new(
        "INSERT INTO exports (name, requested_by, format, view, summary, range_start, range_end, status, created_at, compression) VALUES (",
    );
    let mut v = sql.separated(", ");
    v.push_bind(new.name.clone())
        .push_bind(new.requested_by.clone())
        .push_bind(new.format.as_str().to_string())
        .push_bind(new.view.clone())
        .push_bind(new.summary.clone())
        .push_bind(new.range_start)
        .push_bind(new.range_end)
        .push_bind(ExportStatus::Queued.as_str().to_string())
        .push_bind(now)
        .push_bind(new.gzip.then(|| "gzip".to_string()));
    sql.push(format!(") RETURNING {COLUMNS}"));
    sql
}

fn update_sql<'a, DB>(id: i64, update: &ExportUpdate, now: i64) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::new("UPDATE exports SET status = ");
    let status = match update {
        ExportUpdate::Running => ExportStatus::Running,
        ExportUpdate::Completed { .. } => ExportStatus::Completed,
        ExportUpdate::Failed { .. } => ExportStatus::Failed,
        ExportUpdate::Expired => ExportStatus::Expired,
    };
    sql.push_bind(status.as_str().to_string());
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    match update {
        ExportUpdate::Running | ExportUpdate::Expired => {}
        ExportUpdate::Completed {
            rows,
            bytes,
            sha256,
            expires_at,
        } => {
            sql.push(", rows = ").push_bind(n(*rows));
            sql.push(", bytes = ").push_bind(n(*bytes));
            sql.push(", sha256 = ").push_bind(sha256.clone());
            sql.push(", expires_at = ").push_bind(*expires_at);
            sql.push(", finished_at = ").push_bind(now);
        }
        ExportUpdate::Failed { rows, error } => {
            sql.push(", rows = ").push_bind(n(*rows));
            sql.push(", error = ").push_bind(error.clone());
            sql.push(", finished_at = ").push_bind(now);
        }
    }
    sql.push(" WHERE id = ").push_bind(id);
    sql
}

impl Store {
    /// Records a new export, Queued.
    pub async fn create_export(&self, new: &NewExport) -> Result<ExportJob, StoreError> {
        let now = Utc::now().timestamp_millis();
        let row: Row = run!(self, build_query_as, fetch_one, |_d| insert_sql(new, now));
        row.into_job()
    }

    /// Moves export `id` to the state `update` describes.
    pub async fn update_export(&self, id: i64, update: &ExportUpdate) -> Result<(), StoreError> {
        let now = Utc::now().timestamp_millis();
        match &self.backend {
            Backend::Sqlite(s) => {
                let mut sql: QueryBuilder<'_, Sqlite> = update_sql(id, update, now);
                sql.build().execute(&s.pool).await?;
            }
            Backend::Postgres(s) => {
                let mut sql: QueryBuilder<'_, Postgres> = update_sql(id, update, now);
                sql.build().execute(&s.pool).await?;
            }
        }
        Ok(())
    }

    /// The export with this id.
    pub async fn get_export(&self, id: i64) -> Result<Option<ExportJob>, StoreError> {
        let row: Option<Row> = run!(self, build_query_as, fetch_optional, |_d| {
            let mut sql = QueryBuilder::new(format!("SELECT {COLUMNS} FROM exports WHERE id = "));
            sql.push_bind(id);
            sql
        });
        row.map(Row::into_job).transpose()
    }

    /// The newest `limit` exports, newest first.
    pub async fn list_exports(&self, limit: u32) -> Result<Vec<ExportJob>, StoreError> {
        let rows: Vec<Row> = run!(self, build_query_as, fetch_all, |_d| {
            let mut sql = QueryBuilder::new(format!(
                "SELECT {COLUMNS} FROM exports ORDER BY created_at DESC, id DESC LIMIT "
            ));
            sql.push_bind(i64::from(limit));
            sql
        });
        rows.into_iter().map(Row::into_job).collect()
    }

    /// Exports in `status`, oldest first: at start-up, those a previous run left Queued or Running;
    /// for the sweep, the Completed ones (the caller checks their expiry).
    pub async fn exports_in(&self, status: ExportStatus) -> Result<Vec<ExportJob>, StoreError> {
        let rows: Vec<Row> = run!(self, build_query_as, fetch_all, |_d| {
            let mut sql =
                QueryBuilder::new(format!("SELECT {COLUMNS} FROM exports WHERE status = "));
            sql.push_bind(status.as_str().to_string())
                .push(" ORDER BY id");
            sql
        });
        rows.into_iter().map(Row::into_job).collect()
    }
}
