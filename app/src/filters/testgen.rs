//! Random filters and events from one small vocabulary, for the round-trip and store property tests.
//!
//! A vocabulary this small makes most conditions hit some events; it holds the characters that
//! break naive implementations: `|`, `\`, `:`, `%`, `_`, mixed case and non-ASCII letters.

use serde_json::{Map, Value, json};

use super::model::{Combine, Condition, Field, Filter, Item, Op};

/// A fixed-seed xorshift generator: no dependency, same sequence on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Text the events carry and the filters look for.
pub const WORDS: &[&str] = &[
    "alpha",
    "Alpha",
    "ALPHA",
    "beta",
    "al",
    "ph",
    "a|b",
    "x\\y",
    "c:d",
    "100%",
    "a_b",
    "a%b",
    "Ünï",
    "ünï",
    "Login",
    "Logout",
    "log",
    "Role Created",
];
pub const IPS: &[&str] = &[
    "10.0.0.1",
    "10.1.2.3",
    "192.168.1.5",
    "2001:db8::1",
    "::ffff:10.0.0.1",
];
pub const CIDRS: &[&str] = &[
    "10.0.0.0/8",
    "10.1.0.0/16",
    "192.168.0.0/16",
    "2001:db8::/32",
    "0.0.0.0/0",
    "::/0",
    "10.0.0.1/32",
];
pub const EMAILS: &[&str] = &[
    "ada@example.com",
    "Ada@Example.com",
    "bob@x.io",
    "a|b@c:d",
    "100%@x_y",
];
/// Parts of emails, for contains / starts with.
const EMAIL_PARTS: &[&str] = &["ada", "EXAMPLE", "@", "%@", "b@c"];
pub const META_KEYS: &[&str] = &["plan", "n", "flag", "a.b", "x-y"];

/// A metadata value of any JSON type (or none).
fn meta_value(rng: &mut Rng) -> Option<Value> {
    Some(match rng.below(8) {
        0 => return None,
        1 => Value::Null,
        2 => json!(rng.below(3) as i64 - 1),
        3 => json!(rng.chance(50)),
        4 if rng.chance(50) => json!(1.5),
        // Above i64: an integer to PostgreSQL, a real to SQLite and serde_json; it has no text.
        4 => json!(u64::MAX),
        5 => json!({"k": "alpha"}),
        _ => json!(rng.pick(WORDS)),
    })
}

/// An event body as JSON (the ingest format), from the vocabulary.
pub fn event_json(rng: &mut Rng, occurred_at_ms: i64) -> Value {
    let word = |rng: &mut Rng| json!(rng.pick(WORDS));
    let maybe = |rng: &mut Rng| {
        if rng.chance(30) {
            Value::Null
        } else {
            json!(rng.pick(WORDS))
        }
    };
    let mut metadata = Map::new();
    for k in META_KEYS {
        if let Some(v) = meta_value(rng) {
            metadata.insert(k.to_string(), v);
        }
    }
    json!({
        "occurred_at": occurred_at_ms,
        "event": word(rng),
        "category": word(rng),
        "action": rng.pick(&["created", "deleted", "log"]),
        "outcome": rng.pick(&["success", "failure"]),
        "actor": {
            "id": word(rng),
            "name": word(rng),
            "type": rng.pick(&["user", "app", "system"]),
            "email": if rng.chance(30) { Value::Null } else { json!(rng.pick(EMAILS)) },
        },
        "target": {"type": maybe(rng), "id": maybe(rng), "name": maybe(rng)},
        "ip": if rng.chance(20) { Value::Null } else { json!(rng.pick(IPS)) },
        "source": maybe(rng),
        "description": maybe(rng),
        "metadata": metadata,
    })
}

/// A random valid condition over every field and operator.
pub fn condition(rng: &mut Rng) -> Condition {
    let field = if rng.chance(20) {
        Field::Metadata(rng.pick(META_KEYS).to_string())
    } else {
        rng.pick(&Field::FIXED).clone()
    };
    let ops: Vec<Op> = Op::ALL
        .into_iter()
        .filter(|o| o.applies_to(&field))
        .collect();
    // IP ranges have the most intricate compilation (a cast, a key range); give them weight.
    let op = if field == Field::Ip && rng.chance(40) {
        Op::InCidr
    } else {
        *rng.pick(&ops)
    };
    let value = |rng: &mut Rng| -> String {
        if op == Op::InCidr {
            return rng.pick(CIDRS).to_string();
        }
        let exact = matches!(op, Op::Is | Op::IsNot | Op::AnyOf | Op::NoneOf);
        match (field.allowed_values(), exact) {
            (Some(allowed), true) => rng.pick(allowed).to_string(),
            _ if field == Field::Ip => rng.pick(IPS).to_string(),
            _ if matches!(field, Field::Metadata(_)) && rng.chance(30) => rng
                .pick(&[
                    "-1",
                    "0",
                    "1",
                    "true",
                    "false",
                    "1.5",
                    "18446744073709551615",
                ])
                .to_string(),
            _ if field == Field::ActorEmail && rng.chance(70) => {
                if exact || rng.chance(50) {
                    rng.pick(EMAILS).to_string()
                } else {
                    rng.pick(EMAIL_PARTS).to_string()
                }
            }
            _ if field == Field::Action && rng.chance(50) => rng
                .pick(&["created", "deleted", "log", "CREATED"])
                .to_string(),
            _ => rng.pick(WORDS).to_string(),
        }
    };
    let values = match op {
        Op::Exists | Op::NotExists => Vec::new(),
        Op::AnyOf | Op::NoneOf => (0..1 + rng.below(3)).map(|_| value(rng)).collect(),
        _ => vec![value(rng)],
    };
    Condition { field, op, values }
}

fn combine(rng: &mut Rng) -> Combine {
    if rng.chance(50) {
        Combine::All
    } else {
        Combine::Any
    }
}

/// A random valid filter: up to 4 items, some of them groups of up to 3 conditions.
pub fn filter(rng: &mut Rng) -> Filter {
    let items = (0..rng.below(5))
        .map(|_| {
            if rng.chance(25) {
                Item::Group {
                    combine: combine(rng),
                    conditions: (0..1 + rng.below(3)).map(|_| condition(rng)).collect(),
                }
            } else {
                Item::Condition(condition(rng))
            }
        })
        .collect();
    Filter {
        combine: combine(rng),
        items,
    }
}
