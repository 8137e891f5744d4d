//! Free-text search on SQLite without reading every match: the search index returns the matches
//! of the words in the list's own order, a chunk at a time, and the page is looked for among those.
//!
//! The index's rowid is each event's search key (migration 0009): `occurred_at * 2^20 + n`, `n`
//! counting the earlier-stored events of the same millisecond, so keys sort exactly as the list
//! sorted by time does, by `(occurred_at, id)`, and a time range is a key range. FTS5 walks a
//! word's entries in rowid order from any point of that range (`ORDER BY rowid DESC` with rowid
//! bounds) and merges several words' lists as it goes, so the first chunk of matches costs about
//! as much as the page. FTS5 merges a prefix's lists in full first, though, so each searched word
//! is first spelled out as the indexed words it begins (the vocabulary the writer keeps, migration
//! 0012; a word beginning more than [`MAX_TERMS`] stays a prefix query).
//!
//! A filter that needs a field to contain (or start with) a value is walked the same way, with or
//! without a search: each run of letters and digits of the value lies inside one indexed word
//! ([`required_runs`]), so it is spelled out as the indexed words that contain it (one scan of the
//! vocabulary). Without this, a rare value meant testing the events of the range one by one, newest
//! first, until a page of them held it. A run more than [`MAX_CONTAINING`] words contain narrows
//! nothing and is left to the filter.
//!
//! A chunk's events are then read by key and checked against the view's whole WHERE clause (its
//! filters and time range); matches that fail it are skipped. Consecutive chunks are adjacent key
//! ranges, so nothing is skipped or repeated. Chunks double from [`FIRST_CHUNK`] up to
//! [`MAX_CHUNK`]; after [`WALK_BUDGET`] matches without a full page (a common word narrowed by a
//! rare filter) the rest of the page comes from one query that lets the planner start from the
//! filter instead, bounded to the keys not walked yet.
//!
//! Only the order by time is served this way; a search sorted otherwise (or by Seq, which is not
//! the key order for a back-filled history) uses the plain plan of `search_sql::push_search`,
//! whose index lookup is bounded by the time range's keys.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::StoreError;
use super::filter_sql::Dialect;
use super::rows::{self, EVENT_COLUMNS, EventRow, push_where};
use super::search_sql;
use super::sort_sql;
use crate::events::model::{EventBody, NewEvent};
use crate::events::query::{Dir, EventPage, EventQuery, SortKey};
use crate::filters::{Combine, Field, Filter, Item, Op, search};

/// Bits of a search key below the millisecond: room for 2^20 events in one millisecond.
const KEY_SHIFT: u32 = 20;
/// The first millisecond whose keys would not fit an i64 (2248-05-15).
const KEY_END_MS: i64 = 1 << (63 - KEY_SHIFT);

// Unit tests use tiny chunks so that their small stores cross many chunk boundaries and reach the
// budget (store::search_tests compares every page with a reference).
/// Matches in the first chunk (at least the page).
const FIRST_CHUNK: i64 = if cfg!(test) { 3 } else { 64 };
/// The largest chunk.
const MAX_CHUNK: i64 = if cfg!(test) { 20 } else { 8_192 };
/// A word that begins more indexed words than this stays a prefix query.
const MAX_TERMS: i64 = 64;
/// A piece of text that more indexed words contain than this does not narrow the walk (tests: few,
/// so that their small vocabulary reaches it).
const MAX_CONTAINING: i64 = if cfg!(test) { 6 } else { 64 };
/// Matches walked before the rest of the page is left to the planner.
const WALK_BUDGET: usize = if cfg!(test) { 150 } else { 40_000 };

/// The smallest search key of millisecond `ms` (clamped to the keys' range).
fn key_floor(ms: i64) -> i64 {
    ms.clamp(0, KEY_END_MS - 1) << KEY_SHIFT
}

