//! Ingest rate limits per API key: a token bucket of events per key. A request of `n` events takes
//! `n` tokens; a key whose bucket holds fewer gets 429 with `Retry-After` (whole seconds until
//! enough tokens are back) and `RateLimit-Limit` / `RateLimit-Remaining`, and nothing is stored.
//! Buckets of keys idle for a minute are forgotten once there are many, so memory stays bounded by
//! the keys active in the last minute.

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
    buckets: Arc<Mutex<HashMap<i64, (f64, Instant)>>>,
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
        if buckets.len() > SWEEP_ABOVE {
            buckets.retain(|_, (_, last)| now.duration_since(*last) < IDLE);
        }
        let (tokens, last) = buckets.entry(key).or_insert((f64::from(burst), now));
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
        self.buckets.lock().expect("limiter lock").len()
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
                b.insert(k, (0.0, old));
            }
        }
        assert!(l.take(-1, 1).is_ok());
        assert_eq!(l.tracked(), 1);
    }
}
