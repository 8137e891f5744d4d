//! Free-text search over an event's name, description, user (actor name, email, id) and target
//! name: the tokenisation shared by both stores and the reference semantics ([`matches_search`]).
//!
//! # Semantics (the reference for both stores)
//!
//! - The *searchable text* of an event is its name, description, actor name, actor email, actor id
//!   and target name ([`search_text`]).
//! - Text is split into *words*: maximal runs of letters and digits; everything else (spaces,
//!   punctuation, `@`, `-`, `_`, quotes, `*` …) separates words.
//! - Words are compared case-insensitively, and the Latin-1 accented letters (`à`…`ÿ`, upper and
//!   lower case, see [`FOLD`]) match their unaccented letter: "ecole" finds "École".
//! - A query is split the same way; **every** query word must be a prefix of some word of the
//!   searchable text (AND). "deplo mod" finds "Model Deployed"; "mod deployed x" does not.
//! - A query with no words (empty, blank or punctuation only) searches nothing: it matches every
//!   event.
//!
//! Both stores implement exactly this for ASCII letters and digits and the letters of [`FOLD`]; the
//! property test in `store::search_tests` holds them to [`matches_search`]. SQLite indexes the
//! words [`words`] cuts (FTS5's `ascii` tokenizer only separates them), so it follows this in
//! every script; PostgreSQL (`simple` configuration) may differ on detail outside Latin-1.

use crate::events::model::{Event, EventBody};

/// Accented lower-case letters and the letter they match. Upper-case ones are lower-cased first.
///
/// PostgreSQL's migration `0002_search.sql` spells the same table in `translate()` (a unit test
/// checks that they agree); SQLite's tokenizer folds these (and more) by itself.
pub const FOLD: &[(char, char)] = &[
    ('à', 'a'),
    ('á', 'a'),
    ('â', 'a'),
    ('ã', 'a'),
    ('ä', 'a'),
    ('å', 'a'),
    ('ç', 'c'),
    ('è', 'e'),
    ('é', 'e'),
    ('ê', 'e'),
    ('ë', 'e'),
    ('ì', 'i'),
    ('í', 'i'),
    ('î', 'i'),
    ('ï', 'i'),
    ('ñ', 'n'),
    ('ò', 'o'),
    ('ó', 'o'),
    ('ô', 'o'),
    ('õ', 'o'),
    ('ö', 'o'),
    ('ù', 'u'),
    ('ú', 'u'),
    ('û', 'u'),
    ('ü', 'u'),
    ('ý', 'y'),
    ('ÿ', 'y'),
];

fn fold_char(c: char) -> char {
    FOLD.iter()
        .find(|(accented, _)| *accented == c)
        .map_or(c, |(_, base)| *base)
}

/// The words of `text` as the stores index them: lower-cased, [`FOLD`]ed, split on everything
/// that is not a letter or digit.
pub fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(fold_char)
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The searchable text of an event: the searched fields, one per line (a line break separates
/// words, so fields never run together). The stores index the same fields in the same order.
pub fn search_text(body: &EventBody) -> String {
    let target_name = body.target.as_ref().and_then(|t| t.name.as_deref());
    [
        Some(body.event.as_str()),
        body.description.as_deref(),
        Some(body.actor.name.as_str()),
        body.actor.email.as_deref(),
        Some(body.actor.id.as_str()),
        target_name,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n")
}

/// The reference semantics (see the module doc): true when every word of `query` is a prefix of a
/// word of the event's searchable text.
pub fn matches_search(event: &Event, query: &str) -> bool {
    let needles = words(query);
    if needles.is_empty() {
        return true;
    }
    let haystack = words(&search_text(&event.body));
    needles
        .iter()
        .all(|n| haystack.iter().any(|w| w.starts_with(n.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_folded_and_split_on_punctuation() {
        assert_eq!(
            words("Model-Deployed, by ÉCOLE_naïve@x.io (v2.1)"),
            [
                "model", "deployed", "by", "ecole", "naive", "x", "io", "v2", "1"
            ]
        );
        assert!(words(" \"*:&|!() ").is_empty());
    }

    #[test]
    fn the_postgres_migration_folds_the_same_letters() {
        let sql = include_str!("../../../migrations/postgres/0002_search.sql");
        let from: String = FOLD
            .iter()
            .flat_map(|(a, _)| a.to_uppercase())
            .filter(|u| u.to_lowercase().next().is_some_and(|l| l != *u))
            .chain(FOLD.iter().map(|(a, _)| *a))
            .collect();
        let to: String = FOLD
            .iter()
            .flat_map(|(a, b)| {
                let has_upper = a.to_uppercase().next().is_some_and(|u| u != *a);
                has_upper.then_some(*b)
            })
            .chain(FOLD.iter().map(|(_, b)| *b))
            .collect();
        assert!(sql.contains(&format!("'{from}'")), "translate from: {from}");
        assert!(sql.contains(&format!("'{to}'")), "translate to: {to}");
    }
}
