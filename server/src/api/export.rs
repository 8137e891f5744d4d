//! `GET /api/v1/events/export?format=csv|ndjson|pdf&bom=1&quiet=1&<the list's view parameters>`: every
//! event of a view, in the view's sort, streamed as CSV (the columns and the formula protection of
//! `app::export::csv`), as NDJSON (one event per line, as the list renders it) or as a PDF report
//! (`app::export::pdf`, at most [`ExportLimits::pdf_rows`] events).
//!
//! The response is written page by page ([`PAGE`] events, keyset pagination), so the server holds
//! one page whatever the export's size. Limits, each a 400 naming its parameter: the time range
//! (`start` is required; `end` defaults to now) may span at most [`ExportLimits::max_days`], and
//! the view may hold at most [`ExportLimits::max_rows`] events. Each export is itself recorded as an
//! "Audit Logs Exported" event (format, view, rows), through the same write path as any event.

use app::accounts::Actor;
use app::events::query::{Cursor, EventQuery, MAX_LIMIT};
use app::export::csv::BOM;
use app::export::jobs::ExportFormat;
use app::export::pdf::Report;
use app::export::{Encoder, ExportLimits, record_export};
use app::filters::{Combine, Condition, Filter, Item};
use app::store::{Store, StoreError};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::ApiError;
use super::read::parse_query;
use crate::AppState;

/// Events read from the store per step of an export.
pub const PAGE: u32 = MAX_LIMIT;

fn bad(field: &str, error: impl Into<String>) -> ApiError {
    ApiError::BadRequest(error.into(), Some(field.into()))
}

/// Who may run server exports (jobs): an API key, an Owner or an Auditor. Their files hold every
/// event of the view and are listed to every such caller, so a Member (who sees only their own
/// events) exports from the page instead.
pub(super) fn exporter(reader: super::Reader) -> Result<Actor, ApiError> {
    if !reader.sees_all {
        return Err(ApiError::Forbidden(
            "server exports are for Owners, Auditors and API keys; export the view from the page"
                .into(),
        ));
    }
    Ok(reader.who)
}

pub(super) struct ExportParams {
    pub format: ExportFormat,
    pub bom: bool,
    pub query: EventQuery,
    /// The view's parameters as given, for the audit event.
    pub view: String,
}

pub(super) fn parse_params(
    pairs: &[(String, String)],
    state: &AppState,
    limits: ExportLimits,
) -> Result<ExportParams, ApiError> {
    let mut view = Vec::with_capacity(pairs.len());
    let (mut format, mut bom, mut quiet) = (None, false, false);
    for (k, v) in pairs {
        match k.as_str() {
            "format" => {
                format = Some(
                    ExportFormat::parse(v)
                        .ok_or_else(|| bad("format", "format must be csv, ndjson or pdf"))?,
                )
            }
            "bom" => bom = flag("bom", v)?,
            "quiet" => quiet = flag("quiet", v)?,
            "limit" | "cursor" => {
                return Err(bad(
                    k,
                    format!("`{k}` does not apply to an export: it holds every event of the view"),
                ));
            }
            _ => view.push((k.clone(), v.clone())),
        }
    }
    let mut query = parse_query(&view)?;
    let Some(start) = query.start else {
        return Err(bad(
            "start",
            format!(
                "start is required: an export covers at most {} days",
                limits.max_days
            ),
        ));
    };
    let end = *query.end.get_or_insert_with(Utc::now);
    if end - start > chrono::Duration::days(i64::from(limits.max_days)) {
        return Err(bad(
            "end",
            format!(
                "an export covers at most {} days; narrow start and end, or export the range in parts",
                limits.max_days
            ),
        ));
    }
    if quiet {
        query.hide = Filter {
            items: state.noise.condition().into_iter().collect(),
            ..Default::default()
        };
    }
    query.limit = PAGE;
    let view: String = view
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    Ok(ExportParams {
        format: format.unwrap_or(ExportFormat::Csv),
        bom,
        query,
        view,
    })
}

