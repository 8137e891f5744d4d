//! The viewer's time zone, reduced to the two questions range resolution asks of it: what is the
//! UTC offset at an instant, and when does a calendar day begin.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// A time zone as range resolution needs it.
///
/// Implemented for UTC (the server render), fixed offsets, the browser's zone (after hydration)
/// and, in tests, real IANA zones from `chrono-tz`.
pub trait LocalZone {
    /// The zone's offset from UTC at the instant `t`.
    fn offset_at_utc(&self, t: DateTime<Utc>) -> FixedOffset;

    /// The first instant of the local calendar day `day`.
    ///
    /// Usually local 00:00. When a DST gap swallows midnight (clocks jump from 23:59:59 to
    /// 01:00), it is the instant the clocks jump, the first one that belongs to `day`. When an
    /// overlap repeats midnight (clocks fall back from 01:00 to 00:00), it is the earlier 00:00.
    fn midnight_utc(&self, day: NaiveDate) -> DateTime<Utc>;

    /// The zone's name as shown to the viewer ("Europe/Berlin", "UTC", "UTC+05:30").
    fn label(&self) -> String;

    /// The viewer's calendar date at the instant `now`.
    fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.offset_at_utc(now)).date_naive()
    }
}

/// Coordinated Universal Time: what the server renders before the browser's zone is known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UtcZone;

impl LocalZone for UtcZone {
    fn offset_at_utc(&self, _t: DateTime<Utc>) -> FixedOffset {
        use chrono::Offset;
        Utc.fix()
    }

    fn midnight_utc(&self, day: NaiveDate) -> DateTime<Utc> {
        day.and_time(NaiveTime::MIN).and_utc()
    }

    fn label(&self) -> String {
        "UTC".into()
    }
}

/// A zone that is always the same distance from UTC (no DST).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedZone(pub FixedOffset);

impl LocalZone for FixedZone {
    fn offset_at_utc(&self, _t: DateTime<Utc>) -> FixedOffset {
        self.0
    }

    fn midnight_utc(&self, day: NaiveDate) -> DateTime<Utc> {
        local_to_utc(day.and_time(NaiveTime::MIN), self.0)
    }

    fn label(&self) -> String {
        let secs = self.0.local_minus_utc();
        if secs == 0 {
            return "UTC".into();
        }
        let sign = if secs < 0 { '-' } else { '+' };
        let secs = secs.unsigned_abs();
        format!("UTC{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60)
    }
}

/// `local` read with `offset`, as a UTC instant; clamped at the ends of chrono's range rather than
/// panicking, because custom range dates come from URLs.
pub(crate) fn local_to_utc(local: NaiveDateTime, offset: FixedOffset) -> DateTime<Utc> {
    let shift = Duration::seconds(i64::from(offset.local_minus_utc()));
    match local.checked_sub_signed(shift) {
        Some(t) => t.and_utc(),
        None if shift > Duration::zero() => DateTime::<Utc>::MIN_UTC,
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// The browser's own zone, through JavaScript's `Date` (which carries the full IANA rules, DST
/// included), named by `Intl.DateTimeFormat().resolvedOptions().timeZone`.
#[cfg(feature = "hydrate")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserZone {
    name: Option<String>,
}

#[cfg(feature = "hydrate")]
impl BrowserZone {
    /// Reads the browser's zone name once; offsets are asked of `Date` on every call.
    pub fn new() -> Self {
        use wasm_bindgen::JsValue;
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        let name = js_sys::Reflect::get(&options, &JsValue::from_str("timeZone"))
            .ok()
            .and_then(|v| v.as_string());
        Self { name }
    }
}

#[cfg(feature = "hydrate")]
impl Default for BrowserZone {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "hydrate")]
impl LocalZone for BrowserZone {
    fn offset_at_utc(&self, t: DateTime<Utc>) -> FixedOffset {
        use wasm_bindgen::JsValue;
        let d = js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64));
        // getTimezoneOffset is UTC minus local, in (possibly fractional) minutes.
        let west_minutes = d.get_timezone_offset();
        let east_secs = (-west_minutes * 60.0).round();
        if east_secs.is_finite() && east_secs.abs() < 86_400.0 {
            FixedOffset::east_opt(east_secs as i32).unwrap_or_else(|| UtcZone.offset_at_utc(t))
        } else {
            UtcZone.offset_at_utc(t)
        }
    }

    fn midnight_utc(&self, day: NaiveDate) -> DateTime<Utc> {
        use chrono::Datelike;
        // `new Date(y, m, d)` is local midnight, and ECMAScript resolves a skipped local time
        // with the offset from before the gap (landing on the instant clocks jump) and a repeated
        // one with the earlier instant: exactly the rules `midnight_utc` promises. Setting the
        // year separately because the constructor maps years 0..=99 to 1900..=1999.
        let ms = u32::try_from(day.year()).ok().map(|year| {
            let d = js_sys::Date::new_with_year_month_day(2000, 0, 1);
            d.set_full_year_with_month_date(year, day.month0() as i32, day.day() as i32)
        });
        ms.filter(|ms| ms.is_finite())
            .and_then(|ms| DateTime::<Utc>::from_timestamp_millis(ms as i64))
            // Outside JavaScript's date range: fall back to the offset at that day in UTC.
            .unwrap_or_else(|| {
                let naive = day.and_time(NaiveTime::MIN);
                local_to_utc(naive, self.offset_at_utc(naive.and_utc()))
            })
    }

    fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| "Local time".into())
    }
}

