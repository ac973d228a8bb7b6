//! Settlement (结算): statements of a shop's redemptions, approved and paid.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::RoundingStrategy;
use serde_json::json;

use super::model::{CreateSettlement, PayRequest, SettlementLineView, SettlementView};
use super::store::{self, SettlementRow};
use crate::amount::Amount;
use crate::audit::{self, Event};
use crate::auth::policy::{Action, Target, authorize};
use crate::auth::{Caller, Principal};
use crate::clock::{shanghai_midnight, shanghai_today};
use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult};
use crate::ledger::model::{Actor, TxKind, settlement_legs};
use crate::ledger::posting::{Posting, post};
use crate::org::service::village_policy;

fn shop_target(conn: &mut DbConnection, shop_id: i64) -> AppResult<Target> {
    let (id, township_id, _, _) = store::shop(conn, shop_id)?.ok_or(AppError::NotFound)?;
    Ok(Target::shop(township_id, id))
}

/// Points × yuan per point, rounded to the fen, halves away from zero.
pub fn to_yuan(points: Amount, rate: Amount) -> Amount {
    let yuan = (points.to_decimal() * rate.to_decimal())
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    Amount::from_decimal(yuan).unwrap_or(Amount::ZERO)
}

fn view(conn: &mut DbConnection, row: SettlementRow) -> AppResult<SettlementView> {
    let lines = store::settlement_lines(conn, row.id)?
        .into_iter()
        .map(
            |(redemption_id, village_id, receipt_no, points, yuan, at)| SettlementLineView {
                redemption_id,
                receipt_no,
                village_id,
                points: Amount::from_minor(points),
                yuan: Amount::from_minor(yuan),
                redeemed_at: at.and_utc(),
            },
        )
        .collect();
    Ok(SettlementView {
        id: row.id,
        shop_id: row.shop_id,
        period_start: row.period_start,
        period_end: row.period_end,
        status: row.status,
        redemptions: row.redemptions,
        points: Amount::from_minor(row.points),
        yuan: Amount::from_minor(row.yuan),
        created_at: row.created_at.and_utc(),
        approved_at: row.approved_at.map(|t| t.and_utc()),
        paid_at: row.paid_at.map(|t| t.and_utc()),
        paid_on: row.paid_on,
        reference: row.reference,
        lines,
    })
}

/// A draft statement of the shop's redemptions in the period (Shanghai days, inclusive),
/// leaving out voided ones and any already on another statement.
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
        if req.period_end < req.period_start {
            return Err(AppError::field("period_end", "结束日期不能早于开始日期"));
        }
        if req.period_end > shanghai_today(now) {
            return Err(AppError::field("period_end", "只能结算已经过去的日子"));
        }
        let from = shanghai_midnight(req.period_start).naive_utc();
        let to = shanghai_midnight(req.period_end + chrono::Days::new(1)).naive_utc();
        let rows = store::unsettled(conn, shop_id, from, to)?;
        let mut rates = BTreeMap::new();
        let mut priced = Vec::with_capacity(rows.len());
        for (redemption_id, village_id, _, points, _) in rows {
            let rate = match rates.get(&village_id) {
                Some(rate) => *rate,
                None => *rates
                    .entry(village_id)
                    .or_insert(village_policy(conn, village_id)?.yuan_per_point),
            };
            priced.push((
                redemption_id,
                village_id,
                points,
                to_yuan(Amount::from_minor(points), rate).minor(),
            ));
        }
        let id = store::insert_settlement(
            conn,
            &store::NewSettlement {
                shop_id,
                period_start: req.period_start,
                period_end: req.period_end,
                redemptions: i32::try_from(priced.len()).unwrap_or(i32::MAX),
                points: priced.iter().map(|p| p.2).sum(),
                yuan: priced.iter().map(|p| p.3).sum(),
                created_by: c.principal.id,
                now: now.naive_utc(),
            },
        )?;
        for (redemption_id, village_id, points, yuan) in &priced {
            store::insert_settlement_line(conn, id, *redemption_id, *village_id, *points, *yuan)?;
        }
        record(
            conn,
            c,
            id,
            "settlement_create",
            json!({"shop_id": shop_id, "redemptions": priced.len()}),
            now,
        )?;
        let row = store::settlement(conn, id)?.ok_or(AppError::NotFound)?;
        view(conn, row)
    })
}