fn flag(field: &str, v: &str) -> Result<bool, ApiError> {
    match v {
        "1" | "true" => Ok(true),
        "0" | "false" | "" => Ok(false),
        _ => Err(bad(field, format!("{field} must be 1 or 0"))),
    }
}

pub async fn export(
    State(state): State<AppState>,
    reader: super::Reader,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let who = reader.who;
    let limits = state.export;
    let mut p = parse_params(&pairs, &state, limits)?;
    p.query.scope = reader.scope;
    // The chain head first: the export holds the view's events up to it and no later one, so
    // what it holds is the view as of that event, whatever arrives while it streams.
    let chain = ChainNote::now(&state.store).await?;
    let through = chain.as_ref().map_or(0, |note| note.through);
    let rows = check_rows(&state.store, &p.query, p.format, limits).await?;
    let audit = Audit {
        store: state.store.clone(),
        who,
        format: p.format,
        view: p.view.clone(),
        rows: 0,
        complete: false,
    };

    let filename = format!(
        "Audit_Logs_{}_to_{}.{}",
        p.query
            .start
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        p.query
            .end
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        p.format.as_str(),
    );
    let report = report("Audit Logs export", &p.query);
    let body = Body::from_stream(pages(p.query, through, p.bom, report, audit));
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(p.format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-export-rows", HeaderValue::from(rows));
    if let Some(note) = chain {
        h.insert("x-chain-through", HeaderValue::from(note.through));
        if let Ok(v) = HeaderValue::from_str(&note.chain) {
            h.insert("x-chain-value", v);
        }
        if let Some((id, at)) = note.checkpoint
            && let Ok(v) = HeaderValue::from_str(&format!("{id}; after={at}"))
        {
            h.insert("x-chain-checkpoint", v);
        }
    }
    Ok(resp)
}

/// How many events the export of `query` holds: a 400 naming `limit` when more than the limit.
pub(super) async fn check_rows(
    store: &Store,
    query: &EventQuery,
    format: ExportFormat,
    limits: ExportLimits,
) -> Result<u64, ApiError> {
    let (max, what) = match format {
        ExportFormat::Pdf => (
            limits.pdf_rows.min(limits.max_rows),
            "the most one PDF report may hold; export CSV or JSON for more, or",
        ),
        _ => (limits.max_rows, "the most one export may hold;"),
    };
    let rows = match store.count_up_to(query, max + 1).await {
        Ok(c) => c.value,
        Err(StoreError::InvalidFilter(e)) => return Err(ApiError::Unprocessable(e.error, e.field)),
        Err(StoreError::InvalidQuery(e)) => return Err(ApiError::BadRequest(e.error, e.field)),
        Err(e) => return Err(ApiError::store(e)),
    };
    if rows > max {
        return Err(bad(
            "limit",
            format!(
                "this view holds more than {max} events, {what} narrow the time range or the filter"
            ),
        ));
    }
    Ok(rows)
}

/// The export's bytes, one page of events at a time. A failed read ends the body with an error, so
/// the client sees a broken transfer rather than a short file that looks whole. `audit` records
/// the export when the stream ends (complete, failed or abandoned by the client).
fn pages(
    query: EventQuery,
    through: i64,
    bom: bool,
    report: Report,
    audit: Audit,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    let mut head = Vec::new();
    if bom && audit.format == ExportFormat::Csv {
        head.extend_from_slice(BOM.as_bytes());
    }
    let encoder = Encoder::new(audit.format, report, &mut head);
    futures::stream::unfold(
        (Some((query, encoder)), head, audit),
        move |(state, mut out, mut audit)| async move {
            let (mut q, mut encoder) = state?;
            let page = match audit.store.list(&q).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(error = %e, "export read failed");
                    let failed = Err(std::io::Error::other("the export could not be read"));
                    return Some((failed, (None, Vec::new(), audit)));
                }
            };
            out.reserve(page.events.len() * 256);
            // Events stored after the export began are not part of it (ids follow commit order).
            let held = if page.events.iter().all(|e| e.id <= through) {
                std::borrow::Cow::Borrowed(&page.events[..])
            } else {
                let held = page.events.iter().filter(|e| e.id <= through).cloned();
                std::borrow::Cow::Owned(held.collect::<Vec<_>>())
            };
            encoder.page(&held, &mut out);
            audit.rows += held.len() as u64;
            let next = match (page.next_cursor, page.events.last()) {
                (Some(_), Some(last)) => {
                    q.cursor = Some(Cursor::after(last, q.sort));
                    Some((q, encoder))
                }
                _ => {
                    encoder.finish(&mut out);
                    audit.complete = true;
                    None
                }
            };
            Some((Ok(Bytes::from(out)), (next, Vec::new(), audit)))
        },
    )
}

