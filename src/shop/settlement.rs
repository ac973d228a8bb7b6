//! Settlement (结算): statements of a shop's redemptions, approved and paid.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::RoundingStrategy;
use serde_json::json;

use super::model::{
    ApprovedVillageView, CreateSettlement, LineKind, PayRequest, SettlementBasisView,
    SettlementGoodsView, SettlementLineView, SettlementStatus, SettlementView,
};
use super::store::{self, SettlementRow};
use crate::amount::Amount;
use crate::audit::{self, Event};
use crate::auth::policy::{Action, Target, authorize};
use crate::auth::{Caller, Principal};
use crate::clock::{shanghai_midnight, shanghai_today};
use crate::db::{DbConnection, Tx, write_tx};
use crate::error::{AppError, AppResult};
use crate::export::{Cell, Sheet};
use crate::ledger::model::{Actor, TxKind, settlement_legs};
use crate::ledger::posting::{Posting, post};
use crate::org::policy::SettleAt;
use crate::org::service::village_policy;
use crate::paging::{Page, PageQuery};

fn shop_target(conn: &mut DbConnection, shop_id: i64) -> AppResult<Target> {
    let shop = store::shop(conn, shop_id)?.ok_or(AppError::NotFound)?;
    let (id, township_id) = (shop.id, shop.township_id);
    Ok(Target::shop(township_id, id))
}

/// Points × yuan per point, rounded to the fen, halves away from zero; `None` when the
/// product does not fit an amount.
pub fn to_yuan(points: Amount, rate: Amount) -> Option<Amount> {
    let yuan = points
        .to_decimal()
        .checked_mul(rate.to_decimal())?
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    Amount::from_decimal(yuan).ok()
}

/// A statement whose sums would not fit is refused rather than wrapped.
fn too_large() -> AppError {
    AppError::InvalidState("结算金额超出范围，请缩短结算期间。".into())
}

fn checked_sum(values: impl IntoIterator<Item = i64>) -> AppResult<i64> {
    values
        .into_iter()
        .try_fold(0i64, i64::checked_add)
        .ok_or_else(too_large)
}

fn view(conn: &mut DbConnection, row: SettlementRow) -> AppResult<SettlementView> {
    let lines: Vec<SettlementLineView> = store::settlement_lines(conn, row.id)?
        .into_iter()
        .map(|l| SettlementLineView {
            kind: match l.void_id {
                Some(_) => LineKind::Void,
                None => LineKind::Redemption,
            },
            redemption_id: l.redemption_id,
            receipt_no: l.receipt_no,
            village_id: l.village_id,
            points: Amount::from_minor(l.points),
            yuan: Amount::from_minor(l.yuan),
            redeemed_at: l.redeemed_at.and_utc(),
        })
        .collect();
    let carried = lines.iter().filter(|l| l.kind == LineKind::Void).count();
    Ok(SettlementView {
        id: row.id,
        shop_id: row.shop_id,
        period_start: row.period_start,
        period_end: row.period_end,
        status: row.status,
        redemptions: row.redemptions,
        carried_voids: i32::try_from(carried).unwrap_or(i32::MAX),
        points: Amount::from_minor(row.points),
        yuan: Amount::from_minor(row.yuan),
        created_at: row.created_at.and_utc(),
        approved_at: row.approved_at.map(|t| t.and_utc()),
        paid_at: row.paid_at.map(|t| t.and_utc()),
        paid_on: row.paid_on,
        reference: row.reference,
        lines,
        goods: goods_of(conn, row.id)?,
        bases: store::bases(conn, row.id)?
            .into_iter()
            .map(|b| SettlementBasisView {
                village_id: b.village_id,
                settle_at: b.settle_at,
                yuan_per_point: Amount::from_minor(b.yuan_per_point),
            })
            .collect(),
        at_approval: store::approved_villages(conn, row.id)?
            .into_iter()
            .map(approved_view)
            .collect::<AppResult<_>>()?,
    })
}

fn approved_view(v: store::ApprovedVillage) -> AppResult<ApprovedVillageView> {
    Ok(ApprovedVillageView {
        village_id: v.village_id,
        seq: v.seq,
        hash: v.hash,
        funding: serde_json::from_str(&v.funding).map_err(AppError::internal)?,
    })
}

