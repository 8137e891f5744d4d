//! The plain HTTP API under `/api/v1`: ingest and read, authenticated by API key.

mod error;
mod ingest;
mod read;
mod stats;

use app::store::{ApiKey, Store};
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};

pub use error::ApiError;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events", post(ingest::ingest).get(read::list))
        .route("/events/stats", get(stats::stats))
        .route("/events/{id}", get(read::one))
        .fallback(|| async { ApiError::NotFound })
}

/// The API key named by `Authorization: Bearer <key>`, or 401.
pub async fn authenticate(store: &Store, headers: &HeaderMap) -> Result<ApiKey, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthorized("missing Authorization: Bearer <api key> header".into())
        })?;
    let secret = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("Authorization header must be `Bearer <api key>`".into())
        })?;
    store
        .find_api_key(secret)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::Unauthorized("the API key is not valid or was revoked".into()))
}
