//! The model's own tests: URL round trip, validation messages, and the reference semantics.

use chrono::Utc;
use serde_json::json;

use super::model::MAX_CONDITIONS;
use super::testgen::{self, Rng};
use super::*;
use crate::events::model::{Event, parse_event};

fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
    q.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn event(v: serde_json::Value) -> Event {
    let new = parse_event(&v, Utc::now()).expect("valid event");
    Event {
        id: 1,
        received_at: new.received_at,
        body: new.body,
    }
}

#[test]
fn url_form_round_trips_for_many_generated_filters() {
    let mut rng = Rng::new(7);
    for _ in 0..2000 {
        let f = testgen::filter(&mut rng);
        f.validate().expect("generated filters are valid");
        let q = f.to_query();
        assert_eq!(Filter::from_query(&q).as_ref(), Ok(&f), "{q:?}");
    }
}

#[test]
fn url_form_is_compact_and_readable() {
    let f = Filter {
        combine: Combine::All,
        items: vec![
            Item::Condition(Condition::new(Field::Event, Op::Is, &["Login: SSO"])),
            Item::Group {
                combine: Combine::Any,
                conditions: vec![
                    Condition::new(Field::ActorName, Op::Contains, &["ali"]),
                    Condition::new(Field::Outcome, Op::AnyOf, &["success", "failure"]),
                ],
            },
            Item::Condition(Condition::new(
                Field::Metadata("plan".into()),
                Op::NoneOf,
                &["a|b", "c\\d"],
            )),
            Item::Condition(Condition::new(Field::Ip, Op::Exists, &[])),
        ],
    };
    assert_eq!(
        f.to_query(),
        pairs(&[
            ("f", "event:is:Login: SSO"),
            ("g1", "any"),
            ("f", "g1.user.name:contains:ali"),
            ("f", "g1.outcome:any_of:success|failure"),
            ("f", "metadata.plan:none_of:a\\|b|c\\\\d"),
            ("f", "ip:exists"),
        ])
    );
    // Other parameters are ignored; groups may be numbered freely and placed where first seen.
    let q = pairs(&[
        ("start", "0"),
        ("f", "g7.user.name:contains:ali"),
        ("join", "any"),
        ("f", "event:is:Login"),
        ("f", "g7.user.id:is:u1"),
        ("g7", "any"),
    ]);
    let parsed = Filter::from_query(&q).unwrap();
    assert_eq!(parsed.combine, Combine::Any);
    assert!(
        matches!(&parsed.items[0], Item::Group { combine: Combine::Any, conditions } if conditions.len() == 2)
    );
    assert_eq!(Filter::from_query(&[]).unwrap(), Filter::default());
}

#[test]
fn bad_filters_name_the_parameter_and_the_problem() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (&[("f", "colour:is:red")], "f", "unknown field `colour`"),
        (&[("f", "event:equals:x")], "f", "unknown operator"),
        (&[("f", "event")], "f", "expected `field:operator"),
        (&[("f", "event:is")], "f", "needs exactly one value"),
        (&[("f", "event:is:")], "f", "must not be empty"),
        (&[("f", "ip:exists:x")], "f", "takes no value"),
        (
            &[("f", "event:in_cidr:10.0.0.0/8")],
            "f",
            "applies to ip only",
        ),
        (
            &[("f", "ip:in_cidr:10.0.0.0/33")],
            "f",
            "not an IPv4 or IPv6 CIDR",
        ),
        (
            &[("f", "outcome:is:maybe")],
            "f",
            "not one of success, failure",
        ),
        (
            &[("f", "user.type:any_of:user|robot")],
            "f",
            "not one of user, app, system",
        ),
        (&[("f", "metadata.a b:is:x")], "f", "metadata key"),
        (&[("f", "metadata.:exists")], "f", "metadata key"),
        (&[("join", "some")], "join", "`all` or `any`"),
        (
            &[("join", "all"), ("join", "any")],
            "join",
            "more than once",
        ),
        (&[("g2", "any")], "g2", "without conditions"),
        (
            &[("f", "g1.event:is:x"), ("g1", "most")],
            "g1",
            "`all` or `any`",
        ),
    ];
    for (q, field, msg) in cases {
        let e = Filter::from_query(&pairs(q)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some(*field), "{q:?}: {e:?}");
        assert!(e.error.contains(msg), "{q:?}: {}", e.error);
    }
    let e = Filter::from_query(&pairs(&[("f", "event:is:a"), ("f", "event:is:")])).unwrap_err();
    assert!(e.error.starts_with("condition 2 (event is)"), "{}", e.error);

    let many = vec![("f".to_string(), "event:is:x".to_string()); MAX_CONDITIONS + 1];
    assert!(Filter::from_query(&many).unwrap_err().error.contains("20"));
    let long = "x".repeat(1025);
    let e = Filter::from_query(&pairs(&[("f", &format!("event:is:{long}"))])).unwrap_err();
    assert!(e.error.contains("limit is 1024"), "{}", e.error);
    let values = vec!["v"; 51].join("|");
    let e = Filter::from_query(&pairs(&[("f", &format!("event:any_of:{values}"))])).unwrap_err();
    assert!(e.error.contains("limit is 50"), "{}", e.error);
}

