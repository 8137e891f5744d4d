//! Preset resolution at awkward moments, in real IANA zones (chrono-tz), and URL keys.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use super::zone::TzZone;
use super::*;

/// An instant written `2026-11-26 10:00`, in UTC.
fn t(text: &str) -> DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .unwrap()
        .and_utc()
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
        TimeRange::Preset(Preset::AllTime).resolve(t("2026-11-26 10:00"), &UtcZone, Weekday::Mon),
        None
    );
    assert_eq!(TimeRange::default(), TimeRange::Preset(Preset::Last30Days));
    assert_eq!(TimeRange::default().label(), "Last 30 Days");
}

#[test]
fn every_preset_on_an_ordinary_day_in_utc() {
    use Preset::*;
    let now = "2026-11-26 10:00"; // a Thursday
    let z = Tz::UTC;
    check(Today, now, z, "2026-11-26 00:00", "2026-11-27 00:00");
    check(Yesterday, now, z, "2026-11-25 00:00", "2026-11-26 00:00");
    check(ThisWeek, now, z, "2026-11-23 00:00", "2026-11-30 00:00");
    check(ThisMonth, now, z, "2026-11-01 00:00", "2026-12-01 00:00");
    check(LastMonth, now, z, "2026-10-01 00:00", "2026-11-01 00:00");
    check(Last30Days, now, z, "2026-10-28 00:00", "2026-11-27 00:00");
    check(Last90Days, now, z, "2026-08-29 00:00", "2026-11-27 00:00");
    check(ThisYear, now, z, "2026-01-01 00:00", "2027-01-01 00:00");
    check(LastYear, now, z, "2025-01-01 00:00", "2026-01-01 00:00");
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
    let r = TimeRange::Preset(Preset::Today).resolve(t("2026-11-26 20:00"), &ist, Weekday::Mon);
    assert_eq!(r, Some((t("2026-11-26 18:30"), t("2026-11-27 18:30"))));
}

#[test]
fn month_end_last_month_crosses_into_the_previous_year() {
    use Preset::*;
    let z = Tz::Europe__Berlin;
    let now = "2027-01-31 12:00";
    check(LastMonth, now, z, "2026-11-30 23:00", "2026-12-31 23:00");
    check(ThisMonth, now, z, "2026-12-31 23:00", "2027-01-31 23:00");
    // 31 March: last month is a 28-day February; the DST switch on the 29th moved midnight.
    let now = "2026-03-31 12:00";
    check(LastMonth, now, z, "2026-01-31 23:00", "2026-02-28 23:00");
    check(ThisMonth, now, z, "2026-02-28 23:00", "2026-03-31 22:00");
}

#[test]
fn year_end_in_auckland_is_already_next_year() {
    use Preset::*;
    let z = Tz::Pacific__Auckland; // NZDT, UTC+13
    let now = "2026-12-31 11:30"; // 00:30 on 1 Jan 2027 in Auckland
    check(Today, now, z, "2026-12-31 11:00", "2027-01-01 11:00");
    check(Yesterday, now, z, "2026-12-30 11:00", "2026-12-31 11:00");
    check(ThisYear, now, z, "2026-12-31 11:00", "2027-12-31 11:00");
    check(LastYear, now, z, "2025-12-31 11:00", "2026-12-31 11:00");
    check(LastMonth, now, z, "2026-11-30 11:00", "2026-12-31 11:00");
    // The same instant is still 2026 in UTC.
    check(
        ThisYear,
        now,
        Tz::UTC,
        "2026-01-01 00:00",
        "2027-01-01 00:00",
    );
}

#[test]
fn year_end_in_los_angeles_is_still_last_year() {
    use Preset::*;
    let z = Tz::America__Los_Angeles; // PST, UTC-8
    let now = "2027-01-01 07:59"; // 23:59 on 31 Dec 2026 in Los Angeles
    check(Today, now, z, "2026-12-31 08:00", "2027-01-01 08:00");
    check(ThisYear, now, z, "2026-01-01 08:00", "2027-01-01 08:00");
    check(ThisMonth, now, z, "2026-12-01 08:00", "2027-01-01 08:00");
    check(LastYear, now, z, "2025-01-01 08:00", "2026-01-01 08:00");
    // A minute later it is 2027 there too.
    check(
        ThisYear,
        "2027-01-01 08:00",
        z,
        "2027-01-01 08:00",
        "2028-01-01 08:00",
    );
}