/// The statement's goods, summed by goods; a void line's goods count back.
fn goods_of(conn: &mut DbConnection, id: i64) -> AppResult<Vec<SettlementGoodsView>> {
    let mut goods: Vec<SettlementGoodsView> = Vec::new();
    for line in store::statement_goods(conn, id)? {
        let sign = if line.void { -1 } else { 1 };
        let quantity = sign * i64::from(line.quantity);
        let points = quantity
            .checked_mul(line.points_price)
            .ok_or_else(too_large)?;
        let cost = quantity.checked_mul(line.cost_yuan).ok_or_else(too_large)?;
        match goods.last_mut() {
            Some(same) if same.goods_id == line.goods_id => {
                same.quantity += quantity;
                same.points = add(same.points, points)?;
                same.cost_yuan = add(same.cost_yuan, cost)?;
            }
            _ => goods.push(SettlementGoodsView {
                goods_id: line.goods_id,
                name: line.name,
                unit: line.unit,
                quantity,
                points: Amount::from_minor(points),
                cost_yuan: Amount::from_minor(cost),
            }),
        }
    }
    goods.retain(|g| g.quantity != 0);
    Ok(goods)
}

fn add(sum: Amount, hundredths: i64) -> AppResult<Amount> {
    Ok(Amount::from_minor(checked_sum([sum.minor(), hundredths])?))
}

/// A period of whole past days: today's redemptions may still be voided at the counter.
fn check_period(req: &CreateSettlement, now: DateTime<Utc>) -> AppResult<()> {
    if req.period_end < req.period_start {
        return Err(AppError::field("period_end", "结束日期不能早于开始日期"));
    }
    if req.period_end >= shanghai_today(now) {
        return Err(AppError::field(
            "period_end",
            "只能结算昨天及以前的日子（今天的兑换还可能作废）",
        ));
    }
    Ok(())
}

/// A statement as drawn up: its lines and how each village's were priced.
struct Drawn {
    lines: Vec<store::NewLine>,
    bases: Vec<store::Basis>,
}

