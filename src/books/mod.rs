//! A village's books as a whole: the ledger's own checks (chain, zero sums, balances)
//! and each shop's receivable against its statements. `jifen verify` and the verify
//! endpoint both answer from here, so they can never disagree.

pub mod http;

use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::ledger::model::ChainMark;
use crate::ledger::verify::{self, VerifyReport};
use crate::org::service::village_target;

/// Everything that must add up in one village, for a caller who may verify it.
pub fn verify(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    marks: &[ChainMark],
) -> AppResult<VerifyReport> {
    let target = village_target(conn, village_id)?;
    authorize(p, Action::VerifyLedger, &target)?;
    verify_village(conn, village_id, marks)
}

/// Everything that must add up in one village, and the chain positions someone noted
/// (no access check: the command line).
pub fn verify_village(
    conn: &mut DbConnection,
    village_id: i64,
    marks: &[ChainMark],
) -> AppResult<VerifyReport> {
    let mut report = verify::verify_village(conn, village_id, marks)?;
    report
        .problems
        .extend(crate::shop::settlement::receivable_problems(
            conn, village_id,
        )?);
    report.ok = report.problems.is_empty();
    Ok(report)
}