#[test]
fn negations_match_missing_values_and_contains_ignores_ascii_case() {
    let e = event(json!({
        "event": "Role Created", "category": "Roles", "action": "created",
        "actor": {"id": "u1", "name": "Alice", "type": "user"},
        "ip": "10.1.2.3",
        "metadata": {"plan": "Pro", "n": 3, "flag": true, "obj": {"a": 1}, "nil": null, "r": 1.5}
    }));
    let check =
        |field: Field, op: Op, values: &[&str]| Condition::new(field, op, values).matches(&e);
    // A missing email is "not" anything, but is nothing and contains nothing.
    assert!(check(Field::ActorEmail, Op::IsNot, &["a@b"]));
    assert!(check(Field::ActorEmail, Op::NotContains, &["a"]));
    assert!(check(Field::ActorEmail, Op::NoneOf, &["a", "b"]));
    assert!(check(Field::ActorEmail, Op::NotExists, &[]));
    assert!(!check(Field::ActorEmail, Op::Is, &["a@b"]));
    assert!(!check(Field::ActorEmail, Op::Contains, &["a"]));
    // "is" is exact; contains / starts with ignore ASCII case.
    assert!(!check(Field::ActorName, Op::Is, &["alice"]));
    assert!(check(Field::ActorName, Op::Contains, &["LIC"]));
    assert!(check(Field::ActorName, Op::StartsWith, &["aL"]));
    assert!(!check(Field::ActorName, Op::StartsWith, &["lice"]));
    // Metadata: strings, integers and booleans have text; other values only exist.
    let meta = |k: &str| Field::Metadata(k.into());
    assert!(check(meta("plan"), Op::Is, &["Pro"]));
    assert!(check(meta("n"), Op::Is, &["3"]));
    assert!(check(meta("flag"), Op::Is, &["true"]));
    assert!(check(meta("obj"), Op::Exists, &[]));
    assert!(!check(meta("obj"), Op::Contains, &["a"]));
    assert!(check(meta("r"), Op::IsNot, &["1.5"]));
    assert!(check(meta("nil"), Op::NotExists, &[]));
    assert!(check(meta("absent"), Op::NotExists, &[]));
    // CIDR ranges.
    assert!(check(Field::Ip, Op::InCidr, &["10.0.0.0/8"]));
    assert!(!check(Field::Ip, Op::InCidr, &["10.2.0.0/16"]));

    // Groups: all of (event is Role Created, any of (user is Bob, plan is Pro)).
    let f = Filter::from_query(&pairs(&[
        ("f", "event:is:Role Created"),
        ("g1", "any"),
        ("f", "g1.user.name:is:Bob"),
        ("f", "g1.metadata.plan:is:Pro"),
    ]))
    .unwrap();
    assert!(f.matches(&e));
    let f = Filter::from_query(&pairs(&[
        ("join", "any"),
        ("f", "event:is:x"),
        ("f", "user.id:is:u2"),
    ]))
    .unwrap();
    assert!(!f.matches(&e));
    assert!(Filter::default().matches(&e));
    assert!(
        Filter {
            combine: Combine::Any,
            items: vec![]
        }
        .matches(&e),
        "no conditions match everything, however combined"
    );
}

#[test]
fn field_and_operator_keys_round_trip() {
    for f in Field::FIXED {
        assert_eq!(Field::parse(&f.key()), Some(f.clone()));
        assert!(!f.label().is_empty());
    }
    for o in Op::ALL {
        assert_eq!(Op::parse(o.key()), Some(o));
    }
    use crate::events::model::{ActorKind, Outcome};
    let outcomes = Field::Outcome.allowed_values().unwrap();
    assert!(outcomes.iter().all(|v| Outcome::parse(v).is_some()));
    let kinds = Field::ActorType.allowed_values().unwrap();
    assert!(kinds.iter().all(|v| ActorKind::parse(v).is_some()));
}
