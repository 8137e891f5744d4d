//! Free-text search on SQLite without reading every match: the list sorted by time (or Seq) walks
//! the time range in order, a chunk at a time, and asks the search index only about the ids of
//! that chunk.
//!
//! The plain plan (`id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)` in the list
//! query) reads every indexed event the words match, whatever the time range, and sorts them by
//! time to return one page: about 100 ms for a common word at a million events, ten times that at
//! ten million. Here, a chunk is the next `n` events of the time range in the list's order (from
//! the `events_time` index alone, no table rows), and the page's rows are looked for among those
//! only: their search-index rows are read within the chunk's smallest and largest id. FTS5 seeks
//! a word's list to a rowid range, but merges a prefix's lists in full first, so each searched
//! word is first spelled out as the indexed words it begins (the vocabulary of migration 0006;
//! a word beginning more than [`MAX_TERMS`] stays a prefix query). Ids are handed out in commit order,
//! so for events that arrive as they happen a chunk's ids form a narrow range; when they do not
//! (a back-filled history), the range is wider: past [`SPREAD`] ids per event the walk hands the
//! page to the plain plan rather than read nearly every match once per chunk.
//!
//! Correctness does not rest on that: a chunk is exactly the events of the time range between the
//! previous position (exclusive) and the chunk's last key (inclusive), the query for its rows
//! repeats the view's whole WHERE clause and is bounded by those two positions, and consecutive
//! chunks meet without a gap. Chunks double from [`FIRST_CHUNK`] up to [`MAX_CHUNK`] events; after
//! [`WALK_BUDGET`] events without a full page (a rare word, or a search narrowed further by a
//! filter) the rest of the page comes from the plain plan, whose cost is then bounded by the few
//! matches there are.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::StoreError;
use super::filter_sql::Dialect;
use super::rows::{self, EVENT_COLUMNS, EventRow, push_where};
use super::search_sql;
use super::sort_sql;
use crate::events::query::{Cursor, Dir, EventPage, EventQuery, SortKey, SortValue};
use crate::filters::search;

// Unit tests use tiny chunks so that their small stores cross many chunk boundaries and reach the
// budget (store::search_tests compares every page with a reference).
/// Events in the first chunk: a page of 50 when about one event in ten matches.
const FIRST_CHUNK: i64 = if cfg!(test) { 3 } else { 512 };
/// The largest chunk.
const MAX_CHUNK: i64 = if cfg!(test) { 20 } else { 16_384 };
/// How many ids per event of a chunk its id range may span before the walk gives up (see
/// [`narrow`]). Unit tests walk whatever the spread, to check the walk itself.
const SPREAD: i64 = if cfg!(test) { i64::MAX / 4 } else { 8 };
/// A word that begins more indexed words than this stays a prefix query.
const MAX_TERMS: i64 = 64;
/// Events walked before the rest of the page is left to the plain plan.
const WALK_BUDGET: usize = if cfg!(test) { 150 } else { 40_000 };

/// Whether [`list`] serves `q`: a search with words, in the order of time or of Seq.
pub(super) fn serves(q: &EventQuery) -> bool {
    matches!(q.sort.key, SortKey::Time | SortKey::Seq)
        && q.search
            .as_deref()
            .is_some_and(|text| !search::words(text).is_empty())
}

