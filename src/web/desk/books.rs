//! The village ledger with its verification and chain head, and the township's settlement
//! statements with the shops.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::{Nav, render, when};
use crate::amount::Amount;
use crate::auth::RoleName;
use crate::clock::shanghai_today;
use crate::ledger::model::TxKind;
use crate::ledger::verify::VerifyReport;
use crate::ledger::views::TransactionView;
use crate::org::policy::{FundingShare, SettleAt};
use crate::paging::PageQuery;
use crate::shop::model::{SettlementStatus, SettlementView};
use crate::state::AppState;
use crate::web::page::Chrome;

pub struct TxLine {
    seq: i64,
    at: String,
    kind: &'static str,
    /// The household the transaction moved points for ("3号 张小明"), if one.
    household: String,
    memo: String,
    points: String,
    hash: String,
    reversible: bool,
    id: i64,
}

#[derive(Template)]
#[template(path = "desk/ledger.html", config = "src/web/askama.toml")]
struct LedgerPage {
    chrome: Chrome,
    nav: Nav,
    report: VerifyReport,
    head_at: String,
    lines: Vec<TxLine>,
}

#[get("/admin/ledger")]
async fn ledger(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render(
        &req,
        &state,
        "ledger",
        |conn, p, village_id| {
            let report = crate::books::verify(conn, p, village_id, &[])?;
            // The committee and supervisors read the ledger; the township only verifies it.
            let reads = p.has_role(RoleName::Committee) || p.has_role(RoleName::Supervisor);
            let latest = PageQuery {
                limit: Some(50),
                cursor: None,
            };
            let transactions = if reads {
                crate::books::village_ledger(conn, p, village_id, &latest)?.items
            } else {
                Vec::new()
            };
            let mut households = std::collections::HashMap::new();
            for id in transactions.iter().filter_map(household_of) {
                if let std::collections::hash_map::Entry::Vacant(entry) = households.entry(id) {
                    let (door_no, name) = crate::org::service::household_label(conn, p, id)?;
                    entry.insert(format!("{door_no} {name}"));
                }
            }
            Ok((report, transactions, households))
        },
        |chrome, nav, (report, transactions, households)| LedgerPage {
            chrome,
            head_at: report
                .head
                .as_ref()
                .and_then(|h| h.at)
                .map(when)
                .unwrap_or_else(|| "还没有记账".into()),
            lines: transactions
                .into_iter()
                .map(|t| {
                    let household = household_of(&t)
                        .and_then(|id| households.get(&id).cloned())
                        .unwrap_or_default();
                    tx_line(t, household, nav.committee)
                })
                .collect(),
            nav,
            report,
        },
    )
    .await
}

/// The household whose points account the transaction moved (`household:<id>:points:…`).
fn household_of(t: &TransactionView) -> Option<i64> {
    t.postings.iter().find_map(|p| {
        let mut parts = p.account.split(':');
        match (parts.next(), parts.next()) {
            (Some("household"), Some(id)) => id.parse().ok(),
            _ => None,
        }
    })
}

fn tx_line(t: TransactionView, household: String, committee: bool) -> TxLine {
    // The household side of an award or deduction is its household points posting.
    let points = t
        .postings
        .iter()
        .find(|p| p.account.starts_with("household:") && p.account.contains(":points:"))
        .map(|p| crate::web::page::signed(p.amount))
        .unwrap_or_default();
    let kind = t.kind.words();
    TxLine {
        seq: t.seq,
        at: when(t.created_at),
        reversible: committee
            && matches!(t.kind, TxKind::Award | TxKind::Deduction)
            && t.reverses_id.is_none(),
        kind,
        household,
        memo: t.memo,
        points,
        hash: t.hash.chars().take(16).collect(),
        id: t.id,
    }
}

pub struct ShopStatements {
    id: i64,
    name: String,
    statements: Vec<SettlementView>,
}

#[derive(Template)]
#[template(path = "desk/settlements.html", config = "src/web/askama.toml")]
struct SettlementsPage {
    chrome: Chrome,
    nav: Nav,
    shops: Vec<ShopStatements>,
    /// The default period: the month so far, up to yesterday (only past days settle).
    month_start: String,
    yesterday: String,
}

#[get("/admin/settlements")]
async fn settlements(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let yesterday = shanghai_today(state.clock.now()) - chrono::Days::new(1);
    render(
        &req,
        &state,
        "settlements",
        |conn, p, _| {
            crate::shop::service::list_shops(conn, p, &PageQuery::largest())?
                .items
                .into_iter()
                .map(|s| {
                    Ok(ShopStatements {
                        statements: crate::shop::settlement::list(
                            conn,
                            p,
                            s.id,
                            &PageQuery::largest(),
                        )?
                        .items,
                        id: s.id,
                        name: s.name,
                    })
                })
                .collect::<crate::error::AppResult<Vec<_>>>()
        },
        |chrome, nav, shops| SettlementsPage {
            chrome,
            nav,
            shops,
            month_start: yesterday.format("%Y-%m-01").to_string(),
            yesterday: yesterday.to_string(),
        },
    )
    .await
}

