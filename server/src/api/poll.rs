//! `GET /api/v1/events/poll?after=&limit=&<the list's view parameters>&quiet=`: the live tail's
//! polling fallback, for browsers behind a proxy that buffers the stream. It answers the events of
//! the view after `after`, ascending by id, at most `limit` (default 1,000), and the id to continue
//! after (`app::tail::TailPage`). Without `after` it answers no events and the newest id, where a
//! client starts. Same view, same authentication and same order as the stream.

use app::store::StoreError;
use app::tail::TailPage;
use axum::Json;
use axum::extract::{Query, State};

use super::live::{DEFAULT_POLL_LIMIT, parse_params};
use super::{ApiError, Reader};
use crate::AppState;

pub async fn poll(
    State(state): State<AppState>,
    reader: Reader,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<TailPage>, ApiError> {
    let mut params = parse_params(&params, &state.noise, true)?;
    params.query.scope = reader.scope.clone();
    let view = app::accounts::looked::Looked::View {
        query: &params.query,
        via: "live tail",
    };
    reader.looked(&state, view).await?;
    // Read before the events: everything up to it is committed, so continuing after it (when the
    // answer is complete) passes over nothing, and skips scanning events outside the view again.
    let newest = state.store.newest_id().await.map_err(ApiError::store)?;
    let Some(after) = params.after else {
        return Ok(Json(TailPage {
            events: Vec::new(),
            resume_after: newest,
            more: false,
        }));
    };
    let after = after.min(newest);
    let limit = params.limit.unwrap_or(DEFAULT_POLL_LIMIT);
    let mut events = match state
        .store
        .events_after(&params.query, after, newest, limit + 1)
        .await
    {
        Ok(events) => events,
        // The store re-validates filters; parse_params already refused what it would refuse.
        Err(StoreError::InvalidFilter(e)) => return Err(ApiError::Unprocessable(e.error, e.field)),
        Err(e) => return Err(ApiError::store(e)),
    };
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let resume_after = match events.last() {
        Some(e) if more => e.id,
        _ => newest,
    };
    Ok(Json(TailPage {
        events,
        resume_after,
        more,
    }))
}
