//! The URL form of a filter: compact, readable, and stable enough to bookmark.
//!
//! ```text
//! join=any                          how top-level items combine (default all; omitted when all)
//! f=event:is:Login                  a condition: field key, operator key, value (last, may hold `:`)
//! f=ip:exists                       operators without a value stop after the operator
//! f=outcome:any_of:success|failure  several values split on `|`; `\|` is a literal `|`, `\\` a `\`
//! f=g1.user.name:contains:ali       a member of group 1 (groups appear where their first member is)
//! g1=any                            how group 1's members combine (default all; omitted when all)
//! ```
//!
//! Percent-encoding is the caller's URL encoder's business; these are the decoded pairs. Pairs with
//! other names are ignored, so a caller can hand over the whole query string.

use super::model::{Combine, Condition, Field, Filter, FilterError, Item, MAX_CONDITIONS, Op};

impl Filter {
    /// The query-string pairs for this filter, in order; [`Filter::from_query`] reads them back.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.combine == Combine::Any {
            out.push(("join".to_string(), "any".to_string()));
        }
        let mut group = 0;
        for item in &self.items {
            match item {
                Item::Condition(c) => out.push(("f".to_string(), encode_condition(None, c))),
                Item::Group {
                    combine,
                    conditions,
                } => {
                    group += 1;
                    if *combine == Combine::Any {
                        out.push((format!("g{group}"), "any".to_string()));
                    }
                    for c in conditions {
                        out.push(("f".to_string(), encode_condition(Some(group), c)));
                    }
                }
            }
        }
        out
    }

    /// Whether a query parameter belongs to the filter's URL form (`f`, `join`, `g1`…`g9999`).
    pub fn is_query_key(key: &str) -> bool {
        key == "f" || key == "join" || is_group_name(key)
    }

    /// Reads a filter from decoded query-string pairs and validates it. Errors name the parameter
    /// (`f`, `join`, `gN`) and, for conditions, which one (1-based, in URL order).
    pub fn from_query(params: &[(String, String)]) -> Result<Filter, FilterError> {
        let mut filter = Filter::default();
        let mut join_seen = false;
        // Group name (`g1`) → index in `filter.items`, in order of first appearance.
        let mut groups: Vec<(String, usize)> = Vec::new();
        let mut group_combines: Vec<(String, Combine)> = Vec::new();
        let mut n = 0;
        for (key, value) in params {
            if key == "join" {
                if join_seen {
                    return Err(FilterError::new("join", "join is given more than once"));
                }
                join_seen = true;
                filter.combine = Combine::parse(value)
                    .ok_or_else(|| FilterError::new("join", "join must be `all` or `any`"))?;
            } else if key == "f" {
                n += 1;
                if n > MAX_CONDITIONS {
                    return Err(FilterError::new(
                        "f",
                        format!("more than {MAX_CONDITIONS} conditions"),
                    ));
                }
                let (group, condition) = decode_condition(n, value)?;
                match group {
                    None => filter.items.push(Item::Condition(condition)),
                    Some(g) => match groups.iter().find(|(name, _)| *name == g) {
                        Some((_, at)) => {
                            if let Item::Group { conditions, .. } = &mut filter.items[*at] {
                                conditions.push(condition);
                            }
                        }
                        None => {
                            groups.push((g, filter.items.len()));
                            filter.items.push(Item::Group {
                                combine: Combine::All,
                                conditions: vec![condition],
                            });
                        }
                    },
                }
            } else if is_group_name(key) {
                if group_combines.iter().any(|(g, _)| g == key) {
                    return Err(FilterError::new(
                        key.as_str(),
                        format!("{key} is given more than once"),
                    ));
                }
                let combine = Combine::parse(value).ok_or_else(|| {
                    FilterError::new(key.as_str(), format!("{key} must be `all` or `any`"))
                })?;
                group_combines.push((key.clone(), combine));
            }
        }
        for (name, combine) in group_combines {
            let Some((_, at)) = groups.iter().find(|(g, _)| *g == name) else {
                return Err(FilterError::new(
                    name.as_str(),
                    format!("{name} names a group without conditions"),
                ));
            };
            if let Item::Group { combine: c, .. } = &mut filter.items[*at] {
                *c = combine;
            }
        }
        filter.validate()?;
        Ok(filter)
    }
}

/// `g` and 1 to 4 digits.
fn is_group_name(s: &str) -> bool {
    s.strip_prefix('g')
        .is_some_and(|d| (1..=4).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

fn encode_condition(group: Option<usize>, c: &Condition) -> String {
    let mut s = match group {
        Some(g) => format!("g{g}."),
        None => String::new(),
    };
    s.push_str(&c.field.key());
    s.push(':');
    s.push_str(c.op.key());
    let listed = matches!(c.op, Op::AnyOf | Op::NoneOf) || c.values.len() > 1;
    if listed {
        s.push(':');
        let escaped: Vec<String> = c
            .values
            .iter()
            .map(|v| v.replace('\\', "\\\\").replace('|', "\\|"))
            .collect();
        s.push_str(&escaped.join("|"));
    } else if let Some(v) = c.values.first() {
        s.push(':');
        s.push_str(v);
    }
    s
}

/// `[gN.]field:op[:value]` → the group name (if any) and the condition (not yet validated).
fn decode_condition(n: usize, text: &str) -> Result<(Option<String>, Condition), FilterError> {
    let err = |msg: String| FilterError::new("f", format!("condition {n}: {msg}"));
    let (group, rest) = match text.split_once('.') {
        Some((g, rest)) if is_group_name(g) => (Some(g.to_string()), rest),
        _ => (None, text),
    };
    let (field_key, rest) = rest
        .split_once(':')
        .ok_or_else(|| err("expected `field:operator[:value]`".into()))?;
    let field = Field::parse(field_key).ok_or_else(|| {
        if field_key.starts_with("metadata.") {
            err("a metadata key is 1 to 64 characters of A-Z, a-z, 0-9, _ . -".into())
        } else {
            err(format!("unknown field `{}`", clip(field_key)))
        }
    })?;
    let (op_key, value) = match rest.split_once(':') {
        Some((o, v)) => (o, Some(v)),
        None => (rest, None),
    };
    let op =
        Op::parse(op_key).ok_or_else(|| err(format!("unknown operator `{}`", clip(op_key))))?;
    let values = match value {
        None => Vec::new(),
        Some(v) if matches!(op, Op::AnyOf | Op::NoneOf) => split_values(v),
        Some(v) => vec![v.to_string()],
    };
    Ok((group, Condition { field, op, values }))
}

/// Splits on unescaped `|`; `\|` and `\\` stand for `|` and `\`, any other `\` is kept as is.
fn split_values(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('|' | '\\')) => cur.push(n),
                Some(n) => {
                    cur.push('\\');
                    cur.push(n);
                }
                None => cur.push('\\'),
            },
            '|' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}
