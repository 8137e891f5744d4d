//! The page's live tail rules: order, holding back, caps, skips, rate and relative times.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::events::model::parse_event;

fn event(id: i64) -> Event {
    let at = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let body = parse_event(
        &json!({"event": format!("E{id}"), "category": "C", "action": "a",
                "actor": {"id": "u1", "type": "user"}}),
        at,
    )
    .unwrap()
    .body;
    Event {
        id,
        received_at: at,
        body,
    }
}

fn ids(events: &[Event]) -> Vec<i64> {
    events.iter().map(|e| e.id).collect()
}

#[test]
fn arrivals_show_newest_first_and_nothing_twice() {
    let mut t = TailState::new(10, [9, 10, 12], 0.0);
    for id in [8, 10, 11, 12, 13, 13, 11, 14] {
        t.receive(event(id), false, 0.0);
    }
    // 8 and 10 are the table's; 12 is on the first page already; repeats are ignored.
    assert_eq!(ids(t.shown()), [14, 13, 11]);
    assert_eq!(t.last(), 14);
    assert_eq!(t.held(), 0);
}

#[test]
fn held_arrivals_wait_then_go_on_top_in_order() {
    let mut t = TailState::new(0, [], 0.0);
    t.receive(event(1), false, 0.0);
    t.receive(event(2), true, 0.0);
    t.receive(event(3), true, 0.0);
    assert_eq!(ids(t.shown()), [1], "held arrivals do not move the rows");
    assert_eq!(t.held(), 2);
    t.release();
    assert_eq!(ids(t.shown()), [3, 2, 1]);
    assert_eq!(t.held(), 0);
    // An arrival while nothing holds releases what waits first.
    t.receive(event(4), true, 0.0);
    t.receive(event(5), false, 0.0);
    assert_eq!(ids(t.shown()), [5, 4, 3, 2, 1]);
    assert!(!t.needs_reload());
}

#[test]
fn too_many_rows_ask_for_a_reload() {
    let mut t = TailState::new(0, [], 0.0);
    for id in 1..=ROW_CAP as i64 {
        t.receive(event(id), false, 0.0);
    }
    assert!(!t.needs_reload());
    t.receive(event(ROW_CAP as i64 + 1), false, 0.0);
    assert!(t.needs_reload());
}

#[test]
fn a_held_overflow_is_counted_and_released_through_a_reload() {
    let mut t = TailState::new(0, [], 0.0);
    let n = HOLD_CAP as i64 + 7;
    for id in 1..=n {
        t.receive(event(id), true, 0.0);
    }
    assert_eq!(t.held(), n as u64, "the bar counts every held arrival");
    assert!(t.shown().is_empty());
    assert!(!t.needs_reload());
    t.release();
    assert!(
        t.needs_reload(),
        "the oldest held arrivals were dropped: only the table can show them"
    );
    assert_eq!(t.shown().first().map(|e| e.id), Some(n));
}

#[test]
fn skips_add_up_and_move_the_position() {
    let mut t = TailState::new(0, [], 0.0);
    t.receive(event(1), false, 0.0);
    t.skip(Skipped {
        skipped: 40,
        exact: true,
        resume_after: 60,
    });
    t.skip(Skipped {
        skipped: 100_000,
        exact: false,
        resume_after: 200_000,
    });
    assert_eq!(t.skipped(), Some((100_040, false)));
    assert_eq!(t.last(), 200_000);
    t.receive(event(150), false, 0.0);
    assert_eq!(
        ids(t.shown()),
        [1],
        "an event before the resume point is not shown"
    );
}

#[test]
fn the_rate_counts_the_last_ten_seconds() {
    let mut t = TailState::new(0, [], 0.0);
    assert_eq!(t.rate(0.0), 0.0);
    // 5 events in the first half second: 5/s (a young tail divides by at least one second).
    for id in 1..=5 {
        t.receive(event(id), false, id as f64 * 100.0);
    }
    assert_eq!(t.rate(500.0), 5.0);
    // 30 s later, 20 events over the last 10 s.
    for id in 6..=25 {
        t.receive(event(id), true, 20_000.0 + id as f64 * 400.0);
    }
    assert_eq!(t.rate(30_000.0), 2.0);
    assert_eq!(t.rate(60_000.0), 0.0);
}

#[test]
fn relative_times() {
    assert_eq!(ago(0).as_deref(), Some("just now"));
    assert_eq!(
        ago(-3_000).as_deref(),
        Some("just now"),
        "a little clock skew"
    );
    assert_eq!(ago(-60_000), None, "far in the future");
    assert_eq!(ago(12_400).as_deref(), Some("12 s ago"));
    assert_eq!(ago(59_999).as_deref(), Some("59 s ago"));
    assert_eq!(ago(60_000).as_deref(), Some("1 min ago"));
    assert_eq!(ago(3_599_000).as_deref(), Some("59 min ago"));
    assert_eq!(ago(7_200_000).as_deref(), Some("2 h ago"));
    assert_eq!(ago(86_400_000), None);
}

#[test]
fn rate_labels() {
    assert_eq!(rate_label(0.0), "0/s");
    assert_eq!(rate_label(3.25), "3.2/s");
    assert_eq!(rate_label(997.4), "997/s");
}

#[test]
fn clearing_forgets_the_arrivals_but_not_the_position() {
    let mut t = TailState::new(0, [], 0.0);
    t.receive(event(1), false, 0.0);
    t.receive(event(2), true, 0.0);
    t.skip(Skipped {
        skipped: 3,
        exact: true,
        resume_after: 5,
    });
    t.clear();
    assert!(t.shown().is_empty());
    assert_eq!((t.held(), t.skipped(), t.last()), (0, None, 5));
    t.receive(event(4), false, 0.0);
    assert!(t.shown().is_empty(), "still nothing twice");
}