/// The statement's lines: the period's redemptions not yet settled, each priced as its
/// village's policy says (its points at the village's rate, or its goods at cost), then
/// every void still to carry back from earlier statements (a committee's void is final,
/// so the next statement takes it whatever its period).
fn draw_up(
    conn: &mut DbConnection,
    shop_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Drawn> {
    let mut policies = BTreeMap::new();
    let mut costs: Option<BTreeMap<i64, i64>> = None;
    let mut lines = Vec::new();
    for unsettled in store::unsettled(conn, shop_id, from, to)? {
        let (redemption_id, village_id) = (unsettled.id, unsettled.village_id);
        let points = unsettled.total_points;
        let (rate, settle_at) = match policies.get(&village_id) {
            Some(known) => *known,
            None => {
                let policy = village_policy(conn, village_id)?;
                let known = (policy.yuan_per_point, policy.settle_at);
                policies.insert(village_id, known);
                known
            }
        };
        let yuan = match settle_at {
            SettleAt::PointsRate => to_yuan(Amount::from_minor(points), rate)
                .ok_or_else(too_large)?
                .minor(),
            SettleAt::CostPrice => {
                if costs.is_none() {
                    costs = Some(costs_by_redemption(conn, shop_id, from, to)?);
                }
                costs
                    .as_ref()
                    .and_then(|c| c.get(&redemption_id))
                    .copied()
                    .unwrap_or(0)
            }
        };
        lines.push(store::NewLine {
            redemption_id,
            void_id: None,
            village_id,
            points,
            yuan,
        });
    }
    lines.extend(
        store::voids_to_carry(conn, shop_id)?
            .into_iter()
            .map(|v| store::NewLine {
                redemption_id: v.redemption_id,
                void_id: Some(v.void_id),
                village_id: v.village_id,
                points: -v.points,
                yuan: -v.yuan,
            }),
    );
    let bases = policies
        .into_iter()
        .map(|(village_id, (rate, settle_at))| store::Basis {
            village_id,
            settle_at,
            yuan_per_point: rate.minor(),
        })
        .collect();
    Ok(Drawn { lines, bases })
}

/// What each redemption of the period cost the shop: its goods at their cost prices.
fn costs_by_redemption(
    conn: &mut DbConnection,
    shop_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<BTreeMap<i64, i64>> {
    let mut costs: BTreeMap<i64, i64> = BTreeMap::new();
    for (redemption_id, quantity, cost) in store::goods_costs(conn, shop_id, from, to)? {
        let line = i64::from(quantity)
            .checked_mul(cost)
            .ok_or_else(too_large)?;
        let sum = costs.entry(redemption_id).or_default();
        *sum = sum.checked_add(line).ok_or_else(too_large)?;
    }
    Ok(costs)
}

/// A draft statement of the shop's redemptions in the period (Shanghai days, inclusive),
/// leaving out voided ones and any already on another statement, and taking back voids
/// of redemptions that earlier statements paid for.
pub fn create(
    conn: &mut DbConnection,
    c: &Caller,
    shop_id: i64,
    req: &CreateSettlement,
    now: DateTime<Utc>,
) -> AppResult<SettlementView> {
    write_tx(conn, |conn| {
        let target = shop_target(conn, shop_id)?;
        authorize(&c.principal, Action::Settle, &target)?;
        check_period(req, now)?;
        store::lock_shop(conn, shop_id)?;
        let from = shanghai_midnight(req.period_start).naive_utc();
        let to = shanghai_midnight(req.period_end + chrono::Days::new(1)).naive_utc();
        let Drawn { lines, bases } = draw_up(conn, shop_id, from, to)?;
        let redemptions = lines.iter().filter(|l| l.void_id.is_none()).count();
        let id = store::insert_settlement(
            conn,
            &store::NewSettlement {
                shop_id,
                period_start: req.period_start,
                period_end: req.period_end,
                redemptions: i32::try_from(redemptions).map_err(|_| too_large())?,
                points: checked_sum(lines.iter().map(|l| l.points))?,
                yuan: checked_sum(lines.iter().map(|l| l.yuan))?,
                created_by: c.principal.id,
                now: now.naive_utc(),
            },
        )?;
        store::insert_settlement_lines(conn, id, &lines)?;
        store::insert_bases(conn, id, &bases)?;
        record(
            conn,
            c,
            id,
            "settlement_create",
            json!({"shop_id": shop_id, "redemptions": redemptions, "carried_voids": lines.len() - redemptions}),
            now,
        )?;
        let row = store::settlement(conn, id)?.ok_or(AppError::NotFound)?;
        view(conn, row)
    })
}

/// Where a voided redemption's statement leaves it. Runs inside the void's transaction,
/// under the shop's lock: a draft drops the line (its totals change); an approved or
/// paid statement keeps it, and the shop's next statement carries the void back.
pub fn on_void(tx: &mut Tx<'_>, redemption_id: i64) -> AppResult<VoidOnStatement> {
    let Some(line) = store::statement_of(tx, redemption_id)? else {
        return Ok(VoidOnStatement::Unsettled);
    };
    let id = line.settlement_id;
    if line.status == SettlementStatus::Draft
        && store::remove_from_draft(tx, id, line.line_id, line.points, line.yuan)?
    {
        return Ok(VoidOnStatement::LeftDraft(id));
    }
    Ok(VoidOnStatement::CarriedForward(id))
}

/// What a void did to settlement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoidOnStatement {
    /// The redemption was on no statement.
    Unsettled,
    /// The line left this draft statement.
    LeftDraft(i64),
    /// This statement was approved: the shop's next one takes the points back.
    CarriedForward(i64),
}

/// Whether the redemption is on any statement (then only the committee may void it).
pub fn is_on_statement(conn: &mut DbConnection, redemption_id: i64) -> AppResult<bool> {
    Ok(store::statement_of(conn, redemption_id)?.is_some())
}

/// Hundredths as an amount, however large.
fn hundredths(minor: i128) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100)
}

/// Each shop's receivable in the village against its own books: unsettled redemptions
/// minus voids not yet carried. Differences in words, for `verify`.
pub fn receivable_problems(conn: &mut DbConnection, village_id: i64) -> AppResult<Vec<String>> {
    let expected: BTreeMap<i64, i128> = store::expected_receivables(conn, village_id)?
        .into_iter()
        .collect();
    let actual: BTreeMap<i64, i128> = crate::ledger::service::shop_receivables(conn, village_id)?
        .into_iter()
        .map(|(shop, balance)| (shop, i128::from(balance)))
        .collect();
    let shops: std::collections::BTreeSet<i64> =
        expected.keys().chain(actual.keys()).copied().collect();
    Ok(shops
        .into_iter()
        .filter_map(|shop| {
            let (want, have) = (
                expected.get(&shop).copied().unwrap_or(0),
                actual.get(&shop).copied().unwrap_or(0),
            );
            (want != have).then(|| {
                format!(
                    "shop {shop}: receivable is {} but its unsettled redemptions less uncarried voids come to {}",
                    hundredths(have),
                    hundredths(want)
                )
            })
        })
        .collect())
}

