//! A view that asks for any of a few event names ("event is A OR event is B", "event is any of A,
//! B", alone or ANDed with other conditions) and is sorted by time or Seq, read as one page per
//! name, merged.
//!
//! Both stores keep an index on `(event, occurred_at, id)`. For one name it serves a page by
//! walking that name's entries in the list's order and stopping after the page. For several, the
//! planners gather every entry of every name in the time range and sort them (SQLite's OR
//! optimisation, PostgreSQL's BitmapOr): about 110 ms for two rare names over ten million events
//! on SQLite. Here each name gets its own page, served by the index as for one name, and the
//! pages are merged in the list's order. The names' rows are disjoint and each page is the first
//! rows of its name after the same cursor, so the first rows of the merge are the first rows of
//! the view; the view has more when the merge has more than a page or any name has.

use std::collections::BTreeSet;

use crate::events::model::Event;
use crate::events::query::{Cursor, Dir, EventPage, EventQuery, SortKey};
use crate::filters::{Combine, Condition, Field, Filter, Item, Op};

/// The most names read this way; a longer list is left to the planner.
const MAX_BRANCHES: usize = 8;

/// The per-name queries of `q` when it is such a view, else `None`.
pub(super) fn split(q: &EventQuery) -> Option<Vec<EventQuery>> {
    if !matches!(q.sort.key, SortKey::Time | SortKey::Seq)
        || q.event.is_some()
        || q.search.is_some()
    {
        return None;
    }
    let (names, rest) = names_and_rest(&q.filter)?;
    if names.len() < 2 || names.len() > MAX_BRANCHES {
        return None;
    }
    Some(
        names
            .into_iter()
            .map(|name| EventQuery {
                event: Some(name),
                filter: rest.clone(),
                ..q.clone()
            })
            .collect(),
    )
}

/// The names a condition on the event name admits: "is" or "is any of".
fn names_of(c: &Condition) -> Option<&[String]> {
    (c.field == Field::Event && matches!(c.op, Op::Is | Op::AnyOf)).then_some(&c.values)
}

/// The names of a filter that is a disjunction of event names, possibly ANDed with other
/// conditions, and the filter without that disjunction.
fn names_and_rest(f: &Filter) -> Option<(BTreeSet<String>, Filter)> {
    let collect = |conditions: &mut dyn Iterator<Item = &Condition>| {
        let mut names = BTreeSet::new();
        for c in conditions {
            names.extend(names_of(c)?.iter().cloned());
        }
        Some(names)
    };
    // "Any of" over conditions only (or one item, whatever the combine): all must be names.
    let lone = f.items.len() == 1;
    if f.combine == Combine::Any || lone {
        let mut conditions = f.items.iter().map(|item| match item {
            Item::Condition(c) => Some(c),
            Item::Group { .. } => None,
        });
        if conditions.clone().all(|c| c.is_some()) {
            let names = collect(&mut conditions.by_ref().flatten())?;
            return Some((names, Filter::default()));
        }
        if !lone {
            return None;
        }
    }
    // "All of": exactly one item is the disjunction (a condition, or an any-of group of names).
    let mut found = None;
    for (i, item) in f.items.iter().enumerate() {
        let names = match item {
            Item::Condition(c) => names_of(c).map(|n| n.iter().cloned().collect()),
            Item::Group {
                combine: Combine::Any,
                conditions,
            } => collect(&mut conditions.iter()),
            Item::Group { .. } => None,
        };
        if let Some(names) = names.filter(|n: &BTreeSet<String>| n.len() > 1) {
            if found.is_some() {
                return None;
            }
            found = Some((i, names));
        }
    }
    let (i, names) = found?;
    let mut rest = f.clone();
    rest.items.remove(i);
    if rest.items.is_empty() {
        rest.combine = Combine::All;
    }
    Some((names, rest))
}

