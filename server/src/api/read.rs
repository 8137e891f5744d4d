//! `GET /api/v1/events?start=&end=&event=&q=&limit=&cursor=&sort=&f=&join=&gN=`: the event list
//! as JSON, newest first unless `sort` says otherwise, from the same store query as the page; and
//! `GET /api/v1/events/{id}`: one event by its sequence number.
//!
//! `f` (repeatable), `join` and `gN` are the filter in its URL form (see `app::filters::codec`);
//! `q` is the free-text search (see `app::filters::search`).

use std::collections::HashMap;

use app::events::model::{Event, parse_time};
use app::events::query::{Cursor, EventPage, EventQuery, MAX_LIMIT, Sort};
use app::filters::Filter;
use app::store::StoreError;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde_json::Value;

use app::accounts::looked::Looked;

use super::{ApiError, Reader};
use crate::AppState;

pub async fn list(
    State(state): State<AppState>,
    reader: Reader,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<EventPage>, ApiError> {
    let query = EventQuery {
        scope: reader.scope.clone(),
        ..parse_query(&params)?
    };
    check_range(&state, &query)?;
    let view = Looked::View {
        query: &query,
        via: "api",
    };
    reader.looked(&state, view).await?;
    match state.store.list(&query).await {
        Ok(page) => Ok(Json(page)),
        // The store re-validates filters; parse_query already refused what it would refuse.
        Err(StoreError::InvalidFilter(e)) => Err(ApiError::Unprocessable(e.error, e.field)),
        Err(StoreError::InvalidQuery(e)) => Err(ApiError::BadRequest(e.error, e.field)),
        Err(e) => Err(ApiError::store(e)),
    }
}

/// One event, in the shape the list returns each of its events; 404 when no event has the id.
pub async fn one(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<Event>, ApiError> {
    let id = id.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        bad(
            "id",
            format!(
                "the event id must be a positive whole number, not `{}`",
                clip(&id)
            ),
        )
    })?;
    match state.store.get_in(id, &reader.scope).await {
        Ok(Some(event)) => {
            let one = Looked::Event { id, via: "api" };
            reader.looked(&state, one).await?;
            Ok(Json(event))
        }
        Ok(None) => Err(ApiError::EventNotFound(id)),
        Err(e) => Err(ApiError::store(e)),
    }
}

/// A 400 naming `start` when the view spans more than the server allows (`--max-range-days`).
pub(super) fn check_range(state: &AppState, q: &EventQuery) -> Result<(), ApiError> {
    state
        .read_limits
        .check(q.start, q.end, chrono::Utc::now())
        .map_err(|e| ApiError::BadRequest(e.error, e.field))
}

/// At most 40 characters of what a caller sent, for echoing it in an error.
fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

fn bad(field: &str, error: String) -> ApiError {
    ApiError::BadRequest(error, Some(field.into()))
}

/// Parses the query string; every problem names its parameter.
pub fn parse_query(pairs: &[(String, String)]) -> Result<EventQuery, ApiError> {
    let mut params: HashMap<&str, &String> = HashMap::new();
    for (k, v) in pairs {
        if Filter::is_query_key(k) {
            continue;
        }
        if !["start", "end", "event", "limit", "cursor", "sort", "q"].contains(&k.as_str()) {
            return Err(bad(k, format!("unknown query parameter `{k}`")));
        }
        if params.insert(k.as_str(), v).is_some() {
            return Err(bad(k, format!("`{k}` is given more than once")));
        }
        // No stored text holds one (ingest refuses them), and PostgreSQL refuses them in a query.
        if v.contains('\0') {
            return Err(bad(k, format!("`{k}` must not contain NUL characters")));
        }
    }
    let filter = Filter::from_query(pairs).map_err(|e| {
        let field = e.field.unwrap_or_else(|| "f".into());
        bad(&field, e.error)
    })?;
    let start = params
        .get("start")
        .map(|v| time_param("start", v))
        .transpose()?;
    let end = params
        .get("end")
        .map(|v| time_param("end", v))
        .transpose()?;
    if let (Some(s), Some(e)) = (start, end)
        && s >= e
    {
        return Err(bad("end", "end must be later than start".into()));
    }
    let limit = match params.get("limit") {
        None => 0,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                bad(
                    "limit",
                    format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let cursor = params
        .get("cursor")
        .map(|c| Cursor::decode(c).map_err(|e| bad("cursor", e.error)))
        .transpose()?;
    let sort = params
        .get("sort")
        .map(|v| Sort::from_param(v).map_err(|e| bad("sort", e.error)))
        .transpose()?
        .unwrap_or_default();
    let search = match params.get("q") {
        None => None,
        Some(q) => EventQuery::parse_search(q).map_err(|e| bad("q", e.error))?,
    };
    let event = params
        .get("event")
        .filter(|e| !e.is_empty())
        .map(|e| e.to_string());
    let query = EventQuery {
        hide: Default::default(),
        scope: Default::default(),
        start,
        end,
        event,
        limit,
        cursor,
        filter,
        sort,
        search,
    };
    query.check_cursor().map_err(|e| bad("cursor", e.error))?;
    Ok(query)
}

/// Epoch milliseconds (digits) or RFC 3339.
fn time_param(field: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    let value = match v.parse::<i64>() {
        Ok(ms) => Value::from(ms),
        Err(_) => Value::from(v),
    };
    parse_time(&value).map_err(|e| bad(field, format!("{field}: {e}")))
}
