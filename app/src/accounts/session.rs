//! Sessions: the cookie, its token, expiry, sign-in throttling, and who is calling.
//!
//! The cookie holds 256 random bits (base64url); the store keeps only their SHA-256. A session
//! ends after `idle` without a request or `absolute` after sign-in, whichever comes first, and at
//! sign-out. The cookie is HttpOnly and SameSite=Strict, and Secure when the server is reached
//! over HTTPS (`SessionConfig::secure`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use http::HeaderMap;
use sha2::{Digest, Sha256};

use super::User;
use crate::store::{Store, StoreError};

/// The session cookie's name over plain HTTP.
pub const COOKIE: &str = "auditlog_session";
/// Its name under HTTPS: the `__Host-` prefix makes browsers refuse it unless it is Secure, has
/// `Path=/` and no `Domain`, so no other host (a sibling subdomain) can set or shadow it.
pub const SECURE_COOKIE: &str = "__Host-auditlog_session";

impl SessionConfig {
    /// The cookie's name under this configuration.
    pub fn cookie(&self) -> &'static str {
        if self.secure { SECURE_COOKIE } else { COOKIE }
    }
}

/// How long sessions last, and how the cookie is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute: Duration,
    /// Mark the cookie Secure (the server is reached over HTTPS).
    pub secure: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(60 * 60),
            absolute: Duration::from_secs(12 * 60 * 60),
            secure: false,
        }
    }
}

/// How often a session's last use is written: at most once a minute, not on every request.
const TOUCH_EVERY_MS: i64 = 60_000;

/// A new session token.
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The session token the request's `Cookie` headers carry under `cfg`'s cookie name, if any.
pub fn token_from(headers: &HeaderMap, cfg: &SessionConfig) -> Option<String> {
    let wanted = cfg.cookie();
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// A request sent by a page of this server, as the browser tells it: `Sec-Fetch-Site`, else
/// `Origin` against `Host`. Forms and server function calls from other sites are refused with it.
pub fn same_origin(headers: &HeaderMap) -> bool {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => match (
            headers
                .get(http::header::ORIGIN)
                .and_then(|v| v.to_str().ok()),
            headers
                .get(http::header::HOST)
                .and_then(|v| v.to_str().ok()),
        ) {
            (Some(origin), Some(host)) => {
                origin
                    .strip_prefix("http://")
                    .or_else(|| origin.strip_prefix("https://"))
                    == Some(host)
            }
            // Neither header: not a browser's cross-site form (those send Origin on POST).
            (None, _) => true,
            _ => false,
        },
    }
}

/// The `Set-Cookie` value that starts a session with `token`.
pub fn set_cookie(token: &str, cfg: &SessionConfig) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        cfg.cookie(),
        cfg.absolute.as_secs(),
        if cfg.secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(cfg: &SessionConfig) -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        cfg.cookie(),
        if cfg.secure { "; Secure" } else { "" }
    )
}