fn record(
    conn: &mut DbConnection,
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
    Ok(audit::record(conn, c, entry, now)?)
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

pub fn list(
    conn: &mut DbConnection,
    p: &Principal,
    shop_id: i64,
) -> AppResult<Vec<SettlementView>> {
    let target = shop_target(conn, shop_id)?;
    authorize(p, Action::ViewShopRedemptions, &target)?;
    let ids = store::settlements_of(conn, shop_id)?;
    ids.into_iter().map(|id| get(conn, p, id)).collect()
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
            "draft",
            "approved",
            c.principal.id,
            now.naive_utc(),
            None,
        )? {
            return Err(AppError::InvalidState("只有草稿可以审批。".into()));
        }
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
            "approved",
            "paid",
            c.principal.id,
            now.naive_utc(),
            Some((reference, paid_on)),
        )? {
            return Err(AppError::InvalidState(
                "只有已审批、未付款的结算单可以付款。".into(),
            ));
        }
        let mut per_village: BTreeMap<i64, i64> = BTreeMap::new();
        for (_, village_id, _, points, _, _) in store::settlement_lines(conn, id)? {
            *per_village.entry(village_id).or_default() += points;
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

/// The statement as a file: CSV (UTF-8 with BOM, for Excel) or XLSX.
pub fn export(
    conn: &mut DbConnection,
    p: &Principal,
    id: i64,
    format: &str,
) -> AppResult<(&'static str, String, Vec<u8>)> {
    let statement = get(conn, p, id)?;
    let header = ["小票号", "村", "兑换时间", "积分", "金额（元）"];
    let rows: Vec<[String; 5]> = statement
        .lines
        .iter()
        .map(|l| {
            [
                l.receipt_no.clone(),
                l.village_id.to_string(),
                l.redeemed_at
                    .with_timezone(&crate::clock::shanghai())
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                l.points.to_string(),
                l.yuan.to_string(),
            ]
        })
        .collect();
    let total = [
        "合计".to_owned(),
        String::new(),
        String::new(),
        statement.points.to_string(),
        statement.yuan.to_string(),
    ];
    let name = format!(
        "settlement-{}-{}-{}",
        statement.id, statement.period_start, statement.period_end
    );
    if format == "xlsx" {
        let bytes = xlsx(&header, &rows, &total).map_err(AppError::internal)?;
        return Ok((
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            format!("{name}.xlsx"),
            bytes,
        ));
    }
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(header).map_err(AppError::internal)?;
    for row in rows.iter().chain(std::iter::once(&total)) {
        writer.write_record(row).map_err(AppError::internal)?;
    }
    let bytes = writer.into_inner().map_err(AppError::internal)?;
    Ok(("text/csv; charset=utf-8", format!("{name}.csv"), bytes))
}

fn xlsx(
    header: &[&str; 5],
    rows: &[[String; 5]],
    total: &[String; 5],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, title) in (0u16..).zip(header.iter()) {
        sheet.write_string(0, col, *title)?;
    }
    for (row, cells) in (1u32..).zip(rows.iter().chain(std::iter::once(total))) {
        for (col, cell) in (0u16..).zip(cells.iter()) {
            match (col >= 3).then(|| cell.parse::<f64>().ok()).flatten() {
                Some(number) => sheet.write_number(row, col, number)?,
                None => sheet.write_string(row, col, cell)?,
            };
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_rounds_half_away_from_zero_to_the_fen() {
        let a = |s: &str| Amount::parse(s).unwrap();
        assert_eq!(to_yuan(a("30"), a("1")), a("30"));
        assert_eq!(to_yuan(a("0.05"), a("0.5")), a("0.03"));
        assert_eq!(to_yuan(a("12.34"), a("0.25")), a("3.09"));
    }
}
