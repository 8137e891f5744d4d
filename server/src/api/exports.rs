//! Server exports with a history (`crate::exports`):
//!
//! - `POST /api/v1/exports` `{"name": "…", "format": "csv"|"ndjson"|"pdf", "view": "<the view's query
//!   string>"}` checks the view and its limits like `GET /api/v1/events/export` (each a 400 naming
//!   the problem), records the export Queued and starts it: 202 with the job. `"gzip": true`
//!   stores a CSV or NDJSON file gzip-compressed (`.csv.gz`, `.ndjson.gz`).
//! - `GET /api/v1/exports`: the history, newest first (`{"exports": [...]}`).
//! - `GET /api/v1/exports/{id}`: one job.
//! - `GET /api/v1/exports/{id}/file`: the file of a Completed export (409 while it is Queued or
//!   Running or after it Failed, 410 once it Expired), with its SHA-256 in `X-Export-Sha256`.

use app::export::jobs::{ExportJob, ExportStatus, NewExport};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::export::{ChainNote, check_rows, exporter, parse_params, summary};
use super::{ApiError, Reader};
use crate::AppState;

/// Exports the history shows.
const HISTORY: u32 = 200;
/// The longest export name.
const MAX_NAME: usize = 200;

/// Unknown fields are refused, as in an event: they are usually typos (`formt`), and silently
/// ignoring one would export something other than what was asked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewExportBody {
    name: Option<String>,
    format: Option<String>,
    view: Option<String>,
    gzip: Option<bool>,
}

fn bad(field: &str, error: impl Into<String>) -> ApiError {
    ApiError::BadRequest(error.into(), Some(field.into()))
}

pub async fn create(
    State(state): State<AppState>,
    reader: Reader,
    body: Result<Json<NewExportBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let who = exporter(reader)?;
    let Json(body) = body.map_err(|e| match e {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::UnsupportedMediaType("Content-Type must be application/json".into())
        }
        e => ApiError::BadRequest(e.body_text(), None),
    })?;
    let name = body.name.unwrap_or_default().trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(bad(
            "name",
            format!("name is required, at most {MAX_NAME} characters"),
        ));
    }
    let format = body.format.unwrap_or_else(|| "csv".into());
    let gzip = body.gzip.unwrap_or(false);
    if gzip && format == "pdf" {
        return Err(bad(
            "gzip",
            "gzip applies to csv and ndjson; a PDF report is not compressed",
        ));
    }
    let view = body.view.unwrap_or_default();
    let view = view.trim_start_matches('?');
    let uri: Uri = format!("/?{view}")
        .parse()
        .map_err(|_| bad("view", "view must be a query string"))?;
    let Query(mut pairs) = Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map_err(|_| bad("view", "view must be a query string"))?;
    if pairs.iter().any(|(k, _)| k == "format" || k == "bom") {
        return Err(bad("view", "give the format in `format`, not in the view"));
    }
    pairs.push(("format".into(), format));
    let limits = state.export;
    let p = parse_params(&pairs, &state, limits)?;
    check_rows(&state.store, &p.query, p.format, limits).await?;
    let new = NewExport {
        name,
        requested_by: who.name.clone(),
        format: p.format,
        view: p.view,
        summary: match ChainNote::now(&state.store).await? {
            Some(note) => format!("{}; {}", summary(&p.query), note.words()),
            None => summary(&p.query),
        },
        range_start: p.query.start.map(|t| t.timestamp_millis()),
        range_end: p.query.end.map(|t| t.timestamp_millis()),
        gzip,
    };
    let job = state
        .exports
        .submit(new, p.query, who)
        .await
        .map_err(ApiError::store)?;
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}

pub async fn list(State(state): State<AppState>, reader: Reader) -> Result<Json<Value>, ApiError> {
    exporter(reader)?;
    let jobs = state
        .store
        .list_exports(HISTORY)
        .await
        .map_err(ApiError::store)?;
    Ok(Json(json!({ "exports": jobs })))
}

/// The export job `id`; the caller has checked that they may see exports.
async fn find(state: &AppState, id: &str) -> Result<ExportJob, ApiError> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| bad("id", "the export id must be a positive whole number"))?;
    state
        .store
        .get_export(id)
        .await
        .map_err(ApiError::store)?
        .ok_or(ApiError::ExportNotFound(id))
}

pub async fn one(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<ExportJob>, ApiError> {
    exporter(reader)?;
    Ok(Json(find(&state, &id).await?))
}

pub async fn file(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = exporter(reader)?;
    let job = find(&state, &id).await?;
    match job.status {
        ExportStatus::Completed => {}
        ExportStatus::Expired => {
            return Err(ApiError::ExportNotReady(
                format!("export {} expired: its file was deleted", job.id),
                true,
            ));
        }
        other => {
            return Err(ApiError::ExportNotReady(
                format!("export {} is {}: it has no file", job.id, other.label()),
                false,
            ));
        }
    }
    let file = tokio::fs::File::open(state.exports.file(&job))
        .await
        .map_err(|_| {
            ApiError::ExportNotReady(
                format!("export {}'s file is not on this server", job.id),
                true,
            )
        })?;
    // Who downloaded which export: the viewer audits its own use.
    let action = app::accounts::audit::Action {
        event: "Audit Logs Export Downloaded",
        action: "downloaded",
        success: true,
        target: Some(("export", job.id.to_string(), job.name.clone())),
        description: format!("Downloaded the export {}", job.name),
        metadata: json!({"format": job.format.as_str(), "view": job.view}),
    };
    if let Err(e) = app::accounts::audit::record(&state.store, &who, action).await {
        tracing::error!(error = %e, "recording a download failed");
    }
    let body = Body::from_stream(tokio_util_stream(file));
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(job.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", job.file_name())) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(sha) = job
        .sha256
        .as_deref()
        .and_then(|s| HeaderValue::from_str(s).ok())
    {
        h.insert("x-export-sha256", sha);
    }
    if let Some(bytes) = job.bytes {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes));
    }
    Ok(resp)
}

/// The file's bytes, 64 KiB at a time.
fn tokio_util_stream(
    file: tokio::fs::File,
) -> impl futures::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    use tokio::io::AsyncReadExt as _;
    futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}
