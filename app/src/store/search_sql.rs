//! Compiles a free-text search (`q=`) into a WHERE fragment of the list query, and builds the
//! search index rows SQLite's writer inserts.
//!
//! The user's text never becomes query syntax: it is cut into words by
//! [`crate::filters::search::words`] (letters and digits only, so no quote, `*`, `:`, `&`, `|`,
//! `!`, parenthesis or `NEAR` operator survives as syntax), each word is quoted or suffixed here,
//! and the whole expression is one bound parameter.
//!
//! - SQLite: `search_key IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ? AND rowid …)`
//!   with `"w1"* "w2"*` (FTS5: a quoted string followed by `*` is a prefix query; juxtaposition is
//!   AND); the index's rowids are the events' search keys (migration 0009), bounded by the keys of
//!   the time range.
//! - PostgreSQL: `search_vec @@ to_tsquery('simple', $n)` with `w1:* & w2:*`.

use sqlx::{Database, Encode, QueryBuilder, Type};

use super::filter_sql::Dialect;
use crate::filters::search;

/// The FTS5 MATCH expression for `words`: each one a quoted prefix query (quotes doubled, though
/// words hold none), all required.
fn fts5_match(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The tsquery text for `words`: each one a prefix (`:*`), all required (`&`).
fn tsquery(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("{w}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Appends ` AND …` restricting the list to events matching `query`; nothing when it has no words
/// (an empty or punctuation-only search restricts nothing, as in the reference). On SQLite the
/// index lookup reads only the search keys `keys` (those of the view's time range, see
/// `sqlite_search::key_range`) and, when `ids` is an `(after, upto]` id range the caller also
/// applies to `events` (the live tail), only the keys of those events.
pub(super) fn push_search<'a, DB>(
    sql: &mut QueryBuilder<'a, DB>,
    query: &str,
    d: Dialect,
    keys: (i64, i64),
    ids: Option<(i64, i64)>,
) where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
{
    let words = search::words(query);
    if words.is_empty() {
        return;
    }
    match d {
        Dialect::Sqlite => {
            sql.push(" AND search_key IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ")
                .push_bind(fts5_match(&words))
                .push(" AND rowid >= ")
                .push_bind(keys.0)
                .push(" AND rowid <= ")
                .push_bind(keys.1);
            if let Some((after, upto)) = ids {
                // New events are mostly recent: their keys span a narrow range.
                for (op, agg) in [(">=", "min"), ("<=", "max")] {
                    sql.push(format!(
                        " AND rowid {op} (SELECT {agg}(search_key) FROM events WHERE id > "
                    ))
                    .push_bind(after)
                    .push(" AND id <= ")
                    .push_bind(upto)
                    .push(")");
                }
            }
            sql.push(")");
        }
        Dialect::Postgres => {
            sql.push(" AND search_vec @@ to_tsquery('simple', ")
                .push_bind(tsquery(&words))
                .push(")");
        }
    }
}

/// SQLite only: the MATCH expression for `words` where each word is spelled out as the indexed
/// words it is a prefix of (`Some(terms)`, at least one) or left as a prefix query (`None`).
pub(super) fn fts5_match_terms(words: &[(String, Option<Vec<String>>)]) -> String {
    let quote = |w: &str| format!("\"{}\"", w.replace('"', "\"\""));
    words
        .iter()
        .map(|(word, terms)| match terms {
            Some(terms) => format!(
                "({})",
                terms
                    .iter()
                    .map(|t| quote(t))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
            None => format!("{}*", quote(word)),
        })
        .collect::<Vec<_>>()
        // Explicit AND: FTS5 reads juxtaposed phrases as AND, but not parenthesised groups.
        .join(" AND ")
}

/// SQLite only: ` AND …` restricting the list to events matching the MATCH expression `expr`
/// whose search keys lie in `lo..=hi` (see `sqlite_search`).
pub(super) fn push_match_keys(
    sql: &mut QueryBuilder<'_, sqlx::Sqlite>,
    expr: String,
    lo: i64,
    hi: i64,
) {
    sql.push(" AND search_key IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ")
        .push_bind(expr)
        .push(" AND rowid >= ")
        .push_bind(lo)
        .push(" AND rowid <= ")
        .push_bind(hi)
        .push(")");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_out_words_are_or_groups_joined_by_and() {
        let words = vec![
            (
                "de".to_string(),
                Some(vec!["deploy".to_string(), "deployed".to_string()]),
            ),
            ("x".to_string(), None),
        ];
        assert_eq!(
            fts5_match_terms(&words),
            r#"("deploy" OR "deployed") AND "x"*"#
        );
    }

    #[test]
    fn hostile_text_becomes_plain_words() {
        let words = search::words(r#"a" OR b* NEAR(c) :* & !d | "e""#);
        assert_eq!(
            fts5_match(&words),
            r#""a"* "or"* "b"* "near"* "c"* "d"* "e"*"#
        );
        assert_eq!(
            tsquery(&words),
            "a:* & or:* & b:* & near:* & c:* & d:* & e:*"
        );
    }
}
