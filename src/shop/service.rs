//! Shop use cases. A redemption is one database transaction: stock taken by conditional
//! updates, points debited through the ledger (never below zero), the code consumed, the
//! receipt numbered without gaps.

use base64::Engine;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::json;

use super::model::*;
use super::settlement::{self, VoidOnStatement};
use super::store::{self, GoodsRow, RedemptionRow};
use super::{card, code};
use crate::amount::Amount;
use crate::audit::{self, Event};
use crate::auth::policy::{Action, Target, authorize, permits};
use crate::auth::secrets::Pepper;
use crate::auth::{Caller, Principal, RoleName};
use crate::clock::shanghai_today;
use crate::db::idempotency::{IdempotencyKey, Outcome, created_once};
use crate::db::{DbConnection, Tx, write_tx};
use crate::error::{AppError, AppResult, FieldError};
use crate::ledger::model::{Actor, TxKind, redemption_legs, void_legs};
use crate::ledger::posting::{LockedHead, Posted, Posting, PostingError, lock_chain, post_on};
use crate::ledger::service::{chain_position, household_points};
use crate::org::model::{CreateStaff, RoleRequest, mask_name};
use crate::org::service::{
    ensure_active_household, household_brief, household_target, member_may_pay, village_policy,
    village_target,
};
use crate::paging::{Page, PageQuery};

fn shop_target(conn: &mut DbConnection, shop_id: i64) -> AppResult<(Target, String)> {
    let shop = store::shop(conn, shop_id)?.ok_or(AppError::NotFound)?;
    Ok((Target::shop(shop.township_id, shop.id), shop.name))
}

fn shop_view(conn: &mut DbConnection, row: store::ShopRow) -> AppResult<ShopView> {
    Ok(ShopView {
        village_ids: store::villages_of_shop(conn, row.id)?,
        id: row.id,
        name: row.name,
        created_at: row.created_at.and_utc(),
    })
}

fn goods_view(row: GoodsRow) -> GoodsView {
    GoodsView {
        id: row.id,
        shop_id: row.shop_id,
        name: row.name,
        unit: row.unit,
        points_price: Amount::from_minor(row.points_price),
        cost_yuan: Amount::from_minor(row.cost_yuan),
        stock: row.stock,
        active: row.active,
        barcode: row.barcode,
    }
}

/// A write the shop's barcode index refused: another product carries that barcode.
fn barcode_taken(err: diesel::result::Error) -> AppError {
    if crate::error::fault::is_duplicate(&err) {
        AppError::field("barcode", "本店已有商品用这个条码")
    } else {
        err.into()
    }
}

fn audit_shop(
    tx: &mut Tx<'_>,
    c: &Caller,
    action: &str,
    subject: (&str, i64),
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let entry = Event {
        village_id: None,
        action,
        subject_kind: subject.0,
        subject_id: Some(subject.1),
        detail,
    };
    Ok(audit::record(tx, c, entry, now)?)
}

// ---- shops and goods -------------------------------------------------------

/// Shops of the township the caller may see, a page at a time (a page may hold fewer
/// than `limit` when some shops are not the caller's).
pub fn list_shops(
    conn: &mut DbConnection,
    p: &Principal,
    page: &PageQuery,
) -> AppResult<Page<ShopView>> {
    if !p.is_staff() {
        return Err(AppError::Forbidden("只有工作人员可以查看超市。"));
    }
    let request = page.request()?;
    let rows = store::shops_of(conn, p.township_id, request)?;
    let page = Page::from_rows(rows, request, |r| r.id, |r| r);
    let mut views = Vec::new();
    for row in page.items {
        if permits(
            p,
            Action::ViewShopRedemptions,
            &Target::shop(p.township_id, row.id),
        ) {
            views.push(shop_view(conn, row)?);
        }
    }
    Ok(Page {
        items: views,
        next_cursor: page.next_cursor,
    })
}

