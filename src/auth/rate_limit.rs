//! Failed sign-in attempts counted per key in a sliding window, and the sign-in limits
//! built from them. (They live in each process for now; sharing them through the
//! database between servers is the next step.)

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::error::AppError;

/// The limits on guessing passwords and invite codes.
///
/// Wrong passwords count per (username, address), so a stranger elsewhere cannot keep a
/// staff member locked out; every failure counts per address too. Invite codes are short
/// enough to guess across many addresses, so their failures also draw on one budget for
/// the whole township: once it is spent, only addresses that signed in lately get through.
pub struct SignInLimits {
    per_account_address: RateLimiter,
    per_address: RateLimiter,
    invite_budget: RateLimiter,
    recent_sign_ins: RecentAddresses,
}

impl Default for SignInLimits {
    /// Five wrong passwords per username and address and twenty failures per address, per
    /// 15 minutes; a hundred wrong invite codes in the township per hour.
    fn default() -> Self {
        Self {
            per_account_address: RateLimiter::new(5, Duration::minutes(15)),
            per_address: RateLimiter::new(20, Duration::minutes(15)),
            invite_budget: RateLimiter::new(100, Duration::hours(1)),
            recent_sign_ins: RecentAddresses::new(Duration::days(1)),
        }
    }
}

const TOWNSHIP: &str = "township";

impl SignInLimits {
    fn account_key(username: &str, addr: &str) -> String {
        format!("{username}\n{addr}")
    }

    pub fn check_password(
        &self,
        username: &str,
        addr: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        self.per_account_address
            .check(&Self::account_key(username, addr), now)?;
        self.per_address.check(addr, now)
    }

    pub fn password_failed(&self, username: &str, addr: &str, now: DateTime<Utc>) {
        self.per_account_address
            .record_failure(&Self::account_key(username, addr), now);
        self.per_address.record_failure(addr, now);
    }

    pub fn password_accepted(&self, username: &str, addr: &str) {
        self.per_account_address
            .clear(&Self::account_key(username, addr));
    }

    pub fn check_invite(&self, addr: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        self.per_address.check(addr, now)?;
        if self.recent_sign_ins.contains(addr, now) {
            return Ok(());
        }
        self.invite_budget.check(TOWNSHIP, now)
    }

    pub fn invite_failed(&self, addr: &str, now: DateTime<Utc>) {
        self.per_address.record_failure(addr, now);
        self.invite_budget.record_failure(TOWNSHIP, now);
    }

    pub fn invite_accepted(&self, addr: &str, now: DateTime<Utc>) {
        self.recent_sign_ins.remember(addr, now);
    }
}

/// Addresses seen signing in successfully within a window.
struct RecentAddresses {
    window: Duration,
    seen: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl RecentAddresses {
    fn new(window: Duration) -> Self {
        Self {
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, DateTime<Utc>>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, addr: &str, now: DateTime<Utc>) {
        let mut seen = self.lock();
        if seen.len() >= SWEEP_AT {
            let window = self.window;
            seen.retain(|_, at| *at + window > now);
        }
        seen.insert(addr.to_owned(), now);
    }

    fn contains(&self, addr: &str, now: DateTime<Utc>) -> bool {
        self.lock()
            .get(addr)
            .is_some_and(|at| *at + self.window > now)
    }
}

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
    fn a_strangers_wrong_passwords_do_not_lock_the_account_elsewhere() {
        let limits = SignInLimits::default();
        let t0 = Utc::now();
        for _ in 0..5 {
            limits.password_failed("clerk", "203.0.113.9", t0);
        }
        assert!(limits.check_password("clerk", "203.0.113.9", t0).is_err());
        assert!(limits.check_password("clerk", "198.51.100.4", t0).is_ok());
    }

    #[test]
    fn a_spent_invite_budget_lets_only_recent_addresses_through() {
        let limits = SignInLimits::default();
        let t0 = Utc::now();
        limits.invite_accepted("10.0.0.1", t0);
        for i in 0..100 {
            limits.invite_failed(&format!("192.0.2.{i}"), t0);
        }
        assert!(limits.check_invite("192.0.2.200", t0).is_err());
        assert!(limits.check_invite("10.0.0.1", t0).is_ok());
        assert!(
            limits
                .check_invite("192.0.2.200", t0 + Duration::hours(1))
                .is_ok()
        );
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
