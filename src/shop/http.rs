//! Shop endpoints (API.md "Shop").

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::*;
use super::{card, service, settlement};
use crate::auth::{Caller, Principal};
use crate::error::AppError;
use crate::export::FileFormat;
use crate::http::{
    FileBytes, IdempotentJson, Json, ValidJson, ValidQuery, created, json, outcome_response,
};
use crate::paging::{Page, PageQuery};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_shops)
        .service(create_shop)
        .service(patch_shop)
        .service(list_goods)
        .service(create_goods)
        .service(patch_goods)
        .service(adjust_stock)
        .service(issue_payment_code)
        .service(get_payment_code)
        .service(scan_payment)
        .service(redeem_goods)
        .service(list_redemptions)
        .service(get_redemption)
        .service(void_redemption)
        .service(create_settlement)
        .service(list_settlements)
        .service(get_settlement)
        .service(approve_settlement)
        .service(pay_settlement)
        .service(export_settlement)
        .service(issue_card)
        .service(print_card_sheet)
        .service(unlock_card);
}

/// Shops of the township (a keeper sees their own).
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of shops", body = Page<ShopView>),
        (status = 403, description = "Only staff see shops"),
        (status = 422, description = "`limit` or `cursor` is invalid"),
    )
)]
#[get("/shops")]
async fn list_shops(
    state: web::Data<AppState>,
    p: Principal,
    q: ValidQuery<PageQuery>,
) -> Json<Page<ShopView>> {
    json(&state.db, move |conn| service::list_shops(conn, &p, &q.0)).await
}

/// Opens a shop for one or more villages, with its keeper's account.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    request_body = CreateShop,
    responses(
        (status = 201, description = "The new shop", body = ShopView),
        (status = 403, description = "Only the township administrator opens shops"),
        (status = 409, description = "The keeper's username is taken"),
        (status = 422, description = "A field is invalid, e.g. `village_ids[1]`"),
    )
)]
#[post("/shops")]
async fn create_shop(
    state: web::Data<AppState>,
    c: Caller,
    body: ValidJson<CreateShop>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let shop = state
        .db
        .run(move |conn| service::create_shop(conn, &c, &body.0, now))
        .await?;
    Ok(created(&shop))
}

/// Renames a shop or changes the villages it serves.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("shop_id" = i64, Path, description = "Shop id")),
    request_body = PatchShop,
    responses(
        (status = 200, description = "The changed shop", body = ShopView),
        (status = 403, description = "Only the township administrator manages shops"),
        (status = 404, description = "No such shop in the township"),
        (status = 422, description = "A field is invalid, e.g. `village_ids[0]`"),
    )
)]
#[patch("/shops/{shop_id}")]
async fn patch_shop(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<PatchShop>,
) -> Json<ShopView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        service::update_shop(conn, &c, id, &body.0, now)
    })
    .await
}

/// The shop's goods with their stock.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("shop_id" = i64, Path, description = "Shop id"), PageQuery),
    responses(
        (status = 200, description = "A page of goods", body = Page<GoodsView>),
        (status = 404, description = "No such shop in the caller's scope"),
        (status = 422, description = "`limit` or `cursor` is invalid"),
    )
)]
#[get("/shops/{shop_id}/goods")]
async fn list_goods(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<PageQuery>,
) -> Json<Page<GoodsView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| {
        service::list_goods(conn, &p, id, &q.0)
    })
    .await
}

/// Adds goods; the opening stock is recorded as a restock.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("shop_id" = i64, Path, description = "Shop id")),
    request_body = CreateGoods,
    responses(
        (status = 201, description = "The new goods", body = GoodsView),
        (status = 404, description = "No such shop in the caller's scope"),
        (status = 422, description = "A field is invalid"),
    )
)]
#[post("/shops/{shop_id}/goods")]
async fn create_goods(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<CreateGoods>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let goods = state
        .db
        .run(move |conn| service::create_goods(conn, &c, id, &body.0, now))
        .await?;
    Ok(created(&goods))
}

/// Changes a product's name, unit, price or whether it is on sale.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("goods_id" = i64, Path, description = "Goods id")),
    request_body = PatchGoods,
    responses(
        (status = 200, description = "The changed goods", body = GoodsView),
        (status = 404, description = "No such goods in the caller's scope"),
        (status = 422, description = "A field is invalid"),
    )
)]
#[patch("/goods/{goods_id}")]
async fn patch_goods(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<PatchGoods>,
) -> Json<GoodsView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        service::patch_goods(conn, &c, id, &body.0, now)
    })
    .await
}

