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
        .route("/openapi.json", get(openapi))
        .fallback(|| async { ApiError::NotFound })
}

/// The OpenAPI document of this API (`openapi.json` beside this file), for clients and for
/// schema-driven testing (`scripts/schemathesis.sh`). Needs no authentication: it says what the API
/// is, not what it holds.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
}

/// What a caller wants to do with an API key: each needs the key's scope of that name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    Ingest,
    Read,
}

/// The API key named by `Authorization: Bearer <key>`: 401 without one, or for a key that is
/// unknown, revoked or expired; 403 for a key without the scope `need`. Records when the key was
/// last used (to the minute, without holding up the request).
pub async fn authenticate(
    store: &Store,
    headers: &HeaderMap,
    need: KeyUse,
) -> Result<ApiKey, ApiError> {
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
    let key = store
        .find_api_key(secret)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::Unauthorized("the API key is not valid or was revoked".into()))?;
    let now = chrono::Utc::now().timestamp_millis();
    if key.expired(now) {
        let at = chrono::DateTime::from_timestamp_millis(key.expires_at.unwrap_or(now))
            .unwrap_or_default()
            .format("%Y-%m-%d %H:%M UTC");
        return Err(ApiError::Unauthorized(format!(
            "the API key expired at {at}"
        )));
    }
    let allowed = match need {
        KeyUse::Ingest => key.scopes.ingest,
        KeyUse::Read => key.scopes.read,
    };
    if !allowed {
        let (wants, verb) = match need {
            KeyUse::Ingest => ("ingest", "send events"),
            KeyUse::Read => ("read", "read events"),
        };
        return Err(ApiError::Forbidden(format!(
            "the API key `{}` may not {verb}: it lacks the `{wants}` scope (it has: {})",
            key.name,
            key.scopes.label()
        )));
    }
    if store.key_use_due(&key, now) {
        let (store, id) = (store.clone(), key.id);
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(id, now).await {
                tracing::warn!(error = %e, key = id, "could not record when the API key was used");
            }
        });
    }
    Ok(key)
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

impl axum::extract::FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        reader(state, &parts.headers, ip).await
    }
}

impl Reader {
    /// Records that this caller read `what` (see `app::accounts::looked`); a read that cannot be
    /// recorded is refused.
    pub async fn looked(
        &self,
        state: &AppState,
        what: app::accounts::looked::Looked<'_>,
    ) -> Result<(), ApiError> {
        state
            .reads
            .looked(&state.store, &self.who, what)
            .await
            .map_err(ApiError::store)
    }
}

/// The caller of a read route: an API key (`Authorization: Bearer`), which sees every event, or
/// the signed-in user of the session cookie, who sees what their role allows. 401 without either
/// (or with a revoked key or an expired session), 403 for a role without access.
async fn reader(
    state: &AppState,
    headers: &HeaderMap,
    ip: Option<String>,
) -> Result<Reader, ApiError> {
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if headers.contains_key(axum::http::header::AUTHORIZATION) {
        let key = authenticate(&state.store, headers, KeyUse::Read).await?;
        return Ok(Reader {
            who: app::accounts::Actor {
                id: format!("key_{}", key.id),
                name: key.name,
                kind: "app",
                ip,
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
        who: app::accounts::Actor::user(&user, ip, user_agent),
        sees_all: scope.items.is_empty(),
        scope,
    })
}
