//! URL keys, labels and serde of time ranges.

use chrono::NaiveDate;

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
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