/// Restocks (positive) or adjusts (negative) with a reason; stock never goes below 0.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(
        ("goods_id" = i64, Path, description = "Goods id"),
        ("Idempotency-Key" = String, Header, description = "1–128 visible ASCII characters"),
    ),
    request_body = StockRequest,
    responses(
        (status = 201, description = "The goods with their new stock", body = GoodsView),
        (status = 404, description = "No such goods in the caller's scope"),
        (status = 409, description = "The key was used for another request"),
        (status = 422, description = "`insufficient_stock`, or a field is invalid"),
    )
)]
#[post("/goods/{goods_id}/stock")]
async fn adjust_stock(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: IdempotentJson<StockRequest>,
) -> Result<HttpResponse, AppError> {
    let key = body.key(c.principal.idempotency_scope())?;
    let id = id.into_inner();
    let now = state.clock.now();
    let outcome = state
        .db
        .run(move |conn| service::adjust_stock(conn, &key, &c, id, &body.body, now))
        .await?;
    Ok(outcome_response(outcome))
}

/// A one-time payment code for the signed-in villager, with its QR; the villager's
/// earlier code stops working.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id")),
    responses(
        (status = 201, description = "The code, valid for the village's `code_ttl_seconds`", body = PaymentCodeView),
        (status = 403, description = "Only the household's own villagers"),
        (status = 404, description = "No such household in the caller's scope"),
    )
)]
#[post("/households/{household_id}/payment-codes")]
async fn issue_payment_code(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let pepper = state.auth.pepper.clone();
    let view = state
        .db
        .run(move |conn| service::issue_code(conn, &c, &pepper, id, now))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(view))
}

/// Whether a code is still active, used (with the receipt) or expired.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Payment code id")),
    responses(
        (status = 200, description = "The code's status", body = PaymentCodeStatus),
        (status = 404, description = "Not the caller's code"),
    )
)]
#[get("/payment-codes/{id}")]
async fn get_payment_code(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<PaymentCodeStatus> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        service::code_status(conn, &p, id, now)
    })
    .await
}

/// Resolves a code to the masked household and its points; consumes nothing. A payment
/// code scanned is held for this shop's checkout: only this shop may redeem it until it
/// expires, at least three minutes from the scan.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("shop_id" = i64, Path, description = "Shop id")),
    request_body = ScanRequest,
    responses(
        (status = 200, description = "Whose code it is", body = ScanView),
        (status = 404, description = "No such shop in the caller's scope"),
        (status = 409, description = "`code_used`"),
        (status = 422, description = "`code_invalid` (also: another shop is checking it out) or `code_expired`"),
        (status = 423, description = "`card_locked`: the card is locked after wrong PINs, or held until the committee unlocks it"),
    )
)]
#[post("/shops/{shop_id}/scan")]
async fn scan_payment(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<ScanRequest>,
) -> Json<ScanView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let pepper = state.auth.pepper.clone();
    json(&state.db, move |conn| {
        service::scan(conn, &c, &pepper, id, &body.0, now)
    })
    .await
}

/// One atomic redemption: the code is consumed, stock taken, points debited, the shop's
/// receivable credited and the receipt numbered, or nothing changes.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(
        ("shop_id" = i64, Path, description = "Shop id"),
        ("Idempotency-Key" = String, Header, description = "1–128 visible ASCII characters; a retry replays the receipt"),
    ),
    request_body = RedeemRequest,
    responses(
        (status = 201, description = "The receipt, with the ledger position", body = ReceiptView),
        (status = 404, description = "No such shop in the caller's scope"),
        (status = 409, description = "`code_used`, or the key was used for another request"),
        (status = 422, description = "`insufficient_points`, `insufficient_stock`, `code_invalid`, `code_expired`, `pin_incorrect`, `cap_exceeded` (the card's daily cap), or a field is invalid"),
        (status = 423, description = "`card_locked`: the card is locked after wrong PINs, or held until the committee unlocks it"),
    )
)]
#[post("/shops/{shop_id}/redemptions")]
async fn redeem_goods(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: IdempotentJson<RedeemRequest>,
) -> Result<HttpResponse, AppError> {
    let key = body.key(c.principal.idempotency_scope())?;
    let id = id.into_inner();
    let pepper = state.auth.pepper.clone();
    let now = state.clock.now();
    let outcome = state
        .db
        .run(move |conn| service::redeem(conn, &key, &c, &pepper, id, &body.body, now))
        .await?;
    Ok(outcome_response(outcome))
}

