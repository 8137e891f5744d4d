//! `POST /api/v1/events`: one event object or an array of up to 1,000, stored through the writer.
//!
//! Every item gets a result in request order; valid items are stored even when others fail. An
//! `Idempotency-Key` header replays the original response for a retried request, and a per-event
//! `idempotency_key` maps a retried event to the id it was first stored under.

use app::events::model::parse_event;
use app::store::{AppendOutcome, AppendRequest, ItemResult, RequestKey, sha256_hex};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{ApiError, KeyUse, authenticate};
use crate::AppState;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most events in one request.
pub const MAX_BATCH: usize = 1000;
/// Longest accepted `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 255;

pub async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let key = authenticate(&state.store, &headers, KeyUse::Ingest).await?;
    check_content_type(&headers)?;
    // One token per request up front, the rest per event once the batch is read.
    let remaining = state
        .ingest_limit
        .take(key.id, 1)
        .map_err(ApiError::RateLimited)?;
    let request_key = idempotency_key(&headers)?;
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "request body exceeds the limit of {MAX_BODY_BYTES} bytes (1 MiB)"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    // The whole body within the deadline: a client trickling it (a slow body) is cut off.
    let deadline = state.timeouts.body;
    let bytes = tokio::time::timeout(deadline, axum::body::to_bytes(body, MAX_BODY_BYTES))
        .await
        .map_err(|_| {
            ApiError::RequestTimeout(format!(
                "the request body did not arrive within {} s",
                deadline.as_secs_f64()
            ))
        })?
        .map_err(|_| too_large())?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}"), None))?;

    let now = chrono::Utc::now();
    let (single, items) = match &value {
        Value::Object(_) => (true, vec![parse_event(&value, now)]),
        Value::Array(list) if list.is_empty() => {
            return Err(ApiError::Unprocessable("the batch is empty".into(), None));
        }
        Value::Array(list) if list.len() > MAX_BATCH => {
            return Err(ApiError::PayloadTooLarge(format!(
                "the batch has {} events; the limit is {MAX_BATCH}",
                list.len()
            )));
        }
        Value::Array(list) => (false, list.iter().map(|v| parse_event(v, now)).collect()),
        _ => {
            return Err(ApiError::BadRequest(
                "the body must be an event object or an array of events".into(),
                None,
            ));
        }
    };

    let n = u32::try_from(items.len()).unwrap_or(u32::MAX);
    let remaining = match n.checked_sub(1) {
        Some(0) | None => remaining,
        Some(more) => state
            .ingest_limit
            .take(key.id, more)
            .map_err(ApiError::RateLimited)?,
    };
    let request_key = request_key.map(|k| RequestKey {
        key: k,
        body_hash: sha256_hex(&bytes),
    });
    let nothing_valid = items.iter().all(Result::is_err);
    let (results, replayed) = if nothing_valid && request_key.is_none() {
        let results = items
            .into_iter()
            .filter_map(Result::err)
            .map(ItemResult::Rejected)
            .collect();
        (results, false)
    } else {
        let req = AppendRequest {
            scope: format!("key:{}", key.id),
            request_key,
            items,
        };
        match state.store.append(req).await.map_err(ApiError::store)? {
            AppendOutcome::Done { results, replayed } => (results, replayed),
            AppendOutcome::KeyReused => {
                return Err(ApiError::Unprocessable(
                    "this Idempotency-Key was already used with a different request body".into(),
                    Some("Idempotency-Key".into()),
                ));
            }
        }
    };
    let mut resp = respond(single, results, replayed);
    if state.ingest_limit.config().rate > 0 {
        let h = resp.headers_mut();
        h.insert("ratelimit-limit", state.ingest_limit.config().rate.into());
        h.insert("ratelimit-remaining", remaining.into());
    }
    Ok(resp)
}

fn respond(single: bool, results: Vec<ItemResult>, replayed: bool) -> Response {
    let rejected = results
        .iter()
        .filter(|r| matches!(r, ItemResult::Rejected(_)))
        .count();
    let mut resp = if single && rejected == 1 {
        let Some(ItemResult::Rejected(e)) = results.into_iter().next() else {
            unreachable!("a single rejected item")
        };
        (StatusCode::UNPROCESSABLE_ENTITY, Json(json!(e))).into_response()
    } else if rejected == results.len() {
        let body = json!({ "error": "no event in the batch was valid", "results": results });
        (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    } else if rejected > 0 {
        (
            StatusCode::MULTI_STATUS,
            Json(json!({ "results": results })),
        )
            .into_response()
    } else {
        (StatusCode::CREATED, Json(json!({ "results": results }))).into_response()
    };
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be application/json (got `{}`)",
            if ct.is_empty() { "none" } else { ct }
        )))
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bad = |why: &str| {
        ApiError::BadRequest(
            format!("Idempotency-Key {why}"),
            Some("Idempotency-Key".into()),
        )
    };
    let text = v.to_str().map_err(|_| bad("must be visible ASCII"))?.trim();
    if text.is_empty() {
        return Err(bad("must not be empty"));
    }
    if text.len() > MAX_IDEMPOTENCY_KEY {
        return Err(bad(&format!(
            "is {} bytes; the limit is {MAX_IDEMPOTENCY_KEY}",
            text.len()
        )));
    }
    Ok(Some(text.to_string()))
}