/// Opens a shop for villages of the township (the township's `create_shop`, the demo seed).
pub fn open_shop(
    tx: &mut Tx<'_>,
    township_id: i64,
    name: &str,
    village_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<i64> {
    Ok(store::insert_shop(
        tx,
        township_id,
        name,
        village_ids,
        now.naive_utc(),
    )?)
}

/// Opens a shop for one or more villages, with its keeper's account.
pub fn create_shop(
    conn: &mut DbConnection,
    c: &Caller,
    req: &CreateShop,
    now: DateTime<Utc>,
) -> AppResult<ShopView> {
    let p = &c.principal;
    authorize(p, Action::ManageShops, &Target::township(p.township_id))?;
    write_tx(conn, |conn| {
        let villages = township_villages(conn, p.township_id, &req.village_ids)?;
        let shop_id = open_shop(conn, p.township_id, req.name.trim(), &villages, now)?;
        let keeper = CreateStaff {
            username: req.keeper.username.clone(),
            password: req.keeper.password.clone(),
            name: req.keeper.name.clone(),
            roles: vec![RoleRequest {
                role: RoleName::Shopkeeper,
                scope_id: shop_id,
            }],
        };
        crate::org::service::create_staff(conn, c, &keeper, now).map_err(|err| match err {
            AppError::Validation(list) => AppError::Validation(
                list.into_iter()
                    .map(|e| FieldError::new(format!("keeper.{}", e.field), e.message))
                    .collect(),
            ),
            other => other,
        })?;
        audit_shop(
            conn,
            c,
            "shop_create",
            ("shop", shop_id),
            json!({"name": req.name.trim(), "villages": villages}),
            now,
        )?;
        let row = store::shop(conn, shop_id)?.ok_or(AppError::NotFound)?;
        shop_view(conn, row)
    })
}

/// The township renames a shop or changes the villages it serves. Sales already made
/// stay in the books and settle as before; a village left out is not served from now on.
pub fn update_shop(
    conn: &mut DbConnection,
    c: &Caller,
    shop_id: i64,
    req: &PatchShop,
    now: DateTime<Utc>,
) -> AppResult<ShopView> {
    let p = &c.principal;
    authorize(p, Action::ManageShops, &Target::township(p.township_id))?;
    write_tx(conn, |conn| {
        let (target, _) = shop_target(conn, shop_id)?;
        if target.township_id != p.township_id {
            return Err(AppError::NotFound);
        }
        let villages = match &req.village_ids {
            Some(ids) => Some(township_villages(conn, p.township_id, ids)?),
            None => None,
        };
        if let Some(name) = &req.name {
            store::rename_shop(conn, shop_id, name.trim())?;
        }
        if let Some(villages) = &villages {
            store::set_shop_villages(conn, shop_id, villages)?;
        }
        audit_shop(
            conn,
            c,
            "shop_update",
            ("shop", shop_id),
            json!({"name": req.name.as_deref().map(str::trim), "villages": villages}),
            now,
        )?;
        let row = store::shop(conn, shop_id)?.ok_or(AppError::NotFound)?;
        shop_view(conn, row)
    })
}

/// The villages asked for, each checked to be the township's, sorted and each once.
fn township_villages(
    conn: &mut DbConnection,
    township_id: i64,
    village_ids: &[i64],
) -> AppResult<Vec<i64>> {
    let mut errors = Vec::new();
    for (index, village_id) in village_ids.iter().enumerate() {
        let in_township =
            matches!(village_target(conn, *village_id), Ok(t) if t.township_id == township_id);
        if !in_township {
            errors.push(FieldError::new(
                format!("village_ids[{index}]"),
                "没有这个村",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut villages = village_ids.to_vec();
    villages.sort_unstable();
    villages.dedup();
    Ok(villages)
}

/// The shop's name (for pages that already know the caller works there).
pub fn shop_name(conn: &mut DbConnection, shop_id: i64) -> AppResult<String> {
    let name = store::shop(conn, shop_id)?.ok_or(AppError::NotFound)?.name;
    Ok(name)
}

pub fn list_goods(
    conn: &mut DbConnection,
    p: &Principal,
    shop_id: i64,
    page: &PageQuery,
) -> AppResult<Page<GoodsView>> {
    let (target, _) = shop_target(conn, shop_id)?;
    authorize(p, Action::ManageGoods, &target)?;
    let request = page.request()?;
    let rows = store::goods_of_shop(conn, shop_id, request)?;
    Ok(Page::from_rows(rows, request, |g| g.id, goods_view))
}

pub fn create_goods(
    conn: &mut DbConnection,
    c: &Caller,
    shop_id: i64,
    req: &CreateGoods,
    now: DateTime<Utc>,
) -> AppResult<GoodsView> {
    write_tx(conn, |conn| {
        let (target, _) = shop_target(conn, shop_id)?;
        authorize(&c.principal, Action::ManageGoods, &target)?;
        let barcode = req.barcode.as_deref().filter(|b| !b.is_empty());
        let id = store::insert_goods(
            conn,
            &store::NewGoods {
                shop_id,
                name: req.name.trim(),
                unit: req.unit.trim(),
                points_price: req.points_price.minor(),
                cost_yuan: req.cost_yuan.minor(),
                barcode,
                now: now.naive_utc(),
            },
        )
        .map_err(barcode_taken)?;
        if req.stock > 0 {
            move_stock(
                conn,
                c,
                shop_id,
                id,
                req.stock,
                MovementKind::Restock,
                "上架时的库存",
                now,
            )?;
        }
        audit_shop(
            conn,
            c,
            "goods_create",
            ("goods", id),
            json!({"shop_id": shop_id, "name": req.name.trim()}),
            now,
        )?;
        store::goods_row(conn, id)?
            .map(goods_view)
            .ok_or(AppError::NotFound)
    })
}

fn managed_goods(conn: &mut DbConnection, p: &Principal, goods_id: i64) -> AppResult<GoodsRow> {
    let row = store::goods_row(conn, goods_id)?.ok_or(AppError::NotFound)?;
    let (target, _) = shop_target(conn, row.shop_id)?;
    authorize(p, Action::ManageGoods, &target)?;
    Ok(row)
}

pub fn patch_goods(
    conn: &mut DbConnection,
    c: &Caller,
    goods_id: i64,
    req: &PatchGoods,
    now: DateTime<Utc>,
) -> AppResult<GoodsView> {
    write_tx(conn, |conn| {
        let mut row = managed_goods(conn, &c.principal, goods_id)?;
        if let Some(name) = &req.name {
            row.name = name.trim().to_owned();
        }
        if let Some(unit) = &req.unit {
            row.unit = unit.trim().to_owned();
        }
        if let Some(price) = req.points_price {
            row.points_price = price.minor();
        }
        if let Some(cost) = req.cost_yuan {
            row.cost_yuan = cost.minor();
        }
        if let Some(active) = req.active {
            row.active = active;
        }
        if let Some(barcode) = &req.barcode {
            row.barcode = Some(barcode.clone()).filter(|b| !b.is_empty());
        }
        store::update_goods(conn, &row, now.naive_utc()).map_err(barcode_taken)?;
        let detail = json!({"name": row.name, "points_price": Amount::from_minor(row.points_price), "active": row.active});
        audit_shop(conn, c, "goods_update", ("goods", goods_id), detail, now)?;
        Ok(goods_view(row))
    })
}

/// Moves stock and records the movement; refuses to go below zero.
#[allow(clippy::too_many_arguments)]
fn move_stock(
    tx: &mut Tx<'_>,
    c: &Caller,
    shop_id: i64,
    goods_id: i64,
    delta: i64,
    kind: MovementKind,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let stock_after = store::move_stock(tx, goods_id, delta, now.naive_utc())?
        .ok_or(AppError::InsufficientStock)?;
    store::insert_movement(
        tx,
        &store::NewMovement {
            shop_id,
            goods_id,
            kind,
            delta,
            stock_after,
            reason,
            redemption_id: None,
            actor_kind: c.kind(),
            actor_id: Some(c.principal.id),
            now: now.naive_utc(),
        },
    )?;
    Ok(stock_after)
}

/// Restock (positive) or adjustment (negative), with a reason; once per idempotency key.
pub fn adjust_stock(
    conn: &mut DbConnection,
    key: &IdempotencyKey,
    c: &Caller,
    goods_id: i64,
    req: &StockRequest,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    created_once(conn, key, now, |tx| {
        adjust_stock_in(tx, c, goods_id, req, now)
    })
}

fn adjust_stock_in(
    tx: &mut Tx<'_>,
    c: &Caller,
    goods_id: i64,
    req: &StockRequest,
    now: DateTime<Utc>,
) -> AppResult<GoodsView> {
    let row = managed_goods(tx, &c.principal, goods_id)?;
    if req.delta == 0 {
        return Err(AppError::field("delta", "数量不能为 0"));
    }
    let kind = if req.delta > 0 {
        MovementKind::Restock
    } else {
        MovementKind::Adjustment
    };
    move_stock(
        tx,
        c,
        row.shop_id,
        goods_id,
        req.delta,
        kind,
        req.reason.trim(),
        now,
    )?;
    store::goods_row(tx, goods_id)?
        .map(goods_view)
        .ok_or(AppError::NotFound)
}

// ---- payment codes ---------------------------------------------------------

/// A new one-time code for the signed-in villager; their earlier code stops working.
pub fn issue_code(
    conn: &mut DbConnection,
    c: &Caller,
    pepper: &Pepper,
    household_id: i64,
    now: DateTime<Utc>,
) -> AppResult<PaymentCodeView> {
    let (id, text, expires_at) = write_tx(conn, |conn| {
        let (village_id, target) = household_target(conn, household_id)?;
        authorize(&c.principal, Action::IssuePaymentCode, &target)?;
        let ttl = village_policy(conn, village_id)?.code_ttl_seconds;
        let expires_at = now + Duration::seconds(i64::from(ttl));
        let text = code::new_code();
        let id = store::replace_code(
            conn,
            &store::NewCode {
                village_id,
                household_id,
                member_id: c.principal.id,
                code_hash: &pepper.hash(&text),
                expires_at: expires_at.naive_utc(),
                now: now.naive_utc(),
            },
        )?;
        Ok((id, text, expires_at))
    })?;
    // Drawn after the commit: the QR is no reason to hold the write lock.
    let unrendered = || AppError::internal("QR rendering failed");
    let png = code::qr_png(&text).ok_or_else(unrendered)?;
    Ok(PaymentCodeView {
        id,
        qr_svg: code::qr_svg(&text).ok_or_else(unrendered)?,
        qr_png: format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        ),
        code: text,
        expires_at,
    })
}

fn code_state(row: &store::CodeRow, now: DateTime<Utc>) -> CodeState {
    if row.used_at.is_some() {
        CodeState::Used
    } else if row.ended_at.is_some() || row.expires_at <= now.naive_utc() {
        CodeState::Expired
    } else {
        CodeState::Active
    }
}

/// Ends the village's live payment codes (清零 takes the points they would spend): the
/// villager's page then shows a new code with what is left.
pub fn end_live_codes(tx: &mut Tx<'_>, village_id: i64, now: DateTime<Utc>) -> AppResult<usize> {
    Ok(store::end_live_codes(tx, village_id, now.naive_utc())?)
}

/// Lets the villager's page learn that the shop has redeemed the code.
pub fn code_status(
    conn: &mut DbConnection,
    p: &Principal,
    code_id: i64,
    now: DateTime<Utc>,
) -> AppResult<PaymentCodeStatus> {
    let row = store::code(conn, code_id)?.ok_or(AppError::NotFound)?;
    if row.member_id != p.id || p.is_staff() {
        return Err(AppError::NotFound);
    }
    let redemption = match store::redemption_paid_by(conn, row.id)? {
        Some(paid) => Some(receipt_of(conn, paid)?),
        None => None,
    };
    let state = code_state(&row, now);
    let reserved_by = match row.reserved_shop_id {
        Some(shop) if state == CodeState::Active => Some(shop_name(conn, shop)?),
        _ => None,
    };
    Ok(PaymentCodeStatus {
        status: state,
        expires_at: row.expires_at.and_utc(),
        reserved_by,
        redemption,
    })
}

/// The code as typed or scanned, if it is well formed.
fn code_text(text: &str) -> AppResult<String> {
    let text = code::normalize(text);
    if !code::is_well_formed(&text) {
        return Err(AppError::CodeInvalid("付款码不对，请重新扫码。"));
    }
    Ok(text)
}

/// Finds the live code a shop was shown, without consuming it.
fn live_code(
    conn: &mut DbConnection,
    pepper: &Pepper,
    shop_id: i64,
    text: &str,
    now: DateTime<Utc>,
) -> AppResult<store::CodeRow> {
    let row = shown_code(conn, pepper, text, now)?;
    not_held_elsewhere(&row, shop_id)?;
    code_may_pay_here(conn, shop_id, &row)?;
    Ok(row)
}

/// How long a scan holds a code for the shop's checkout, at the least.
const RESERVATION: Duration = Duration::minutes(3);

/// A code another shop's scan holds pays nothing here.
fn not_held_elsewhere(row: &store::CodeRow, shop_id: i64) -> AppResult<()> {
    match row.reserved_shop_id {
        Some(holder) if holder != shop_id => Err(AppError::CodeInvalid(
            "这个付款码正在别的店结算，请村民刷新后重新出示。",
        )),
        _ => Ok(()),
    }
}

/// The live code of this text, or why there is none.
fn shown_code(
    conn: &mut DbConnection,
    pepper: &Pepper,
    text: &str,
    now: DateTime<Utc>,
) -> AppResult<store::CodeRow> {
    let row = store::code_by_hash(conn, &pepper.hash(&code_text(text)?))?
        .ok_or(AppError::CodeInvalid("付款码不对，请重新扫码。"))?;
    match code_state(&row, now) {
        CodeState::Used => Err(AppError::CodeUsed),
        CodeState::Expired => Err(AppError::CodeExpired),
        CodeState::Active => Ok(row),
    }
}

/// Uses up the live code of this text in one conditional update (a refusal later rolls
/// it back); only when there is none is it read, to say why.
fn take_code(
    tx: &mut Tx<'_>,
    pepper: &Pepper,
    shop_id: i64,
    text: &str,
    now: DateTime<Utc>,
) -> AppResult<store::CodeRow> {
    let hash = pepper.hash(&code_text(text)?);
    let Some(row) = store::take_code(tx, &hash, shop_id, now.naive_utc())? else {
        let live = shown_code(tx, pepper, text, now)?;
        not_held_elsewhere(&live, shop_id)?;
        // Live when read again: another counter took it a moment ago.
        return Err(AppError::CodeUsed);
    };
    code_may_pay_here(tx, shop_id, &row)?;
    Ok(row)
}

/// A code shown on a phone since signed out (lost), or of a member or household
/// deactivated since, pays for nothing; nor one from a village the shop does not serve.
fn code_may_pay_here(conn: &mut DbConnection, shop_id: i64, row: &store::CodeRow) -> AppResult<()> {
    if !member_may_pay(conn, row.member_id, row.created_at)? {
        return Err(AppError::CodeInvalid(
            "这个付款码已失效，请村民重新登录后出示。",
        ));
    }
    serves(conn, shop_id, row.village_id)
}

fn serves(conn: &mut DbConnection, shop_id: i64, village_id: i64) -> AppResult<()> {
    if store::villages_of_shop(conn, shop_id)?.contains(&village_id) {
        Ok(())
    } else {
        Err(AppError::CodeInvalid("本店不为这个村兑换。"))
    }
}

/// A card of a deactivated household, or from a village the shop does not serve, pays
/// for nothing.
fn card_may_pay_here(
    conn: &mut DbConnection,
    shop_id: i64,
    card: &store::CardRow,
) -> AppResult<()> {
    if ensure_active_household(conn, card.household_id).is_err() {
        return Err(AppError::CodeInvalid("这一户已停用，户卡不能再用。"));
    }
    serves(conn, shop_id, card.village_id)
}

/// Who pays: a live payment code, or a household card.
enum Payer {
    Code(store::CodeRow),
    Card(store::CardRow),
}

impl Payer {
    fn village_id(&self) -> i64 {
        match self {
            Payer::Code(c) => c.village_id,
            Payer::Card(c) => c.village_id,
        }
    }

    fn household_id(&self) -> i64 {
        match self {
            Payer::Code(c) => c.household_id,
            Payer::Card(c) => c.household_id,
        }
    }
}

/// Resolves a code or card shown at the shop for a scan: reads, consumes nothing.
fn payer(
    conn: &mut DbConnection,
    pepper: &Pepper,
    shop_id: i64,
    with: PayWith,
    now: DateTime<Utc>,
) -> AppResult<Payer> {
    match with {
        PayWith::Code(text) => live_code(conn, pepper, shop_id, text, now).map(Payer::Code),
        PayWith::Card { token, .. } => {
            let found = card::live_card(conn, pepper, token, now)?;
            card_may_pay_here(conn, shop_id, &found)?;
            Ok(Payer::Card(found))
        }
    }
}

/// The payer of a redemption: the code is used up; the card is locked and its PIN
/// checked, and a wrong one counts.
fn paying(
    tx: &mut Tx<'_>,
    pepper: &Pepper,
    shop_id: i64,
    with: PayWith,
    now: DateTime<Utc>,
) -> AppResult<Payer> {
    match with {
        PayWith::Code(text) => take_code(tx, pepper, shop_id, text, now).map(Payer::Code),
        PayWith::Card { token, pin } => {
            let locked = card::lock_live_card(tx, pepper, token, now)?;
            card_may_pay_here(tx, shop_id, locked.row())?;
            let pin = pin.ok_or_else(|| AppError::field("pin", "用户卡兑换要输入密码"))?;
            card::check_pin(tx, pepper, locked, pin, now).map(Payer::Card)
        }
    }
}

/// Who the code or card belongs to, masked, and their points; consumes nothing.
pub fn scan(
    conn: &mut DbConnection,
    c: &Caller,
    pepper: &Pepper,
    shop_id: i64,
    req: &ScanRequest,
    now: DateTime<Utc>,
) -> AppResult<ScanView> {
    write_tx(conn, |tx| {
        let (target, _) = shop_target(tx, shop_id)?;
        authorize(&c.principal, Action::ShopCounter, &target)?;
        let with = pay_with(req.code.as_deref(), req.card_token.as_deref(), None)?;
        let who = payer(tx, pepper, shop_id, with, now)?;
        if let Payer::Code(code) = &who {
            // The checkout holds the code: the villager's page stops renewing it.
            let until = code.expires_at.max((now + RESERVATION).naive_utc());
            if !store::reserve_code(tx, code.id, shop_id, until, now.naive_utc())? {
                return Err(AppError::CodeUsed);
            }
        }
        let (village_id, door_no, head_name) = household_brief(tx, who.household_id())?;
        Ok(ScanView {
            household_id: who.household_id(),
            display_name: mask_name(&head_name),
            door_no,
            points: household_points(tx, village_id, who.household_id())?,
        })
    })
}

// ---- redemption and void ---------------------------------------------------

/// Takes the lines' stock (in goods id order, so racing counters never deadlock) and
/// returns the goods with quantities and the total.
fn take_stock(
    tx: &mut Tx<'_>,
    shop_id: i64,
    lines: &[LineRequest],
    now: DateTime<Utc>,
) -> AppResult<(Vec<(GoodsRow, i32)>, i64)> {
    let mut wanted: Vec<(i64, i32)> = Vec::new();
    for line in lines {
        match wanted.iter_mut().find(|(id, _)| *id == line.goods_id) {
            Some((_, q)) => *q += line.quantity,
            None => wanted.push((line.goods_id, line.quantity)),
        }
    }
    wanted.sort_unstable();
    let mut taken = Vec::with_capacity(wanted.len());
    let mut total = 0i64;
    for (index, (goods_id, quantity)) in wanted.into_iter().enumerate() {
        let Some(row) = store::take_goods(tx, shop_id, goods_id, quantity, now.naive_utc())? else {
            // Only a refusal reads the product, to say why.
            let on_sale =
                store::goods_row(tx, goods_id)?.is_some_and(|g| g.shop_id == shop_id && g.active);
            return Err(if on_sale {
                AppError::InsufficientStock
            } else {
                AppError::field(format!("lines[{index}].goods_id"), "本店没有这件商品")
            });
        };
        total = row
            .points_price
            .checked_mul(i64::from(quantity))
            .and_then(|points| total.checked_add(points))
            .ok_or_else(|| AppError::field("lines", "合计积分超出范围"))?;
        taken.push((row, quantity));
    }
    Ok((taken, total))
}

fn receipt_no(shop_id: i64, day: chrono::NaiveDate, seq: i32) -> String {
    format!("{shop_id:03}-{}-{seq:04}", day.format("%Y%m%d"))
}

/// One atomic redemption, once per idempotency key (a retry replays the receipt); any
/// refusal rolls back everything it did.
pub fn redeem(
    conn: &mut DbConnection,
    key: &IdempotencyKey,
    c: &Caller,
    pepper: &Pepper,
    shop_id: i64,
    req: &RedeemRequest,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    // Stored times have microseconds on both backends; the receipt answered now is the
    // one read back later.
    let now = now.trunc_subsecs(6);
    created_once(conn, key, now, |tx| {
        redeem_in(tx, c, pepper, shop_id, req, now)
    })
}

fn redeem_in(
    tx: &mut Tx<'_>,
    c: &Caller,
    pepper: &Pepper,
    shop_id: i64,
    req: &RedeemRequest,
    now: DateTime<Utc>,
) -> AppResult<ReceiptView> {
    let (target, shop_name) = shop_target(tx, shop_id)?;
    authorize(&c.principal, Action::ShopCounter, &target)?;
    let with = pay_with(
        req.code.as_deref(),
        req.card_token.as_deref(),
        req.pin.as_deref(),
    )?;
    // First, so that a wrong PIN is counted before anything else is touched.
    let who = paying(tx, pepper, shop_id, with, now)?;
    // The chain before the stock, as voids take them: racing writers never deadlock.
    let head = lock_chain(tx, who.village_id(), now)?;
    let (taken, total) = take_stock(tx, shop_id, &req.lines, now)?;
    if let Payer::Card(card) = &who {
        card::check_daily_cap(tx, card, total, now)?;
    }
    let sale = Sale {
        shop_id,
        who: &who,
        taken: &taken,
        total,
    };
    let posted = post_sale(tx, head, c, &sale, now)?;
    let recorded = record_sale(tx, c, &sale, &posted, req, now)?;
    let detail = json!({"receipt_no": recorded.receipt_no, "total": Amount::from_minor(total), "proxy_name": req.proxy_name});
    let entry = Event {
        village_id: Some(who.village_id()),
        action: "redeem",
        subject_kind: "redemption",
        subject_id: Some(recorded.id),
        detail,
    };
    audit::record(tx, c, entry, now)?;
    let (_, door_no, head_name) = household_brief(tx, who.household_id())?;
    Ok(ReceiptView {
        id: recorded.id,
        shop_id,
        shop_name,
        household_id: who.household_id(),
        display_name: mask_name(&head_name),
        door_no,
        receipt_no: recorded.receipt_no,
        total_points: Amount::from_minor(total),
        points_after: Amount::from_minor(recorded.points_after),
        lines: taken
            .iter()
            .map(|(goods, quantity)| receipt_line(goods, *quantity))
            .collect(),
        transaction_id: posted.transaction_id,
        chain: ChainPosition {
            seq: posted.seq,
            hash: posted.hash,
        },
        proxy_name: recorded.proxy_name,
        created_at: now,
        voided: false,
        void_reason: None,
        voided_at: None,
    })
}

/// A receipt line of goods as sold.
fn receipt_line(goods: &GoodsRow, quantity: i32) -> ReceiptLine {
    ReceiptLine {
        goods_id: goods.id,
        name: goods.name.clone(),
        unit: goods.unit.clone(),
        quantity,
        points_price: Amount::from_minor(goods.points_price),
        points: Amount::from_minor(goods.points_price * i64::from(quantity)),
    }
}

/// What recording a sale wrote, for its receipt.
struct Recorded {
    id: i64,
    receipt_no: String,
    points_after: i64,
    proxy_name: Option<String>,
}

/// What a redemption hands over: to whom, which goods, for how many points.
struct Sale<'a> {
    shop_id: i64,
    who: &'a Payer,
    taken: &'a [(GoodsRow, i32)],
    total: i64,
}

/// Points out of the household and into the shop's receivable, on the chain.
fn post_sale(
    tx: &mut Tx<'_>,
    head: LockedHead,
    c: &Caller,
    sale: &Sale<'_>,
    now: DateTime<Utc>,
) -> AppResult<Posted> {
    let memo = sale
        .taken
        .iter()
        .map(|(g, q)| format!("{} {q}{}", g.name, g.unit))
        .collect::<Vec<_>>()
        .join("、");
    let (village_id, household_id) = (sale.who.village_id(), sale.who.household_id());
    post_on(
        tx,
        head,
        Posting {
            kind: TxKind::Redemption,
            memo: &memo,
            legs: redemption_legs(village_id, household_id, sale.shop_id, sale.total),
            reverses: None,
            actor: Actor::from(c),
            at: now,
        },
    )
    .map_err(|err| match err {
        PostingError::Insufficient(_) => AppError::InsufficientPoints,
        other => other.into(),
    })
}

/// The numbered receipt with its lines and stock movements; the code is used up.
fn record_sale(
    tx: &mut Tx<'_>,
    c: &Caller,
    sale: &Sale<'_>,
    posted: &Posted,
    req: &RedeemRequest,
    now: DateTime<Utc>,
) -> AppResult<Recorded> {
    let points_after = posted
        .balances
        .iter()
        .find(|(k, _)| k.is_household())
        .map_or(0, |(_, b)| *b);
    let (shop_id, day) = (sale.shop_id, shanghai_today(now));
    let number = receipt_no(shop_id, day, store::next_receipt_seq(tx, shop_id, day)?);
    let proxy_name = req.proxy_name.as_deref().map(str::trim);
    let redemption_id = store::insert_redemption(
        tx,
        &store::NewRedemption {
            shop_id,
            village_id: sale.who.village_id(),
            household_id: sale.who.household_id(),
            receipt_no: &number,
            total_points: sale.total,
            points_after,
            transaction_id: posted.transaction_id,
            payment_code_id: match sale.who {
                Payer::Code(code) => Some(code.id),
                Payer::Card(_) => None,
            },
            card_id: match sale.who {
                Payer::Card(card) => Some(card.id),
                Payer::Code(_) => None,
            },
            proxy_name,
            keeper_id: c.principal.id,
            now: now.naive_utc(),
        },
    )?;
    for (goods, quantity) in sale.taken {
        store::insert_line(tx, redemption_id, goods, *quantity)?;
        store::insert_movement(
            tx,
            &store::NewMovement {
                shop_id,
                goods_id: goods.id,
                kind: MovementKind::Redemption,
                delta: -i64::from(*quantity),
                stock_after: goods.stock,
                reason: &number,
                redemption_id: Some(redemption_id),
                actor_kind: c.kind(),
                actor_id: Some(c.principal.id),
                now: now.naive_utc(),
            },
        )?;
    }
    Ok(Recorded {
        id: redemption_id,
        receipt_no: number,
        points_after,
        proxy_name: proxy_name.map(str::to_owned),
    })
}

/// A redemption as its receipt shows it.
pub fn receipt(conn: &mut DbConnection, redemption_id: i64) -> AppResult<ReceiptView> {
    let row = store::redemption(conn, redemption_id)?.ok_or(AppError::NotFound)?;
    receipt_of(conn, row)
}

fn receipt_of(conn: &mut DbConnection, row: RedemptionRow) -> AppResult<ReceiptView> {
    let shop_name = store::shop(conn, row.shop_id)?
        .ok_or(AppError::NotFound)?
        .name;
    let (_, door_no, head_name) = household_brief(conn, row.household_id)?;
    let (seq, hash) = chain_position(conn, row.transaction_id)?;
    let lines = store::lines_of(conn, row.id)?
        .into_iter()
        .map(|line| ReceiptLine {
            goods_id: line.goods_id,
            points_price: Amount::from_minor(line.points_price),
            points: Amount::from_minor(line.points_price * i64::from(line.quantity)),
            name: line.name,
            unit: line.unit,
            quantity: line.quantity,
        })
        .collect();
    let void = store::void_of(conn, row.id)?;
    Ok(ReceiptView {
        voided: void.is_some(),
        voided_at: void.as_ref().map(|(_, at)| at.and_utc()),
        void_reason: void.map(|(reason, _)| reason),
        id: row.id,
        shop_id: row.shop_id,
        shop_name,
        household_id: row.household_id,
        display_name: mask_name(&head_name),
        door_no,
        receipt_no: row.receipt_no,
        total_points: Amount::from_minor(row.total_points),
        points_after: Amount::from_minor(row.points_after),
        lines,
        transaction_id: row.transaction_id,
        chain: ChainPosition { seq, hash },
        proxy_name: row.proxy_name,
        created_at: row.created_at.and_utc(),
    })
}

/// The shop's keeper and the township see the shop's redemptions; the committee and
/// supervisors those of their village; a villager their own.
fn may_view(conn: &mut DbConnection, p: &Principal, row: &RedemptionRow) -> AppResult<()> {
    let (shop, _) = shop_target(conn, row.shop_id)?;
    if permits(p, Action::ViewRedemption, &shop) {
        return Ok(());
    }
    let (_, household) = household_target(conn, row.household_id)?;
    authorize(p, Action::ViewRedemption, &household)
}

pub fn get_redemption(conn: &mut DbConnection, p: &Principal, id: i64) -> AppResult<ReceiptView> {
    let row = store::redemption(conn, id)?.ok_or(AppError::NotFound)?;
    may_view(conn, p, &row)?;
    receipt_of(conn, row)
}

pub fn list_redemptions(
    conn: &mut DbConnection,
    p: &Principal,
    shop_id: i64,
    page: &PageQuery,
) -> AppResult<Page<ReceiptView>> {
    let (target, _) = shop_target(conn, shop_id)?;
    authorize(p, Action::ViewShopRedemptions, &target)?;
    let request = page.request()?;
    let rows = store::redemptions_page(conn, shop_id, request)?;
    Page::from_rows(rows, request, |r| r.id, |r| r).try_map(|row| receipt_of(conn, row))
}

/// How many of the household's redemptions were voided after `since`.
pub fn voided_since(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
    since: DateTime<Utc>,
) -> AppResult<i64> {
    let (_, household) = household_target(conn, household_id)?;
    authorize(p, Action::ViewRedemption, &household)?;
    Ok(store::voided_since(conn, household_id, since.naive_utc())?)
}

/// A household's latest redemptions at every shop (the villager's own, or the staff of
/// the village), newest first.
pub fn household_redemptions(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
    limit: i64,
) -> AppResult<Vec<ReceiptView>> {
    let (_, household) = household_target(conn, household_id)?;
    authorize(p, Action::ViewRedemption, &household)?;
    store::redemptions_of_household(conn, household_id, limit)?
        .into_iter()
        .map(|row| receipt_of(conn, row))
        .collect()
}

/// Voids a redemption: points and stock return in one reversal. The shop may do it within
/// the village's `void_window_minutes`; the committee at any time; never twice. Once per
/// idempotency key.
pub fn void(
    conn: &mut DbConnection,
    key: &IdempotencyKey,
    c: &Caller,
    redemption_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    created_once(conn, key, now, |tx| {
        void_in(tx, c, redemption_id, reason, now)
    })
}

fn void_in(
    tx: &mut Tx<'_>,
    c: &Caller,
    redemption_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<ReceiptView> {
    let row = store::redemption(tx, redemption_id)?.ok_or(AppError::NotFound)?;
    let committee = may_void(tx, c, &row, now)?;
    store::lock_shop(tx, row.shop_id)?;
    if !committee && settlement::is_on_statement(tx, row.id)? {
        return Err(AppError::InvalidState(
            "这笔兑换已进入结算单，只能由村委会作废。".into(),
        ));
    }
    let head = lock_chain(tx, row.village_id, now)?;
    if store::is_voided(tx, row.id)? {
        return Err(AppError::Conflict("这笔兑换已经作废了。".into()));
    }
    let posted = post_on(
        tx,
        head,
        Posting {
            kind: TxKind::Void,
            memo: &format!("作废 {}：{}", row.receipt_no, reason.trim()),
            legs: void_legs(
                row.village_id,
                row.household_id,
                row.shop_id,
                row.total_points,
            ),
            reverses: Some(row.transaction_id),
            actor: Actor::from(c),
            at: now,
        },
    )?;
    store::insert_void(
        tx,
        row.id,
        posted.transaction_id,
        reason.trim(),
        c.principal.id,
        now.naive_utc(),
    )?;
    let statement = settlement::on_void(tx, row.id)?;
    restock_voided(tx, c, &row, now)?;
    let entry = Event {
        village_id: Some(row.village_id),
        action: "void",
        subject_kind: "redemption",
        subject_id: Some(row.id),
        detail: void_detail(&row, reason, statement),
    };
    audit::record(tx, c, entry, now)?;
    receipt(tx, redemption_id)
}

/// Whether the caller may void this redemption: the shop within the village's window,
/// the committee at any time. True when the caller voids as the committee.
fn may_void(
    conn: &mut DbConnection,
    c: &Caller,
    row: &RedemptionRow,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let (shop, _) = shop_target(conn, row.shop_id)?;
    let village = village_target(conn, row.village_id)?;
    let as_shop = permits(&c.principal, Action::VoidRedemption, &shop);
    if !as_shop {
        authorize(&c.principal, Action::VoidRedemption, &village)?;
    }
    let window = i64::from(village_policy(conn, row.village_id)?.void_window_minutes);
    let in_window = now.naive_utc() <= row.created_at + Duration::minutes(window);
    let committee = permits(&c.principal, Action::VoidRedemption, &village);
    if as_shop && !committee && !in_window {
        return Err(AppError::InvalidState(format!(
            "超过 {window} 分钟的兑换只能由村委会作废。"
        )));
    }
    Ok(committee)
}

/// The voided goods go back on the shelf, each with its stock movement.
fn restock_voided(
    tx: &mut Tx<'_>,
    c: &Caller,
    row: &RedemptionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    for store::LineRow {
        goods_id, quantity, ..
    } in store::lines_of(tx, row.id)?
    {
        let stock_after = store::move_stock(tx, goods_id, i64::from(quantity), now.naive_utc())?
            .ok_or(AppError::InsufficientStock)?;
        store::insert_movement(
            tx,
            &store::NewMovement {
                shop_id: row.shop_id,
                goods_id,
                kind: MovementKind::Void,
                delta: i64::from(quantity),
                stock_after,
                reason: &row.receipt_no,
                redemption_id: Some(row.id),
                actor_kind: c.kind(),
                actor_id: Some(c.principal.id),
                now: now.naive_utc(),
            },
        )?;
    }
    Ok(())
}

/// The audit detail of a void: the receipt, why, and what became of its statement line.
fn void_detail(row: &RedemptionRow, reason: &str, statement: VoidOnStatement) -> serde_json::Value {
    let mut detail = json!({"receipt_no": row.receipt_no, "reason": reason.trim()});
    match statement {
        VoidOnStatement::Unsettled => {}
        VoidOnStatement::LeftDraft(id) => detail["left_settlement"] = json!(id),
        VoidOnStatement::CarriedForward(id) => detail["settled_on"] = json!(id),
    }
    detail
}
