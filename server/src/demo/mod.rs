//! Demo data: a deterministic generator of realistic audit events, shaped as the ingest API's JSON.
//!
//! `auditlog demo --events N` seeds a database with it so the page looks alive, and the HTTP
//! benchmark uses it for request bodies. The same seed and `now` always give the same events, so
//! benchmark runs compare like with like and a demo database can be rebuilt exactly.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, SecondsFormat, Utc, Weekday};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// How many days before `now` events may lie.
const SPAN_DAYS: u64 = 400;
const USERS: usize = 200;
/// Chance that any event other than "Login Failed" fails; with those, about 3% of all events.
const FAILURE_RATE: f64 = 0.02;
/// Weight of "some user" against the app and system actors' weights in `BOTS` (about 12 in all).
const USER_WEIGHT: f64 = 88.0;

mod data;

use data::*;

/// Cumulative weights, to draw an index in proportion to its weight.
struct Weighted(Vec<f64>);

impl Weighted {
    fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut cumulative: Vec<f64> = weights.into_iter().collect();
        for i in 1..cumulative.len() {
            cumulative[i] += cumulative[i - 1];
        }
        Self(cumulative)
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        let x = rng.r#gen::<f64>() * self.0.last().copied().unwrap_or(0.0);
        let i = self.0.partition_point(|&c| c <= x);
        i.min(self.0.len().saturating_sub(1))
    }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn hex(rng: &mut StdRng) -> String {
    format!("{:016x}", rng.r#gen::<u64>())
}

/// A stable, id-like hash (FNV-1a) of a target's name, so an entity keeps its id across events.
fn stable_id(prefix: &str, name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{prefix}_{:08x}", h >> 32)
}

/// An address in the `a.b.0.0/16` network.
fn host(rng: &mut StdRng, [a, b]: [u8; 2]) -> String {
    let (c, d) = (rng.gen_range(0..=255), rng.gen_range(1..=254));
    format!("{a}.{b}.{c}.{d}")
}

/// A public-looking address: private, loopback, CGNAT and link-local first octets are skipped.
fn public_ip(rng: &mut StdRng) -> String {
    if rng.gen_bool(0.15) {
        let [a, b, c, d] = [0; 4].map(|_| rng.gen_range(1..=0xffff_u32));
        return format!("2a02:{a:x}:{b:x}:{c:x}::{d:x}");
    }
    loop {
        let a = rng.gen_range(23..=223_u8);
        if ![100, 127, 169, 172, 192].contains(&a) {
            let b = rng.r#gen();
            return host(rng, [a, b]);
        }
    }
}

struct User {
    id: String,
    name: String,
    email: String,
    ips: Vec<String>,
    ua: S,
    mobile_ua: Option<S>,
}

/// Generates audit events from a fixed cast of users, apps and system jobs.
pub struct Generator {
    rng: StdRng,
    now: DateTime<Utc>,
    first_day: NaiveDate,
    users: Vec<User>,
    /// Zipf-like: a few users do most of the work.
    user_pick: Weighted,
    /// Index 0 is "a user"; `i` is `BOTS[i - 1]`.
    actor_pick: Weighted,
    kind_pick: Weighted,
    day_pick: Weighted,
    hour_pick: Weighted,
}

impl Generator {
    /// `now` = the newest possible occurred_at; events spread over the 400 days before it.
    pub fn new(seed: u64, now: DateTime<Utc>) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut emails = HashSet::new();
        let mut users = Vec::with_capacity(USERS);
        for i in 0..USERS {
            let (first, last) = (*pick(&mut rng, FIRST), *pick(&mut rng, LAST));
            let domain = pick(&mut rng, DOMAINS);
            let mut email = format!("{first}.{last}@{domain}").to_lowercase();
            if !emails.insert(email.clone()) {
                // Namesakes get a numbered address, as mail admins do.
                email = email.replacen('@', &format!("{}@", i + 1), 1);
            }
            let ips = (0..rng.gen_range(1..=2)).map(|_| public_ip(&mut rng));
            users.push(User {
                id: format!("usr_{:04}{}", i + 1, char::from(b'a' + (i % 26) as u8)),
                name: format!("{first} {last}"),
                email,
                ips: ips.collect(),
                ua: pick::<&str>(&mut rng, DESKTOP_UAS),
                mobile_ua: rng.gen_bool(0.4).then(|| *pick(&mut rng, MOBILE_UAS)),
            });
        }
        // Shuffle who is busiest, so activity does not simply follow id order.
        let mut ranks: Vec<usize> = (1..=USERS).collect();
        ranks.shuffle(&mut rng);
        let today = now.date_naive();
        let first_day = today
            .checked_sub_days(Days::new(SPAN_DAYS - 1))
            .unwrap_or(today);
        let days = first_day.iter_days().take(SPAN_DAYS as usize).enumerate();
        let day_weights: Vec<f64> = days
            .map(|(i, day)| {
                let rhythm = match day.weekday() {
                    Weekday::Sat => 0.2,
                    Weekday::Sun => 0.15,
                    _ => 1.0,
                };
                // Slow growth toward today, and day-to-day noise so the histogram looks lived in.
                let growth = 0.6 + 0.4 * i as f64 / SPAN_DAYS as f64;
                growth * rhythm * rng.gen_range(0.8..1.2)
            })
            .collect();
        let bots = BOTS.iter().map(|b| b.weight);
        Self {
            rng,
            now,
            first_day,
            users,
            user_pick: Weighted::new(ranks.iter().map(|&r| 1.0 / r as f64)),
            actor_pick: Weighted::new(std::iter::once(USER_WEIGHT).chain(bots)),
            kind_pick: Weighted::new(KINDS.iter().map(|k| k.3)),
            day_pick: Weighted::new(day_weights),
            hour_pick: Weighted::new(HOURS),
        }
    }

    /// One event as the ingest API takes it (a JSON object).
    pub fn next_event(&mut self) -> Value {
        let rng = &mut self.rng;
        let actor_idx = self.actor_pick.sample(rng);
        let (kind, actor, ip, ua, source, system, user_idx);
        if let Some(bot) = actor_idx.checked_sub(1).and_then(|i| BOTS.get(i)) {
            let name = pick(rng, bot.events);
            kind = KINDS.iter().find(|k| k.0 == *name).unwrap_or(&KINDS[0]);
            actor = json!({"id": bot.id, "name": bot.name, "type": bot.kind});
            (ip, ua, user_idx) = (host(rng, bot.net), bot.ua, None);
            source = Some(bot.source).filter(|s| !s.is_empty());
            system = bot.kind == "system";
        } else {
            let i = self.user_pick.sample(rng);
            let u = &self.users[i];
            kind = &KINDS[self.kind_pick.sample(rng)];
            actor = json!({"id": u.id, "name": u.name, "type": "user", "email": u.email});
            // Now and then a user works from a café or a phone hotspot.
            let roaming = rng.gen_bool(0.05);
            ip = if roaming {
                public_ip(rng)
            } else {
                pick(rng, &u.ips).clone()
            };
            ua = u.mobile_ua.filter(|_| rng.gen_bool(0.2)).unwrap_or(u.ua);
            (source, system, user_idx) = (None, false, Some(i));
        }
        let &(event, category, action, _, target_type, verb, done) = kind;

        let target = match target_type {
            "" => None,
            "user" => {
                // Someone other than the actor: people do not invite or suspend themselves.
                let n = self.users.len();
                let j = match user_idx {
                    Some(i) => i + rng.gen_range(1..n),
                    None => rng.gen_range(0..n),
                };
                let u = &self.users[j % n];
                Some((u.id.clone(), u.name.clone()))
            }
            t => {
                let (prefix, names) = pool(t);
                let name = *pick(rng, names);
                Some((stable_id(prefix, name), name.to_string()))
            }
        };
        let login_failed = event == "Login Failed";
        // An access check can only be denied; other actions fail for the usual mix of reasons.
        let reasons = match category {
            _ if login_failed => BAD_LOGINS,
            "Access" => &FAILURES[..1],
            _ => FAILURES,
        };
        let failure = (login_failed || rng.gen_bool(FAILURE_RATE)).then(|| *pick(rng, reasons));
        let name = target.as_ref().map(|(_, name)| name.as_str());
        let mut metadata = metadata(rng, kind, name.unwrap_or(""), failure.is_some(), system);
        let changes = changes(rng, event);
        // Metadata describes the state after the change, so it must agree with `changes.*.new`.
        for (field, change) in changes.iter().flat_map(|c| c.as_object()).flatten() {
            if metadata.get(field).is_some() {
                metadata[field] = change["new"].clone();
            }
        }
        let who = actor["name"].as_str().unwrap_or_default();
        let quoted = name.map(|n| format!(" \"{n}\"")).unwrap_or_default();
        let description = match failure {
            Some((reason, code)) => {
                metadata["error_code"] = json!(code);
                format!("{who} failed to {verb}{quoted}: {reason}")
            }
            None => format!("{who} {done}{quoted}"),
        };
        let at = self.occurred_at(system);

        let mut out = json!({
            "occurred_at": at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "event": event, "category": category, "action": action,
            "outcome": if failure.is_some() { "failure" } else { "success" },
            "actor": actor, "ip": ip, "user_agent": ua,
            "source": source.unwrap_or_else(|| source_for(category)),
            "description": description, "metadata": metadata,
        });
        if let Some((id, name)) = target {
            out["target"] = json!({"type": target_type, "id": id, "name": name});
        }
        if let Some(changes) = changes {
            out["changes"] = changes;
        }
        out
    }

    /// A time in the window, following the weekly and daily rhythm; never after `now`.
    /// System jobs run around the clock; people and their tools follow the working day.
    fn occurred_at(&mut self, any_hour: bool) -> DateTime<Utc> {
        let rng = &mut self.rng;
        // Today's later hours are still in the future, so a few draws may need repeating.
        for _ in 0..16 {
            let day = Days::new(self.day_pick.sample(rng) as u64);
            let hour = if any_hour {
                rng.gen_range(0..24)
            } else {
                self.hour_pick.sample(rng) as u32
            };
            let within_hour = Duration::milliseconds(rng.gen_range(0..3_600_000));
            let start = self.first_day.checked_add_days(day);
            let t = start.and_then(|d| d.and_hms_opt(hour, 0, 0));
            if let Some(t) = t
                .map(|t| t.and_utc() + within_hour)
                .filter(|t| *t <= self.now)
            {
                return t;
            }
        }
        self.now - Duration::milliseconds(rng.gen_range(0..3_600_000))
    }
}