/// The page of `q` (see [`serves`]), the same rows in the same order as the plain list query.
pub(super) async fn list(pool: &SqlitePool, q: &EventQuery) -> Result<EventPage, StoreError> {
    // Validates the query exactly as the plain plan would (filters, search, cursor).
    rows::list_query::<Sqlite>(q, Dialect::Sqlite)?;
    let words = search::words(q.search.as_deref().unwrap_or_default());
    let mut spelled = Vec::with_capacity(words.len());
    for word in words {
        let terms = terms_of(pool, &word).await?;
        if terms.as_ref().is_some_and(Vec::is_empty) {
            // No indexed word starts with it: nothing matches.
            return rows::into_page(q, Vec::new());
        }
        spelled.push((word, terms));
    }
    let expr = search_sql::fts5_match_terms(&spelled);
    let want = q.effective_limit() as usize + 1;
    let mut found: Vec<EventRow> = Vec::new();
    let mut from = q.cursor.clone();
    let mut chunk = FIRST_CHUNK;
    let mut walked = 0;
    while found.len() < want {
        if walked >= WALK_BUDGET {
            let rest = EventQuery {
                cursor: from,
                limit: u32::try_from(want - found.len() - 1).unwrap_or(u32::MAX),
                ..q.clone()
            };
            let mut sql = rows::list_query::<Sqlite>(&rest, Dialect::Sqlite)?;
            found.extend(sql.build_query_as::<EventRow>().fetch_all(pool).await?);
            break;
        }
        let keys = chunk_keys(pool, q, from.as_ref(), chunk).await?;
        let (Some(&(last_id, last_value)), Some(lo), Some(hi)) = (
            keys.last(),
            keys.iter().map(|k| k.0).min(),
            keys.iter().map(|k| k.0).max(),
        ) else {
            break;
        };
        if !narrow(lo, hi, keys.len()) {
            // Ids spread over far more than the chunk (a history written out of time order):
            // every chunk would read nearly all matches. The plain plan reads them once.
            walked = WALK_BUDGET;
            continue;
        }
        let end = Cursor {
            sort: q.sort,
            value: SortValue::Int(last_value),
            id: last_id,
        };
        let mut sql = QueryBuilder::<Sqlite>::new(format!("SELECT {EVENT_COLUMNS} FROM events"));
        let rest = EventQuery {
            search: None,
            ..q.clone()
        };
        push_where(&mut sql, &rest, Dialect::Sqlite);
        search_sql::push_match_between(&mut sql, expr.clone(), lo, hi);
        if let Some(c) = &from {
            sort_sql::push_after(&mut sql, q.sort, c, Dialect::Sqlite);
        }
        push_through(&mut sql, &end);
        sort_sql::push_order(&mut sql, q.sort, Dialect::Sqlite);
        sql.push(" LIMIT ")
            .push_bind(i64::try_from(want - found.len()).unwrap_or(i64::MAX));
        found.extend(sql.build_query_as::<EventRow>().fetch_all(pool).await?);
        walked += keys.len();
        if (keys.len() as i64) < chunk {
            break;
        }
        from = Some(end);
        chunk = (chunk * 2).min(MAX_CHUNK);
    }
    rows::into_page(q, found)
}

/// Whether a chunk of `n` events with ids from `lo` to `hi` is worth walking: its ids span at most
/// [`SPREAD`] times its size.
fn narrow(lo: i64, hi: i64, n: usize) -> bool {
    (hi - lo).saturating_add(1) <= (n as i64).saturating_mul(SPREAD)
}

/// The indexed words `word` is a prefix of (migration 0006), or `None` when there are more than
/// [`MAX_TERMS`].
async fn terms_of(pool: &SqlitePool, word: &str) -> Result<Option<Vec<String>>, StoreError> {
    let terms: Vec<String> = sqlx::query_scalar(
        "SELECT term FROM events_fts_terms WHERE term >= ?1 AND term < ?1 || char(1114111) \
         ORDER BY term LIMIT ?2",
    )
    .bind(word)
    .bind(MAX_TERMS + 1)
    .fetch_all(pool)
    .await?;
    Ok((terms.len() as i64 <= MAX_TERMS).then_some(terms))
}

/// The next `n` events of the time range of `q` after `from`, in the order of `q`: their ids and
/// sort values (the time, or the id for Seq).
async fn chunk_keys(
    pool: &SqlitePool,
    q: &EventQuery,
    from: Option<&Cursor>,
    n: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let value = match q.sort.key {
        SortKey::Seq => "id",
        _ => "occurred_at",
    };
    let mut sql = QueryBuilder::<Sqlite>::new(format!("SELECT id, {value} FROM events"));
    let range = EventQuery {
        start: q.start,
        end: q.end,
        sort: q.sort,
        ..EventQuery::default()
    };
    push_where(&mut sql, &range, Dialect::Sqlite);
    if let Some(c) = from {
        sort_sql::push_after(&mut sql, q.sort, c, Dialect::Sqlite);
    }
    sort_sql::push_order(&mut sql, q.sort, Dialect::Sqlite);
    sql.push(" LIMIT ").push_bind(n);
    Ok(sql.build_query_as().fetch_all(pool).await?)
}

/// Appends ` AND <at or before the position end>` in the order of `end.sort`: the last row of a
/// chunk is the last row the chunk's query may return.
fn push_through(sql: &mut QueryBuilder<'_, Sqlite>, end: &Cursor) {
    let op = match end.sort.dir {
        Dir::Asc => " <= ",
        Dir::Desc => " >= ",
    };
    match (&end.sort.key, &end.value) {
        (SortKey::Time, SortValue::Int(t)) => {
            sql.push(" AND (occurred_at, id)")
                .push(op)
                .push("(")
                .push_bind(*t)
                .push(", ")
                .push_bind(end.id)
                .push(")");
        }
        _ => {
            sql.push(" AND id").push(op).push_bind(end.id);
        }
    }
}
