//! The month grid, month cursor, year options and click-by-click selection.

use chrono::{NaiveDate, Weekday};

use super::*;
use crate::timerange::{Preset, TimeRange};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The grid as day numbers, 0 for a blank, for compact expectations.
fn numbers(grid: &[Week]) -> Vec<[u32; 7]> {
    use chrono::Datelike;
    grid.iter()
        .map(|w| w.map(|c| c.map_or(0, |day| day.day())))
        .collect()
}

#[test]
fn month_grid_with_monday_weeks() {
    // November 2026 starts on a Sunday: six Monday-weeks, six blanks up front.
    let grid = month_grid(2026, 11, Weekday::Mon);
    assert_eq!(
        numbers(&grid),
        vec![
            [0, 0, 0, 0, 0, 0, 1],
            [2, 3, 4, 5, 6, 7, 8],
            [9, 10, 11, 12, 13, 14, 15],
            [16, 17, 18, 19, 20, 21, 22],
            [23, 24, 25, 26, 27, 28, 29],
            [30, 0, 0, 0, 0, 0, 0],
        ]
    );
    assert_eq!(grid[0][6], Some(d(2026, 11, 1)));
}

#[test]
fn month_grid_with_sunday_weeks() {
    // The same month with Sunday weeks needs only five rows and no leading blank.
    let grid = month_grid(2026, 11, Weekday::Sun);
    assert_eq!(numbers(&grid)[0], [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(numbers(&grid)[4], [29, 30, 0, 0, 0, 0, 0]);
    assert_eq!(grid.len(), 5);
    // February 2026 starts on a Sunday and has 28 days: exactly four full Sunday-weeks.
    let feb = month_grid(2026, 2, Weekday::Sun);
    assert_eq!(feb.len(), 4);
    assert!(feb.iter().flatten().all(Option::is_some));
    // A leap February carries its 29th.
    let feb = month_grid(2028, 2, Weekday::Mon);
    assert_eq!(feb.iter().flatten().flatten().count(), 29);
    assert_eq!(feb.last().unwrap()[1], Some(d(2028, 2, 29)));
}

#[test]
fn month_grid_of_a_month_that_does_not_exist_is_empty() {
    assert!(month_grid(2026, 13, Weekday::Mon).is_empty());
    assert!(month_grid(2026, 0, Weekday::Mon).is_empty());
}

#[test]
fn every_month_grid_holds_each_day_once_in_its_weekday_column() {
    use chrono::Datelike;
    for start in [Weekday::Mon, Weekday::Sun, Weekday::Sat] {
        for month in 1..=12 {
            let grid = month_grid(2027, month, start);
            let days: Vec<NaiveDate> = grid.iter().flatten().flatten().copied().collect();
            let (first, last) = crate::timerange::range::month_span(2027, month);
            assert_eq!(days.first(), Some(&first));
            assert_eq!(days.last(), Some(&last));
            assert!(days.windows(2).all(|w| w[1] == w[0].succ_opt().unwrap()));
            for week in &grid {
                for (col, cell) in week.iter().enumerate() {
                    if let Some(day) = cell {
                        assert_eq!(day.weekday().days_since(start) as usize, col);
                    }
                }
            }
        }
    }
}

#[test]
fn weekday_headings_follow_the_week_start() {
    assert_eq!(
        weekday_headings(Weekday::Mon),
        ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
    );
    assert_eq!(
        weekday_headings(Weekday::Sun),
        ["Su", "Mo", "Tu", "We", "Th", "Fr", "Sa"]
    );
}

#[test]
fn month_cursor_moves_across_year_ends() {
    let jan = MonthCursor::new(2027, 1).unwrap();
    let dec = jan.prev();
    assert_eq!((dec.year(), dec.month()), (2026, 12));
    assert_eq!(dec.next(), jan);
    assert_eq!(dec.title(), "December 2026");
    assert_eq!(
        MonthCursor::containing(d(2028, 2, 29)).title(),
        "February 2028"
    );
    assert_eq!(MonthCursor::new(2026, 13), None);
    assert_eq!(MonthCursor::new(2026, 0), None);
    assert_eq!(jan.with_year(2020), MonthCursor::new(2020, 1));
    assert_eq!(jan.grid(Weekday::Mon), month_grid(2027, 1, Weekday::Mon));
    // At the ends of chrono's range the cursor stays put instead of overflowing.
    let first = MonthCursor::containing(NaiveDate::MIN);
    assert_eq!(first.prev(), first);
    let last = MonthCursor::containing(NaiveDate::MAX);
    assert_eq!(last.next(), last);
}

#[test]
fn year_options_run_from_the_first_event_to_this_year() {
    assert_eq!(year_options(Some(2023), 2026), vec![2023, 2024, 2025, 2026]);
    assert_eq!(year_options(Some(2026), 2026), vec![2026]);
    // No events yet, or clock skew put the first one in the future: just this year.
    assert_eq!(year_options(None, 2026), vec![2026]);
    assert_eq!(year_options(Some(2030), 2026), vec![2026]);
}

#[test]
fn selection_clicks_start_end_and_start_over() {
    let today = d(2026, 11, 25);
    let s = Selection::default();
    assert_eq!(s, Selection::Empty);
    assert_eq!(s.days(today), None);
    assert_eq!(s.describe(today, "UTC"), None);
    assert_eq!(s.to_range(today), None);
    assert_eq!(s.day_count(today), 0);

    // First click: a start, running to today until the second click.
    let s = s.click(d(2026, 10, 1));
    assert_eq!(s, Selection::Started(d(2026, 10, 1)));
    assert_eq!(
        s.describe(today, "Europe/Berlin").as_deref(),
        Some("1 Oct 2026 – 25 Nov 2026 (Europe/Berlin)")
    );
    assert_eq!(s.day_count(today), 56);
    assert!(s.contains(d(2026, 11, 25), today));
    assert!(!s.contains(d(2026, 11, 26), today));

    // Second click: the end.
    let s = s.click(d(2026, 10, 31));
    assert_eq!(
        s,
        Selection::Complete {
            start: d(2026, 10, 1),
            end: d(2026, 10, 31)
        }
    );
    assert_eq!(
        s.to_range(today),
        Some(TimeRange::custom(d(2026, 10, 1), d(2026, 10, 31)).unwrap())
    );
    assert_eq!(
        s.to_range(today).unwrap().to_key(),
        "2026-10-01..2026-10-31"
    );
    assert_eq!(s.day_count(today), 31);

    // Third click: starts over.
    let s = s.click(d(2026, 11, 3));
    assert_eq!(s, Selection::Started(d(2026, 11, 3)));
}

#[test]
fn selection_second_click_before_the_start_swaps() {
    let today = d(2026, 11, 25);
    let s = Selection::Empty
        .click(d(2026, 11, 20))
        .click(d(2026, 11, 2));
    assert_eq!(
        s,
        Selection::Complete {
            start: d(2026, 11, 2),
            end: d(2026, 11, 20)
        }
    );
    // Clicking the same day twice selects that one day.
    let one = Selection::Empty.click(today).click(today);
    assert_eq!(
        one.describe(today, "UTC").as_deref(),
        Some("25 Nov 2026 (UTC)")
    );
    assert_eq!(one.day_count(today), 1);
    // A lone start after today runs from today to it rather than backwards.
    let ahead = Selection::Started(d(2026, 11, 27));
    assert_eq!(ahead.days(today), Some((today, d(2026, 11, 27))));
}

#[test]
fn selection_opens_on_the_current_range() {
    let today = d(2026, 11, 25);
    let month = TimeRange::Preset(Preset::LastMonth);
    assert_eq!(
        Selection::from_range(&month, today, Weekday::Mon),
        Selection::Complete {
            start: d(2026, 10, 1),
            end: d(2026, 10, 31)
        }
    );
    let all = TimeRange::Preset(Preset::AllTime);
    assert_eq!(
        Selection::from_range(&all, today, Weekday::Mon),
        Selection::Empty
    );
}