/// The shop's redemptions, newest first.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("shop_id" = i64, Path, description = "Shop id"), PageQuery),
    responses(
        (status = 200, description = "A page of receipts", body = Page<ReceiptView>),
        (status = 404, description = "No such shop in the caller's scope"),
    )
)]
#[get("/shops/{shop_id}/redemptions")]
async fn list_redemptions(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<PageQuery>,
) -> Json<Page<ReceiptView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| {
        service::list_redemptions(conn, &p, id, &q.0)
    })
    .await
}

/// One receipt.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Redemption id")),
    responses(
        (status = 200, description = "The receipt", body = ReceiptView),
        (status = 404, description = "No such redemption in the caller's scope"),
    )
)]
#[get("/redemptions/{id}")]
async fn get_redemption(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<ReceiptView> {
    let id = id.into_inner();
    json(&state.db, move |conn| service::get_redemption(conn, &p, id)).await
}

/// Voids a redemption: points and stock return. The shop within the village's
/// `void_window_minutes`, the committee at any time; a second void is 409.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Redemption id"),
        ("Idempotency-Key" = String, Header, description = "1–128 visible ASCII characters"),
    ),
    request_body = VoidRequest,
    responses(
        (status = 201, description = "The voided receipt", body = ReceiptView),
        (status = 403, description = "Not allowed to void"),
        (status = 404, description = "No such redemption in the caller's scope"),
        (status = 409, description = "Already voided, or past the shop's window"),
        (status = 422, description = "No reason"),
    )
)]
#[post("/redemptions/{id}/void")]
async fn void_redemption(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: IdempotentJson<VoidRequest>,
) -> Result<HttpResponse, AppError> {
    let key = body.key(c.principal.idempotency_scope())?;
    let id = id.into_inner();
    let now = state.clock.now();
    let outcome = state
        .db
        .run(move |conn| service::void(conn, &key, &c, id, &body.body.reason, now))
        .await?;
    Ok(outcome_response(outcome))
}

/// A draft statement of the shop's redemptions in a period, net of voids, in points and
/// in yuan at each village's `yuan_per_point`.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("shop_id" = i64, Path, description = "Shop id")),
    request_body = CreateSettlement,
    responses(
        (status = 201, description = "The draft statement with its redemptions", body = SettlementView),
        (status = 403, description = "Only the township settles"),
        (status = 404, description = "No such shop in the caller's scope"),
        (status = 422, description = "A period date is invalid"),
    )
)]
#[post("/shops/{shop_id}/settlements")]
async fn create_settlement(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<CreateSettlement>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let statement = state
        .db
        .run(move |conn| settlement::create(conn, &c, id, &body.0, now))
        .await?;
    Ok(created(&statement))
}

/// The shop's statements, newest first.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("shop_id" = i64, Path, description = "Shop id"), PageQuery),
    responses(
        (status = 200, description = "A page of statements", body = Page<SettlementView>),
        (status = 404, description = "No such shop in the caller's scope"),
        (status = 422, description = "`limit` or `cursor` is invalid"),
    )
)]
#[get("/shops/{shop_id}/settlements")]
async fn list_settlements(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<PageQuery>,
) -> Json<Page<SettlementView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| settlement::list(conn, &p, id, &q.0)).await
}

/// One statement with its redemptions.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Statement id")),
    responses(
        (status = 200, description = "The statement", body = SettlementView),
        (status = 404, description = "No such statement in the caller's scope"),
    )
)]
#[get("/settlements/{id}")]
async fn get_settlement(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<SettlementView> {
    let id = id.into_inner();
    json(&state.db, move |conn| settlement::get(conn, &p, id)).await
}

/// Approves a draft; its figures never change afterwards.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Statement id")),
    responses(
        (status = 200, description = "The approved statement", body = SettlementView),
        (status = 403, description = "Only the township settles"),
        (status = 404, description = "No such statement in the caller's scope"),
        (status = 409, description = "Not a draft"),
    )
)]
#[post("/settlements/{id}/approve")]
async fn approve_settlement(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
) -> Json<SettlementView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        settlement::approve(conn, &c, id, now)
    })
    .await
}

