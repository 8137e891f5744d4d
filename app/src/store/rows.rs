//! What every backend shares on the read side: the event columns, the row type and its mapping to
//! [`Event`], and the keyset list query.
//!
//! Both schemas store times as epoch milliseconds and JSON as text, so one row type and one query
//! text (with the backend's placeholders) serve SQLite and PostgreSQL alike.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};
use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};

use super::StoreError;
use super::filter_sql::{self, Dialect};
use super::search_sql;
use super::sort_sql;
use crate::events::model::{Actor, ActorKind, Event, EventBody, Outcome, Target};
use crate::events::query::{Cursor, EventPage, EventQuery};
use crate::filters::FilterError;

/// The columns [`EventRow`] reads, in its order.
pub(super) const EVENT_COLUMNS: &str = "id, occurred_at, received_at, event, category, action, \
     outcome, actor_id, actor_name, actor_type, actor_email, target_type, target_id, target_name, \
     ip, user_agent, source, description, metadata, changes";

/// One stored event as the database returns it: a row, or (SQLite's packed pages, see
/// [`packed_list_query`]) a JSON array of the columns in order.
#[derive(FromRow, serde::Deserialize)]
pub(super) struct EventRow {
    id: i64,
    occurred_at: i64,
    received_at: i64,
    event: String,
    category: String,
    action: String,
    outcome: String,
    actor_id: String,
    actor_name: String,
    actor_type: String,
    actor_email: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
    target_name: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    source: Option<String>,
    description: Option<String>,
    metadata: String,
    changes: Option<String>,
}

fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("time {ms}")))
}

impl EventRow {
    pub(super) fn into_event(self) -> Result<Event, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("event {}: {what}", self.id));
        let metadata: Map<String, Value> =
            serde_json::from_str(&self.metadata).map_err(|_| corrupt("metadata"))?;
        let changes: Option<Map<String, Value>> = match &self.changes {
            Some(c) => Some(serde_json::from_str(c).map_err(|_| corrupt("changes"))?),
            None => None,
        };
        let target = Target {
            kind: self.target_type,
            id: self.target_id,
            name: self.target_name,
        };
        Ok(Event {
            id: self.id,
            received_at: time(self.received_at)?,
            body: EventBody {
                occurred_at: time(self.occurred_at)?,
                event: self.event,
                category: self.category,
                action: self.action,
                outcome: Outcome::parse(&self.outcome).ok_or_else(|| corrupt("outcome"))?,
                actor: Actor {
                    id: self.actor_id,
                    name: self.actor_name,
                    kind: ActorKind::parse(&self.actor_type)
                        .ok_or_else(|| corrupt("actor_type"))?,
                    email: self.actor_email,
                },
                target: if target.is_empty() {
                    None
                } else {
                    Some(target)
                },
                ip: self.ip,
                user_agent: self.user_agent,
                source: self.source,
                description: self.description,
                metadata,
                changes,
            },
        })
    }
}

/// The keyset list query for `q`: in the order `q.sort` on `(sort expression, occurred_at, id)` (see
/// [`sort_sql`]), one row more than the page size so that [`into_page`] can tell whether a next page
/// exists without a count.
///
/// Fails (before touching the database) when the query's filter is invalid or uses something this
/// store cannot evaluate, or when its cursor was issued for another sort.
pub(super) fn list_query<'a, DB>(
    q: &EventQuery,
    dialect: Dialect,
) -> Result<QueryBuilder<'a, DB>, StoreError>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::<DB>::new("");
    push_list(&mut sql, q, dialect)?;
    Ok(sql)
}

/// Appends the list query of `q` (see [`list_query`]).
fn push_list<'a, DB>(
    sql: &mut QueryBuilder<'a, DB>,
    q: &EventQuery,
    dialect: Dialect,
) -> Result<(), StoreError>
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    check_view(q)?;
    q.check_cursor().map_err(StoreError::InvalidQuery)?;
    sql.push(format!("SELECT {EVENT_COLUMNS} FROM events"));
    push_where(sql, q, dialect);
    if let Some(c) = &q.cursor {
        sort_sql::push_after(sql, q.sort, c, dialect);
    }
    sort_sql::push_order(sql, q.sort, dialect);
    sql.push(" LIMIT ")
        .push_bind(i64::from(q.effective_limit()) + 1);
    Ok(())
}

/// [`list_query`] with the whole page packed into one value: a JSON array of the rows, each a
/// JSON array of [`EVENT_COLUMNS`], in the page's order (SQLite's `json_group_array` with its own
/// `ORDER BY`). The driver hands rows over one at a time, copying every column; one row per page
/// instead makes reading a page several times cheaper (see the export benchmark). Read it with
/// [`unpack`].
pub(super) fn packed_list_query<'a, DB>(
    q: &EventQuery,
    dialect: Dialect,
) -> Result<QueryBuilder<'a, DB>, StoreError>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let mut sql = QueryBuilder::<DB>::new(format!(
        "SELECT json_group_array(json_array({EVENT_COLUMNS})"
    ));
    sort_sql::push_order(&mut sql, q.sort, dialect);
    sql.push(") FROM (");
    push_list(&mut sql, q, dialect)?;
    sql.push(")");
    Ok(sql)
}

