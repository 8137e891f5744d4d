//! The filter parser and compiler: any query string either is refused with an error, or parses
//! to a filter that validates, survives the URL round trip unchanged, and compiles for both
//! stores; a free-text search is cut into words or refused. Never a panic.
#![no_main]

use app::filters::Filter;
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
            let [lite, pg] = app::store::compile_filter(&filter).expect("a valid filter compiles");
            // Values are bound, never spliced: no value text appears in the SQL.
            assert!(!lite.contains('\'') && !pg.contains('\''), "{lite} / {pg}");
        }
    }
    let _ = app::events::query::EventQuery::parse_search(text);
    let _ = app::filters::search::words(text);
});
