//! Server functions behind the Audit Logs page. Each is a public HTTP endpoint.
//!
//! Until accounts exist the server listens on the loopback interface only, so every caller is local;
//! the accounts issue adds the caller's role to these queries.

// Server function arguments are their wire form: flat form fields, one per part of the view.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use super::model::Event;
use super::query::EventPage;
#[cfg(feature = "ssr")]
use super::query::EventQuery;

/// One page of events for the page's current view, newest first. `start` and `end` are the
/// view's resolved bounds in epoch milliseconds (the browser resolves calendar presets in its own
/// zone), `start` inclusive and `end` exclusive. `filter` is the view's filter as JSON (empty for
/// none); it is validated here like any other input.
#[server]
pub async fn list_events(
    start: Option<i64>,
    end: Option<i64>,
    event: Option<String>,
    filter: String,
    search: Option<String>,
    quiet: bool,
    sort: String,
    cursor: Option<String>,
) -> Result<EventPage, ServerFnError> {
    read_page(
        start, end, event, &filter, search, quiet, &sort, cursor, PAGE_SIZE,
    )
    .await
}

/// Read this many at a time, a page's reads are the page's list; more, its browser export (which
/// is recorded as an export rather than as a read).
#[cfg(feature = "ssr")]
const PAGE_SIZE: u32 = 50;

/// One chunk of the browser's "CSV (this view)": the next [`EXPORT_CHUNK`] events of the view after
/// `cursor`, in the view's sort.
#[server]
pub async fn export_chunk(
    start: Option<i64>,
    end: Option<i64>,
    event: Option<String>,
    filter: String,
    search: Option<String>,
    quiet: bool,
    sort: String,
    cursor: Option<String>,
) -> Result<EventPage, ServerFnError> {
    read_page(
        start,
        end,
        event,
        &filter,
        search,
        quiet,
        &sort,
        cursor,
        EXPORT_CHUNK,
    )
    .await
}

/// Events per request of the browser's CSV export.
pub const EXPORT_CHUNK: u32 = super::query::MAX_LIMIT;

/// Records an export the browser wrote ("CSV (this view)"): `rows` events of `view` (its query
/// string), `complete` unless it was cancelled or failed part way.
#[server]
pub async fn record_browser_export(
    view: String,
    rows: u64,
    complete: bool,
) -> Result<(), ServerFnError> {
    use crate::export::record_export;
    let store = ssr::store()?;
    let (user, _) = ssr::viewer().await?;
    let who = ssr::requesting(&user);
    record_export(&store, &who, "csv", "browser", &view, rows, complete)
        .await
        .map_err(ssr::internal)?;
    Ok(())
}

/// A page of `limit` events of the view after `cursor`; the first page also says its position.
#[cfg(feature = "ssr")]
async fn read_page(
    start: Option<i64>,
    end: Option<i64>,
    event: Option<String>,
    filter: &str,
    search: Option<String>,
    quiet: bool,
    sort: &str,
    cursor: Option<String>,
    limit: u32,
) -> Result<EventPage, ServerFnError> {
    use super::query::{Cursor, Sort};
    let store = ssr::store()?;
    let (user, view) = parse_view(start, end, event, filter, search, quiet).await?;
    if limit == PAGE_SIZE {
        let view = crate::accounts::looked::Looked::View {
            query: &view,
            via: "page",
        };
        ssr::looked(&ssr::requesting(&user), view).await?;
    }
    let sort = if sort.is_empty() {
        Sort::default()
    } else {
        Sort::from_param(sort).map_err(|e| ServerFnError::new(e.error))?
    };
    let cursor = match cursor {
        Some(c) => Some(Cursor::decode(&c).map_err(|e| ServerFnError::new(e.error))?),
        None => None,
    };
    // The first page says where the page's live tail starts: read before the page, so an event
    // committed in between is on the page, on the tail, or both (the page ignores the repeat).
    let as_of = match cursor {
        None => Some(store.newest_id().await.map_err(ssr::internal)?),
        Some(_) => None,
    };
    let query = EventQuery {
        limit,
        cursor,
        sort,
        ..view
    };
    let page = store.list(&query).await.map_err(ssr::internal)?;
    Ok(EventPage { as_of, ..page })
}

/// The view the page's server functions are given: `start`/`end` in epoch milliseconds, the event
/// name (empty for any) and the filter as JSON (empty for none), validated, and bounded to what
/// the signed-in caller may see (their scope; an error without a session); with the caller. Shared by
/// [`list_events`] and [`super::stats_api::view_stats`] so the list and its statistics always
/// describe the same rows.
#[cfg(feature = "ssr")]
pub(crate) async fn parse_view(
    start: Option<i64>,
    end: Option<i64>,
    event: Option<String>,
    filter: &str,
    search: Option<String>,
    quiet: bool,
) -> Result<(crate::accounts::User, EventQuery), ServerFnError> {
    let time = |ms: Option<i64>| -> Result<_, ServerFnError> {
        ms.map(|ms| {
            chrono::DateTime::from_timestamp_millis(ms)
                .ok_or_else(|| ServerFnError::new("the time range is out of bounds"))
        })
        .transpose()
    };
    let filter: crate::filters::Filter = if filter.is_empty() {
        Default::default()
    } else {
        serde_json::from_str(filter).map_err(|_| ServerFnError::new("the filter is malformed"))?
    };
    filter.validate().map_err(|e| ServerFnError::new(e.error))?;
    let search = match search {
        Some(q) => EventQuery::parse_search(&q).map_err(|e| ServerFnError::new(e.error))?,
        None => None,
    };
    // "Hide noisy events": the operator's list, applied here so the page cannot widen it.
    let hide = if quiet {
        let noise = use_context::<super::noise::NoisyEvents>().unwrap_or_default();
        crate::filters::Filter {
            items: noise.condition().into_iter().collect(),
            ..Default::default()
        }
    } else {
        Default::default()
    };
    let (user, scope) = ssr::viewer().await?;
    let (start, end) = (time(start)?, time(end)?);
    use_context::<super::query::ReadLimits>()
        .unwrap_or_default()
        .check(start, end, chrono::Utc::now())
        .map_err(|e| ServerFnError::new(e.error))?;
    let query = EventQuery {
        hide,
        scope,
        search,
        start,
        end,
        event: event.filter(|e| !e.is_empty()),
        filter,
        ..EventQuery::default()
    };
    Ok((user, query))
}