/// The rows of a page read with [`packed_list_query`].
pub(super) fn unpack(packed: &str) -> Result<Vec<EventRow>, StoreError> {
    serde_json::from_str(packed).map_err(|e| StoreError::Corrupt(format!("a packed page: {e}")))
}

/// Refuses a view whose filter is invalid or uses something this store cannot evaluate, or whose
/// search text is not one [`EventQuery::parse_search`] would have produced. Callers validate `q`
/// first; the store refuses what it was not meant to run regardless. Call before [`push_where`].
pub(super) fn check_view(q: &EventQuery) -> Result<(), StoreError> {
    filter_sql::check(&q.filter).map_err(StoreError::InvalidFilter)?;
    filter_sql::check(&q.hide).map_err(StoreError::InvalidFilter)?;
    filter_sql::check(&q.scope).map_err(StoreError::InvalidFilter)?;
    if let Some(text) = &q.search {
        EventQuery::parse_search(text)
            .map_err(|e| StoreError::InvalidFilter(FilterError::new("q", e.error)))?;
    }
    Ok(())
}

/// The one event with sequence number `id`.
///
/// SQLite: `id` is the rowid, a single B-tree probe. PostgreSQL: the primary key `(id,
/// occurred_at)` leads with `id`, so each monthly partition answers with one probe of its primary
/// key index; no partition can be pruned (the time is unknown), which at one partition per month
/// stays a few hundred probes even after decades.
pub(super) fn by_id_query<'a, DB>(
    id: i64,
    scope: &crate::filters::Filter,
    dialect: Dialect,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    let mut sql =
        QueryBuilder::<DB>::new(format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = "));
    sql.push_bind(id);
    filter_sql::push_filter(&mut sql, scope, dialect);
    sql
}

/// Appends ` WHERE …` selecting the view of `q`: its time range, event name and filter (not its
/// cursor or limit). Shared by the list, the view statistics and the live tail, so all see the same
/// rows. Call [`check_view`] (or at least [`filter_sql::check`]) first.
pub(super) fn push_where<'a, DB>(sql: &mut QueryBuilder<'a, DB>, q: &EventQuery, dialect: Dialect)
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    push_where_in(sql, q, dialect, None);
}

/// [`push_where`], restricted to the ids `after < id <= upto` when `ids` is `(after, upto)` (the
/// live tail's reads). The range also bounds the search's index lookup on SQLite, so a search
/// costs the few rows in the range rather than every match in the log.
pub(super) fn push_where_in<'a, DB>(
    sql: &mut QueryBuilder<'a, DB>,
    q: &EventQuery,
    dialect: Dialect,
    ids: Option<(i64, i64)>,
) where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    Vec<u8>: Encode<'a, DB> + Type<DB>,
{
    sql.push(" WHERE 1 = 1");
    // How the time bounds are written depends on the sort (see sort_sql::time_column).
    let time = sort_sql::time_column(q.sort, dialect);
    if let Some(start) = q.start {
        sql.push(format!(" AND {time} >= "))
            .push_bind(start.timestamp_millis());
    }
    if let Some(end) = q.end {
        sql.push(format!(" AND {time} < "))
            .push_bind(end.timestamp_millis());
    }
    if let Some(name) = &q.event {
        sql.push(" AND event = ").push_bind(name.clone());
    }
    filter_sql::push_filter(sql, &q.filter, dialect);
    filter_sql::push_filter(sql, &q.hide, dialect);
    filter_sql::push_filter(sql, &q.scope, dialect);
    if let Some(text) = &q.search {
        let keys = super::sqlite_search::key_range(q.start, q.end);
        search_sql::push_search(sql, text, dialect, keys, ids);
    }
    if let Some((after, upto)) = ids {
        sql.push(" AND id > ")
            .push_bind(after)
            .push(" AND id <= ")
            .push_bind(upto);
    }
}

/// The page for `q` from the rows [`list_query`] returned.
pub(super) fn into_page(q: &EventQuery, rows: Vec<EventRow>) -> Result<EventPage, StoreError> {
    let limit = q.effective_limit() as usize;
    let mut events = rows
        .into_iter()
        .map(EventRow::into_event)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if events.len() > limit {
        events.truncate(limit);
        events.last().map(|e| Cursor::after(e, q.sort).encode())
    } else {
        None
    };
    Ok(EventPage {
        events,
        next_cursor,
        as_of: None,
    })
}
