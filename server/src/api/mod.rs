//! The plain HTTP API under `/api/v1`: ingest and read, authenticated by API key; the live tail
//! (stream and polling fallback) also answers the page itself.

mod error;
mod export;
mod exports;
mod ingest;
mod live;
mod poll;
mod read;
mod rendered;
mod shared_reads;
mod stats;
mod stream;

use app::store::{ApiKey, Store};
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};

pub use error::ApiError;
pub use live::{Live, LiveConfig, LiveStats};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events", post(ingest::ingest).get(read::list))
        .route("/events/stats", get(stats::stats))
        .route("/events/export", get(export::export))
        .route("/exports", post(exports::create).get(exports::list))
        .route("/exports/{id}", get(exports::one))
        .route("/exports/{id}/file", get(exports::file))
        .route("/events/stream", get(stream::stream))
        .route("/events/poll", get(poll::poll))
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

/// Who may read the live tail (`/events/stream` and `/events/poll`): the one place that decides.
///
/// - A request with `Authorization` must carry a valid API key, as on every other route.
/// - A request without one is let in when a browser says it comes from the page itself
///   (`Sec-Fetch-Site: same-origin`): the page's `EventSource` cannot send headers, and the page
///   has no sign-in yet. Browsers set that header and page scripts cannot change it, so another
///   site's page cannot read the tail through a visitor's browser; a program on a machine that can
///   reach the server can send it, and can call the page's unauthenticated server functions just
///   the same, which is why the server listens on the loopback interface by default.
///
/// The accounts issue replaces the same-origin branch with a check of the signed-in session.
pub async fn authenticate_reader(store: &Store, headers: &HeaderMap) -> Result<(), ApiError> {
    if headers.contains_key(axum::http::header::AUTHORIZATION) {
        return authenticate(store, headers).await.map(|_| ());
    }
    if same_origin(headers) {
        return Ok(());
    }
    Err(ApiError::Unauthorized(
        "missing Authorization: Bearer <api key> header (or open the live tail from the Audit Logs page)"
            .into(),
    ))
}

/// The request comes from the Audit Logs page itself: the browser says it is same-origin (it sets
/// `Sec-Fetch-Site`, which scripts cannot forge).
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"same-origin")
}