/// The search keys `lo..=hi` of the time range `start..end` (either side open).
pub(super) fn key_range(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> (i64, i64) {
    let lo = start.map_or(0, |t| key_floor(t.timestamp_millis()));
    let hi = end.map_or(i64::MAX, |t| {
        let ms = t.timestamp_millis();
        if ms >= KEY_END_MS {
            i64::MAX
        } else {
            key_floor(ms) - 1
        }
    });
    (lo, hi)
}

/// The search keys of `rows`, in order, for the writer (migration 0009): per millisecond, one more
/// than the largest key stored so far, which the same transaction's earlier rows are part of.
pub(super) async fn assign_keys(
    tx: &mut SqliteConnection,
    rows: &[(i64, &str, &NewEvent)],
) -> Result<Vec<i64>, sqlx::Error> {
    let mut next: HashMap<i64, i64> = HashMap::new();
    for (_, _, ev) in rows {
        let ms = ev.body.occurred_at.timestamp_millis();
        if !(0..KEY_END_MS).contains(&ms) {
            // Ingest accepts 1970 to now + 5 minutes only.
            return Err(sqlx::Error::Protocol(format!(
                "occurred_at {ms} is outside the search keys' range"
            )));
        }
        next.insert(ms, ms << KEY_SHIFT);
    }
    let list = serde_json::to_string(&next.keys().collect::<Vec<_>>())
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let stored: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT value, (SELECT max(search_key) FROM events \
                        WHERE search_key >= value << 20 AND search_key < (value + 1) << 20) \
         FROM json_each(?)",
    )
    .bind(list)
    .fetch_all(&mut *tx)
    .await?;
    for (ms, max) in stored {
        if let Some(max) = max {
            next.insert(ms, max + 1);
        }
    }
    rows.iter()
        .map(|(_, _, ev)| {
            let ms = ev.body.occurred_at.timestamp_millis();
            let key = next.get_mut(&ms).expect("every millisecond was looked up");
            if *key >= (ms + 1) << KEY_SHIFT {
                return Err(sqlx::Error::Protocol(format!(
                    "more than {} events at the millisecond {ms}",
                    1 << KEY_SHIFT
                )));
            }
            *key += 1;
            Ok(*key - 1)
        })
        .collect()
}

/// The words of `body` the search index holds (`filters::search::words` of its searchable text).
pub(super) fn index_words(body: &EventBody) -> Vec<String> {
    search::words(&search::search_text(body))
}