/// Records the payment of an approved statement; the settled points leave the shop's
/// receivable in the ledger.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Statement id")),
    request_body = PayRequest,
    responses(
        (status = 200, description = "The paid statement", body = SettlementView),
        (status = 403, description = "Only the township settles"),
        (status = 404, description = "No such statement in the caller's scope"),
        (status = 409, description = "Not approved, or already paid"),
        (status = 422, description = "No reference"),
    )
)]
#[post("/settlements/{id}/pay")]
async fn pay_settlement(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<PayRequest>,
) -> Json<SettlementView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        settlement::pay(conn, &c, id, &body.0, now)
    })
    .await
}

/// The statement as CSV or XLSX, for the township's accounts.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Statement id"), ExportQuery),
    responses(
        (status = 200, description = "The statement as a file: CSV (UTF-8) or XLSX, as `format` asks", content(
            (FileBytes = "text/csv"),
            (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 404, description = "No such statement in the caller's scope"),
        (status = 422, description = "Unknown format"),
    )
)]
#[get("/settlements/{id}/export")]
async fn export_settlement(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    // CSV unless asked: what this export answered before the others defaulted to XLSX.
    let format = match q.0.format.as_deref() {
        Some("xlsx") => FileFormat::Xlsx,
        _ => FileFormat::Csv,
    };
    crate::http::export(&state.db, format, move |conn| {
        settlement::export(conn, &p, id, now)
    })
    .await
}

/// A household card with a PIN (4–6 digits) for a villager without a phone; the
/// household's earlier card stops working.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id")),
    request_body = IssueCard,
    responses(
        (status = 201, description = "The card: serial, and the token for its QR (shown once)", body = CardView),
        (status = 403, description = "Only the committee issues cards"),
        (status = 404, description = "No such household in the caller's scope"),
        (status = 409, description = "`invalid_state`: the household is deactivated"),
        (status = 422, description = "The PIN is not 4–6 digits"),
    )
)]
#[post("/households/{household_id}/cards")]
async fn issue_card(
    req: HttpRequest,
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<IssueCard>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let pepper = state.auth.pepper.clone();
    let site = crate::http::public_base(&req, &state.settings);
    let view = state
        .db
        .run(move |conn| card::issue(conn, &c, &pepper, &site, id, &body.0, now))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(view))
}

/// Cards for many households at once, answered as a printable A4 sheet (eight to a page:
/// QR, door number, masked name, serial; never the PIN).
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    request_body = CardSheetRequest,
    responses(
        (status = 201, description = "The sheet to print", content_type = "text/html"),
        (status = 403, description = "Only the committee issues cards"),
        (status = 404, description = "No such village in the caller's scope"),
        (status = 409, description = "`invalid_state`: a household is deactivated"),
        (status = 422, description = "A household or PIN is invalid, e.g. `cards[2].pin`"),
    )
)]
#[post("/villages/{village_id}/cards/sheet")]
async fn print_card_sheet(
    req: HttpRequest,
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<CardSheetRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let pepper = state.auth.pepper.clone();
    let site = crate::http::public_base(&req, &state.settings);
    let cards = state
        .db
        .run(move |conn| card::issue_sheet(conn, &c, &pepper, &site, id, &body.0, now))
        .await?;
    let html = card::sheet_html(&cards);
    Ok(HttpResponse::Created()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(html))
}

/// Clears a card's lockout.
#[utoipa::path(
    tag = "shop",
    security(("bearer" = [])),
    params(("serial" = String, Path, description = "Card serial, e.g. `C1-000012`")),
    responses(
        (status = 200, description = "The card, active again", body = CardStatus),
        (status = 403, description = "Only the committee unlocks"),
        (status = 404, description = "No such card in the caller's scope"),
    )
)]
#[post("/cards/{serial}/unlock")]
async fn unlock_card(
    state: web::Data<AppState>,
    c: Caller,
    serial: web::Path<String>,
) -> Json<CardStatus> {
    let (serial, now) = (serial.into_inner(), state.clock.now());
    json(&state.db, move |conn| card::unlock(conn, &c, &serial, now)).await
}
