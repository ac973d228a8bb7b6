//! Claim use cases: 申报 → 审核 → 公示 → 异议 → 入账, and the committee's direct awards,
//! which follow the same notice policy.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::model::*;
use super::store::{self, ClaimRow, NewClaim, NewEvent};
use crate::amount::Amount;
use crate::audit::{self, Event};
use crate::auth::policy::{Action, Target, authorize, permits, visible_groups};
use crate::auth::{Caller, Principal, RoleName};
use crate::checklist::model::{ItemView, Proposer};
use crate::checklist::service::item_in_village;
use crate::clock::{notice_end, shanghai_today};
use crate::db::idempotency::{self, IdempotencyKey, created_once};
use crate::db::{DbConnection, TextState, Tx, write_tx};
use crate::error::{AppError, AppResult, FieldError};
use crate::ledger::model::{Actor, TxKind, issuance_legs};
use crate::ledger::posting::{Posting, post};
use crate::ledger::service::reversed_among;
use crate::org::policy::VillagePolicy;
use crate::org::service::{
    ensure_active_household, household_target, village_policy, village_target,
};
use crate::paging::{Page, PageQuery};

/// The claims with their events, as answers show them.
pub fn views(conn: &mut DbConnection, ids: &[i64]) -> AppResult<Vec<ClaimView>> {
    let rows = store::claims_by_ids(conn, ids)?;
    let events = store::events_of(conn, ids)?;
    let transactions: Vec<i64> = rows.iter().filter_map(|r| r.transaction_id).collect();
    let reversed = reversed_among(conn, &transactions)?;
    let mut views: Vec<ClaimView> = rows
        .into_iter()
        .map(|row| view(row, &events, &reversed))
        .collect();
    // Keep the order the ids were given in (lists are newest first).
    views.sort_by_key(|v| ids.iter().position(|id| *id == v.id));
    Ok(views)
}

fn one_view(conn: &mut DbConnection, id: i64) -> AppResult<ClaimView> {
    views(conn, &[id])?.pop().ok_or(AppError::NotFound)
}

fn status_of(row: &ClaimRow, reversed: &[i64]) -> ClaimStatus {
    match row.transaction_id {
        Some(tx) if reversed.contains(&tx) => ClaimStatus::Reversed,
        _ => row.status,
    }
}

fn view(row: ClaimRow, events: &[store::EventRow], reversed: &[i64]) -> ClaimView {
    ClaimView {
        status: status_of(&row, reversed),
        events: events
            .iter()
            .filter(|e| e.claim_id == row.id)
            .map(|e| ClaimEventView {
                status: e.status,
                note: e.note.clone(),
                actor_kind: e.actor_kind.clone(),
                actor_id: e.actor_id,
                at: e.created_at.and_utc(),
            })
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
        occurred_on: row.occurred_on,
        note: row.note,
        notice_ends_at: row.notice_ends_at.map(|t| t.and_utc()),
        transaction_id: row.transaction_id,
        created_by: row.created_by,
    }
}

/// Who did something to a claim, for its history.
struct By<'a> {
    kind: &'a str,
    id: Option<i64>,
}

impl<'a> From<&'a Caller> for By<'a> {
    fn from(c: &'a Caller) -> Self {
        By {
            kind: c.kind(),
            id: Some(c.principal.id),
        }
    }
}

/// The posting job acts as the system.
const SYSTEM: By<'static> = By {
    kind: "system",
    id: None,
};

fn event(
    tx: &mut Tx<'_>,
    claim: &ClaimRow,
    status: ClaimStatus,
    note: &str,
    by: &By,
    now: DateTime<Utc>,
) -> AppResult<()> {
    Ok(store::insert_event(
        tx,
        &NewEvent {
            village_id: claim.village_id,
            claim_id: claim.id,
            status,
            note,
            actor_kind: by.kind,
            actor_id: by.id,
            now: now.naive_utc(),
        },
    )?)
}

/// One step of a claim's life (`ClaimEvent::rule` says from where to where), and why.
struct Step<'a> {
    event: ClaimEvent,
    notice_ends_at: Option<chrono::NaiveDateTime>,
    note: &'a str,
}

/// Moves a claim by a conditional update and records the event; false when the claim was
/// no longer in any of `from` (another request or server got there first).
fn move_claim(
    tx: &mut Tx<'_>,
    claim: &ClaimRow,
    step: Step,
    by: &By,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let (from, to) = step.event.rule();
    if !store::transition(tx, claim.id, from, to, step.notice_ends_at, now.naive_utc())? {
        return Ok(false);
    }
    event(tx, claim, to, step.note, by, now)?;
    Ok(true)
}

