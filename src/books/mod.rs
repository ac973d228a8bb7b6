//! A village's books as the committee, the supervisors and the public see them: its
//! transactions, reversals, the public chain head, the audit trail, and verification as a
//! whole (the ledger's own checks and each shop's receivable against its statements;
//! `jifen verify` and the verify endpoint both answer from here, so they never disagree).

pub mod http;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::{self, AuditView, Event};
use crate::auth::policy::{Action, authorize};
use crate::auth::{Caller, Principal};
use crate::db::DbConnection;
use crate::db::idempotency::{IdempotencyKey, Outcome, created_once};
use crate::error::{AppError, AppResult};
use crate::ledger::model::ChainMark;
use crate::ledger::service as ledger;
use crate::ledger::verify::{self, HeadView, VerifyReport};
use crate::ledger::views::TransactionView;
use crate::org::service::{village_by_code, village_target};
use crate::paging::{Page, PageQuery};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseRequest {
    #[validate(length(min = 1, max = 200, message = "请写明冲正原因"))]
    #[schema(
        example = "录入错误，重复奖励",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    #[validate(custom(function = "crate::text::multi_line"))]
    pub reason: String,
}

/// The village's transactions with their postings, newest first.
pub fn village_ledger(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    page: &PageQuery,
) -> AppResult<Page<TransactionView>> {
    let target = village_target(conn, village_id)?;
    authorize(p, Action::ViewVillageLedger, &target)?;
    ledger::village_transactions(conn, village_id, page.request()?)
}

/// Reverses a transaction with its mirror image; at most one reversal per transaction.
/// Once per idempotency key.
pub fn reverse(
    conn: &mut DbConnection,
    key: &IdempotencyKey,
    caller: &Caller,
    transaction_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    created_once(conn, key, now, |tx| {
        let village_id = ledger::village_of(tx, transaction_id)?;
        let target = village_target(tx, village_id)?;
        authorize(&caller.principal, Action::Reverse, &target)?;
        let (view, posted) = ledger::reverse(tx, caller.into(), transaction_id, reason, now)?;
        let event = Event {
            village_id: Some(village_id),
            action: "reverse",
            subject_kind: "transaction",
            subject_id: Some(transaction_id),
            detail: json!({"reason": reason.trim(), "reversal_id": posted.transaction_id, "seq": posted.seq}),
        };
        audit::record(tx, caller, event, now)?;
        Ok(view)
    })
}

/// The public chain head (no sign-in), by village code.
pub fn head_by_code(conn: &mut DbConnection, code: &str) -> AppResult<HeadView> {
    let village_id = village_by_code(conn, code)?.ok_or(AppError::NotFound)?;
    ledger::head(conn, village_id)
}

/// The village's audit trail, newest first.
pub fn audit_events(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    page: &PageQuery,
) -> AppResult<Page<AuditView>> {
    let target = village_target(conn, village_id)?;
    authorize(p, Action::ViewAudit, &target)?;
    let request = page.request()?;
    let rows = audit::page(conn, village_id, request)?;
    Ok(Page::from_rows(rows, request, |e| e.id, |e| e))
}

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
