//! Claim use cases. For now: the committee's direct award or deduction, posted at once.

use chrono::{DateTime, Utc};

use super::model::{AwardRequest, AwardResult, ClaimEventView, ClaimStatus, ClaimView};
use super::store::{self, ClaimRow, NewClaim, NewEvent};
use crate::amount::Amount;
use crate::audit::{self, Event};
use crate::auth::Caller;
use crate::auth::policy::{Action, authorize};
use crate::checklist::service::item_in_village;
use crate::clock::shanghai_today;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, FieldError};
use crate::ledger::model::{TxKind, issuance_legs};
use crate::ledger::posting::{Posting, post};
use crate::ledger::service::reversed_among;
use crate::org::service::{household_target, village_target};

/// The claims with their events, as answers show them.
pub fn views(conn: &mut DbConnection, ids: &[i64]) -> AppResult<Vec<ClaimView>> {
    let rows = store::claims_by_ids(conn, ids)?;
    let events = store::events_of(conn, ids)?;
    let transactions: Vec<i64> = rows.iter().filter_map(|r| r.transaction_id).collect();
    let reversed = reversed_among(conn, &transactions)?;
    Ok(rows
        .into_iter()
        .map(|row| view(row, &events, &reversed))
        .collect())
}

fn view(row: ClaimRow, events: &[store::EventRow], reversed: &[i64]) -> ClaimView {
    let status = match row.transaction_id {
        Some(tx) if reversed.contains(&tx) => ClaimStatus::Reversed,
        _ => ClaimStatus::parse(&row.status).unwrap_or(ClaimStatus::Submitted),
    };
    ClaimView {
        events: events
            .iter()
            .filter(|e| e.0 == row.id)
            .map(
                |(_, status, note, actor_kind, actor_id, at)| ClaimEventView {
                    status: ClaimStatus::parse(status).unwrap_or(ClaimStatus::Submitted),
                    note: note.clone(),
                    actor_kind: actor_kind.clone(),
                    actor_id: *actor_id,
                    at: at.and_utc(),
                },
            )
            .collect(),
        id: row.id,
        village_id: row.village_id,
        household_id: row.household_id,
        member_id: row.member_id,
        item_id: row.item_id,
        item_version: row.item_version,
        points: Amount::from_minor(row.points),
        quantity: row.quantity,
        total: Amount::from_minor(row.total),
        status,
        occurred_on: row.occurred_on,
        note: row.note,
        notice_ends_at: row.notice_ends_at.map(|t| t.and_utc()),
        transaction_id: row.transaction_id,
        created_by: row.created_by,
    }
}

/// Every household must be of the village; the errors name each bad index.
fn check_households(conn: &mut DbConnection, village_id: i64, ids: &[i64]) -> AppResult<()> {
    let mut errors = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let ok = match household_target(conn, *id) {
            Ok((village, _)) => village == village_id,
            Err(AppError::NotFound) => false,
            Err(other) => return Err(other),
        };
        if !ok {
            errors.push(FieldError::new(
                format!("household_ids[{index}]"),
                "本村没有这一户",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The committee awards (or deducts) an item to households: all or none, one ledger
/// transaction and one claim per household. Runs inside the caller's transaction.
pub fn award(
    conn: &mut DbConnection,
    caller: &Caller,
    village_id: i64,
    req: &AwardRequest,
    now: DateTime<Utc>,
) -> AppResult<AwardResult> {
    let target = village_target(conn, village_id)?;
    authorize(&caller.principal, Action::Award, &target)?;
    if req.occurred_on > shanghai_today(now) {
        return Err(AppError::field("occurred_on", "日期不能在今天之后"));
    }
    let item = match item_in_village(conn, req.item_id) {
        Ok((item_village, item)) if item_village == village_id => item,
        Ok(_) | Err(AppError::NotFound) => {
            return Err(AppError::field("item_id", "本村清单里没有这一项"));
        }
        Err(other) => return Err(other),
    };
    if !item.active {
        return Err(AppError::field("item_id", "该事项已停用"));
    }
    check_households(conn, village_id, &req.household_ids)?;
    let quantity = req.quantity.unwrap_or(1);
    let total = item.points.minor() * i64::from(quantity);
    let kind = if total > 0 {
        TxKind::Award
    } else {
        TxKind::Deduction
    };
    let note = req.note.as_deref().unwrap_or("").trim();
    let memo = if quantity == 1 {
        item.title.clone()
    } else {
        format!("{} ×{quantity}", item.title)
    };
    let mut ids = Vec::with_capacity(req.household_ids.len());
    for household_id in &req.household_ids {
        let posted = post(
            conn,
            Posting {
                kind,
                memo: &memo,
                legs: issuance_legs(village_id, *household_id, total),
                reverses: None,
                actor: caller.into(),
                at: now,
            },
        )?;
        let claim_id = store::insert_claim(
            conn,
            &NewClaim {
                village_id,
                household_id: *household_id,
                item_id: item.id,
                item_version: item.version,
                points: item.points.minor(),
                quantity,
                status: ClaimStatus::Posted.as_str(),
                occurred_on: req.occurred_on,
                note,
                transaction_id: Some(posted.transaction_id),
                created_by_kind: caller.kind(),
                created_by: caller.principal.id,
                now: now.naive_utc(),
            },
        )?;
        store::insert_event(
            conn,
            &NewEvent {
                village_id,
                claim_id,
                status: ClaimStatus::Posted.as_str(),
                note: "村委会直接评定，已入账",
                actor_kind: caller.kind(),
                actor_id: Some(caller.principal.id),
                now: now.naive_utc(),
            },
        )?;
        ids.push(claim_id);
    }
    audit::record(
        conn,
        caller,
        Event {
            village_id: Some(village_id),
            action: kind.as_str(),
            subject_kind: "checklist_item",
            subject_id: Some(item.id),
            detail: serde_json::json!({"claims": ids, "households": req.household_ids, "quantity": quantity, "total_each": Amount::from_minor(total)}),
        },
        now,
    )?;
    Ok(AwardResult {
        claims: views(conn, &ids)?,
    })
}
