//! The village ledger with its verification and chain head, and the township's settlement
//! statements with the shops.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::{Nav, render, when};
use crate::auth::RoleName;
use crate::clock::shanghai_today;
use crate::ledger::verify::VerifyReport;
use crate::ledger::views::TransactionView;
use crate::paging::PageQuery;
use crate::shop::model::{SettlementStatus, SettlementView};
use crate::state::AppState;
use crate::web::page::Chrome;

pub struct TxLine {
    seq: i64,
    at: String,
    kind: &'static str,
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
            Ok((report, transactions))
        },
        |chrome, nav, (report, transactions)| LedgerPage {
            chrome,
            head_at: report
                .head
                .as_ref()
                .and_then(|h| h.at)
                .map(when)
                .unwrap_or_else(|| "还没有记账".into()),
            lines: transactions
                .into_iter()
                .map(|t| tx_line(t, nav.committee))
                .collect(),
            nav,
            report,
        },
    )
    .await
}

fn tx_line(t: TransactionView, committee: bool) -> TxLine {
    // The household side of an award or deduction is its household points posting.
    let points = t
        .postings
        .iter()
        .find(|p| p.account.starts_with("household:") && p.account.contains(":points:"))
        .map(|p| crate::web::page::signed(p.amount))
        .unwrap_or_default();
    let kind = serde_json::to_value(t.kind)
        .ok()
        .and_then(|v| v.as_str().map(kind_words))
        .unwrap_or_default();
    TxLine {
        seq: t.seq,
        at: when(t.created_at),
        reversible: committee && matches!(kind, "加分" | "扣分") && t.reverses_id.is_none(),
        kind,
        memo: t.memo,
        points,
        hash: t.hash.chars().take(16).collect(),
        id: t.id,
    }
}

fn kind_words(kind: &str) -> &'static str {
    match kind {
        "award" => "加分",
        "deduction" => "扣分",
        "redemption" => "兑换",
        "void" => "撤销兑换",
        "reversal" => "冲正",
        "expiry" => "过期",
        "settlement" => "结算",
        _ => "其他",
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