fn audit_claim(
    tx: &mut Tx<'_>,
    c: &Caller,
    claim: &ClaimRow,
    action: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let entry = Event {
        village_id: Some(claim.village_id),
        action,
        subject_kind: "claim",
        subject_id: Some(claim.id),
        detail,
    };
    Ok(audit::record(tx, c, entry, now)?)
}

/// Refuses a claim that would take the household past the item's cap for the period
/// of `occurred_on`.
fn check_cap(
    conn: &mut DbConnection,
    item: &ItemView,
    household_id: i64,
    occurred_on: chrono::NaiveDate,
    quantity: i32,
    except: Option<i64>,
) -> AppResult<()> {
    let Some(cap) = item.cap_count else {
        return Ok(());
    };
    let period = item.period.bounds(occurred_on);
    let used = store::cap_used(conn, household_id, item.id, period, except)?;
    if used + i64::from(quantity) > i64::from(cap) {
        return Err(AppError::CapExceeded {
            cap,
            used,
            every: item.period.cap_every(),
            this: item.period.cap_this(),
        });
    }
    Ok(())
}

/// How much of the item's cap the household has used in the period of `day`, and the
/// cap; none for an item without a cap.
pub fn cap_used_on(
    conn: &mut DbConnection,
    item: &ItemView,
    household_id: i64,
    day: chrono::NaiveDate,
) -> AppResult<Option<(i64, i32)>> {
    let Some(cap) = item.cap_count else {
        return Ok(None);
    };
    let used = store::cap_used(conn, household_id, item.id, item.period.bounds(day), None)?;
    Ok(Some((used, cap)))
}

/// The item as the claim used it (its version may since have changed, cap rules follow
/// the item in force).
fn item_of(conn: &mut DbConnection, claim: &ClaimRow) -> AppResult<ItemView> {
    Ok(item_in_village(conn, claim.item_id)?.1)
}

/// Posts an approved claim (`how`: at once, or at the end of its notice): one ledger
/// transaction, claim marked posted, and the claim recorded as the posting's idempotency
/// key. Returns false when another request or server already moved the claim on.
fn post_claim(
    tx: &mut Tx<'_>,
    claim: &ClaimRow,
    how: ClaimEvent,
    actor: Actor,
    by: &By,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let (from, to) = how.rule();
    if !store::transition(
        tx,
        claim.id,
        from,
        to,
        claim.notice_ends_at,
        now.naive_utc(),
    )? {
        return Ok(false);
    }
    let item = item_of(tx, claim)?;
    let kind = if claim.total > 0 {
        TxKind::Award
    } else {
        TxKind::Deduction
    };
    let memo = if claim.quantity == 1 {
        item.title.clone()
    } else {
        format!("{} ×{}", item.title, claim.quantity)
    };
    let legs = issuance_legs(claim.village_id, claim.household_id, claim.total);
    let posted = post(
        tx,
        Posting {
            kind,
            memo: &memo,
            legs,
            reverses: None,
            actor,
            at: now,
        },
    )?;
    store::set_transaction(tx, claim.id, posted.transaction_id)?;
    // A second poster of the same claim fails here, as a duplicate.
    idempotency::mark_done(
        tx,
        "claim-posting",
        &format!("claim:{}", claim.id),
        &format!("{{\"transaction_id\":{}}}", posted.transaction_id),
        now.naive_utc(),
    )?;
    event(
        tx,
        claim,
        to,
        &format!("已入账，账本第 {} 笔", posted.seq),
        by,
        now,
    )?;
    Ok(true)
}

/// After approval: public notice for `notice_days`, or straight into the ledger.
fn approve_row(
    tx: &mut Tx<'_>,
    c: &Caller,
    claim: &ClaimRow,
    policy: &VillagePolicy,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let by = By::from(c);
    if policy.notice_days == 0 {
        post_claim(tx, claim, ClaimEvent::PostAtOnce, Actor::from(c), &by, now)?;
        return Ok(());
    }
    let ends = notice_end(now, policy.notice_days);
    let note = format!("审核通过，公示 {} 天", policy.notice_days);
    let step = Step {
        event: ClaimEvent::Approve,
        notice_ends_at: Some(ends.naive_utc()),
        note: &note,
    };
    if !move_claim(tx, claim, step, &by, now)? {
        return Err(AppError::InvalidState("这条申报已经处理过了。".into()));
    }
    Ok(())
}

/// The role in which the caller proposes for this household, if any.
fn proposer_role(p: &Principal, target: &Target) -> Option<Proposer> {
    if permits(p, Action::ManageHouseholds, target) {
        Some(Proposer::Committee)
    } else if p.has_role(RoleName::GroupLeader)
        && permits(p, Action::ViewHousehold, target)
        && p.is_staff()
    {
        Some(Proposer::GroupLeader)
    } else if p.household_id() == target.household_id {
        Some(Proposer::Villager)
    } else {
        None
    }
}

