//! 清零 as use cases: what it would take, and running what is due — by the server's job
//! on every village, or by `jifen expire` on one. Exactly once per village and year, on
//! any number of servers: the run holds the village's chain head while it posts and
//! records itself in the same transaction (`expiry_runs`, keyed by village and year).

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Utc};

use serde_json::json;

use super::model::{
    Expired, HouseholdExpiryView, VillageExpiryView, due_years, memo, next_at, released,
};
use super::store;
use crate::amount::Amount;
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::clock::shanghai_today;
use crate::db::{DbConnection, Tx, write_tx};
use crate::error::{AppError, AppResult};
use crate::ledger::model::{Actor, TxKind, expiry_legs};
use crate::ledger::posting::{Posting, lock_chain, post};
use crate::ledger::service::{household_points, positive_points};
use crate::org::policy::VillagePolicy;
use crate::org::service::{household_target, village_policies, village_policy, village_target};

/// `GET /villages/{id}/expiry`: the next date and what it would take now.
pub fn village_forecast(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    now: DateTime<Utc>,
) -> AppResult<VillageExpiryView> {
    authorize(
        p,
        Action::ViewVillageLedger,
        &village_target(conn, village_id)?,
    )?;
    let policy = village_policy(conn, village_id)?;
    let held = positive_points(conn, village_id)?;
    Ok(VillageExpiryView {
        policy: policy.expiry,
        next_at: next_at(policy.expiry, now),
        households: held.len(),
        points: Amount::from_minor(held.iter().map(|(_, p)| p).sum()),
    })
}

/// `GET /households/{id}/expiry`: the household's points the next 清零 would take.
pub fn household_forecast(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
    now: DateTime<Utc>,
) -> AppResult<HouseholdExpiryView> {
    let (village_id, target) = household_target(conn, household_id)?;
    authorize(p, Action::ViewBalance, &target)?;
    let next = next_at(village_policy(conn, village_id)?.expiry, now);
    let points = match next {
        Some(_) => household_points(conn, village_id, household_id)?.max(Amount::ZERO),
        None => Amount::ZERO,
    };
    Ok(HouseholdExpiryView {
        next_at: next,
        points,
    })
}

/// The years whose 清零 is due in this village now and has not run, oldest first.
fn pending_years(
    policy: &VillagePolicy,
    now: DateTime<Utc>,
    mut has_run: impl FnMut(i32) -> AppResult<bool>,
) -> AppResult<Vec<i32>> {
    let set_at = policy.expiry_set_at.unwrap_or_else(released);
    let mut years = Vec::new();
    for year in due_years(policy.expiry, set_at, now) {
        if !has_run(year)? {
            years.push(year);
        }
    }
    Ok(years)
}

/// The server's job: every village's due 清零, each in its own transaction. Two
/// queries when nothing is due.
pub fn run_due(conn: &mut DbConnection, now: DateTime<Utc>) -> AppResult<Vec<Expired>> {
    let year = shanghai_today(now).year();
    let ran: HashSet<(i64, i32)> = store::runs_in(conn, &[year - 1, year])?
        .into_iter()
        .collect();
    let mut done = Vec::new();
    for (village_id, policy) in village_policies(conn)? {
        for year in pending_years(&policy, now, |y| Ok(ran.contains(&(village_id, y))))? {
            if let Some(expired) = run_year(conn, village_id, year, "job", now)? {
                done.push(expired);
            }
        }
    }
    Ok(done)
}

/// `jifen expire --village`: the village's due 清零 now.
pub fn run_village(
    conn: &mut DbConnection,
    village_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<Expired>> {
    let policy = village_policy(conn, village_id)?;
    let mut done = Vec::new();
    for year in due_unrun(conn, village_id, &policy, now)? {
        if let Some(expired) = run_year(conn, village_id, year, "cli", now)? {
            done.push(expired);
        }
    }
    Ok(done)
}

/// What `jifen expire --dry-run` reports: the years due now, and what each would take.
pub fn plan(
    conn: &mut DbConnection,
    village_id: i64,
    now: DateTime<Utc>,
) -> AppResult<(VillagePolicy, Vec<Expired>)> {
    let policy = village_policy(conn, village_id)?;
    let held = positive_points(conn, village_id)?;
    let years = due_unrun(conn, village_id, &policy, now)?;
    let plans = years
        .into_iter()
        .map(|year| Expired {
            village_id,
            year,
            households: held.len(),
            points: held.iter().map(|(_, p)| p).sum(),
        })
        .collect();
    Ok((policy, plans))
}

fn due_unrun(
    conn: &mut DbConnection,
    village_id: i64,
    policy: &VillagePolicy,
    now: DateTime<Utc>,
) -> AppResult<Vec<i32>> {
    pending_years(policy, now, |year| {
        Ok(store::has_run(conn, village_id, year)?)
    })
}

/// Runs one village's 清零 for `year` in one transaction; None when another server (or
/// an earlier call) ran it first.
fn run_year(
    conn: &mut DbConnection,
    village_id: i64,
    year: i32,
    by: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Expired>> {
    let outcome = write_tx(conn, |tx| {
        // Under the chain-head lock no posting can move a balance of this village, and a
        // second server waits here, then finds the run recorded.
        drop(lock_chain(tx, village_id, now)?);
        if store::has_run(tx, village_id, year)? {
            return Ok(None);
        }
        let expired = expire_all(tx, village_id, year, now)?;
        if !store::record(
            tx,
            village_id,
            year,
            now.naive_utc(),
            i64::try_from(expired.households).unwrap_or(i64::MAX),
            expired.points,
        )? {
            return Err(AppError::Conflict("这一年已经清零过了。".into()));
        }
        audit_run(tx, &expired, by, now)?;
        Ok(Some(expired))
    });
    let outcome = match outcome {
        // Recorded by another server between our check and our insert.
        Err(AppError::Conflict(_)) => None,
        Err(err) if err.is_duplicate() => None,
        other => other?,
    };
    if let Some(e) = &outcome {
        tracing::info!(
            village_id,
            year,
            households = e.households,
            points = e.points,
            "清零 done"
        );
    }
    Ok(outcome)
}

/// One `expiry` transaction per household holding points, then the village's live
/// payment codes end (they would spend what is gone).
fn expire_all(
    tx: &mut Tx<'_>,
    village_id: i64,
    year: i32,
    now: DateTime<Utc>,
) -> AppResult<Expired> {
    let held = positive_points(tx, village_id)?;
    let memo = memo(year);
    for (household_id, points) in &held {
        post(
            tx,
            Posting {
                kind: TxKind::Expiry,
                memo: &memo,
                legs: expiry_legs(village_id, *household_id, *points),
                reverses: None,
                actor: Actor::SYSTEM,
                at: now,
            },
        )?;
    }
    crate::shop::service::end_live_codes(tx, village_id, now)?;
    Ok(Expired {
        village_id,
        year,
        households: held.len(),
        points: held.iter().map(|(_, p)| p).sum(),
    })
}

fn audit_run(tx: &mut Tx<'_>, expired: &Expired, by: &str, now: DateTime<Utc>) -> AppResult<()> {
    let event = Event {
        village_id: Some(expired.village_id),
        action: "expiry",
        subject_kind: "village",
        subject_id: Some(expired.village_id),
        detail: json!({
            "year": expired.year,
            "households": expired.households,
            "points": Amount::from_minor(expired.points),
        }),
    };
    Ok(audit::record_as(tx, Actor::SYSTEM, by, event, now)?)
}
