//! The plain HTTP API under `/api/v1`: ingest, authenticated by API key; reads, the live tail and
//! exports, by API key or by the signed-in session of the page (see [`reader`]).

mod error;
mod export;
mod exports;
mod ingest;
mod live;
mod poll;
pub mod rate;
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

/// Who is calling a read route, and what they may see: the one place that decides.
pub struct Reader {
    /// Who asked, as audit events name them (the user's actor id, or `key_N`).
    pub who: app::accounts::Actor,
    /// The events they may see, ANDed into every query they make (`EventQuery::scope`).
    pub scope: app::filters::Filter,
    /// May see every event (an API key, an Owner or an Auditor): server exports are theirs.
    pub sees_all: bool,
}

/// The caller of a read route: an API key (`Authorization: Bearer`), which sees every event, or
/// the signed-in user of the session cookie, who sees what their role allows. 401 without either
/// (or with a revoked key or an expired session), 403 for a role without access.
pub async fn reader(state: &AppState, headers: &HeaderMap) -> Result<Reader, ApiError> {
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if headers.contains_key(axum::http::header::AUTHORIZATION) {
        let key = authenticate(&state.store, headers).await?;
        return Ok(Reader {
            who: app::accounts::Actor {
                id: format!("key_{}", key.id),
                name: key.name,
                kind: "app",
                ip: None,
                user_agent,
            },
            scope: Default::default(),
            sees_all: true,
        });
    }
    let user = app::accounts::session::current_user(&state.store, headers, &state.sessions)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "sign in, or send an Authorization: Bearer <api key> header".into(),
            )
        })?;
    let scope = user.scope().ok_or_else(|| {
        ApiError::Forbidden(format!(
            "the user `{}` has no access to Audit Logs",
            user.name
        ))
    })?;
    Ok(Reader {
        who: app::accounts::Actor::user(&user, None, user_agent),
        sees_all: scope.items.is_empty(),
        scope,
    })
}