/// A claim that the item and household allow, checked before anything is written.
struct Checked {
    item: ItemView,
    quantity: i32,
}

fn check_item(conn: &mut DbConnection, village_id: i64, item_id: i64) -> AppResult<ItemView> {
    match item_in_village(conn, item_id) {
        Ok((v, item)) if v == village_id && item.active => Ok(item),
        Ok((v, _)) if v == village_id => Err(AppError::field("item_id", "该事项已停用")),
        Ok(_) | Err(AppError::NotFound) => Err(AppError::field("item_id", "本村清单里没有这一项")),
        Err(other) => Err(other),
    }
}

fn check_claim(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    req: &ClaimRequest,
    now: DateTime<Utc>,
) -> AppResult<Checked> {
    let (household_village, target) = household_target(conn, req.household_id)?;
    if household_village != village_id {
        return Err(AppError::NotFound);
    }
    authorize(p, Action::SubmitClaim, &target)?;
    ensure_active_household(conn, req.household_id)?;
    if req.occurred_on > shanghai_today(now) {
        return Err(AppError::field("occurred_on", "日期不能在今天之后"));
    }
    let item = check_item(conn, village_id, req.item_id)?;
    let role = proposer_role(p, &target).ok_or(AppError::Forbidden("您不能为这一户申报。"))?;
    if role == Proposer::Villager && !village_policy(conn, village_id)?.allow_self_report {
        return Err(AppError::Forbidden(
            "本村暂不接受村民自己申报，请找组长或村委会。",
        ));
    }
    if !item.proposers.contains(&role) {
        return Err(AppError::Forbidden("这一项不能由您申报。"));
    }
    match req.member_id {
        Some(member_id) => {
            crate::org::service::member_of_household(conn, member_id, req.household_id)
                .map_err(|_| AppError::field("member_id", "这一户没有这个成员"))?;
        }
        None if item.member_required => {
            return Err(AppError::field(
                "member_id",
                "这一项要写明是家里哪一位（比如谁考上了大学）。",
            ));
        }
        None => {}
    }
    let quantity = req.quantity.unwrap_or(1);
    check_cap(
        conn,
        &item,
        req.household_id,
        req.occurred_on,
        quantity,
        None,
    )?;
    Ok(Checked { item, quantity })
}

/// 申报: a villager (own household), a group leader (the group's) or the committee.
pub fn submit(
    conn: &mut DbConnection,
    c: &Caller,
    village_id: i64,
    req: &ClaimRequest,
    now: DateTime<Utc>,
) -> AppResult<ClaimView> {
    write_tx(conn, |conn| {
        let checked = check_claim(conn, &c.principal, village_id, req, now)?;
        let id = insert(
            conn,
            c,
            village_id,
            req.household_id,
            req.member_id,
            &checked,
            req,
            now,
        )?;
        let claim = store::claim(conn, id)?.ok_or(AppError::NotFound)?;
        event(
            conn,
            &claim,
            ClaimStatus::Submitted,
            "已提交，等待村委会审核",
            &By::from(c),
            now,
        )?;
        audit_claim(
            conn,
            c,
            &claim,
            "claim_submit",
            json!({"item_id": claim.item_id, "total": Amount::from_minor(claim.total)}),
            now,
        )?;
        one_view(conn, id)
    })
}

#[allow(clippy::too_many_arguments)]
fn insert(
    tx: &mut Tx<'_>,
    c: &Caller,
    village_id: i64,
    household_id: i64,
    member_id: Option<i64>,
    checked: &Checked,
    req: &ClaimRequest,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    Ok(store::insert_claim(
        tx,
        &NewClaim {
            village_id,
            household_id,
            member_id,
            item_id: checked.item.id,
            item_version: checked.item.version,
            points: checked.item.points.minor(),
            quantity: checked.quantity,
            status: ClaimStatus::Submitted,
            occurred_on: req.occurred_on,
            note: req.note.as_deref().unwrap_or("").trim(),
            transaction_id: None,
            notice_ends_at: None,
            created_by_kind: c.kind(),
            created_by: c.principal.id,
            now: now.naive_utc(),
        },
    )?)
}

/// Loads a claim the caller may act on with `action`.
fn claim_for(
    conn: &mut DbConnection,
    p: &Principal,
    claim_id: i64,
    action: Action,
) -> AppResult<ClaimRow> {
    let claim = store::claim(conn, claim_id)?.ok_or(AppError::NotFound)?;
    let (_, target) = household_target(conn, claim.household_id)?;
    authorize(p, action, &target)?;
    Ok(claim)
}

fn require_status(claim: &ClaimRow, allowed: &[ClaimStatus], message: &str) -> AppResult<()> {
    if allowed.contains(&claim.status) {
        Ok(())
    } else {
        Err(AppError::InvalidState(message.to_owned()))
    }
}

