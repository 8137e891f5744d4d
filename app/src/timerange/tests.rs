//! Preset resolution at awkward moments, in real IANA zones (chrono-tz), and URL keys.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use super::zone::TzZone;
use super::*;

fn t(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn resolve_in(
    range: impl Into<TimeRange>,
    now: &str,
    zone: Tz,
    week_start: Weekday,
) -> (DateTime<Utc>, DateTime<Utc>) {
    range
        .into()
        .resolve(t(now), &TzZone(zone), week_start)
        .expect("bounded range")
}

/// Asserts `range` at `now` in `zone` (Monday weeks) resolves to `[start, end)`.
#[track_caller]
fn check(range: impl Into<TimeRange>, now: &str, zone: Tz, start: &str, end: &str) {
    let range = range.into();
    let got = resolve_in(range.clone(), now, zone, Weekday::Mon);
    assert_eq!(got, (t(start), t(end)), "{range:?} at {now} in {zone}");
}

#[test]
fn all_time_has_no_bounds_and_last_30_days_is_the_default() {
    assert_eq!(
        TimeRange::Preset(Preset::AllTime).resolve(
            t("2026-11-26T10:00:00Z"),
            &UtcZone,
            Weekday::Mon
        ),
        None
    );
    assert_eq!(TimeRange::default(), TimeRange::Preset(Preset::Last30Days));
    assert_eq!(TimeRange::default().label(), "Last 30 Days");
}

#[test]
fn every_preset_on_an_ordinary_day_in_utc() {
    use Preset::*;
    let now = "2026-11-26T10:00:00Z"; // a Thursday
    let z = Tz::UTC;
    check(
        Today,
        now,
        z,
        "2026-11-26T00:00:00Z",
        "2026-11-27T00:00:00Z",
    );
    check(
        Yesterday,
        now,
        z,
        "2026-11-25T00:00:00Z",
        "2026-11-26T00:00:00Z",
    );
    check(
        ThisWeek,
        now,
        z,
        "2026-11-23T00:00:00Z",
        "2026-11-30T00:00:00Z",
    );
    check(
        ThisMonth,
        now,
        z,
        "2026-11-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
    );
    check(
        LastMonth,
        now,
        z,
        "2026-10-01T00:00:00Z",
        "2026-11-01T00:00:00Z",
    );
    check(
        Last30Days,
        now,
        z,
        "2026-10-28T00:00:00Z",
        "2026-11-27T00:00:00Z",
    );
    check(
        Last90Days,
        now,
        z,
        "2026-08-29T00:00:00Z",
        "2026-11-27T00:00:00Z",
    );
    check(
        ThisYear,
        now,
        z,
        "2026-01-01T00:00:00Z",
        "2027-01-01T00:00:00Z",
    );
    check(
        LastYear,
        now,
        z,
        "2025-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
    );
    // The server's UtcZone agrees with the IANA UTC zone.
    for p in Preset::ALL {
        let r = TimeRange::Preset(p);
        assert_eq!(
            r.resolve(t(now), &UtcZone, Weekday::Mon),
            r.resolve(t(now), &TzZone(z), Weekday::Mon)
        );
    }
}

#[test]
fn fixed_offset_zone_shifts_every_bound() {
    let ist = FixedZone(FixedOffset::east_opt(5 * 3600 + 1800).unwrap());
    // 20:00 UTC is already the 27th in India.
    let r = TimeRange::Preset(Preset::Today).resolve(t("2026-11-26T20:00:00Z"), &ist, Weekday::Mon);
    assert_eq!(
        r,
        Some((t("2026-11-26T18:30:00Z"), t("2026-11-27T18:30:00Z")))
    );
}

#[test]
fn month_end_last_month_crosses_into_the_previous_year() {
    use Preset::*;
    let z = Tz::Europe__Berlin;
    let now = "2027-01-31T12:00:00Z";
    check(
        LastMonth,
        now,
        z,
        "2026-11-30T23:00:00Z",
        "2026-12-31T23:00:00Z",
    );
    check(
        ThisMonth,
        now,
        z,
        "2026-12-31T23:00:00Z",
        "2027-01-31T23:00:00Z",
    );
    // 31 March: last month is a 28-day February; the DST switch on the 29th moved midnight.
    let now = "2026-03-31T12:00:00Z";
    check(
        LastMonth,
        now,
        z,
        "2026-01-31T23:00:00Z",
        "2026-02-28T23:00:00Z",
    );
    check(
        ThisMonth,
        now,
        z,
        "2026-02-28T23:00:00Z",
        "2026-03-31T22:00:00Z",
    );
}

#[test]
fn year_end_in_auckland_is_already_next_year() {
    use Preset::*;
    let z = Tz::Pacific__Auckland; // NZDT, UTC+13
    let now = "2026-12-31T11:30:00Z"; // 00:30 on 1 Jan 2027 in Auckland
    check(
        Today,
        now,
        z,
        "2026-12-31T11:00:00Z",
        "2027-01-01T11:00:00Z",
    );
    check(
        Yesterday,
        now,
        z,
        "2026-12-30T11:00:00Z",
        "2026-12-31T11:00:00Z",
    );
    check(
        ThisYear,
        now,
        z,
        "2026-12-31T11:00:00Z",
        "2027-12-31T11:00:00Z",
    );
    check(
        LastYear,
        now,
        z,
        "2025-12-31T11:00:00Z",
        "2026-12-31T11:00:00Z",
    );
    check(
        LastMonth,
        now,
        z,
        "2026-11-30T11:00:00Z",
        "2026-12-31T11:00:00Z",
    );
    // The same instant is still 2026 in UTC.
    check(
        ThisYear,
        now,
        Tz::UTC,
        "2026-01-01T00:00:00Z",
        "2027-01-01T00:00:00Z",
    );
}

#[test]
fn year_end_in_los_angeles_is_still_last_year() {
    use Preset::*;
    let z = Tz::America__Los_Angeles; // PST, UTC-8
    let now = "2027-01-01T07:59:00Z"; // 23:59 on 31 Dec 2026 in Los Angeles
    check(
        Today,
        now,
        z,
        "2026-12-31T08:00:00Z",
        "2027-01-01T08:00:00Z",
    );
    check(
        ThisYear,
        now,
        z,
        "2026-01-01T08:00:00Z",
        "2027-01-01T08:00:00Z",
    );
    check(
        ThisMonth,
        now,
        z,
        "2026-12-01T08:00:00Z",
        "2027-01-01T08:00:00Z",
    );
    check(
        LastYear,
        now,
        z,
        "2025-01-01T08:00:00Z",
        "2026-01-01T08:00:00Z",
    );
    // A minute later it is 2027 there too.
    check(
        ThisYear,
        "2027-01-01T08:00:00Z",
        z,
        "2027-01-01T08:00:00Z",
        "2028-01-01T08:00:00Z",
    );
}

#[test]
fn leap_days() {
    use Preset::*;
    let z = Tz::Europe__Berlin;
    let now = "2028-02-29T12:00:00Z";
    check(
        ThisMonth,
        now,
        z,
        "2028-01-31T23:00:00Z",
        "2028-02-29T23:00:00Z",
    );
    check(
        Today,
        now,
        z,
        "2028-02-28T23:00:00Z",
        "2028-02-29T23:00:00Z",
    );
    // 30 days counting 10 March reach back to 10 February over a 29-day February.
    let days = Last30Days.days(d(2028, 3, 10), Weekday::Mon);
    assert_eq!(days, Some((d(2028, 2, 10), d(2028, 3, 10))));
    check(
        Last30Days,
        "2028-03-10T12:00:00Z",
        Tz::UTC,
        "2028-02-10T00:00:00Z",
        "2028-03-11T00:00:00Z",
    );
    check(
        LastMonth,
        "2028-03-15T12:00:00Z",
        Tz::UTC,
        "2028-02-01T00:00:00Z",
        "2028-03-01T00:00:00Z",
    );
    // Last year seen from 28 Feb 2029 is the whole 366-day 2028.
    let (start, end) = resolve_in(LastYear, "2029-02-28T12:00:00Z", Tz::UTC, Weekday::Mon);
    assert_eq!(
        (start, end),
        (t("2028-01-01T00:00:00Z"), t("2029-01-01T00:00:00Z"))
    );
    assert_eq!(end - start, Duration::days(366));
    let leap_day = TimeRange::custom(d(2028, 2, 29), d(2028, 2, 29)).unwrap();
    check(
        leap_day,
        now,
        Tz::UTC,
        "2028-02-29T00:00:00Z",
        "2028-03-01T00:00:00Z",
    );
}

#[test]
fn dst_days_are_23_and_25_hours_long() {
    use Preset::*;
    let cases = [
        (
            Tz::Europe__Berlin,
            "2026-03-29T12:00:00Z",
            "2026-03-28T23:00:00Z",
            "2026-03-29T22:00:00Z",
            23,
        ),
        (
            Tz::Europe__Berlin,
            "2026-10-25T12:00:00Z",
            "2026-10-24T22:00:00Z",
            "2026-10-25T23:00:00Z",
            25,
        ),
        (
            Tz::America__New_York,
            "2026-03-08T12:00:00Z",
            "2026-03-08T05:00:00Z",
            "2026-03-09T04:00:00Z",
            23,
        ),
        (
            Tz::America__New_York,
            "2026-11-01T12:00:00Z",
            "2026-11-01T04:00:00Z",
            "2026-11-02T05:00:00Z",
            25,
        ),
    ];
    for (zone, now, start, end, hours) in cases {
        check(Today, now, zone, start, end);
        let (s, e) = resolve_in(Today, now, zone, Weekday::Mon);
        assert_eq!(e - s, Duration::hours(hours), "{zone} {now}");
    }
    // The day after the switch: Yesterday is the short day.
    check(
        Yesterday,
        "2026-03-30T12:00:00Z",
        Tz::Europe__Berlin,
        "2026-03-28T23:00:00Z",
        "2026-03-29T22:00:00Z",
    );
    // A week and 30 days containing a switch lose (or gain) that hour.
    let (s, e) = resolve_in(
        ThisWeek,
        "2026-03-26T12:00:00Z",
        Tz::Europe__Berlin,
        Weekday::Mon,
    );
    assert_eq!(
        (s, e),
        (t("2026-03-22T23:00:00Z"), t("2026-03-29T22:00:00Z"))
    );
    assert_eq!(e - s, Duration::days(7) - Duration::hours(1));
    let (s, e) = resolve_in(
        Last30Days,
        "2026-04-10T12:00:00Z",
        Tz::Europe__Berlin,
        Weekday::Mon,
    );
    assert_eq!(
        (s, e),
        (t("2026-03-11T23:00:00Z"), t("2026-04-10T22:00:00Z"))
    );
    assert_eq!(e - s, Duration::days(30) - Duration::hours(1));
    let oct = TimeRange::from_key("2026-10-01..2026-10-31").unwrap();
    check(
        oct,
        "2026-11-26T10:00:00Z",
        Tz::Europe__Berlin,
        "2026-09-30T22:00:00Z",
        "2026-10-31T23:00:00Z",
    );
}

#[test]
fn skipped_midnight_starts_the_day_when_the_clocks_jump() {
    use chrono::{LocalResult, TimeZone};
    // Chile springs forward at 00:00 (-04) on the first Sunday of September: 6 Sep 2026 has no
    // 00:00..00:59, its first instant is 04:00 UTC = 01:00 -03.
    let santiago = Tz::America__Santiago;
    let midnight = d(2026, 9, 6).and_hms_opt(0, 0, 0).unwrap();
    assert_eq!(santiago.from_local_datetime(&midnight), LocalResult::None);
    assert_eq!(
        TzZone(santiago).midnight_utc(d(2026, 9, 6)),
        t("2026-09-06T04:00:00Z")
    );
    check(
        Preset::Today,
        "2026-09-06T15:00:00Z",
        santiago,
        "2026-09-06T04:00:00Z",
        "2026-09-07T03:00:00Z",
    );
    check(
        Preset::Yesterday,
        "2026-09-07T15:00:00Z",
        santiago,
        "2026-09-06T04:00:00Z",
        "2026-09-07T03:00:00Z",
    );
    check(
        Preset::Yesterday,
        "2026-09-06T15:00:00Z",
        santiago,
        "2026-09-05T04:00:00Z",
        "2026-09-06T04:00:00Z",
    );

    // Lebanon does the same on the last Sunday of March: 29 Mar 2026 starts at 01:00 +03.
    let beirut = Tz::Asia__Beirut;
    let midnight = d(2026, 3, 29).and_hms_opt(0, 0, 0).unwrap();
    assert_eq!(beirut.from_local_datetime(&midnight), LocalResult::None);
    check(
        Preset::Today,
        "2026-03-29T12:00:00Z",
        beirut,
        "2026-03-28T22:00:00Z",
        "2026-03-29T21:00:00Z",
    );
}

#[test]
fn repeated_midnight_takes_the_earlier_instant() {
    use chrono::TimeZone;
    // Cuba falls back from 01:00 CDT to 00:00 CST on 1 Nov 2026: midnight happens twice.
    let havana = Tz::America__Havana;
    let midnight = d(2026, 11, 1).and_hms_opt(0, 0, 0).unwrap();
    assert!(matches!(
        havana.from_local_datetime(&midnight),
        chrono::LocalResult::Ambiguous(..)
    ));
    check(
        Preset::Today,
        "2026-11-01T12:00:00Z",
        havana,
        "2026-11-01T04:00:00Z",
        "2026-11-02T05:00:00Z",
    );
    // And the previous day ends where this one starts: no gap, no overlap between days.
    check(
        Preset::Yesterday,
        "2026-11-01T12:00:00Z",
        havana,
        "2026-10-31T04:00:00Z",
        "2026-11-01T04:00:00Z",
    );
}

#[test]
fn week_start_monday_or_sunday() {
    let z = Tz::UTC;
    let week = |now: &str, start| resolve_in(Preset::ThisWeek, now, z, start);
    let sunday = "2026-11-29T12:00:00Z";
    let monday = "2026-11-30T12:00:00Z";
    // Monday weeks: Sunday is the last day of its week; Monday the first of the next.
    assert_eq!(
        week(sunday, Weekday::Mon),
        (t("2026-11-23T00:00:00Z"), t("2026-11-30T00:00:00Z"))
    );
    assert_eq!(
        week(monday, Weekday::Mon),
        (t("2026-11-30T00:00:00Z"), t("2026-12-07T00:00:00Z"))
    );
    // Sunday weeks: both days are in the week that starts on the Sunday.
    assert_eq!(
        week(sunday, Weekday::Sun),
        (t("2026-11-29T00:00:00Z"), t("2026-12-06T00:00:00Z"))
    );
    assert_eq!(
        week(monday, Weekday::Sun),
        (t("2026-11-29T00:00:00Z"), t("2026-12-06T00:00:00Z"))
    );
    assert_eq!(DEFAULT_WEEK_START, Weekday::Mon);
    // Non-week presets ignore the week start.
    for p in [Preset::Today, Preset::ThisMonth, Preset::Last30Days] {
        assert_eq!(
            resolve_in(p, sunday, z, Weekday::Mon),
            resolve_in(p, sunday, z, Weekday::Sun)
        );
    }
}

#[test]
fn keys_round_trip_for_every_range() {
    let mut ranges: Vec<TimeRange> = Preset::ALL.into_iter().map(TimeRange::Preset).collect();
    ranges.push(TimeRange::custom(d(2026, 10, 1), d(2026, 10, 31)).unwrap());
    ranges.push(TimeRange::custom(d(2028, 2, 29), d(2028, 2, 29)).unwrap());
    ranges.push(TimeRange::custom(d(1970, 1, 1), d(9999, 12, 31)).unwrap());
    for r in &ranges {
        assert_eq!(TimeRange::from_key(&r.to_key()).as_ref(), Ok(r));
        // serde uses the key too.
        let json = serde_json::to_string(r).unwrap();
        assert_eq!(json, format!("\"{}\"", r.to_key()));
        assert_eq!(&serde_json::from_str::<TimeRange>(&json).unwrap(), r);
    }
    let keys: Vec<&str> = Preset::ALL.iter().map(|p| p.key()).collect();
    assert_eq!(
        keys,
        [
            "today",
            "yesterday",
            "this_week",
            "this_month",
            "last_month",
            "30d",
            "90d",
            "this_year",
            "last_year",
            "all"
        ]
    );
    assert_eq!(ranges[10].to_key(), "2026-10-01..2026-10-31");
    assert_eq!(ranges[10].label(), "1 Oct 2026 – 31 Oct 2026");
    assert_eq!(ranges[11].label(), "29 Feb 2028");
    assert_eq!(
        TimeRange::Preset(Preset::LastMonth).to_string(),
        "Last Month"
    );
}

#[test]
fn bad_keys_are_rejected_with_a_clear_message() {
    let err = |key: &str| TimeRange::from_key(key).unwrap_err();
    assert_eq!(
        err("2026-13-01..x"),
        RangeKeyError::BadDate("2026-13-01".into())
    );
    assert_eq!(
        err("2026-13-01..x").to_string(),
        "time range date \"2026-13-01\" is not a calendar date written YYYY-MM-DD"
    );
    assert_eq!(err("2026-10-01..x"), RangeKeyError::BadDate("x".into()));
    assert_eq!(
        err("2026-10-31..2026-10-01").to_string(),
        "time range ends (2026-10-01) before it starts (2026-10-31)"
    );
    // Only the canonical spelling is a key.
    for bad in [
        "2026-1-05..2026-01-06",
        "+2026-01-05..2026-01-06",
        "2026-02-30..2026-03-01",
    ] {
        assert!(matches!(err(bad), RangeKeyError::BadDate(_)), "{bad}");
    }
    assert!(matches!(
        err("2026-10-01..2026-10-02..2026-10-03"),
        RangeKeyError::BadDate(_)
    ));
    for bad in ["", "30D", "last30", "2026-10-01"] {
        let e = err(bad);
        assert!(matches!(e, RangeKeyError::UnknownKey(_)), "{bad}");
        assert!(e.to_string().contains("expected one of all, today"), "{e}");
    }
    assert!(serde_json::from_str::<TimeRange>("\"2026-10-31..2026-10-01\"").is_err());
    assert!(serde_json::from_str::<Preset>("\"2026-10-01..2026-10-31\"").is_err());
    assert_eq!(
        serde_json::from_str::<Preset>("\"90d\"").unwrap(),
        Preset::Last90Days
    );
}

#[test]
fn describe_names_the_days_and_the_zone() {
    let berlin = TzZone(Tz::Europe__Berlin);
    let now = t("2026-11-25T12:00:00Z");
    let month = TimeRange::Preset(Preset::ThisMonth);
    assert_eq!(
        month.describe(now, &berlin, Weekday::Mon).as_deref(),
        Some("1 Nov 2026 – 30 Nov 2026 (Europe/Berlin)")
    );
    assert_eq!(
        TimeRange::Preset(Preset::Today)
            .describe(now, &UtcZone, Weekday::Mon)
            .as_deref(),
        Some("25 Nov 2026 (UTC)")
    );
    assert_eq!(
        TimeRange::Preset(Preset::AllTime).describe(now, &berlin, Weekday::Mon),
        None
    );
}

#[test]
fn extreme_custom_dates_resolve_without_panicking() {
    let r = TimeRange::Custom {
        start: NaiveDate::MAX,
        end: NaiveDate::MIN,
    };
    let (s, e) = r
        .resolve(t("2026-11-26T10:00:00Z"), &UtcZone, Weekday::Mon)
        .unwrap();
    assert!(s < e);
    for p in Preset::ALL {
        let _ = TimeRange::Preset(p).resolve(DateTime::<Utc>::MIN_UTC, &UtcZone, Weekday::Sun);
        let _ = TimeRange::Preset(p).resolve(DateTime::<Utc>::MAX_UTC, &UtcZone, Weekday::Sun);
    }
}