/// The event with sequence number `id`, for the event drawer; `None` when there is none (the
/// drawer says so rather than failing).
#[server]
pub async fn get_event(id: i64) -> Result<Option<Event>, ServerFnError> {
    let (user, scope) = ssr::viewer().await?;
    let store = ssr::store()?;
    let event = store.get_in(id, &scope).await.map_err(ssr::internal)?;
    if event.is_some() {
        let one = crate::accounts::looked::Looked::Event { id, via: "page" };
        ssr::looked(&ssr::requesting(&user), one).await?;
    }
    if event.is_none()
        && !scope.items.is_empty()
        && store.get(id).await.map_err(ssr::internal)?.is_some()
    {
        // Outside the caller's scope: say so (ids are sequential, so existence is no secret),
        // never what it holds.
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::FORBIDDEN);
        }
        return Err(ServerFnError::new(format!(
            "no access: event #{id} is not among the events your role lets you see"
        )));
    }
    Ok(event)
}

/// The event names seen so far, for the event filter's suggestions: every name for a caller who
/// sees every event; for a Member, only the names of events they may see (the most frequent
/// [`super::stats::MAX_FACET_LIMIT`], from the same scoped query as the page's facets).
#[server]
pub async fn event_names() -> Result<Vec<String>, ServerFnError> {
    use super::stats::{FacetKey, MAX_FACET_LIMIT};
    let (_, scope) = ssr::viewer().await?;
    let store = ssr::store()?;
    if scope.items.is_empty() {
        return store.event_names().await.map_err(ssr::internal);
    }
    let query = EventQuery {
        scope,
        ..EventQuery::default()
    };
    let stats = store
        .view_stats(&query, MAX_FACET_LIMIT)
        .await
        .map_err(ssr::internal)?;
    let mut names: Vec<String> = stats
        .facets
        .fields
        .into_iter()
        .find(|f| f.field == FacetKey::Event)
        .map(|f| f.values.into_iter().map(|(name, _)| name).collect())
        .unwrap_or_default();
    names.sort();
    Ok(names)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use leptos::prelude::*;

    use crate::accounts::User;
    use crate::accounts::session::{self, SessionConfig};
    use crate::filters::Filter;

    use crate::store::{Store, StoreError};

    pub fn store() -> Result<Store, ServerFnError> {
        use_context::<Store>().ok_or_else(|| ServerFnError::new("the store is not available"))
    }

    /// The signed-in caller and the events they may see (see `accounts::User::scope`); an error
    /// (401 or 403) without a session, for a role without access, or for a server function call
    /// sent by another site's page (`Sec-Fetch-Site` / `Origin`, on top of the SameSite cookie).
    pub async fn viewer() -> Result<(User, Filter), ServerFnError> {
        let fail = |status: http::StatusCode, message: &str| {
            if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                resp.set_status(status);
            }
            ServerFnError::new(message)
        };
        let store = store()?;
        let parts = use_context::<http::request::Parts>()
            .ok_or_else(|| ServerFnError::new("the request is not available"))?;
        if parts.method == http::Method::POST && !session::same_origin(&parts.headers) {
            return Err(fail(
                http::StatusCode::FORBIDDEN,
                "the request was not sent from this site",
            ));
        }
        let cfg = use_context::<SessionConfig>().unwrap_or_default();
        let user = session::current_user(&store, &parts.headers, &cfg)
            .await
            .map_err(internal)?
            .ok_or_else(|| fail(http::StatusCode::UNAUTHORIZED, "sign in to see Audit Logs"))?;
        let scope = user.scope().ok_or_else(|| {
            fail(
                http::StatusCode::FORBIDDEN,
                "your role has no access to Audit Logs",
            )
        })?;
        Ok((user, scope))
    }

    /// `user` as the actor of what this request does, with its address and user agent.
    pub fn requesting(user: &User) -> crate::accounts::Actor {
        let parts = use_context::<http::request::Parts>();
        let ip = parts.as_ref().and_then(|p| {
            p.extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        });
        let agent = parts.as_ref().and_then(|p| {
            p.headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
        crate::accounts::Actor::user(user, ip, agent)
    }

    /// Records that `actor` read `what` (see `accounts::looked`): a read that cannot be recorded
    /// is refused.
    pub async fn looked(
        actor: &crate::accounts::Actor,
        what: crate::accounts::looked::Looked<'_>,
    ) -> Result<(), ServerFnError> {
        let audit = use_context::<crate::accounts::looked::ReadAudit>().unwrap_or_default();
        audit.looked(&store()?, actor, what).await.map_err(internal)
    }

    /// Logs the cause and tells the client only that the read failed.
    pub fn internal(e: StoreError) -> ServerFnError {
        tracing::error!(error = %e, "read failed");
        ServerFnError::new("the events could not be read; try again")
    }
}