#[test]
fn leap_days() {
    use Preset::*;
    let z = Tz::Europe__Berlin;
    let now = "2028-02-29 12:00";
    check(ThisMonth, now, z, "2028-01-31 23:00", "2028-02-29 23:00");
    check(Today, now, z, "2028-02-28 23:00", "2028-02-29 23:00");
    // 30 days counting 10 March reach back to 10 February over a 29-day February.
    let days = Last30Days.days(d(2028, 3, 10), Weekday::Mon);
    assert_eq!(days, Some((d(2028, 2, 10), d(2028, 3, 10))));
    check(
        Last30Days,
        "2028-03-10 12:00",
        Tz::UTC,
        "2028-02-10 00:00",
        "2028-03-11 00:00",
    );
    check(
        LastMonth,
        "2028-03-15 12:00",
        Tz::UTC,
        "2028-02-01 00:00",
        "2028-03-01 00:00",
    );
    // Last year seen from 28 Feb 2029 is the whole 366-day 2028.
    let (start, end) = resolve_in(LastYear, "2029-02-28 12:00", Tz::UTC, Weekday::Mon);
    assert_eq!((start, end), (t("2028-01-01 00:00"), t("2029-01-01 00:00")));
    assert_eq!(end - start, Duration::days(366));
    let leap_day = TimeRange::custom(d(2028, 2, 29), d(2028, 2, 29)).unwrap();
    check(
        leap_day,
        now,
        Tz::UTC,
        "2028-02-29 00:00",
        "2028-03-01 00:00",
    );
}