/// What a PDF report of `query` says about itself.
fn report(title: &str, query: &EventQuery) -> Report {
    Report::new(title, &summary(query), query.start, query.end, Utc::now())
}

/// An export under way; when dropped (the response ended, however it ended) it records the export
/// as an event of its own: the viewer audits its own use.
struct Audit {
    store: Store,
    who: Actor,
    format: ExportFormat,
    view: String,
    /// Events written so far.
    rows: u64,
    /// Every event of the view was written.
    complete: bool,
}

impl Drop for Audit {
    fn drop(&mut self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = self.store.clone();
        let who = self.who.clone();
        let (format, view) = (self.format.as_str(), std::mem::take(&mut self.view));
        let (rows, complete) = (self.rows, self.complete);
        handle.spawn(async move {
            let recorded =
                record_export(&store, &who, format, "server", &view, rows, complete).await;
            if let Err(e) = recorded {
                tracing::error!(error = %e, "the export could not be recorded");
            }
        });
    }
}

/// Where the hash chain stood when an export began: its last event and chain value, and the
/// latest signed checkpoint at or before it. An export holds events of the chain up to there.
pub(super) struct ChainNote {
    pub through: i64,
    pub chain: String,
    pub checkpoint: Option<(i64, i64)>,
}

impl ChainNote {
    pub(super) async fn now(store: &Store) -> Result<Option<Self>, ApiError> {
        let Some((through, value)) = store.chain_head().await.map_err(ApiError::store)? else {
            return Ok(None);
        };
        let checkpoint = store
            .latest_checkpoint(through)
            .await
            .map_err(ApiError::store)?
            .map(|c| (c.id, c.event_id));
        Ok(Some(Self {
            through,
            chain: app::store::chain::hex(&value),
            checkpoint,
        }))
    }

    /// "chain through #N (checkpoint #K after #M)", for summaries.
    pub(super) fn words(&self) -> String {
        match self.checkpoint {
            Some((id, at)) => format!(
                "chain through #{} (checkpoint #{id} after #{at})",
                self.through
            ),
            None => format!("chain through #{} (no checkpoint yet)", self.through),
        }
    }
}

/// The view in words, for the history: "event is Login · outcome is failure · search “deploy”".
pub(super) fn summary(q: &EventQuery) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &q.event {
        parts.push(format!("event is {e}"));
    }
    let condition = |c: &Condition| {
        let values = c.values.join(", ");
        if values.is_empty() {
            format!("{} {}", c.field.label(), c.op.label())
        } else {
            format!("{} {} {values}", c.field.label(), c.op.label())
        }
    };
    let join = |combine: Combine| match combine {
        Combine::All => " and ",
        Combine::Any => " or ",
    };
    let items: Vec<String> = q
        .filter
        .items
        .iter()
        .map(|item| match item {
            Item::Condition(c) => condition(c),
            Item::Group {
                combine,
                conditions,
            } => {
                let inner: Vec<String> = conditions.iter().map(condition).collect();
                format!("({})", inner.join(join(*combine)))
            }
        })
        .collect();
    if !items.is_empty() {
        parts.push(items.join(join(q.filter.combine)));
    }
    if let Some(s) = &q.search {
        parts.push(format!("search “{s}”"));
    }
    if !q.hide.items.is_empty() {
        parts.push("noisy events hidden".into());
    }
    if parts.is_empty() {
        "every event".into()
    } else {
        parts.join(" · ")
    }
}