/// The signed-in user of a request, or `None` (no cookie, unknown or expired session; an expired
/// one is deleted).
pub async fn current_user(
    store: &Store,
    headers: &HeaderMap,
    cfg: &SessionConfig,
) -> Result<Option<User>, StoreError> {
    let Some(token) = token_from(headers, cfg) else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    let Some(session) = store.session(&hash).await? else {
        return Ok(None);
    };
    let now = chrono::Utc::now().timestamp_millis();
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    if now - session.last_seen_at >= ms(cfg.idle) || now - session.created_at >= ms(cfg.absolute) {
        store.end_session(&hash).await?;
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY_MS {
        store.touch_session(&hash, now).await?;
    }
    Ok(Some(session.user))
}

/// Slows down guessing: after [`FREE_FAILURES`] failed sign-ins for one name, or from one address,
/// each further attempt must wait twice as long as the last (1 s, 2 s, 4 s … up to
/// [`MAX_WAIT`]); a success clears the name's and the address's count. Kept in memory: a restart
/// forgets it, and each server of several counts its own.
#[derive(Clone, Default)]
pub struct SignInThrottle {
    inner: Arc<Mutex<HashMap<String, (u32, Instant)>>>,
    /// Per name and address, the failure count at which a refused attempt was last recorded.
    noted: Arc<Mutex<HashMap<(String, String), u32>>>,
}

/// Failures allowed before attempts are slowed down.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait between attempts.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

impl SignInThrottle {
    fn keys(name: &str, ip: &str) -> [String; 2] {
        [format!("name:{}", name.to_lowercase()), format!("ip:{ip}")]
    }

    /// `Err(wait)` while an attempt for `name` from `ip` must wait.
    pub fn check(&self, name: &str, ip: &str) -> Result<(), Duration> {
        let map = self.inner.lock().expect("throttle lock");
        let now = Instant::now();
        let mut wait = Duration::ZERO;
        for key in Self::keys(name, ip) {
            if let Some(&(failures, last)) = map.get(&key)
                && failures >= FREE_FAILURES
            {
                let delay =
                    Duration::from_secs(1 << (failures - FREE_FAILURES).min(16)).min(MAX_WAIT);
                wait = wait.max((last + delay).saturating_duration_since(now));
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    /// Whether a refused attempt for `name` from `ip` is the first since the last failure, so
    /// is worth recording: a caller hammering through the wait leaves one record per wait, not one
    /// per attempt.
    pub fn first_refusal(&self, name: &str, ip: &str) -> bool {
        let level = {
            let map = self.inner.lock().expect("throttle lock");
            Self::keys(name, ip)
                .iter()
                .filter_map(|k| map.get(k).map(|(n, _)| *n))
                .max()
                .unwrap_or(0)
        };
        let mut noted = self.noted.lock().expect("throttle lock");
        if noted.len() > 100_000 {
            noted.clear();
        }
        let key = (name.to_lowercase(), ip.to_string());
        if noted.get(&key) == Some(&level) {
            return false;
        }
        noted.insert(key, level);
        true
    }

    pub fn failed(&self, name: &str, ip: &str) {
        let mut map = self.inner.lock().expect("throttle lock");
        let now = Instant::now();
        if map.len() > 100_000 {
            // Forget the quiet ones rather than grow without bound.
            map.retain(|_, (_, last)| now.duration_since(*last) < MAX_WAIT);
        }
        for key in Self::keys(name, ip) {
            let entry = map.entry(key).or_insert((0, now));
            entry.0 += 1;
            entry.1 = now;
        }
    }

    pub fn succeeded(&self, name: &str, ip: &str) {
        let mut map = self.inner.lock().expect("throttle lock");
        for key in Self::keys(name, ip) {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_any_cookie_header() {
        let mut h = HeaderMap::new();
        let cfg = SessionConfig::default();
        assert_eq!(token_from(&h, &cfg), None);
        h.append(
            http::header::COOKIE,
            "a=1; auditlog_session=tok; b=2".parse().unwrap(),
        );
        assert_eq!(token_from(&h, &cfg).as_deref(), Some("tok"));
        // Under HTTPS only the __Host- cookie counts.
        let https = SessionConfig {
            secure: true,
            ..cfg
        };
        assert_eq!(token_from(&h, &https), None);
        let mut h = HeaderMap::new();
        h.append(http::header::COOKIE, "x=1".parse().unwrap());
        h.append(http::header::COOKIE, "auditlog_session=t2".parse().unwrap());
        assert_eq!(token_from(&h, &cfg).as_deref(), Some("t2"));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_under_https() {
        let cfg = SessionConfig::default();
        let c = set_cookie("t", &cfg);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        let c = set_cookie(
            "t",
            &SessionConfig {
                secure: true,
                ..cfg
            },
        );
        assert!(c.starts_with("__Host-auditlog_session=t; Path=/;") && c.ends_with("; Secure"));
        assert!(clear_cookie(&cfg).contains("Max-Age=0"));
        assert_ne!(new_token(), new_token());
        assert_eq!(token_hash("t").len(), 64);
    }

    #[test]
    fn forms_from_other_sites_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(
            "sec-fetch-site",
            http::HeaderValue::from_static("cross-site"),
        );
        assert!(!same_origin(&h));
        h.insert(
            "sec-fetch-site",
            http::HeaderValue::from_static("same-origin"),
        );
        assert!(same_origin(&h));
        let mut h = HeaderMap::new();
        h.insert(
            http::header::HOST,
            http::HeaderValue::from_static("a.test:3000"),
        );
        h.insert(
            http::header::ORIGIN,
            http::HeaderValue::from_static("http://evil.test"),
        );
        assert!(!same_origin(&h));
        h.insert(
            http::header::ORIGIN,
            http::HeaderValue::from_static("http://a.test:3000"),
        );
        assert!(same_origin(&h));
    }

    #[test]
    fn repeated_failures_slow_the_name_and_the_address() {
        let t = SignInThrottle::default();
        for _ in 0..FREE_FAILURES {
            assert!(t.check("ann", "1.2.3.4").is_ok());
            t.failed("ann", "1.2.3.4");
        }
        // The name is slowed from any address, and the address for any name.
        assert!(t.check("ANN", "5.6.7.8").is_err());
        assert!(t.check("bob", "1.2.3.4").is_err());
        assert!(t.check("bob", "5.6.7.8").is_ok());
        // One refusal per wait is worth recording, however many attempts are refused.
        assert!(t.first_refusal("ann", "5.6.7.8"));
        assert!(!t.first_refusal("Ann", "5.6.7.8"));
        assert!(t.first_refusal("ann", "1.2.3.4"));
        t.failed("ann", "1.2.3.4");
        assert!(t.first_refusal("ann", "1.2.3.4"));
        t.succeeded("ann", "1.2.3.4");
        assert!(t.check("ann", "1.2.3.4").is_ok());
    }
}