/// Category-specific details, the kind a real service attaches to its audit events.
fn metadata(rng: &mut StdRng, kind: &Kind, target: &str, failed: bool, system: bool) -> Value {
    let env = *pick(rng, &["production", "production", "staging", "development"]);
    let mut m = match kind.1 {
        "Authentication" => json!({
            "method": pick(rng, &["sso", "sso", "password", "passkey"]), "mfa": rng.gen_bool(0.7),
        }),
        "Access" => json!({
            "permission": if kind.2 == "read" { "read" } else { pick(rng, &["read", "write"]) },
            "decision": if failed { "deny" } else { "allow" }, "latency_ms": rng.gen_range(2..40),
        }),
        "Roles" => json!({
            "permissions_count": rng.gen_range(3..40),
            "scope": pick(rng, &["workspace", "organization"]),
        }),
        "API Keys" => {
            let scopes = &["events:write", "events:read", "models:deploy"][..rng.gen_range(1..=3)];
            json!({
                "key_prefix": format!("ak_live_{:06x}", rng.gen_range(0..0x100_0000)),
                "scopes": scopes, "expires_in_days": pick(rng, &[30, 90, 365]),
            })
        }
        "Integrations" => json!({
            "provider": target.to_lowercase().replace(' ', "_"),
            "connection_id": format!("con_{}", &hex(rng)[..10]),
        }),
        "Models" => json!({
            "model": target, "environment": env, "replicas": rng.gen_range(1..=8),
            "version": format!("v{}.{}.{}", rng.gen_range(1..5), rng.gen_range(0..20), rng.gen_range(0..10)),
            "region": pick(rng, &["us-east-1", "eu-west-1", "ap-southeast-2"]),
        }),
        "Workflows" => json!({
            "steps": rng.gen_range(2..15), "environment": env,
            "trigger": if system { "schedule" } else { pick(rng, &["manual", "webhook"]) },
        }),
        "Users" => json!({"role": pick(rng, ROLE_NAMES), "via": pick(rng, &["email", "scim"])}),
        "Prompts" => json!({
            "version": rng.gen_range(1..30), "tokens": rng.gen_range(50..4000),
            "visibility": pick(rng, &["private", "team", "workspace"]),
        }),
        "Datasets" => {
            let rows: u64 = rng.gen_range(1_000..5_000_000);
            json!({
                "rows": rows, "size_bytes": rows * rng.gen_range(80..600),
                "format": pick(rng, &["csv", "parquet", "jsonl"]),
            })
        }
        "Guardrails" => json!({
            "policy": target, "mode": pick(rng, &["block", "monitor"]),
            "threshold": f64::from(rng.gen_range(50..95_u8)) / 100.0,
        }),
        _ => json!({"workspace": target}),
    };
    m["request_id"] = json!(format!("req_{}", hex(rng)));
    match (kind.1, failed) {
        ("Authentication", true) => m["attempt"] = json!(rng.gen_range(1..=5)),
        ("Authentication", false) => m["session_id"] = json!(format!("ses_{}", hex(rng))),
        _ => {}
    }
    m
}

