//! Sign-in limits, kept in the database: shared by every server, surviving restarts.
//!
//! An attempt is counted before its credentials are checked, in one statement that bumps
//! the counter and reads it back, so racing attempts each get their own number and no more
//! than the limit get through; an attempt that turns out right is given back.
//!
//! Wrong passwords count per (username, address), so a stranger elsewhere cannot keep a
//! staff member locked out; every failure counts per address too. Invite codes are short
//! enough to guess across many addresses, so their failures also draw on one budget for
//! the whole township: once it is spent, only addresses that signed in lately get through.

use chrono::{DateTime, Duration, Utc};

use super::store;
use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult};

/// At most `max` in a window of `window`.
#[derive(Clone, Copy, Debug)]
struct Limit {
    max: i32,
    window: Duration,
}

#[derive(Clone, Copy, Debug)]
pub struct SignInLimits {
    per_account_address: Limit,
    per_address: Limit,
    invite_budget: Limit,
    /// How long an address that signed in counts as known.
    recent: Duration,
}

impl Default for SignInLimits {
    /// Five wrong passwords per username and address and twenty failures per address, per
    /// 15 minutes; a hundred wrong invite codes in the township per hour.
    fn default() -> Self {
        Self {
            per_account_address: Limit {
                max: 5,
                window: Duration::minutes(15),
            },
            per_address: Limit {
                max: 20,
                window: Duration::minutes(15),
            },
            invite_budget: Limit {
                max: 100,
                window: Duration::hours(1),
            },
            recent: Duration::days(1),
        }
    }
}

/// The counters an attempt holds while its credentials are checked.
#[must_use = "an attempt is settled once its answer is known"]
pub struct Attempt {
    keys: Vec<String>,
}

fn account_key(username: &str, addr: &str) -> String {
    format!("account:{username}\n{addr}")
}

fn address_key(addr: &str) -> String {
    format!("address:{addr}")
}

fn recent_key(addr: &str) -> String {
    format!("signed-in:{addr}")
}

const INVITE_BUDGET_KEY: &str = "invites";

impl SignInLimits {
    /// Counts one attempt under `key`; a 429 when that takes it past the limit.
    fn count(
        &self,
        conn: &mut DbConnection,
        key: String,
        limit: Limit,
        now: DateTime<Utc>,
    ) -> AppResult<String> {
        // Counters are writes: on SQLite each takes its turn with the other writers.
        let (count, began) = write_tx(conn, |tx| {
            Ok(store::bump_counter(
                tx,
                &key,
                now.naive_utc(),
                limit.window,
            )?)
        })?;
        if count > limit.max {
            let retry_after = (began.and_utc() + limit.window - now).num_seconds().max(1);
            return Err(AppError::RateLimited {
                retry_after_secs: u64::try_from(retry_after).unwrap_or(1),
            });
        }
        Ok(key)
    }

    /// A staff sign-in about to be checked.
    pub fn password_attempt(
        &self,
        conn: &mut DbConnection,
        username: &str,
        addr: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Attempt> {
        let account = self.count(
            conn,
            account_key(username, addr),
            self.per_account_address,
            now,
        )?;
        let address = self.count(conn, address_key(addr), self.per_address, now)?;
        Ok(Attempt {
            keys: vec![account, address],
        })
    }

    /// The password was right: no failure, and this account's earlier failures at this
    /// address are forgiven.
    pub fn password_accepted(&self, conn: &mut DbConnection, attempt: Attempt) -> AppResult<()> {
        write_tx(conn, |tx| {
            for key in &attempt.keys {
                if key.starts_with("account:") {
                    store::forget_counter(tx, key)?;
                } else {
                    store::give_back(tx, key)?;
                }
            }
            Ok(())
        })
    }

    /// A villager's invite code about to be checked.
    pub fn invite_attempt(
        &self,
        conn: &mut DbConnection,
        addr: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Attempt> {
        let mut keys = vec![self.count(conn, address_key(addr), self.per_address, now)?];
        let known = store::counter_seen(conn, &recent_key(addr))?
            .is_some_and(|at| at.and_utc() + self.recent > now);
        if !known {
            keys.push(self.count(conn, INVITE_BUDGET_KEY.to_owned(), self.invite_budget, now)?);
        }
        Ok(Attempt { keys })
    }

    /// The invite code was right: no failure, and the address is now known.
    pub fn invite_accepted(
        &self,
        conn: &mut DbConnection,
        attempt: Attempt,
        addr: &str,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        write_tx(conn, |tx| {
            self.give_back(tx, attempt)?;
            Ok(store::touch_counter(
                tx,
                &recent_key(addr),
                now.naive_utc(),
            )?)
        })
    }

    /// The attempt was no failure (the request was malformed, say): it counts for nothing.
    pub fn give_back(&self, conn: &mut DbConnection, attempt: Attempt) -> AppResult<()> {
        write_tx(conn, |tx| {
            for key in &attempt.keys {
                store::give_back(tx, key)?;
            }
            Ok(())
        })
    }

    /// Forgets counters older than any window.
    pub fn prune(&self, conn: &mut DbConnection, now: DateTime<Utc>) -> AppResult<usize> {
        let longest = [
            self.per_account_address.window,
            self.per_address.window,
            self.invite_budget.window,
            self.recent,
        ]
        .into_iter()
        .max()
        .unwrap_or(self.recent);
        // A delete is a write: on SQLite it takes its turn with the other writers.
        write_tx(conn, |tx| {
            Ok(store::prune_counters(tx, (now - longest).naive_utc())?)
        })
    }
}