fn record(
    tx: &mut Tx<'_>,
    c: &Caller,
    id: i64,
    action: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let entry = Event {
        village_id: None,
        action,
        subject_kind: "settlement",
        subject_id: Some(id),
        detail,
    };
    Ok(audit::record(tx, c, entry, now)?)
}

/// A statement its shop's keeper or the township may read.
fn readable(conn: &mut DbConnection, p: &Principal, id: i64) -> AppResult<SettlementRow> {
    let row = store::settlement(conn, id)?.ok_or(AppError::NotFound)?;
    let target = shop_target(conn, row.shop_id)?;
    authorize(p, Action::ViewShopRedemptions, &target)?;
    Ok(row)
}

pub fn get(conn: &mut DbConnection, p: &Principal, id: i64) -> AppResult<SettlementView> {
    let row = readable(conn, p, id)?;
    view(conn, row)
}

/// The shop's statements, newest first, a page at a time.
pub fn list(
    conn: &mut DbConnection,
    p: &Principal,
    shop_id: i64,
    page: &PageQuery,
) -> AppResult<Page<SettlementView>> {
    let target = shop_target(conn, shop_id)?;
    authorize(p, Action::ViewShopRedemptions, &target)?;
    let request = page.request()?;
    let ids = store::settlements_of(conn, shop_id, request)?;
    Page::from_rows(ids, request, |id| *id, |id| id).try_map(|id| get(conn, p, id))
}