/// The page of `q` from the pages of its names (see [`split`]), each read with `q`'s limit.
pub(super) fn merge(q: &EventQuery, pages: Vec<EventPage>) -> EventPage {
    let limit = q.effective_limit() as usize;
    let more = pages.iter().any(|p| p.next_cursor.is_some());
    let mut events: Vec<Event> = pages.into_iter().flat_map(|p| p.events).collect();
    let key = |e: &Event| match q.sort.key {
        SortKey::Seq => (e.id, 0),
        _ => (e.body.occurred_at.timestamp_millis(), e.id),
    };
    events.sort_by_key(|e| key(e));
    if q.sort.dir == Dir::Desc {
        events.reverse();
    }
    let next_cursor = if more || events.len() > limit {
        events.truncate(limit);
        events.last().map(|e| Cursor::after(e, q.sort).encode())
    } else {
        None
    };
    EventPage {
        events,
        next_cursor,
        as_of: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(f: &Filter) -> Option<Vec<String>> {
        names_and_rest(f).map(|(n, _)| n.into_iter().collect())
    }

    fn cond(field: Field, op: Op, values: &[&str]) -> Condition {
        Condition {
            field,
            op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn disjunctions_of_event_names_split_and_the_rest_stays() {
        let a = Item::Condition(cond(Field::Event, Op::Is, &["A"]));
        let b = Item::Condition(cond(Field::Event, Op::Is, &["B"]));
        let any_ab = Item::Condition(cond(Field::Event, Op::AnyOf, &["A", "B"]));
        let failed = Item::Condition(cond(Field::Outcome, Op::Is, &["failure"]));
        let or = |items: Vec<Item>| Filter {
            combine: Combine::Any,
            items,
        };
        let and = |items: Vec<Item>| Filter {
            combine: Combine::All,
            items,
        };
        assert_eq!(
            names(&or(vec![a.clone(), b.clone()])),
            Some(vec!["A".into(), "B".into()])
        );
        assert_eq!(
            names(&and(vec![any_ab.clone()])),
            Some(vec!["A".into(), "B".into()])
        );
        let (n, rest) = names_and_rest(&and(vec![failed.clone(), any_ab.clone()])).unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(rest, and(vec![failed.clone()]));
        let group = Item::Group {
            combine: Combine::Any,
            conditions: vec![
                cond(Field::Event, Op::Is, &["A"]),
                cond(Field::Event, Op::Is, &["B"]),
            ],
        };
        assert!(names(&and(vec![failed.clone(), group])).is_some());
        // Not a disjunction of names: left to the planner.
        assert_eq!(names(&or(vec![a.clone(), failed.clone()])), None);
        assert_eq!(names(&and(vec![a.clone(), b.clone()])), None);
        assert_eq!(names(&and(vec![any_ab.clone(), any_ab.clone()])), None);
        let not = Item::Condition(cond(Field::Event, Op::IsNot, &["A"]));
        assert_eq!(names(&or(vec![a, not])), None);
    }

    fn event(id: i64, at_ms: i64) -> Event {
        let now = chrono::Utc::now();
        let json = serde_json::json!({"occurred_at": at_ms, "event": "E", "category": "C",
            "action": "a", "actor": {"id": "u", "name": "U", "type": "user"}});
        let new = crate::events::model::parse_event(&json, now).expect("valid");
        Event {
            id,
            received_at: now,
            body: new.body,
        }
    }

    #[test]
    fn the_merge_keeps_the_order_and_knows_when_more_follow() {
        let q = EventQuery {
            limit: 2,
            ..EventQuery::default()
        };
        let page = |events: Vec<Event>, more: bool| EventPage {
            next_cursor: more.then(|| "c".to_string()),
            events,
            as_of: None,
        };
        // Newest first across the pages; the third row waits for the next page.
        let merged = merge(
            &q,
            vec![
                page(vec![event(5, 300), event(1, 100)], false),
                page(vec![event(4, 200)], false),
            ],
        );
        assert_eq!(
            merged.events.iter().map(|e| e.id).collect::<Vec<_>>(),
            [5, 4]
        );
        assert!(merged.next_cursor.is_some());
        // Exactly a page in all, but one name has more: there is a next page.
        let merged = merge(
            &q,
            vec![
                page(vec![event(5, 300), event(1, 100)], true),
                page(vec![], false),
            ],
        );
        assert_eq!(merged.events.len(), 2);
        assert!(merged.next_cursor.is_some());
        // Exactly a page and nothing more: no next page.
        let merged = merge(
            &q,
            vec![
                page(vec![event(5, 300)], false),
                page(vec![event(4, 200)], false),
            ],
        );
        assert_eq!(merged.next_cursor, None);
    }
}
