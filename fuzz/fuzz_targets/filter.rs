//! The filter parser and compiler: any query string either is refused with an error, or parses
//! to a filter that validates, survives the URL round trip unchanged, and compiles for both
//! stores; a free-text search is cut into words or refused. Never a panic.
#![no_main]

use app::filters::{Condition, Field, Filter, Item};

/// `filter` with every free-text value changed (quotes, comment marks appended); values of
/// fields with a fixed vocabulary or a syntax (IP, outcome, actor type) stay.
fn shifted(filter: &Filter) -> Filter {
    let shift = |c: &mut Condition| {
        if !matches!(c.field, Field::Ip | Field::Outcome | Field::ActorType) {
            for v in &mut c.values {
                v.push_str("Zq9'\";--");
            }
        }
    };
    let mut f = filter.clone();
    for item in &mut f.items {
        match item {
            Item::Condition(c) => shift(c),
            Item::Group { conditions, .. } => conditions.iter_mut().for_each(shift),
        }
    }
    f
}
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pairs: Vec<(String, String)> = text
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect();
    if let Ok(filter) = Filter::from_query(&pairs) {
        if filter.validate().is_ok() {
            let again = Filter::from_query(&filter.to_query()).expect("its own URL form parses");
            assert_eq!(again, filter, "the URL form round-trips");
            let sql = app::store::compile_filter(&filter).expect("a valid filter compiles");
            // Values are bound, never spliced: other values (with quotes and comment marks) give
            // the very same SQL text.
            let other = shifted(&filter);
            if other.validate().is_ok() {
                let again = app::store::compile_filter(&other).expect("compiles");
                assert_eq!(again, sql, "values reached the SQL text");
            }
        }
    }
    let _ = app::events::query::EventQuery::parse_search(text);
    let _ = app::filters::search::words(text);
});
