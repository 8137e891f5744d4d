//! The page's view — time range, event name, UTC switch — and its URL form, so that reload,
//! back/forward and a pasted link reproduce what the user saw.

use leptos_router::params::ParamsMap;

use crate::events::query::Sort;
use crate::filters::Filter;
use crate::timerange::TimeRange;

/// What the table shows. Changing it starts again from the newest event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    pub range: TimeRange,
    /// Exact event name.
    pub event: Option<String>,
    /// Show times, and count calendar days, in UTC instead of the browser's zone.
    pub utc: bool,
    /// The conditions built in the filter editor or by clicking values.
    pub filter: Filter,
    /// A window zoomed into on the volume chart, `[from, to)` in epoch ms; it overrides `range`.
    pub window: Option<(i64, i64)>,
    /// Column and direction of the table.
    pub sort: Sort,
    /// Free-text search words.
    pub search: Option<String>,
    /// Hide the configured noisy event types.
    pub quiet: bool,
    /// Follow new events as they arrive (the live tail).
    pub live: bool,
}

impl View {
    /// The page's path; the view is its query string.
    pub const PATH: &'static str = "/settings/audit-logs";

    /// Reads the view from the query string; unknown or malformed values fall back to defaults
    /// (a hand-edited link still opens the page).
    pub fn from_query(map: &ParamsMap) -> Self {
        Self {
            range: map
                .get_str("range")
                .and_then(|k| TimeRange::from_key(k).ok())
                .unwrap_or_default(),
            event: map.get("event").filter(|e| !e.is_empty()),
            utc: map.get_str("tz") == Some("utc"),
            quiet: map.get_str("quiet") == Some("1"),
            live: map.get_str("live") == Some("1"),
            search: map
                .get("q")
                .map(|q| q.trim().to_string())
                .filter(|q| !q.is_empty()),
            sort: map
                .get_str("sort")
                .and_then(|v| Sort::from_param(v).ok())
                .unwrap_or_default(),
            window: match (
                map.get_str("from").and_then(|v| v.parse::<i64>().ok()),
                map.get_str("to").and_then(|v| v.parse::<i64>().ok()),
            ) {
                (Some(from), Some(to)) if from < to => Some((from, to)),
                _ => None,
            },
            filter: {
                let pairs: Vec<(String, String)> = map
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                Filter::from_query(&pairs).unwrap_or_default()
            },
        }
    }

    /// The page URL for this view; defaults are left out so the plain page has a plain URL.
    pub fn to_url(&self) -> String {
        format!("{}{}", Self::PATH, self.query())
    }

    /// The query string of this view, `?` included; empty for the default view.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if self.range != TimeRange::default() {
            parts.push(format!("range={}", encode(&self.range.to_key())));
        }
        if let Some(e) = &self.event {
            parts.push(format!("event={}", encode(e)));
        }
        if self.utc {
            parts.push("tz=utc".to_string());
        }
        if self.quiet {
            parts.push("quiet=1".to_string());
        }
        if self.live {
            parts.push("live=1".to_string());
        }
        if let Some(q) = &self.search {
            parts.push(format!("q={}", encode(q)));
        }
        if self.sort != Sort::default() {
            parts.push(format!("sort={}", encode(&self.sort.to_param())));
        }
        if let Some((from, to)) = self.window {
            parts.push(format!("from={from}&to={to}"));
        }
        for (k, v) in self.filter.to_query() {
            parts.push(format!("{}={}", encode(&k), encode(&v)));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::{Combine, Condition, Field, Item, Op};
    use crate::timerange::Preset;

    fn parse(url: &str) -> View {
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let mut map = ParamsMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let bytes = v.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            map.insert(k.to_string(), String::from_utf8(out).unwrap());
        }
        View::from_query(&map)
    }

    #[test]
    fn the_default_view_has_a_plain_url() {
        assert_eq!(View::default().to_url(), "/settings/audit-logs");
        assert_eq!(parse("/settings/audit-logs"), View::default());
    }

    #[test]
    fn views_round_trip_through_their_url() {
        let views = [
            View {
                range: Preset::Yesterday.into(),
                ..View::default()
            },
            View {
                range: Preset::AllTime.into(),
                event: Some("Login Failed".into()),
                utc: true,
                window: Some((1_764_000_000_000, 1_764_003_600_000)),
                sort: Sort::from_param("-user").unwrap(),
                search: Some("deploy model".into()),
                quiet: true,
                live: true,
                ..View::default()
            },
            View {
                range: TimeRange::from_key("2026-10-01..2026-10-31").unwrap(),
                event: Some("a&b=c%d é".into()),
                filter: Filter {
                    combine: Combine::Any,
                    items: vec![
                        Item::Condition(Condition::new(Field::Event, Op::IsNot, &["Login"])),
                        Item::Group {
                            combine: Combine::All,
                            conditions: vec![
                                Condition::new(Field::ActorName, Op::Contains, &["a:b|c"]),
                                Condition::new(Field::Metadata("plan".into()), Op::Exists, &[]),
                            ],
                        },
                    ],
                },
                ..View::default()
            },
        ];
        for v in views {
            assert_eq!(parse(&v.to_url()), v, "{}", v.to_url());
        }
    }

    #[test]
    fn malformed_values_fall_back_to_defaults() {
        let v = parse("/settings/audit-logs?range=2026-13-01..x&tz=mars&event=");
        assert_eq!(v, View::default());
    }
}