/// A real IANA zone, for tests: the DST cases the browser meets, with chrono-tz's data.
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct TzZone(pub chrono_tz::Tz);

#[cfg(test)]
impl LocalZone for TzZone {
    fn offset_at_utc(&self, t: DateTime<Utc>) -> FixedOffset {
        use chrono::Offset;
        t.with_timezone(&self.0).offset().fix()
    }

    fn midnight_utc(&self, day: NaiveDate) -> DateTime<Utc> {
        use chrono::{LocalResult, TimeZone};
        // Walk forward from 00:00 a minute at a time until a local time exists: the first one
        // after a gap is the instant the clocks jumped. Real gaps are whole minutes.
        let start = day.and_time(NaiveTime::MIN);
        for minute in 0..=24 * 60 {
            let local = start + Duration::minutes(minute);
            match self.0.from_local_datetime(&local) {
                LocalResult::Single(t) => return t.with_timezone(&Utc),
                LocalResult::Ambiguous(a, b) => return a.min(b).with_timezone(&Utc),
                LocalResult::None => {}
            }
        }
        panic!("no local time on or after {day} in {}", self.0)
    }

    fn label(&self) -> String {
        self.0.name().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn fixed_zone_midnight_and_label() {
        let ist = FixedZone(FixedOffset::east_opt(5 * 3600 + 1800).unwrap());
        let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(
            ist.midnight_utc(day),
            Utc.with_ymd_and_hms(2026, 11, 24, 18, 30, 0).unwrap()
        );
        assert_eq!(ist.label(), "UTC+05:30");
        assert_eq!(
            FixedZone(FixedOffset::west_opt(3 * 3600).unwrap()).label(),
            "UTC-03:00"
        );
        assert_eq!(FixedZone(FixedOffset::east_opt(0).unwrap()).label(), "UTC");
        assert_eq!(UtcZone.label(), "UTC");
    }

    #[test]
    fn extreme_dates_clamp_instead_of_panicking() {
        let east = FixedZone(FixedOffset::east_opt(14 * 3600).unwrap());
        let west = FixedZone(FixedOffset::west_opt(12 * 3600).unwrap());
        assert_eq!(east.midnight_utc(NaiveDate::MIN), DateTime::<Utc>::MIN_UTC);
        assert!(west.midnight_utc(NaiveDate::MAX) <= DateTime::<Utc>::MAX_UTC);
    }
}