/// Old and new values, for the events that edit something.
fn changes(rng: &mut StdRng, event: &str) -> Option<Value> {
    Some(match event {
        "Role Edited" => json!({"description": {
            "old": "Read access to billing", "new": "Read and export access to billing"}}),
        "Role Changed" => json!({"permissions": {
            "old": ["events:read"], "new": ["events:read", "events:export"]}}),
        "User Role Changed" => {
            let old = rng.gen_range(0..ROLE_NAMES.len());
            let new = (old + rng.gen_range(1..ROLE_NAMES.len())) % ROLE_NAMES.len();
            json!({"role": {"old": ROLE_NAMES[old], "new": ROLE_NAMES[new]}})
        }
        "Integration Edited" => json!({"notify_channel": {
            "old": "#alerts", "new": pick(rng, &["#ml-alerts", "#oncall", "#security"])}}),
        "Model Updated" => {
            let old = rng.gen_range(1..8);
            json!({"replicas": {"old": old, "new": old + rng.gen_range(1..4)}})
        }
        "Prompt Updated" => {
            let old = rng.gen_range(1..30);
            json!({"version": {"old": old, "new": old + 1}})
        }
        "Guardrails Edited" => {
            json!({"threshold": {"old": 0.8, "new": pick(rng, &[0.6, 0.7, 0.9])}})
        }
        "Settings Changed" => match rng.gen_range(0..3) {
            0 => json!({"session_timeout_minutes": {"old": 60, "new": 30}}),
            1 => json!({"mfa_required": {"old": false, "new": true}}),
            _ => json!({"ip_allowlist_enabled": {"old": false, "new": true}}),
        },
        "Retention Changed" => {
            json!({"retention_days": {"old": 365, "new": pick(rng, &[90, 180, 400, 730])}})
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::events::model::parse_event;
    use chrono::{TimeZone, Timelike};
    use std::collections::HashMap;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    fn events(seed: u64, n: usize) -> Vec<Value> {
        let mut g = Generator::new(seed, now());
        (0..n).map(|_| g.next_event()).collect()
    }

    fn share(part: usize, whole: usize) -> f64 {
        part as f64 / whole as f64
    }

    #[test]
    fn every_event_passes_the_ingest_validator() {
        for v in events(7, 5000) {
            let e = parse_event(&v, now()).unwrap_or_else(|e| panic!("{e:?}: {v}"));
            assert!(v.get("idempotency_key").is_none());
            let is_user = e.body.actor.kind.as_str() == "user";
            assert_eq!(e.body.actor.email.is_some(), is_user, "{v}");
            let edit = ["Edited", "Changed", "Updated"]
                .iter()
                .any(|s| e.body.event.ends_with(s));
            assert!(edit || e.body.changes.is_none(), "{v}");
        }
    }

    #[test]
    fn same_seed_same_events() {
        assert_eq!(events(42, 300), events(42, 300));
        assert_ne!(events(42, 300), events(43, 300));
    }

    #[test]
    fn bots_only_emit_known_events() {
        for bot in BOTS {
            for name in bot.events {
                assert!(KINDS.iter().any(|k| k.0 == *name), "{}: {name}", bot.name);
            }
        }
    }

    #[test]
    fn outcomes_names_and_categories_are_varied() {
        let evs = events(1, 5000);
        let failures = evs.iter().filter(|v| v["outcome"] == "failure").count();
        let rate = share(failures, evs.len());
        assert!((0.01..0.06).contains(&rate), "failure rate {rate}");
        let distinct = |field: &str| {
            evs.iter()
                .map(|v| v[field].to_string())
                .collect::<HashSet<_>>()
        };
        assert!(distinct("event").len() >= 30, "{:?}", distinct("event"));
        assert_eq!(distinct("category").len(), 12, "{:?}", distinct("category"));
        let mut logins_failed = evs.iter().filter(|v| v["event"] == "Login Failed");
        assert!(logins_failed.clone().count() > 0);
        assert!(logins_failed.all(|v| v["outcome"] == "failure"));
    }

    #[test]
    fn times_follow_the_window_and_the_week() {
        let (mut weekday, mut weekend, mut office) = (0, 0, 0);
        let evs = events(3, 5000);
        for v in &evs {
            let s = v["occurred_at"].as_str().unwrap();
            assert_eq!(s.len(), "2026-11-25T12:00:00.000Z".len(), "{s}");
            let t = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
            assert!(t <= now() && t >= now() - Duration::days(400), "{s}");
            match t.weekday() {
                Weekday::Sat | Weekday::Sun => weekend += 1,
                _ => weekday += 1,
            }
            office += usize::from((8..19).contains(&t.hour()));
        }
        // Per day: five weekdays against two weekend days.
        assert!(
            weekday as f64 / 5.0 > 2.0 * weekend as f64 / 2.0,
            "{weekday} vs {weekend}"
        );
        assert!(share(office, evs.len()) > 0.7, "{office} in working hours");
    }

    #[test]
    fn a_few_users_do_most_of_the_work() {
        let mut per_user: HashMap<String, usize> = HashMap::new();
        for v in events(5, 5000) {
            if v["actor"]["type"] == "user" {
                *per_user.entry(v["actor"]["id"].to_string()).or_default() += 1;
            }
        }
        let mut counts: Vec<usize> = per_user.into_values().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top: usize = counts.iter().take(USERS / 10).sum();
        let total = counts.iter().sum();
        assert!(share(top, total) > 0.35, "top 10% did {top} of {total}");
    }
}
