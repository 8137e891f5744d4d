//! `GET /api/v1/events/stats?start=&end=&event=&f=&join=&gN=&facet_limit=`: the count, facets and
//! histogram of a view as JSON (`app::events::stats::ViewStats`), from the same store queries as
//! the page's summary.
//!
//! The view parameters are those of `GET /api/v1/events` and are parsed by the same code; `limit`
//! and `cursor` are accepted there but mean nothing to statistics. `facet_limit` (1 to 100, default
//! 10) is how many values each facet lists.

use app::events::stats::{DEFAULT_FACET_LIMIT, MAX_FACET_LIMIT, ViewStats};
use app::store::StoreError;
use axum::Json;
use axum::extract::{Query, State};

use super::read::parse_query;
use super::{ApiError, Reader};
use crate::AppState;

pub async fn stats(
    State(state): State<AppState>,
    reader: Reader,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<ViewStats>, ApiError> {
    let (limits, view): (Vec<_>, Vec<_>) =
        params.into_iter().partition(|(k, _)| k == "facet_limit");
    let facet_limit = match limits.as_slice() {
        [] => DEFAULT_FACET_LIMIT,
        [(_, v)] => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_FACET_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(
                    format!("facet_limit must be a whole number from 1 to {MAX_FACET_LIMIT}"),
                    Some("facet_limit".into()),
                )
            })?,
        _ => {
            return Err(ApiError::BadRequest(
                "`facet_limit` is given more than once".into(),
                Some("facet_limit".into()),
            ));
        }
    };
    let query = app::events::query::EventQuery {
        scope: reader.scope.clone(),
        ..parse_query(&view)?
    };
    super::read::check_range(&state, &query)?;
    let view = app::accounts::looked::Looked::View {
        query: &query,
        via: "api",
    };
    reader.looked(&state, view).await?;
    match state.store.view_stats(&query, facet_limit).await {
        Ok(stats) => Ok(Json(stats)),
        // The store re-validates filters; parse_query already refused what it would refuse.
        Err(StoreError::InvalidFilter(e)) => Err(ApiError::Unprocessable(e.error, e.field)),
        Err(e) => Err(ApiError::store(e)),
    }
}
