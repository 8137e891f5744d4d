//! Ingest rate limits per API key: a token bucket of events per key. A request of `n` events takes
//! `n` tokens; a key whose bucket holds fewer gets 429 with `Retry-After` (whole seconds until
//! enough tokens are back) and `RateLimit-Limit` / `RateLimit-Remaining`, and nothing is stored.
//! Buckets of keys idle for a minute are forgotten once there are many (at most one sweep a
//! minute, so a request never pays for more than one pass), so memory stays bounded by the keys
//! active in the last two minutes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Events per second and burst of every key's bucket; `rate == 0` turns the limit off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateConfig {
    pub rate: u32,
    pub burst: u32,
}

impl Default for RateConfig {
    fn default() -> Self {
        Self {
            rate: 5_000,
            burst: 50_000,
        }
    }
}

/// Buckets kept before idle ones are swept.
const SWEEP_ABOVE: usize = 10_000;
/// A bucket unused this long is full again, so forgetting it changes nothing.
const IDLE: Duration = Duration::from_secs(60);

#[derive(Clone, Default)]
pub struct IngestLimiter {
    config: RateConfig,
    buckets: Arc<Mutex<Buckets>>,
}

#[derive(Default)]
struct Buckets {
    /// Tokens left and when last taken, per key id.
    map: HashMap<i64, (f64, Instant)>,
    /// When idle buckets were last swept.
    swept: Option<Instant>,
}

/// A refusal: how long to wait, and what the limit is.
#[derive(Debug, PartialEq)]
pub struct Limited {
    pub retry_after: u64,
    pub limit: u32,
}

impl IngestLimiter {
    pub fn new(config: RateConfig) -> Self {
        Self {
            config: RateConfig {
                burst: config.burst.max(super::ingest::MAX_BATCH as u32),
                ..config
            },
            buckets: Arc::default(),
        }
    }

    pub fn config(&self) -> RateConfig {
        self.config
    }

    /// Takes `n` events from `key`'s bucket, or says how long to wait. Returns the tokens left.
    pub fn take(&self, key: i64, n: u32) -> Result<u32, Limited> {
        let RateConfig { rate, burst } = self.config;
        if rate == 0 {
            return Ok(u32::MAX);
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("limiter lock");
        let due = buckets
            .swept
            .is_none_or(|at| now.duration_since(at) >= IDLE);
        if buckets.map.len() > SWEEP_ABOVE && due {
            buckets
                .map
                .retain(|_, (_, last)| now.duration_since(*last) < IDLE);
            buckets.swept = Some(now);
        }
        let (tokens, last) = buckets.map.entry(key).or_insert((f64::from(burst), now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * f64::from(rate))
            .min(f64::from(burst));
        *last = now;
        let want = f64::from(n);
        if *tokens >= want {
            *tokens -= want;
            Ok(*tokens as u32)
        } else {
            let wait = ((want - *tokens) / f64::from(rate)).ceil().max(1.0);
            Err(Limited {
                retry_after: wait as u64,
                limit: rate,
            })
        }
    }

    /// How many buckets are held (for the memory check of the tests and the reliability run).
    pub fn tracked(&self) -> usize {
        self.buckets.lock().expect("limiter lock").map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_quota_waits_and_others_do_not() {
        let l = IngestLimiter::new(RateConfig {
            rate: 1_000,
            burst: 2_000,
        });
        assert!(l.take(1, 1_000).is_ok());
        assert!(l.take(1, 1_000).is_ok());
        let refused = l.take(1, 1_000).unwrap_err();
        assert_eq!(refused.limit, 1_000);
        assert!((1..=2).contains(&refused.retry_after), "{refused:?}");
        // Another key has its own bucket.
        assert!(l.take(2, 1_000).is_ok());
        // Off.
        let off = IngestLimiter::new(RateConfig { rate: 0, burst: 0 });
        assert!(off.take(1, 1_000_000).is_ok());
    }

    #[test]
    fn idle_buckets_are_forgotten_once_there_are_many() {
        let l = IngestLimiter::new(RateConfig::default());
        {
            let mut b = l.buckets.lock().unwrap();
            let old = Instant::now() - IDLE - Duration::from_secs(1);
            for k in 0..(SWEEP_ABOVE as i64 + 5) {
                b.map.insert(k, (0.0, old));
            }
        }
        assert!(l.take(-1, 1).is_ok());
        assert_eq!(l.tracked(), 1);
    }

    #[test]
    fn a_hundred_thousand_keys_once_each_get_through_and_are_forgotten_when_idle() {
        // T11's second half: 100,000 distinct keys, one request each. Each key has its own
        // bucket, so none is refused; once idle, the next request sweeps them all away.
        let l = IngestLimiter::new(RateConfig {
            rate: 10,
            burst: 100,
        });
        for k in 0..100_000 {
            assert!(l.take(k, 1).is_ok(), "key {k} refused");
        }
        // A sweep ran once more than SWEEP_ABOVE were held; none was idle, so all are kept, and
        // no further sweep runs within the minute (each request stays one map lookup).
        assert_eq!(l.tracked(), 100_000);
        {
            let mut b = l.buckets.lock().unwrap();
            for (_, last) in b.map.values_mut() {
                *last -= IDLE + Duration::from_secs(1);
            }
            b.swept = b.swept.map(|t| t - IDLE);
        }
        assert!(l.take(-1, 1).is_ok());
        assert_eq!(l.tracked(), 1);
    }
}