/// Adds index rows `(search key, words)`, sorted by key, and their new words to the vocabulary
/// (migration 0012), in the caller's transaction. Sorted: FTS5 writes its pending terms out as a
/// new segment whenever a rowid is not above the last one, so rows in the order they came (times
/// out of order) would cut a segment per row.
pub(super) async fn insert_index(
    tx: &mut SqliteConnection,
    rows: &[(i64, Vec<String>)],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut fts = QueryBuilder::<Sqlite>::new("INSERT INTO events_fts (rowid, text) ");
    fts.push_values(rows, |mut row, (key, words)| {
        row.push_bind(*key).push_bind(words.join(" "));
    });
    fts.build().execute(&mut *tx).await?;
    let terms: BTreeSet<&str> = rows
        .iter()
        .flat_map(|(_, words)| words.iter().map(String::as_str))
        .collect();
    let list = serde_json::to_string(&terms).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("INSERT OR IGNORE INTO search_terms (term) SELECT value FROM json_each(?)")
        .bind(list)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Events indexed per transaction by [`reindex`].
const REINDEX_BATCH: i64 = 5_000;

/// The searchable columns of one stored event, with its search key.
type Searchable = (
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    Option<String>,
);

/// Indexes the events stored before migration 0012 again, in search-key order, resuming where
/// an interrupted run stopped; logs its progress. Nothing to do on a store made since.
pub(super) async fn reindex(conn: &mut SqliteConnection) -> Result<u64, StoreError> {
    let Some(mut after): Option<i64> = sqlx::query_scalar("SELECT after_key FROM search_reindex")
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(0);
    };
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE search_key > ?")
        .bind(after)
        .fetch_one(&mut *conn)
        .await?;
    tracing::info!(
        events = total,
        "indexing stored events for free-text search"
    );
    let mut done = 0u64;
    loop {
        let batch: Vec<Searchable> = sqlx::query_as(
            "SELECT search_key, event, description, actor_name, actor_email, actor_id, \
             target_name FROM events WHERE search_key > ? ORDER BY search_key LIMIT ?",
        )
        .bind(after)
        .bind(REINDEX_BATCH)
        .fetch_all(&mut *conn)
        .await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let Some(last) = batch.last().map(|f| f.0) else {
            sqlx::query("DELETE FROM search_reindex")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(events = done, "free-text index complete");
            return Ok(done);
        };
        let rows: Vec<(i64, Vec<String>)> = batch
            .iter()
            .map(|(key, event, description, name, email, id, target)| {
                let text = [
                    Some(event.as_str()),
                    description.as_deref(),
                    Some(name.as_str()),
                    email.as_deref(),
                    Some(id.as_str()),
                    target.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
                (*key, search::words(&text))
            })
            .collect();
        insert_index(&mut tx, &rows).await?;
        sqlx::query("UPDATE search_reindex SET after_key = ?")
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        after = last;
        done += batch.len() as u64;
        if done % 100_000 < REINDEX_BATCH as u64 {
            tracing::info!(done, total, "indexing stored events for free-text search");
        }
    }
}

/// Whether [`list`] serves `q`: in the order of time, a search with words or a filter that requires
/// a piece of indexed text ([`required_runs`]).
pub(super) fn serves(q: &EventQuery) -> bool {
    q.sort.key == SortKey::Time
        && (q
            .search
            .as_deref()
            .is_some_and(|text| !search::words(text).is_empty())
            || !required_runs(&q.filter).is_empty())
}

/// Whether the search index holds `field`'s text (the fields of `search::search_text`).
fn indexed(field: &Field) -> bool {
    matches!(
        field,
        Field::Event
            | Field::Description
            | Field::ActorName
            | Field::ActorEmail
            | Field::ActorId
            | Field::TargetName
    )
}

/// Pieces of text that every event `filter` selects holds inside one of its indexed words: the runs
/// of ASCII letters and digits, lower-cased, of the values of its "contains" and "starts with"
/// conditions on indexed fields that must hold (top-level, or in a group that needs all of its
/// conditions, of a filter that needs all of its items).
///
/// Why such a run is inside an indexed word: a value is found with its ASCII letters compared in
/// lower case and every other character as it is, so where the field holds it, the run's characters
/// are ASCII letters and digits; [`search::words`] lower-cases and folds text one character at a
/// time, which leaves those characters as they are (lower-cased), and cuts words only at characters
/// that are neither letters nor digits. So the run lies inside one word of the field, and the index
/// holds that word. The converse does not hold (the word may come from another field, or the run
/// from elsewhere in the value), so the matches of the index are checked against the filter itself.
pub(super) fn required_runs(filter: &Filter) -> Vec<String> {
    let needed = filter.combine == Combine::All || filter.items.len() == 1;
    let mut runs: Vec<String> = Vec::new();
    if !needed {
        return runs;
    }
    let conditions = filter.items.iter().flat_map(|item| match item {
        Item::Condition(c) => std::slice::from_ref(c),
        Item::Group {
            combine,
            conditions,
        } if *combine == Combine::All || conditions.len() == 1 => conditions.as_slice(),
        Item::Group { .. } => &[],
    });
    for c in conditions {
        if !matches!(c.op, Op::Contains | Op::StartsWith) || !indexed(&c.field) {
            continue;
        }
        let value = c.values.first().map(|v| v.to_ascii_lowercase());
        for run in value
            .iter()
            .flat_map(|v| v.split(|ch: char| !ch.is_ascii_alphanumeric()))
        {
            if !run.is_empty() && !runs.iter().any(|r| r == run) {
                runs.push(run.to_string());
            }
        }
    }
    runs
}

/// The page of `q` (see [`serves`]), the same rows in the same order as the plain list query; `None`
/// when the index would not narrow it (only pieces of text too common to spell out), for the plain
/// plan to read.
pub(super) async fn list(
    pool: &SqlitePool,
    q: &EventQuery,
) -> Result<Option<EventPage>, StoreError> {
    // Validates the query exactly as the plain plan would (filters, search, cursor).
    rows::list_query::<Sqlite>(q, Dialect::Sqlite)?;
    let words = search::words(q.search.as_deref().unwrap_or_default());
    let mut spelled = Vec::with_capacity(words.len());
    for word in words {
        let terms = terms_of(pool, &word).await?;
        if terms.as_ref().is_some_and(Vec::is_empty) {
            // No indexed word starts with it: nothing matches.
            return rows::into_page(q, Vec::new()).map(Some);
        }
        spelled.push((word, terms));
    }
    for run in required_runs(&q.filter) {
        match terms_containing(pool, &run).await? {
            // No indexed word contains it: nothing matches.
            Some(terms) if terms.is_empty() => return rows::into_page(q, Vec::new()).map(Some),
            Some(terms) => spelled.push((run, Some(terms))),
            // Too common a piece to narrow the walk; the filter still checks it.
            None => {}
        }
    }
    if spelled.is_empty() {
        return Ok(None);
    }
    let expr = search_sql::fts5_match_terms(&spelled);
    let desc = q.sort.dir == Dir::Desc;
    let (mut lo, mut hi) = key_range(q.start, q.end);
    if let Some(c) = &q.cursor {
        let key: Option<Option<i64>> =
            sqlx::query_scalar("SELECT search_key FROM events WHERE id = ?")
                .bind(c.id)
                .fetch_optional(pool)
                .await?;
        let Some(Some(key)) = key else {
            // The cursor's event is gone (a purge): the plain plan takes the position as it is.
            let mut sql = rows::list_query::<Sqlite>(q, Dialect::Sqlite)?;
            let found = sql.build_query_as::<EventRow>().fetch_all(pool).await?;
            return rows::into_page(q, found).map(Some);
        };
        if desc {
            hi = hi.min(key - 1);
        } else {
            lo = lo.max(key + 1);
        }
    }
    // The view without its search and cursor: the key range stands for both.
    let rest = EventQuery {
        search: None,
        cursor: None,
        ..q.clone()
    };
    let want = q.effective_limit() as usize + 1;
    let mut found: Vec<EventRow> = Vec::new();
    let mut chunk = if cfg!(test) {
        FIRST_CHUNK
    } else {
        FIRST_CHUNK.max(want as i64)
    };
    let mut walked = 0;
    while found.len() < want && lo <= hi {
        let need = i64::try_from(want - found.len()).unwrap_or(i64::MAX);
        if walked >= WALK_BUDGET {
            found.extend(rows_between(pool, &rest, &expr, (lo, hi), None, need).await?);
            break;
        }
        let keys: Vec<i64> = sqlx::query_scalar(if desc {
            "SELECT rowid FROM events_fts WHERE events_fts MATCH ?1 AND rowid >= ?2 \
             AND rowid <= ?3 ORDER BY rowid DESC LIMIT ?4"
        } else {
            "SELECT rowid FROM events_fts WHERE events_fts MATCH ?1 AND rowid >= ?2 \
             AND rowid <= ?3 ORDER BY rowid ASC LIMIT ?4"
        })
        .bind(&expr)
        .bind(lo)
        .bind(hi)
        .bind(chunk)
        .fetch_all(pool)
        .await?;
        let Some(&last) = keys.last() else {
            break;
        };
        walked += keys.len();
        let full = keys.len() as i64 == chunk;
        found.extend(rows_between(pool, &rest, &expr, (lo, hi), Some(keys), need).await?);
        if !full {
            break;
        }
        if desc {
            hi = last - 1;
        } else {
            lo = last + 1;
        }
        chunk = (chunk * 2).min(MAX_CHUNK);
    }
    rows::into_page(q, found).map(Some)
}

/// Up to `limit` events of the view `rest` (no search, no cursor) whose search keys lie in
/// `lo..=hi` and match `expr`, in the list's order: among `keys` (matches the caller read from the
/// index) when given, else found by the planner's own choice of plan.
async fn rows_between(
    pool: &SqlitePool,
    rest: &EventQuery,
    expr: &str,
    (lo, hi): (i64, i64),
    keys: Option<Vec<i64>>,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let mut sql = QueryBuilder::<Sqlite>::new("");
    match keys {
        Some(keys) => {
            let list =
                serde_json::to_string(&keys).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            // CROSS JOIN: read the events by key, never the time range first.
            sql.push("WITH k(sk) AS (SELECT value FROM json_each(")
                .push_bind(list)
                .push(format!(
                    ")) SELECT {EVENT_COLUMNS} FROM k CROSS JOIN events ON events.search_key = k.sk"
                ));
            push_where(&mut sql, rest, Dialect::Sqlite);
        }
        None => {
            sql.push(format!("SELECT {EVENT_COLUMNS} FROM events"));
            push_where(&mut sql, rest, Dialect::Sqlite);
            search_sql::push_match_keys(&mut sql, expr.to_string(), lo, hi);
        }
    }
    sort_sql::push_order(&mut sql, rest.sort, Dialect::Sqlite);
    sql.push(" LIMIT ").push_bind(limit);
    Ok(sql.build_query_as::<EventRow>().fetch_all(pool).await?)
}

/// The indexed words `word` is a prefix of (the vocabulary of migration 0012), or `None` when
/// there are more than [`MAX_TERMS`].
async fn terms_of(pool: &SqlitePool, word: &str) -> Result<Option<Vec<String>>, StoreError> {
    let terms: Vec<String> = sqlx::query_scalar(
        "SELECT term FROM search_terms WHERE term >= ?1 AND term < ?1 || char(1114111) \
         ORDER BY term LIMIT ?2",
    )
    .bind(word)
    .bind(MAX_TERMS + 1)
    .fetch_all(pool)
    .await?;
    Ok((terms.len() as i64 <= MAX_TERMS).then_some(terms))
}

/// The indexed words that contain `run` (a whole scan of the vocabulary, which stops at the
/// [`MAX_CONTAINING`]th), or `None` when there are more than that.
async fn terms_containing(pool: &SqlitePool, run: &str) -> Result<Option<Vec<String>>, StoreError> {
    let terms: Vec<String> =
        sqlx::query_scalar("SELECT term FROM search_terms WHERE instr(term, ?1) > 0 LIMIT ?2")
            .bind(run)
            .bind(MAX_CONTAINING + 1)
            .fetch_all(pool)
            .await?;
    Ok((terms.len() as i64 <= MAX_CONTAINING).then_some(terms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ranges_follow_the_time_range() {
        let t = |ms| DateTime::<Utc>::from_timestamp_millis(ms).unwrap();
        assert_eq!(key_range(None, None), (0, i64::MAX));
        assert_eq!(key_range(Some(t(3)), Some(t(5))), (3 << 20, (5 << 20) - 1));
        // A range reaching past the keys' end is open at that end.
        assert_eq!(key_range(None, Some(t(KEY_END_MS))).1, i64::MAX);
        assert_eq!(key_floor(-5), 0);
    }
}
