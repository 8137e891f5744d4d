//! The one error type of the HTTP API: each variant is a status and a JSON body
//! `{ "error": "...", "field"?: "..." }` that names the problem; internal causes are logged, not sent.

use app::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but not allowed (a role without access, or a Member asking for server exports).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String, Option<String>),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The request body did not arrive in time (408).
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unprocessable(String, Option<String>),
    #[error("no such API route")]
    NotFound,
    #[error("event {0} not found")]
    EventNotFound(i64),
    #[error("export {0} not found")]
    ExportNotFound(i64),
    /// The export has no file to download (yet, or any more): 409 while it runs or after it
    /// failed, 410 once its file expired.
    #[error("{0}")]
    ExportNotReady(String, bool),
    #[error("the store is unavailable")]
    Unavailable,
    /// The API key sent more events than its rate allows (429, with `Retry-After`).
    #[error("this API key is over its ingest rate of {} events per second; retry after {} s", .0.limit, .0.retry_after)]
    RateLimited(super::rate::Limited),
}

impl ApiError {
    /// Logs a store failure and hides it from the client.
    pub fn store(e: StoreError) -> Self {
        tracing::error!(error = %e, "store failure");
        ApiError::Unavailable
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::BadRequest(..) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(..) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound | ApiError::EventNotFound(_) | ApiError::ExportNotFound(_) => {
                StatusCode::NOT_FOUND
            }
            ApiError::ExportNotReady(_, false) => StatusCode::CONFLICT,
            ApiError::ExportNotReady(_, true) => StatusCode::GONE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let field = match &self {
            ApiError::BadRequest(_, f) | ApiError::Unprocessable(_, f) => f.clone(),
            _ => None,
        };
        let mut body = json!({ "error": self.to_string() });
        if let Some(f) = field {
            body["field"] = json!(f);
        }
        let mut resp = (self.status(), Json(body)).into_response();
        if let ApiError::RateLimited(l) = &self {
            let h = resp.headers_mut();
            h.insert(header::RETRY_AFTER, HeaderValue::from(l.retry_after));
            h.insert("ratelimit-limit", HeaderValue::from(l.limit));
            h.insert("ratelimit-remaining", HeaderValue::from(0u32));
        }
        if matches!(self, ApiError::Unauthorized(_)) {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}