/// 审核通过: into public notice, or posted at once when the village has no notice.
pub fn approve(
    conn: &mut DbConnection,
    c: &Caller,
    claim_id: i64,
    now: DateTime<Utc>,
) -> AppResult<ClaimView> {
    write_tx(conn, |conn| {
        let claim = claim_for(conn, &c.principal, claim_id, Action::ReviewClaim)?;
        require_status(&claim, &[ClaimStatus::Submitted], "这条申报已经审核过了。")?;
        ensure_active_household(conn, claim.household_id)?;
        if claim.created_by == c.principal.id && claim.created_by_kind == c.kind() {
            return Err(AppError::Forbidden(
                "不能审核自己提交的申报，请由其他村委会成员审核。",
            ));
        }
        let item = item_of(conn, &claim)?;
        if item.evidence_required && store::evidence_of(conn, claim.id)?.is_empty() {
            return Err(AppError::field("evidence", "这一项需要照片证据，请先上传"));
        }
        check_cap(
            conn,
            &item,
            claim.household_id,
            claim.occurred_on,
            claim.quantity,
            Some(claim.id),
        )?;
        let policy = village_policy(conn, claim.village_id)?;
        approve_row(conn, c, &claim, &policy, now)?;
        audit_claim(
            conn,
            c,
            &claim,
            "claim_approve",
            json!({"notice_days": policy.notice_days}),
            now,
        )?;
        one_view(conn, claim_id)
    })
}