#[test]
fn dst_days_are_23_and_25_hours_long() {
    use Preset::*;
    let cases = [
        (
            Tz::Europe__Berlin,
            "2026-03-29 12:00",
            "2026-03-28 23:00",
            "2026-03-29 22:00",
            23,
        ),
        (
            Tz::Europe__Berlin,
            "2026-10-25 12:00",
            "2026-10-24 22:00",
            "2026-10-25 23:00",
            25,
        ),
        (
            Tz::America__New_York,
            "2026-03-08 12:00",
            "2026-03-08 05:00",
            "2026-03-09 04:00",
            23,
        ),
        (
            Tz::America__New_York,
            "2026-11-01 12:00",
            "2026-11-01 04:00",
            "2026-11-02 05:00",
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
        "2026-03-30 12:00",
        Tz::Europe__Berlin,
        "2026-03-28 23:00",
        "2026-03-29 22:00",
    );
    // A week and 30 days containing a switch lose (or gain) that hour.
    let (s, e) = resolve_in(
        ThisWeek,
        "2026-03-26 12:00",
        Tz::Europe__Berlin,
        Weekday::Mon,
    );
    assert_eq!((s, e), (t("2026-03-22 23:00"), t("2026-03-29 22:00")));
    assert_eq!(e - s, Duration::days(7) - Duration::hours(1));
    let (s, e) = resolve_in(
        Last30Days,
        "2026-04-10 12:00",
        Tz::Europe__Berlin,
        Weekday::Mon,
    );
    assert_eq!((s, e), (t("2026-03-11 23:00"), t("2026-04-10 22:00")));
    assert_eq!(e - s, Duration::days(30) - Duration::hours(1));
    let oct = TimeRange::from_key("2026-10-01..2026-10-31").unwrap();
    check(
        oct,
        "2026-11-26 10:00",
        Tz::Europe__Berlin,
        "2026-09-30 22:00",
        "2026-10-31 23:00",
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
        t("2026-09-06 04:00")
    );
    check(
        Preset::Today,
        "2026-09-06 15:00",
        santiago,
        "2026-09-06 04:00",
        "2026-09-07 03:00",
    );
    check(
        Preset::Yesterday,
        "2026-09-07 15:00",
        santiago,
        "2026-09-06 04:00",
        "2026-09-07 03:00",
    );
    check(
        Preset::Yesterday,
        "2026-09-06 15:00",
        santiago,
        "2026-09-05 04:00",
        "2026-09-06 04:00",
    );

    // Lebanon does the same on the last Sunday of March: 29 Mar 2026 starts at 01:00 +03.
    let beirut = Tz::Asia__Beirut;
    let midnight = d(2026, 3, 29).and_hms_opt(0, 0, 0).unwrap();
    assert_eq!(beirut.from_local_datetime(&midnight), LocalResult::None);
    check(
        Preset::Today,
        "2026-03-29 12:00",
        beirut,
        "2026-03-28 22:00",
        "2026-03-29 21:00",
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
        "2026-11-01 12:00",
        havana,
        "2026-11-01 04:00",
        "2026-11-02 05:00",
    );
    // And the previous day ends where this one starts: no gap, no overlap between days.
    check(
        Preset::Yesterday,
        "2026-11-01 12:00",
        havana,
        "2026-10-31 04:00",
        "2026-11-01 04:00",
    );
}

#[test]
fn week_start_monday_or_sunday() {
    let z = Tz::UTC;
    let week = |now: &str, start| resolve_in(Preset::ThisWeek, now, z, start);
    let sunday = "2026-11-29 12:00";
    let monday = "2026-11-30 12:00";
    // Monday weeks: Sunday is the last day of its week; Monday the first of the next.
    assert_eq!(
        week(sunday, Weekday::Mon),
        (t("2026-11-23 00:00"), t("2026-11-30 00:00"))
    );
    assert_eq!(
        week(monday, Weekday::Mon),
        (t("2026-11-30 00:00"), t("2026-12-07 00:00"))
    );
    // Sunday weeks: both days are in the week that starts on the Sunday.
    assert_eq!(
        week(sunday, Weekday::Sun),
        (t("2026-11-29 00:00"), t("2026-12-06 00:00"))
    );
    assert_eq!(
        week(monday, Weekday::Sun),
        (t("2026-11-29 00:00"), t("2026-12-06 00:00"))
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
fn describe_names_the_days_and_the_zone() {
    let berlin = TzZone(Tz::Europe__Berlin);
    let now = t("2026-11-25 12:00");
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
        .resolve(t("2026-11-26 10:00"), &UtcZone, Weekday::Mon)
        .unwrap();
    assert!(s < e);
    for p in Preset::ALL {
        let _ = TimeRange::Preset(p).resolve(DateTime::<Utc>::MIN_UTC, &UtcZone, Weekday::Sun);
        let _ = TimeRange::Preset(p).resolve(DateTime::<Utc>::MAX_UTC, &UtcZone, Weekday::Sun);
    }
}

#[test]
fn presets_fit_together_every_7_hours_for_two_years_in_awkward_zones() {
    use Preset::*;
    // Every 7 hours (so the time of day drifts) through 2026-2027, in zones with 1-hour and
    // 30-minute DST, skipped and repeated midnights, and both sides of the date line.
    let zones = [
        Tz::Europe__Berlin,
        Tz::America__New_York,
        Tz::America__Santiago,
        Tz::Asia__Beirut,
        Tz::America__Havana,
        Tz::Pacific__Auckland,
        Tz::Australia__Lord_Howe,
        Tz::Asia__Kolkata,
    ];
    for zone in zones {
        let mut now = t("2026-01-01 00:00");
        while now < t("2028-01-01 00:00") {
            for week_start in [Weekday::Mon, Weekday::Sun] {
                let r = |p: Preset| {
                    TimeRange::Preset(p)
                        .resolve(now, &TzZone(zone), week_start)
                        .unwrap()
                };
                let ctx = format!("{now} in {zone}, weeks from {week_start}");
                for p in [Today, ThisWeek, ThisMonth, ThisYear, Last30Days, Last90Days] {
                    let (start, end) = r(p);
                    assert!(start <= now && now < end, "{p:?} misses {ctx}");
                }
                // Consecutive periods meet exactly: no gap, no overlap.
                assert_eq!(r(Yesterday).1, r(Today).0, "{ctx}");
                assert_eq!(r(LastMonth).1, r(ThisMonth).0, "{ctx}");
                assert_eq!(r(LastYear).1, r(ThisYear).0, "{ctx}");
                assert_eq!(r(Last30Days).1, r(Today).1, "{ctx}");
                let day = r(Today).1 - r(Today).0;
                assert!(
                    day >= Duration::hours(23) && day <= Duration::hours(25),
                    "{ctx}"
                );
            }
            now += Duration::hours(7);
        }
    }
}