/// One village's part of a statement.
struct VillagePart {
    name: String,
    receipts: usize,
    points: Amount,
    yuan: Amount,
    /// `第 N 笔 <hash>` at approval; empty for a draft.
    head: String,
    /// Who pays for it, as recorded at approval: "集体经济 60%（18.00 元）、…".
    funding: String,
    /// How it was priced when drawn up: "按积分，每分 1.00 元" or "按商品进价".
    basis: String,
}

#[derive(Template)]
#[template(path = "desk/statement.html", config = "src/web/askama.toml")]
struct StatementPrint {
    chrome: Chrome,
    township: String,
    shop: String,
    statement: SettlementView,
    villages: Vec<VillagePart>,
    yuan_in_capitals: String,
    cost_total: Amount,
    printed_at: String,
}

/// The statement as the treasurer signs it: A4, its goods and villages, the total in
/// figures and in capitals, where the villages' chains stood at approval, and lines for
/// the shopkeeper, the committee and the township to sign.
#[get("/admin/settlements/{settlement_id}/print")]
async fn statement_print(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let (id, now) = (id.into_inner(), state.clock.now());
    render(
        &req,
        &state,
        "settlements",
        move |conn, p, _| {
            let statement = crate::shop::settlement::get(conn, p, id)?;
            let shop = crate::shop::service::shop_name(conn, statement.shop_id)?;
            let township = crate::org::service::township_name(conn, p.township_id)?;
            let mut villages = Vec::new();
            for village_id in statement_villages(&statement) {
                let (_, name) = crate::org::service::village_summary(conn, village_id)?;
                villages.push(village_part(&statement, village_id, name));
            }
            Ok((township, shop, statement, villages))
        },
        move |chrome, _, (township, shop, statement, villages)| StatementPrint {
            chrome,
            township,
            shop,
            yuan_in_capitals: statement.yuan.yuan_in_capitals(),
            cost_total: Amount::from_minor(
                statement
                    .goods
                    .iter()
                    .map(|g| g.cost_yuan.minor())
                    .fold(0i64, i64::saturating_add),
            ),
            statement,
            villages,
            printed_at: when(now),
        },
    )
    .await
}

fn statement_villages(statement: &SettlementView) -> std::collections::BTreeSet<i64> {
    statement.lines.iter().map(|l| l.village_id).collect()
}

fn village_part(statement: &SettlementView, village_id: i64, name: String) -> VillagePart {
    let lines = statement
        .lines
        .iter()
        .filter(|l| l.village_id == village_id);
    let sum = |f: fn(&crate::shop::model::SettlementLineView) -> Amount| {
        Amount::from_minor(
            lines
                .clone()
                .map(|l| f(l).minor())
                .fold(0i64, i64::saturating_add),
        )
    };
    let approved = statement
        .at_approval
        .iter()
        .find(|v| v.village_id == village_id);
    let yuan = sum(|l| l.yuan);
    let basis = statement.bases.iter().find(|b| b.village_id == village_id);
    VillagePart {
        basis: basis.map_or_else(
            || "只有退回的作废".to_owned(),
            |b| match b.settle_at {
                SettleAt::PointsRate => format!("按积分，每分 {} 元", b.yuan_per_point),
                SettleAt::CostPrice => "按商品进价".to_owned(),
            },
        ),
        head: approved
            .map(|v| crate::reports::exports::head_text(v.seq, &v.hash))
            .unwrap_or_default(),
        funding: approved
            .map(|v| funding_words(&v.funding, yuan))
            .unwrap_or_default(),
        receipts: lines
            .clone()
            .filter(|l| l.kind == crate::shop::model::LineKind::Redemption)
            .count(),
        points: sum(|l| l.points),
        yuan,
        name,
    }
}

/// The village's yuan split by its funding shares, to the fen; the last share takes
/// what rounding leaves, so the parts add up to the whole.
fn funding_words(shares: &[FundingShare], yuan: Amount) -> String {
    if shares.is_empty() {
        return "未填写".to_owned();
    }
    let mut left = yuan.minor();
    let parts: Vec<String> = shares
        .iter()
        .enumerate()
        .map(|(index, share)| {
            let part = if index + 1 == shares.len() {
                left
            } else {
                yuan.minor().saturating_mul(i64::from(share.percent)) / 100
            };
            left -= part;
            format!(
                "{} {}%（{} 元）",
                share.source.words(),
                share.percent,
                Amount::from_minor(part)
            )
        })
        .collect();
    parts.join("、")
}
