//! The shop counter (`/shop/`): a scan field that is always ready for the scanner gun, the
//! household and its points, goods as big tiles, a cart, confirm, the receipt (58 mm), void,
//! today's redemptions; and the goods page with restock. The page's script calls the JSON
//! API with the session cookie, so the counter and the API can never disagree.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::page::{Chrome, error_page, failure, show, staff};
use crate::assets::shop_js_path;
use crate::auth::{Principal, RoleName};
use crate::clock::{shanghai, shanghai_today};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::paging::PageQuery;
use crate::shop::model::{GoodsView, ReceiptView, SettlementStatus, SettlementView};
use crate::state::AppState;

pub struct ReceiptLine {
    id: i64,
    receipt_no: String,
    time: String,
    household: String,
    goods: String,
    points: String,
    voided: bool,
}

impl From<ReceiptView> for ReceiptLine {
    fn from(r: ReceiptView) -> Self {
        ReceiptLine {
            id: r.id,
            time: r
                .created_at
                .with_timezone(&shanghai())
                .format("%H:%M")
                .to_string(),
            household: format!("{} {}", r.door_no, r.display_name),
            goods: goods_in_words(&r),
            points: r.total_points.plain(),
            voided: r.voided,
            receipt_no: r.receipt_no,
        }
    }
}

fn goods_in_words(r: &ReceiptView) -> String {
    r.lines
        .iter()
        .map(|l| format!("{} {}{}", l.name, l.quantity, l.unit))
        .collect::<Vec<_>>()
        .join("、")
}

#[derive(Template)]
#[template(path = "shop/counter.html", config = "src/web/askama.toml")]
struct CounterPage {
    chrome: Chrome,
    script: &'static str,
    shop_id: i64,
    shop_name: String,
    keeper: String,
    goods: Vec<GoodsView>,
    today: Vec<ReceiptLine>,
    /// Opened inside WeChat with WeChat configured: offer WeChat's own scanner too.
    wechat_scan: bool,
}

#[derive(Template)]
#[template(path = "shop/goods.html", config = "src/web/askama.toml")]
struct GoodsPage {
    chrome: Chrome,
    shop_id: i64,
    shop_name: String,
    goods: Vec<GoodsView>,
    statements: Vec<SettlementView>,
}

#[derive(Template)]
#[template(path = "shop/receipt.html", config = "src/web/askama.toml")]
struct ReceiptPage {
    chrome: Chrome,
    r: ReceiptView,
    time: String,
}

/// The signed-in shopkeeper and their shop, or the page to show instead.
async fn keeper(req: &HttpRequest, state: &AppState) -> Result<(Principal, i64), HttpResponse> {
    let p = staff(req, state).await?;
    let shop = p
        .roles
        .iter()
        .find(|b| b.role == RoleName::Shopkeeper)
        .map(|b| b.scope_id);
    match shop {
        Some(shop_id) => Ok((p, shop_id)),
        None => Err(error_page(
            req,
            state,
            StatusCode::FORBIDDEN,
            "这个账号不是店主账号。村委会和乡镇请用工作台（/admin/）。",
        )),
    }
}

/// Today's redemptions (Shanghai day), newest first.
fn today(
    conn: &mut DbConnection,
    p: &Principal,
    shop_id: i64,
    state: &AppState,
) -> AppResult<Vec<ReceiptLine>> {
    let day = shanghai_today(state.clock.now());
    let page = PageQuery {
        limit: Some(100),
        cursor: None,
    };
    Ok(
        crate::shop::service::list_redemptions(conn, p, shop_id, &page)?
            .items
            .into_iter()
            .filter(|r| r.created_at.with_timezone(&shanghai()).date_naive() == day)
            .map(ReceiptLine::from)
            .collect(),
    )
}

#[get("/shop/")]
async fn counter(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (p, shop_id) = match keeper(&req, &state).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let state2 = state.clone();
    let keeper_name = p.name.clone();
    let wechat_scan = super::wechat::silent_sign_in(&req, &state);
    let data = state
        .db
        .run(move |conn| {
            let goods =
                crate::shop::service::list_goods(conn, &p, shop_id, &PageQuery::largest())?.items;
            let today = today(conn, &p, shop_id, &state2)?;
            Ok((
                crate::shop::service::shop_name(conn, shop_id)?,
                goods,
                today,
            ))
        })
        .await;
    match data {
        Ok((shop_name, goods, today)) => show(&req, &state, StatusCode::OK, |chrome| CounterPage {
            chrome,
            script: shop_js_path(),
            shop_id,
            shop_name,
            keeper: keeper_name,
            goods: goods.into_iter().filter(|g| g.active).collect(),
            today,
            wechat_scan,
        }),
        Err(err) => failure(&req, &state, &err),
    }
}

#[get("/shop/goods")]
async fn goods_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (p, shop_id) = match keeper(&req, &state).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let data = state
        .db
        .run(move |conn| {
            let goods =
                crate::shop::service::list_goods(conn, &p, shop_id, &PageQuery::largest())?.items;
            let statements =
                crate::shop::settlement::list(conn, &p, shop_id, &PageQuery::largest())?.items;
            Ok((
                crate::shop::service::shop_name(conn, shop_id)?,
                goods,
                statements,
            ))
        })
        .await;
    match data {
        Ok((shop_name, goods, statements)) => {
            show(&req, &state, StatusCode::OK, |chrome| GoodsPage {
                chrome,
                shop_id,
                shop_name,
                goods,
                statements,
            })
        }
        Err(err) => failure(&req, &state, &err),
    }
}

/// A receipt to print on a 58 mm roll.
#[get("/shop/receipts/{id}")]
async fn receipt(req: HttpRequest, state: web::Data<AppState>, id: web::Path<i64>) -> HttpResponse {
    let p = match staff(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let id = id.into_inner();
    match state
        .db
        .run(move |conn| crate::shop::service::get_redemption(conn, &p, id))
        .await
    {
        Ok(r) => show(&req, &state, StatusCode::OK, |chrome| ReceiptPage {
            chrome,
            time: r
                .created_at
                .with_timezone(&shanghai())
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            r,
        }),
        Err(err) => failure(&req, &state, &err),
    }
}
