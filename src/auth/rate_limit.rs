//! Failed sign-in attempts counted per key (username, address) in a sliding window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::error::AppError;

pub struct RateLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

/// Beyond this many keys, stale ones are swept on the next failure.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<DateTime<Utc>>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses when `key` has used up its failures within the window.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        let mut map = self.lock();
        let Some(times) = map.get_mut(key) else {
            return Ok(());
        };
        while times.front().is_some_and(|t| *t + self.window <= now) {
            times.pop_front();
        }
        if times.len() < self.max_failures {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        let retry_after = (oldest + self.window - now).num_seconds().max(1);
        Err(AppError::RateLimited {
            retry_after_secs: u64::try_from(retry_after).unwrap_or(1),
        })
    }

    pub fn record_failure(&self, key: &str, now: DateTime<Utc>) {
        let mut map = self.lock();
        if map.len() >= SWEEP_AT {
            let window = self.window;
            map.retain(|_, times| times.back().is_some_and(|t| *t + window > now));
        }
        map.entry(key.to_owned()).or_default().push_back(now);
    }

    pub fn clear(&self, key: &str) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_passes() {
        let limiter = RateLimiter::new(3, Duration::minutes(15));
        let t0 = Utc::now();
        for _ in 0..3 {
            assert!(limiter.check("user:a", t0).is_ok());
            limiter.record_failure("user:a", t0);
        }
        assert!(limiter.check("user:a", t0).is_err());
        assert!(limiter.check("user:b", t0).is_ok());
        assert!(limiter.check("user:a", t0 + Duration::minutes(15)).is_ok());
    }

    #[test]
    fn clearing_forgives() {
        let limiter = RateLimiter::new(1, Duration::minutes(15));
        let t0 = Utc::now();
        limiter.record_failure("k", t0);
        assert!(limiter.check("k", t0).is_err());
        limiter.clear("k");
        assert!(limiter.check("k", t0).is_ok());
    }
}
