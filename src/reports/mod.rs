//! What reads across features for people to see: a household's balance with its stars
//! and its statement. Rankings, the honour board and the township's figures come here
//! next (DESIGN.md §5).

pub mod http;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::amount::Amount;
use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::ledger::service::{holdings, household_entries};
use crate::ledger::views::EntryView;
use crate::org::policy::VillagePolicy;
use crate::org::service::{household_target, village_policy};
use crate::paging::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceView {
    pub household_id: i64,
    /// Spendable points; negative means owed (after deductions), which blocks spending.
    #[schema(example = "125.50")]
    pub points: Amount,
    /// Cumulative merit; drives stars and rankings.
    #[schema(example = "180.00")]
    pub honour: Amount,
    /// Points approved and waiting out their public notice.
    #[schema(example = "10.00")]
    pub pending: Amount,
    /// Stars reached by honour, per the village's thresholds.
    #[schema(example = 4)]
    pub stars: usize,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Stars reached: how many thresholds the honour meets.
pub fn stars(policy: &VillagePolicy, honour: Amount) -> usize {
    policy
        .star_thresholds
        .iter()
        .filter(|t| **t <= honour)
        .count()
}

/// A household's points, honour, stars and what is waiting out its notice (`pending`,
/// the claims' to count).
pub fn balance(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
    pending: Amount,
) -> AppResult<BalanceView> {
    let (village_id, target) = household_target(conn, household_id)?;
    authorize(p, Action::ViewBalance, &target)?;
    let held = holdings(conn, village_id, household_id)?;
    Ok(BalanceView {
        household_id,
        points: held.points,
        honour: held.honour,
        pending,
        stars: stars(&village_policy(conn, village_id)?, held.honour),
        updated_at: held.updated_at,
    })
}

/// A household's statement: its entries, newest first.
pub fn household_ledger(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
    page: &PageQuery,
) -> AppResult<Page<EntryView>> {
    let (village_id, target) = household_target(conn, household_id)?;
    authorize(p, Action::ViewBalance, &target)?;
    household_entries(conn, village_id, household_id, page.request()?)
}