pub fn reject(
    conn: &mut DbConnection,
    c: &Caller,
    claim_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<ClaimView> {
    write_tx(conn, |conn| {
        let claim = claim_for(conn, &c.principal, claim_id, Action::ReviewClaim)?;
        let step = Step {
            event: ClaimEvent::Reject,
            notice_ends_at: None,
            note: reason.trim(),
        };
        if !move_claim(conn, &claim, step, &By::from(c), now)? {
            return Err(AppError::InvalidState("这条申报已经审核过了。".into()));
        }
        audit_claim(
            conn,
            c,
            &claim,
            "claim_reject",
            json!({"reason": reason.trim()}),
            now,
        )?;
        one_view(conn, claim_id)
    })
}

pub fn get(conn: &mut DbConnection, p: &Principal, claim_id: i64) -> AppResult<ClaimView> {
    claim_for(conn, p, claim_id, Action::ViewClaim)?;
    one_view(conn, claim_id)
}

pub fn list(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    filter: &ClaimFilter,
) -> AppResult<Page<ClaimView>> {
    let target = village_target(conn, village_id)?;
    authorize(p, Action::ListClaims, &target)?;
    let request = PageQuery {
        limit: filter.limit,
        cursor: filter.cursor.clone(),
    }
    .request()?;
    let own: Option<Vec<i64>> = (!p.is_staff()).then(|| p.household_id().into_iter().collect());
    let groups = if p.is_staff() {
        visible_groups(p, village_id)
    } else {
        None
    };
    let ids = store::claims_page(
        conn,
        store::ClaimQuery {
            village_id,
            status: filter.status,
            households: own.as_deref(),
            groups: groups.as_deref(),
            page: request,
        },
    )?;
    let mut claims = views(conn, &ids)?;
    let more = claims.len() > usize::try_from(request.limit).unwrap_or(usize::MAX);
    claims.truncate(usize::try_from(request.limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        claims.last().map(|c| crate::paging::encode_cursor(c.id))
    } else {
        None
    };
    Ok(Page {
        items: claims,
        next_cursor,
    })
}

/// 异议: any villager of the village, while the claim is on notice.
pub fn object(
    conn: &mut DbConnection,
    c: &Caller,
    claim_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<ObjectionView> {
    write_tx(conn, |conn| {
        let claim = store::claim(conn, claim_id)?.ok_or(AppError::NotFound)?;
        let target = village_target(conn, claim.village_id)?;
        authorize(&c.principal, Action::Object, &target)?;
        let household = c.principal.household_id();
        if household == Some(claim.household_id) {
            return Err(AppError::field("claim_id", "不能对自己家的申报提出异议。"));
        }
        let step = Step {
            event: ClaimEvent::Object,
            notice_ends_at: claim.notice_ends_at,
            note: "有村民提出异议，等待村务监督委员会处理",
        };
        if !move_claim(conn, &claim, step, &By::from(c), now)? {
            return Err(AppError::InvalidState(
                "只有公示中的申报可以提出异议。".into(),
            ));
        }
        // Checked after the claim's row is updated: a household's second objection racing
        // its first waits for it there, then finds it.
        if let Some(household) = household
            && store::household_objected(conn, claim.id, household)?
        {
            return Err(AppError::field(
                "claim_id",
                "您家已经对这条申报提过异议了。",
            ));
        }
        let id =
            store::insert_objection(conn, &claim, c.principal.id, reason.trim(), now.naive_utc())?;
        audit_claim(
            conn,
            c,
            &claim,
            "objection_raise",
            json!({"objection_id": id}),
            now,
        )?;
        objection_view(conn, id)
    })
}

/// Objections waiting for the supervisors, for the desk.
pub fn open_objections(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
) -> AppResult<Vec<ObjectionView>> {
    let target = village_target(conn, village_id)?;
    authorize(p, Action::ListClaims, &target)?;
    store::open_objections_in(conn, village_id)?
        .into_iter()
        .map(|id| objection_view(conn, id))
        .collect()
}

/// How many of the household's claims were decided (by the committee, the notice, the
/// supervisors) after `since`: the villager's own household, or staff of the village.
pub fn decided_since(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
    since: DateTime<Utc>,
) -> AppResult<i64> {
    let (_, target) = crate::org::service::household_target(conn, household_id)?;
    authorize(p, Action::ViewHousehold, &target)?;
    Ok(store::decided_since(conn, household_id, since.naive_utc())?)
}

/// The claims on the board a villager's household may not object to: its own, and those
/// it has objected to already (the objection endpoint refuses both).
pub fn not_to_object(conn: &mut DbConnection, p: &Principal) -> AppResult<NotToObject> {
    let Some(household_id) = p.household_id() else {
        return Ok(NotToObject::default());
    };
    Ok(NotToObject {
        own: store::on_notice_of(conn, household_id)?,
        objected: store::objected_by(conn, household_id)?,
    })
}

/// See [`not_to_object`].
#[derive(Default)]
pub struct NotToObject {
    pub own: Vec<i64>,
    pub objected: Vec<i64>,
}

/// Who objected, masked ("3号 李*芳"), for the supervisors deciding it.
pub fn objector(conn: &mut DbConnection, p: &Principal, objection_id: i64) -> AppResult<String> {
    let row = store::objection(conn, objection_id)?.ok_or(AppError::NotFound)?;
    let target = village_target(conn, row.village_id)?;
    authorize(p, Action::ListClaims, &target)?;
    crate::org::service::member_masked(conn, row.member_id)
}

fn objection_view(conn: &mut DbConnection, id: i64) -> AppResult<ObjectionView> {
    let row = store::objection(conn, id)?.ok_or(AppError::NotFound)?;
    let claim = store::claim(conn, row.claim_id)?.ok_or(AppError::NotFound)?;
    Ok(ObjectionView {
        id: row.id,
        claim_id: row.claim_id,
        reason: row.reason,
        status: row.status,
        decision_note: row.decision_note,
        created_at: row.created_at.and_utc(),
        decided_at: row.decided_at.map(|t| t.and_utc()),
        claim_status: claim.status,
    })
}

/// The supervisors decide: upheld overturns the claim for good; dismissed puts it back on
/// notice once no objection is open, to be posted when due.
pub fn decide(
    conn: &mut DbConnection,
    c: &Caller,
    objection_id: i64,
    req: &DecideRequest,
    now: DateTime<Utc>,
) -> AppResult<ObjectionView> {
    write_tx(conn, |conn| {
        let objection = store::objection(conn, objection_id)?.ok_or(AppError::NotFound)?;
        let target = village_target(conn, objection.village_id)?;
        authorize(&c.principal, Action::DecideObjection, &target)?;
        let claim = store::claim(conn, objection.claim_id)?.ok_or(AppError::NotFound)?;
        let (status, note) = (ObjectionStatus::from(req.outcome), req.note.trim());
        if !store::decide_objection(
            conn,
            objection.id,
            status,
            c.principal.id,
            note,
            now.naive_utc(),
        )? {
            return Err(AppError::InvalidState("这条异议已经处理过了。".into()));
        }
        let by = By::from(c);
        match req.outcome {
            Outcome::Upheld => {
                store::close_objections(conn, claim.id, c.principal.id, note, now.naive_utc())?;
                let note = format!("异议成立：{note}");
                let step = Step {
                    event: ClaimEvent::Uphold,
                    notice_ends_at: claim.notice_ends_at,
                    note: &note,
                };
                move_claim(conn, &claim, step, &by, now)?;
            }
            Outcome::Dismissed if store::open_objections(conn, claim.id)? == 0 => {
                let note = format!("异议不成立：{note}；继续公示");
                let step = Step {
                    event: ClaimEvent::Dismiss,
                    notice_ends_at: claim.notice_ends_at,
                    note: &note,
                };
                move_claim(conn, &claim, step, &by, now)?;
            }
            Outcome::Dismissed => {
                event(
                    conn,
                    &claim,
                    ClaimStatus::Objected,
                    &format!("一条异议不成立：{note}；仍有异议待处理"),
                    &by,
                    now,
                )?;
            }
        }
        audit_claim(
            conn,
            c,
            &claim,
            "objection_decide",
            json!({"objection_id": objection.id, "outcome": status.as_str()}),
            now,
        )?;
        objection_view(conn, objection.id)
    })
}

/// Posts every claim whose notice has run out, each in its own transaction. Safe to run
/// on several servers at once: a claim moves to `posted` by a conditional update, and
/// its id is the posting's idempotency key. Returns how many were posted.
pub fn post_due(conn: &mut DbConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let due = store::due(conn, now.naive_utc(), 200)?;
    let mut posted = 0;
    for claim_id in due {
        match write_tx(conn, |conn| post_one_due(conn, claim_id, now)) {
            Ok(true) => posted += 1,
            Ok(false) => {}
            // A duplicate key means another server posted it first.
            Err(err) if err.is_duplicate() => {}
            Err(err) => tracing::error!(claim_id, error = %err, "posting a due claim failed"),
        }
    }
    Ok(posted)
}

fn post_one_due(tx: &mut Tx<'_>, claim_id: i64, now: DateTime<Utc>) -> AppResult<bool> {
    let Some(claim) = store::claim(tx, claim_id)? else {
        return Ok(false);
    };
    if claim.status != ClaimStatus::InNotice {
        return Ok(false);
    }
    let item = item_of(tx, &claim)?;
    if check_cap(
        tx,
        &item,
        claim.household_id,
        claim.occurred_on,
        claim.quantity,
        Some(claim.id),
    )
    .is_err()
    {
        let step = Step {
            event: ClaimEvent::CapUsedUp,
            notice_ends_at: claim.notice_ends_at,
            note: "公示期满时已超出该项的次数上限，未入账",
        };
        move_claim(tx, &claim, step, &SYSTEM, now)?;
        return Ok(false);
    }
    post_claim(
        tx,
        &claim,
        ClaimEvent::NoticeEnds,
        Actor::SYSTEM,
        &SYSTEM,
        now,
    )
}

/// Points approved and on notice for a household.
pub fn pending(conn: &mut DbConnection, household_id: i64) -> AppResult<Amount> {
    Ok(Amount::from_minor(store::pending(conn, household_id)?))
}

/// The committee awards (or deducts) an item to households, all or none. Each becomes an
/// approved claim that goes on notice or posts at once, as the village's policy says.
/// Once per idempotency key.
pub fn award(
    conn: &mut DbConnection,
    key: &IdempotencyKey,
    c: &Caller,
    village_id: i64,
    req: &AwardRequest,
    now: DateTime<Utc>,
) -> AppResult<idempotency::Outcome> {
    created_once(conn, key, now, |tx| award_in(tx, c, village_id, req, now))
}

fn award_in(
    tx: &mut Tx<'_>,
    c: &Caller,
    village_id: i64,
    req: &AwardRequest,
    now: DateTime<Utc>,
) -> AppResult<AwardResult> {
    let target = village_target(tx, village_id)?;
    authorize(&c.principal, Action::Award, &target)?;
    if req.occurred_on > shanghai_today(now) {
        return Err(AppError::field("occurred_on", "日期不能在今天之后"));
    }
    let item = check_item(tx, village_id, req.item_id)?;
    if item.member_required {
        return Err(AppError::field(
            "item_id",
            "这一项属于家里某一位，不能整户奖励：请逐户申报并写明是哪一位。",
        ));
    }
    check_households(tx, village_id, &req.household_ids)?;
    let quantity = req.quantity.unwrap_or(1);
    let policy = village_policy(tx, village_id)?;
    let claim_req = ClaimRequest {
        household_id: 0,
        item_id: item.id,
        quantity: Some(quantity),
        occurred_on: req.occurred_on,
        note: req.note.clone(),
        member_id: None,
    };
    let checked = Checked { item, quantity };
    let mut ids = Vec::with_capacity(req.household_ids.len());
    for household_id in &req.household_ids {
        let awarded = Awarded {
            village_id,
            household_id: *household_id,
            member_id: None,
            how: "村委会直接评定",
        };
        check_cap(
            tx,
            &checked.item,
            *household_id,
            req.occurred_on,
            quantity,
            None,
        )?;
        ids.push(award_one(
            tx, c, &awarded, &checked, &claim_req, &policy, now,
        )?);
    }
    let kind = if checked.item.points.is_negative() {
        "deduction"
    } else {
        "award"
    };
    let detail = json!({"claims": ids, "households": req.household_ids, "quantity": quantity,
                        "total_each": Amount::from_minor(checked.item.points.minor() * i64::from(quantity))});
    let entry = Event {
        village_id: Some(village_id),
        action: kind,
        subject_kind: "checklist_item",
        subject_id: Some(checked.item.id),
        detail,
    };
    audit::record(tx, c, entry, now)?;
    Ok(AwardResult {
        claims: views(tx, &ids)?,
    })
}

/// Who an approved claim made by the committee is for, and how it came about (the
/// claim's first step in its history).
struct Awarded {
    village_id: i64,
    household_id: i64,
    member_id: Option<i64>,
    how: &'static str,
}

/// One approved claim made by the committee (an award, an event's attendance): written,
/// its history begun, then on notice or posted as the village's policy says.
fn award_one(
    tx: &mut Tx<'_>,
    c: &Caller,
    awarded: &Awarded,
    checked: &Checked,
    req: &ClaimRequest,
    policy: &VillagePolicy,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let id = insert(
        tx,
        c,
        awarded.village_id,
        awarded.household_id,
        awarded.member_id,
        checked,
        req,
        now,
    )?;
    let claim = store::claim(tx, id)?.ok_or(AppError::NotFound)?;
    event(
        tx,
        &claim,
        ClaimStatus::Submitted,
        awarded.how,
        &By::from(c),
        now,
    )?;
    approve_row(tx, c, &claim, policy, now)?;
    Ok(id)
}

/// An event's attendance to turn into claims: who came (household, member), for which
/// item, on which day.
#[derive(Clone, Copy)]
pub struct Attendance<'a> {
    pub village_id: i64,
    pub item_id: i64,
    pub attended: &'a [(i64, Option<i64>)],
    pub occurred_on: chrono::NaiveDate,
    pub note: &'a str,
}

/// An event's check-ins as claims against its item, one per household, approved by the
/// committee closing it. A household already at the item's cap for that day's period
/// gets none; its check-in stays without a claim. Answers (household, claim) for each
/// claim made.
pub fn approve_attendance(
    tx: &mut Tx<'_>,
    c: &Caller,
    a: &Attendance<'_>,
    now: DateTime<Utc>,
) -> AppResult<Vec<(i64, i64)>> {
    let Attendance {
        village_id,
        item_id,
        attended,
        occurred_on,
        note,
    } = *a;
    authorize(
        &c.principal,
        Action::Award,
        &village_target(tx, village_id)?,
    )?;
    let item = check_item(tx, village_id, item_id)?;
    let policy = village_policy(tx, village_id)?;
    let req = ClaimRequest {
        household_id: 0,
        item_id: item.id,
        quantity: Some(1),
        occurred_on,
        note: Some(note.to_owned()),
        member_id: None,
    };
    let checked = Checked { item, quantity: 1 };
    let mut made = Vec::with_capacity(attended.len());
    for &(household_id, member_id) in attended {
        if ensure_active_household(tx, household_id).is_err() {
            continue;
        }
        match check_cap(tx, &checked.item, household_id, occurred_on, 1, None) {
            Ok(()) => {}
            Err(AppError::CapExceeded { .. }) => continue,
            Err(other) => return Err(other),
        }
        let awarded = Awarded {
            village_id,
            household_id,
            member_id,
            how: "参加活动签到，村委会确认",
        };
        let id = award_one(tx, c, &awarded, &checked, &req, &policy, now)?;
        made.push((household_id, id));
    }
    Ok(made)
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
        } else if let Err(AppError::InvalidState(why)) = ensure_active_household(conn, *id) {
            errors.push(FieldError::new(format!("household_ids[{index}]"), why));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Largest evidence photo.
pub const EVIDENCE_MAX_BYTES: usize = 5 * 1024 * 1024;
/// Most photos per claim.
pub const EVIDENCE_MAX_COUNT: usize = 4;

/// The image type, from the bytes themselves (never the file name).
fn sniff_image(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// A claim from the villager's page: submitted with its photo, if one was taken, or not
/// at all (a photo that is refused refuses the claim, so nothing is half sent).
pub fn submit_with_photo(
    conn: &mut DbConnection,
    c: &Caller,
    village_id: i64,
    req: &ClaimRequest,
    photo: &[u8],
    now: DateTime<Utc>,
) -> AppResult<ClaimView> {
    write_tx(conn, |tx| {
        let claim = submit(tx, c, village_id, req, now)?;
        if !photo.is_empty() {
            add_evidence(tx, c, claim.id, photo, now)?;
        } else if item_in_village(tx, req.item_id)?.1.evidence_required {
            return Err(AppError::field(
                "photo",
                "这一项要附照片：请拍一张照片再提交。",
            ));
        }
        Ok(claim)
    })
}

/// Adds a photo to a claim still before review or on notice; by its proposer's side or
/// the committee.
pub fn add_evidence(
    conn: &mut DbConnection,
    c: &Caller,
    claim_id: i64,
    data: &[u8],
    now: DateTime<Utc>,
) -> AppResult<EvidenceView> {
    let content_type = sniff_image(data)
        .ok_or_else(|| AppError::field("file", "只能上传 JPEG、PNG 或 WebP 照片"))?;
    if data.len() > EVIDENCE_MAX_BYTES {
        return Err(AppError::PayloadTooLarge);
    }
    write_tx(conn, |conn| {
        let claim = claim_for(conn, &c.principal, claim_id, Action::AddEvidence)?;
        require_status(
            &claim,
            &[ClaimStatus::Submitted, ClaimStatus::InNotice],
            "这条申报已经不能再补充照片。",
        )?;
        if store::evidence_of(conn, claim.id)?.len() >= EVIDENCE_MAX_COUNT {
            return Err(AppError::field("file", "每条申报最多 4 张照片"));
        }
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
        let id = store::insert_evidence(
            conn,
            &store::NewEvidence {
                claim: &claim,
                content_type,
                sha256: &digest,
                data,
                uploaded_by_kind: c.kind(),
                uploaded_by: c.principal.id,
                now: now.naive_utc(),
            },
        )?;
        audit_claim(
            conn,
            c,
            &claim,
            "evidence_add",
            json!({"evidence_id": id, "sha256": digest}),
            now,
        )?;
        let size_bytes = i64::try_from(data.len()).unwrap_or(i64::MAX);
        Ok(EvidenceView {
            id,
            claim_id,
            content_type: content_type.to_owned(),
            size_bytes,
            created_at: now,
        })
    })
}

/// A claim's photos (at most a handful), as a page like every list.
pub fn list_evidence(
    conn: &mut DbConnection,
    p: &Principal,
    claim_id: i64,
    page: &PageQuery,
) -> AppResult<Page<EvidenceView>> {
    claim_for(conn, p, claim_id, Action::ViewClaim)?;
    let request = page.request()?;
    let rows: Vec<_> = store::evidence_of(conn, claim_id)?
        .into_iter()
        .filter(|(id, ..)| request.after.is_none_or(|after| *id > after))
        .collect();
    Ok(Page::from_rows(
        rows,
        request,
        |(id, ..)| *id,
        |(id, content_type, size_bytes, at)| EvidenceView {
            id,
            claim_id,
            content_type,
            size_bytes,
            created_at: at.and_utc(),
        },
    ))
}

/// A photo's type and bytes, for those who may see the claim.
pub fn evidence(
    conn: &mut DbConnection,
    p: &Principal,
    claim_id: i64,
    evidence_id: i64,
) -> AppResult<(String, Vec<u8>)> {
    claim_for(conn, p, claim_id, Action::ViewClaim)?;
    store::evidence_data(conn, claim_id, evidence_id)?.ok_or(AppError::NotFound)
}

fn board_claim(row: store::BoardRow) -> BoardClaim {
    let (claim, posted_at) = (row.claim, row.posted_at);
    BoardClaim {
        claim_id: claim.id,
        door_no: row.door_no,
        household: crate::org::model::mask_name(&row.head_name),
        member: row.member_name.as_deref().map(crate::org::model::mask_name),
        category: row.category,
        item: row.title,
        points: Amount::from_minor(claim.total),
        quantity: claim.quantity,
        occurred_on: claim.occurred_on,
        status: claim.status,
        notice_ends_at: claim.notice_ends_at.map(|t| t.and_utc()),
        posted_at: posted_at.map(|t| t.and_utc()),
    }
}

/// The public notice board (公示栏), for anyone: masked names and door numbers only.
pub fn notice_board(conn: &mut DbConnection, code: &str) -> AppResult<NoticeBoard> {
    let village =
        crate::org::service::village_summary_by_code(conn, code)?.ok_or(AppError::NotFound)?;
    let in_notice = store::board(
        conn,
        village.0,
        &[ClaimStatus::InNotice, ClaimStatus::Objected],
        200,
    )?;
    let recent = store::board(conn, village.0, &[ClaimStatus::Posted], 30)?;
    Ok(NoticeBoard {
        village_code: code.to_owned(),
        village_name: village.1,
        in_notice: in_notice.into_iter().map(board_claim).collect(),
        recent_postings: recent.into_iter().map(board_claim).collect(),
        head: crate::books::head_by_code(conn, code)?,
    })
}

#[cfg(test)]
mod tests {
    use super::sniff_image;

    #[test]
    fn images_are_told_by_their_bytes() {
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(
            sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(sniff_image(b"GIF89a"), None);
        assert_eq!(sniff_image(b"<svg onload=alert(1)>"), None);
    }
}