/// Approves a draft: from here on its figures never change.
pub fn approve(
    conn: &mut DbConnection,
    c: &Caller,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<SettlementView> {
    write_tx(conn, |conn| {
        let row = store::settlement(conn, id)?.ok_or(AppError::NotFound)?;
        let target = shop_target(conn, row.shop_id)?;
        authorize(&c.principal, Action::Settle, &target)?;
        if !store::settlement_transition(
            conn,
            id,
            SettlementStatus::Draft,
            SettlementStatus::Approved,
            c.principal.id,
            now.naive_utc(),
            None,
        )? {
            return Err(AppError::InvalidState("只有草稿可以审批。".into()));
        }
        record_villages(conn, id)?;
        record(
            conn,
            c,
            id,
            "settlement_approve",
            json!({"points": Amount::from_minor(row.points), "yuan": Amount::from_minor(row.yuan)}),
            now,
        )?;
        get(conn, &c.principal, id)
    })
}

/// Writes down, for every village on the statement, where its chain stands now and who
/// pays for its points: what the signed statement will show, whatever changes later.
fn record_villages(tx: &mut Tx<'_>, id: i64) -> AppResult<()> {
    let villages: std::collections::BTreeSet<i64> = store::settlement_lines(tx, id)?
        .into_iter()
        .map(|l| l.village_id)
        .collect();
    let mut approved = Vec::new();
    for village_id in villages {
        let head = crate::ledger::service::head(tx, village_id)?;
        let funding = village_policy(tx, village_id)?.funding;
        approved.push(store::ApprovedVillage {
            village_id,
            seq: head.seq,
            hash: head.hash,
            funding: serde_json::to_string(&funding).map_err(AppError::internal)?,
        });
    }
    Ok(store::insert_approved_villages(tx, id, &approved)?)
}

/// Marks an approved statement paid and moves its points, per village, from the shop's
/// receivable to the village's settled account.
pub fn pay(
    conn: &mut DbConnection,
    c: &Caller,
    id: i64,
    req: &PayRequest,
    now: DateTime<Utc>,
) -> AppResult<SettlementView> {
    write_tx(conn, |conn| {
        let row = store::settlement(conn, id)?.ok_or(AppError::NotFound)?;
        let target = shop_target(conn, row.shop_id)?;
        authorize(&c.principal, Action::Settle, &target)?;
        let paid_on = req.paid_on.unwrap_or_else(|| shanghai_today(now));
        let reference = req.reference.trim();
        if !store::settlement_transition(
            conn,
            id,
            SettlementStatus::Approved,
            SettlementStatus::Paid,
            c.principal.id,
            now.naive_utc(),
            Some((reference, paid_on)),
        )? {
            return Err(AppError::InvalidState(
                "只有已审批、未付款的结算单可以付款。".into(),
            ));
        }
        let mut per_village: BTreeMap<i64, i64> = BTreeMap::new();
        for line in store::settlement_lines(conn, id)? {
            let sum = per_village.entry(line.village_id).or_default();
            *sum = sum.checked_add(line.points).ok_or_else(too_large)?;
        }
        let memo = format!("结算单 #{id} 付款：{reference}");
        for (village_id, points) in per_village.into_iter().filter(|(_, p)| *p != 0) {
            let legs = settlement_legs(village_id, row.shop_id, points);
            post(
                conn,
                Posting {
                    kind: TxKind::Settlement,
                    memo: &memo,
                    legs,
                    reverses: None,
                    actor: Actor::from(c),
                    at: now,
                },
            )?;
        }
        record(
            conn,
            c,
            id,
            "settlement_pay",
            json!({"reference": reference, "paid_on": paid_on}),
            now,
        )?;
        get(conn, &c.principal, id)
    })
}

/// The statement as a sheet: its receipts (a void marked as such) under a title with the
/// shop, the period and where the statement stands, and the totals.
pub fn export(
    conn: &mut DbConnection,
    p: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Sheet> {
    let statement = get(conn, p, id)?;
    let shop = super::service::shop_name(conn, statement.shop_id)?;
    let mut villages = BTreeMap::new();
    for line in &statement.lines {
        if let std::collections::btree_map::Entry::Vacant(entry) = villages.entry(line.village_id) {
            entry.insert(crate::org::service::village_summary(conn, line.village_id)?.1);
        }
    }
    let mut sheet = Sheet::new(
        format!("{shop} 积分兑换结算单 第{}号", statement.id),
        vec!["小票号", "村", "兑换时间", "积分", "金额（元）"],
    );
    sheet.facts.push((
        "期间",
        format!("{} 至 {}", statement.period_start, statement.period_end),
    ));
    sheet.facts.push((
        "状态",
        match statement.status {
            SettlementStatus::Draft => "草稿（未审核）",
            SettlementStatus::Approved => "已审核，待付款",
            SettlementStatus::Paid => "已付款",
        }
        .to_owned(),
    ));
    if let Some(reference) = &statement.reference {
        sheet.facts.push(("付款凭证", reference.clone()));
    }
    sheet.rows = statement
        .lines
        .iter()
        .map(|l| {
            vec![
                match l.kind {
                    LineKind::Redemption => l.receipt_no.clone(),
                    LineKind::Void => format!("{}（作废退回）", l.receipt_no),
                }
                .into(),
                villages.get(&l.village_id).cloned().into(),
                Cell::Time(l.redeemed_at),
                l.points.into(),
                l.yuan.into(),
            ]
        })
        .collect();
    sheet.total = Some(vec![
        "合计".into(),
        Cell::Empty,
        Cell::Empty,
        statement.points.into(),
        statement.yuan.into(),
    ]);
    Ok(sheet.made_at(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_rounds_half_away_from_zero_to_the_fen() {
        let a = |s: &str| Amount::parse(s).unwrap();
        assert_eq!(to_yuan(a("30"), a("1")), Some(a("30")));
        assert_eq!(to_yuan(a("0.05"), a("0.5")), Some(a("0.03")));
        assert_eq!(to_yuan(a("12.34"), a("0.25")), Some(a("3.09")));
        assert_eq!(to_yuan(a("-30"), a("0.5")), Some(a("-15")));
    }

    #[test]
    fn yuan_that_does_not_fit_is_refused_not_wrapped() {
        let huge = Amount::from_minor(i64::MAX);
        assert_eq!(to_yuan(huge, Amount::parse("100").unwrap()), None);
        assert!(checked_sum([i64::MAX, 1]).is_err());
        assert_eq!(checked_sum([5, -2]).unwrap(), 3);
    }
}
