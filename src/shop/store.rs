//! Diesel queries for shops, goods, stock, payment codes and redemptions.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::org::policy::SettleAt;

use super::model::{MovementKind, SettlementStatus};
use crate::db::schema::{
    goods, payment_codes, receipt_counters, redemption_lines, redemption_voids, redemptions,
    shop_villages, shops, stock_movements,
};
use crate::db::{DbConnection, reference};
use crate::paging::PageRequest;
use crate::per_backend;

/// A shop as stored; a reference row (see `db::reference`).
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = shops)]
pub struct ShopRow {
    pub id: i64,
    pub township_id: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
}

/// A shop by id.
pub fn shop(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ShopRow>> {
    reference::get(id, || {
        shops::table
            .find(id)
            .select(ShopRow::as_select())
            .first(conn)
            .optional()
    })
}

pub fn shops_of(
    conn: &mut DbConnection,
    township_id: i64,
    page: PageRequest,
) -> QueryResult<Vec<ShopRow>> {
    shops::table
        .filter(shops::township_id.eq(township_id))
        .filter(shops::id.gt(page.after.unwrap_or(0)))
        .order(shops::id)
        .limit(page.limit + 1)
        .select(ShopRow::as_select())
        .load(conn)
}

/// The villages a shop serves, in id order.
#[derive(Clone)]
struct ServedVillages(Vec<i64>);

/// The villages a shop serves; a reference row (see `db::reference`).
pub fn villages_of_shop(conn: &mut DbConnection, shop_id: i64) -> QueryResult<Vec<i64>> {
    let served = reference::get(shop_id, || {
        shop_villages::table
            .filter(shop_villages::shop_id.eq(shop_id))
            .order(shop_villages::village_id)
            .select(shop_villages::village_id)
            .load(conn)
            .map(|ids| Some(ServedVillages(ids)))
    })?;
    Ok(served.map_or_else(Vec::new, |served| served.0))
}

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = goods)]
pub struct GoodsRow {
    pub id: i64,
    pub shop_id: i64,
    pub name: String,
    pub unit: String,
    pub points_price: i64,
    pub cost_yuan: i64,
    pub stock: i64,
    pub active: bool,
    pub barcode: Option<String>,
}

pub struct NewGoods<'a> {
    pub shop_id: i64,
    pub name: &'a str,
    pub unit: &'a str,
    pub points_price: i64,
    pub cost_yuan: i64,
    pub barcode: Option<&'a str>,
    pub now: NaiveDateTime,
}

/// A new product with no stock; opening stock arrives as a movement.
pub fn insert_goods(conn: &mut DbConnection, g: &NewGoods) -> QueryResult<i64> {
    diesel::insert_into(goods::table)
        .values((
            goods::shop_id.eq(g.shop_id),
            goods::name.eq(g.name),
            goods::unit.eq(g.unit),
            goods::points_price.eq(g.points_price),
            goods::cost_yuan.eq(g.cost_yuan),
            goods::barcode.eq(g.barcode),
            goods::stock.eq(0i64),
            goods::active.eq(true),
            goods::created_at.eq(g.now),
            goods::updated_at.eq(g.now),
        ))
        .returning(goods::id)
        .get_result(conn)
}

pub fn goods_row(conn: &mut DbConnection, id: i64) -> QueryResult<Option<GoodsRow>> {
    goods::table
        .find(id)
        .select(GoodsRow::as_select())
        .first(conn)
        .optional()
}

pub fn goods_of_shop(
    conn: &mut DbConnection,
    shop_id: i64,
    page: PageRequest,
) -> QueryResult<Vec<GoodsRow>> {
    goods::table
        .filter(goods::shop_id.eq(shop_id))
        .filter(goods::id.gt(page.after.unwrap_or(0)))
        .order(goods::id)
        .limit(page.limit + 1)
        .select(GoodsRow::as_select())
        .load(conn)
}

pub fn update_goods(
    conn: &mut DbConnection,
    row: &GoodsRow,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(goods::table.find(row.id))
        .set((
            goods::name.eq(&row.name),
            goods::unit.eq(&row.unit),
            goods::points_price.eq(row.points_price),
            goods::cost_yuan.eq(row.cost_yuan),
            goods::active.eq(row.active),
            goods::barcode.eq(&row.barcode),
            goods::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Moves stock by `delta` unless it would go below zero; returns the new stock.
pub fn move_stock(
    conn: &mut DbConnection,
    goods_id: i64,
    delta: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    diesel::update(
        goods::table
            .filter(goods::id.eq(goods_id))
            .filter(goods::stock.ge(-delta)),
    )
    .set((
        goods::stock.eq(goods::stock + delta),
        goods::updated_at.eq(now),
    ))
    .returning(goods::stock)
    .get_result(conn)
    .optional()
}

/// Takes `quantity` of a product of this shop that is on sale, if that much is in stock:
/// the product as it is afterwards, or None.
pub fn take_goods(
    conn: &mut DbConnection,
    shop_id: i64,
    goods_id: i64,
    quantity: i32,
    now: NaiveDateTime,
) -> QueryResult<Option<GoodsRow>> {
    let quantity = i64::from(quantity);
    diesel::update(
        goods::table
            .filter(goods::id.eq(goods_id))
            .filter(goods::shop_id.eq(shop_id))
            .filter(goods::active.eq(true))
            .filter(goods::stock.ge(quantity)),
    )
    .set((
        goods::stock.eq(goods::stock - quantity),
        goods::updated_at.eq(now),
    ))
    // Columns in GoodsRow's order: diesel's `as_returning` does not reach through the
    // two-backend connection.
    .returning((
        goods::id,
        goods::shop_id,
        goods::name,
        goods::unit,
        goods::points_price,
        goods::cost_yuan,
        goods::stock,
        goods::active,
        goods::barcode,
    ))
    .get_result::<GoodsRow>(conn)
    .optional()
}

pub struct NewMovement<'a> {
    pub shop_id: i64,
    pub goods_id: i64,
    pub kind: MovementKind,
    pub delta: i64,
    pub stock_after: i64,
    pub reason: &'a str,
    pub redemption_id: Option<i64>,
    pub actor_kind: &'a str,
    pub actor_id: Option<i64>,
    pub now: NaiveDateTime,
}

pub fn insert_movement(conn: &mut DbConnection, m: &NewMovement) -> QueryResult<()> {
    diesel::insert_into(stock_movements::table)
        .values((
            stock_movements::shop_id.eq(m.shop_id),
            stock_movements::goods_id.eq(m.goods_id),
            stock_movements::kind.eq(m.kind),
            stock_movements::delta.eq(m.delta),
            stock_movements::stock_after.eq(m.stock_after),
            stock_movements::reason.eq(m.reason),
            stock_movements::redemption_id.eq(m.redemption_id),
            stock_movements::actor_kind.eq(m.actor_kind),
            stock_movements::actor_id.eq(m.actor_id),
            stock_movements::created_at.eq(m.now),
        ))
        .execute(conn)
        .map(drop)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = payment_codes)]
pub struct CodeRow {
    pub id: i64,
    pub village_id: i64,
    pub household_id: i64,
    pub member_id: i64,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub used_at: Option<NaiveDateTime>,
    /// The shop whose scan holds the code until it expires.
    pub reserved_shop_id: Option<i64>,
}

pub struct NewCode<'a> {
    pub village_id: i64,
    pub household_id: i64,
    pub member_id: i64,
    pub code_hash: &'a str,
    pub expires_at: NaiveDateTime,
    pub now: NaiveDateTime,
}

/// Ends the member's earlier codes and stores the new one.
/// Issues a new code for the member, ending the live ones; a code a shop is checking out
/// keeps its reservation (the sale must not lose it) and ends when that does.
pub fn replace_code(conn: &mut DbConnection, c: &NewCode) -> QueryResult<i64> {
    diesel::update(
        payment_codes::table
            .filter(payment_codes::member_id.eq(c.member_id))
            .filter(payment_codes::ended_at.is_null())
            .filter(payment_codes::used_at.is_null())
            .filter(payment_codes::reserved_shop_id.is_null()),
    )
    .set(payment_codes::ended_at.eq(c.now))
    .execute(conn)?;
    diesel::insert_into(payment_codes::table)
        .values((
            payment_codes::village_id.eq(c.village_id),
            payment_codes::household_id.eq(c.household_id),
            payment_codes::member_id.eq(c.member_id),
            payment_codes::code_hash.eq(c.code_hash),
            payment_codes::expires_at.eq(c.expires_at),
            payment_codes::created_at.eq(c.now),
        ))
        .returning(payment_codes::id)
        .get_result(conn)
}

/// Ends every code of the village still alive at `now`: how many.
pub fn end_live_codes(
    conn: &mut DbConnection,
    village_id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        payment_codes::table
            .filter(payment_codes::village_id.eq(village_id))
            .filter(payment_codes::expires_at.gt(now))
            .filter(payment_codes::ended_at.is_null())
            .filter(payment_codes::used_at.is_null()),
    )
    .set(payment_codes::ended_at.eq(now))
    .execute(conn)
}

pub fn code_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<CodeRow>> {
    payment_codes::table
        .filter(payment_codes::code_hash.eq(hash))
        .select(CodeRow::as_select())
        .first(conn)
        .optional()
}

pub fn code(conn: &mut DbConnection, id: i64) -> QueryResult<Option<CodeRow>> {
    payment_codes::table
        .find(id)
        .select(CodeRow::as_select())
        .first(conn)
        .optional()
}

/// Holds a live code for the shop until `until` (never shortening its life): false when
/// it is no longer live or another shop holds it.
pub fn reserve_code(
    conn: &mut DbConnection,
    id: i64,
    shop_id: i64,
    until: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let held = diesel::update(
        payment_codes::table
            .find(id)
            .filter(payment_codes::used_at.is_null())
            .filter(payment_codes::ended_at.is_null())
            .filter(payment_codes::expires_at.gt(now))
            .filter(
                payment_codes::reserved_shop_id
                    .is_null()
                    .or(payment_codes::reserved_shop_id.eq(shop_id)),
            ),
    )
    .set((
        payment_codes::reserved_shop_id.eq(shop_id),
        payment_codes::expires_at.eq(until),
    ))
    .execute(conn)?;
    Ok(held == 1)
}

/// Uses up the live code with this hash, unless another shop holds it: the code, or None
/// when no live code has it for this shop.
pub fn take_code(
    conn: &mut DbConnection,
    hash: &str,
    shop_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<CodeRow>> {
    diesel::update(
        payment_codes::table
            .filter(payment_codes::code_hash.eq(hash))
            .filter(payment_codes::used_at.is_null())
            .filter(payment_codes::ended_at.is_null())
            .filter(payment_codes::expires_at.gt(now))
            .filter(
                payment_codes::reserved_shop_id
                    .is_null()
                    .or(payment_codes::reserved_shop_id.eq(shop_id)),
            ),
    )
    .set(payment_codes::used_at.eq(now))
    // Columns in CodeRow's order (see `take_goods`).
    .returning((
        payment_codes::id,
        payment_codes::village_id,
        payment_codes::household_id,
        payment_codes::member_id,
        payment_codes::expires_at,
        payment_codes::created_at,
        payment_codes::ended_at,
        payment_codes::used_at,
        payment_codes::reserved_shop_id,
    ))
    .get_result::<CodeRow>(conn)
    .optional()
}

/// The shop's next receipt number of the day, counted in one upsert, so a rolled-back
/// redemption leaves no gap.
pub fn next_receipt_seq(conn: &mut DbConnection, shop_id: i64, day: NaiveDate) -> QueryResult<i32> {
    let first = (
        receipt_counters::shop_id.eq(shop_id),
        receipt_counters::day.eq(day),
        receipt_counters::last_seq.eq(1),
    );
    per_backend!(conn, |c| diesel::insert_into(receipt_counters::table)
        .values(first)
        .on_conflict((receipt_counters::shop_id, receipt_counters::day))
        .do_update()
        .set(receipt_counters::last_seq.eq(receipt_counters::last_seq + 1))
        .returning(receipt_counters::last_seq)
        .get_result(c))
}

pub struct NewRedemption<'a> {
    pub shop_id: i64,
    pub village_id: i64,
    pub household_id: i64,
    pub receipt_no: &'a str,
    pub total_points: i64,
    pub points_after: i64,
    pub transaction_id: i64,
    pub payment_code_id: Option<i64>,
    pub card_id: Option<i64>,
    pub proxy_name: Option<&'a str>,
    pub keeper_id: i64,
    pub now: NaiveDateTime,
}

pub fn insert_redemption(conn: &mut DbConnection, r: &NewRedemption) -> QueryResult<i64> {
    diesel::insert_into(redemptions::table)
        .values((
            redemptions::shop_id.eq(r.shop_id),
            redemptions::village_id.eq(r.village_id),
            redemptions::household_id.eq(r.household_id),
            redemptions::receipt_no.eq(r.receipt_no),
            redemptions::total_points.eq(r.total_points),
            redemptions::points_after.eq(r.points_after),
            redemptions::transaction_id.eq(r.transaction_id),
            redemptions::method.eq(if r.card_id.is_some() { "card" } else { "code" }),
            redemptions::payment_code_id.eq(r.payment_code_id),
            redemptions::card_id.eq(r.card_id),
            redemptions::proxy_name.eq(r.proxy_name),
            redemptions::keeper_id.eq(r.keeper_id),
            redemptions::created_at.eq(r.now),
        ))
        .returning(redemptions::id)
        .get_result(conn)
}

pub fn insert_line(
    conn: &mut DbConnection,
    redemption_id: i64,
    g: &GoodsRow,
    quantity: i32,
) -> QueryResult<()> {
    diesel::insert_into(redemption_lines::table)
        .values((
            redemption_lines::redemption_id.eq(redemption_id),
            redemption_lines::goods_id.eq(g.id),
            redemption_lines::name.eq(&g.name),
            redemption_lines::unit.eq(&g.unit),
            redemption_lines::quantity.eq(quantity),
            redemption_lines::points_price.eq(g.points_price),
            redemption_lines::cost_yuan.eq(g.cost_yuan),
        ))
        .execute(conn)
        .map(drop)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = redemptions)]
pub struct RedemptionRow {
    pub id: i64,
    pub shop_id: i64,
    pub village_id: i64,
    pub household_id: i64,
    pub receipt_no: String,
    pub total_points: i64,
    pub points_after: i64,
    pub transaction_id: i64,
    pub proxy_name: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn redemption(conn: &mut DbConnection, id: i64) -> QueryResult<Option<RedemptionRow>> {
    redemptions::table
        .find(id)
        .select(RedemptionRow::as_select())
        .first(conn)
        .optional()
}

/// The redemption a payment code paid for, if any.
pub fn redemption_paid_by(
    conn: &mut DbConnection,
    code_id: i64,
) -> QueryResult<Option<RedemptionRow>> {
    redemptions::table
        .filter(redemptions::payment_code_id.eq(code_id))
        .select(RedemptionRow::as_select())
        .first(conn)
        .optional()
}

pub fn redemptions_page(
    conn: &mut DbConnection,
    shop_id: i64,
    page: PageRequest,
) -> QueryResult<Vec<RedemptionRow>> {
    redemptions::table
        .filter(redemptions::shop_id.eq(shop_id))
        .filter(redemptions::id.lt(page.after.unwrap_or(i64::MAX)))
        .order(redemptions::id.desc())
        .limit(page.limit + 1)
        .select(RedemptionRow::as_select())
        .load(conn)
}

/// How many of the household's redemptions were voided after `since`.
pub fn voided_since(
    conn: &mut DbConnection,
    household_id: i64,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    let own: Vec<i64> = redemptions::table
        .filter(redemptions::household_id.eq(household_id))
        .select(redemptions::id)
        .load(conn)?;
    redemption_voids::table
        .filter(redemption_voids::redemption_id.eq_any(own))
        .filter(redemption_voids::created_at.gt(since))
        .count()
        .get_result(conn)
}

/// A household's latest redemptions at any shop, newest first.
pub fn redemptions_of_household(
    conn: &mut DbConnection,
    household_id: i64,
    limit: i64,
) -> QueryResult<Vec<RedemptionRow>> {
    redemptions::table
        .filter(redemptions::household_id.eq(household_id))
        .order(redemptions::id.desc())
        .limit(limit)
        .select(RedemptionRow::as_select())
        .load(conn)
}

/// A line of a receipt, as the goods were when they were redeemed.
#[derive(Queryable, Selectable)]
#[diesel(table_name = redemption_lines)]
pub struct LineRow {
    pub goods_id: i64,
    pub name: String,
    pub unit: String,
    pub quantity: i32,
    pub points_price: i64,
}

pub fn lines_of(conn: &mut DbConnection, redemption_id: i64) -> QueryResult<Vec<LineRow>> {
    redemption_lines::table
        .filter(redemption_lines::redemption_id.eq(redemption_id))
        .order(redemption_lines::id)
        .select(LineRow::as_select())
        .load(conn)
}

pub fn is_voided(conn: &mut DbConnection, redemption_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        redemption_voids::table.filter(redemption_voids::redemption_id.eq(redemption_id)),
    ))
    .get_result(conn)
}

/// Why and when a redemption was voided, if it was.
pub fn void_of(
    conn: &mut DbConnection,
    redemption_id: i64,
) -> QueryResult<Option<(String, NaiveDateTime)>> {
    redemption_voids::table
        .filter(redemption_voids::redemption_id.eq(redemption_id))
        .select((redemption_voids::reason, redemption_voids::created_at))
        .first(conn)
        .optional()
}

pub fn insert_void(
    conn: &mut DbConnection,
    redemption_id: i64,
    transaction_id: i64,
    reason: &str,
    actor_id: i64,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(redemption_voids::table)
        .values((
            redemption_voids::redemption_id.eq(redemption_id),
            redemption_voids::transaction_id.eq(transaction_id),
            redemption_voids::reason.eq(reason),
            redemption_voids::actor_id.eq(actor_id),
            redemption_voids::created_at.eq(now),
        ))
        .returning(redemption_voids::id)
        .get_result(conn)
}

/// Holds the shop's row until the transaction ends (PostgreSQL; SQLite's immediate
/// transaction already serialises writers), so a statement being drawn up and a void
/// of one of its redemptions cannot interleave.
pub fn lock_shop(conn: &mut DbConnection, shop_id: i64) -> QueryResult<()> {
    let query = shops::table.find(shop_id).select(shops::id);
    match conn {
        DbConnection::Pg(pg) => query.for_update().first::<i64>(pg).map(drop),
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// A redemption's line on a statement, with the statement's state.
#[derive(Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::settlement_lines)]
pub struct LineOnStatement {
    #[diesel(select_expression = crate::db::schema::settlements::id)]
    pub settlement_id: i64,
    #[diesel(select_expression = crate::db::schema::settlements::status)]
    pub status: SettlementStatus,
    #[diesel(select_expression = crate::db::schema::settlement_lines::id)]
    pub line_id: i64,
    pub points: i64,
    pub yuan: i64,
}

/// The statement a redemption is on, if any (a voided line does not count).
pub fn statement_of(
    conn: &mut DbConnection,
    redemption_id: i64,
) -> QueryResult<Option<LineOnStatement>> {
    use crate::db::schema::{settlement_lines, settlements};
    settlement_lines::table
        .inner_join(settlements::table.on(settlements::id.eq(settlement_lines::settlement_id)))
        .filter(settlement_lines::redemption_id.eq(redemption_id))
        .filter(settlement_lines::void_id.is_null())
        .select(LineOnStatement::as_select())
        .first(conn)
        .optional()
}

/// Takes a line off a statement that is still a draft, and its figures with it; false
/// when the statement was approved meanwhile (the line then stays).
pub fn remove_from_draft(
    conn: &mut DbConnection,
    settlement_id: i64,
    line_id: i64,
    points: i64,
    yuan: i64,
) -> QueryResult<bool> {
    use crate::db::schema::{settlement_lines, settlements};
    let changed = diesel::update(
        settlements::table
            .filter(settlements::id.eq(settlement_id))
            .filter(settlements::status.eq(SettlementStatus::Draft)),
    )
    .set((
        settlements::redemptions.eq(settlements::redemptions - 1),
        settlements::points.eq(settlements::points - points),
        settlements::yuan.eq(settlements::yuan - yuan),
    ))
    .execute(conn)?;
    if changed == 1 {
        diesel::delete(settlement_lines::table.find(line_id)).execute(conn)?;
    }
    Ok(changed == 1)
}

/// A redemption still to settle.
#[derive(Queryable, Selectable)]
#[diesel(table_name = redemptions)]
pub struct Unsettled {
    pub id: i64,
    pub village_id: i64,
    pub total_points: i64,
}

/// Redemptions of a shop in `[from, to)` (UTC) that are neither voided nor already on a
/// statement.
pub fn unsettled(
    conn: &mut DbConnection,
    shop_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Unsettled>> {
    use crate::db::schema::settlement_lines;
    let voided = redemption_voids::table.select(redemption_voids::redemption_id);
    let settled = settlement_lines::table.select(settlement_lines::redemption_id);
    redemptions::table
        .filter(redemptions::shop_id.eq(shop_id))
        .filter(redemptions::created_at.ge(from))
        .filter(redemptions::created_at.lt(to))
        .filter(redemptions::id.ne_all(voided))
        .filter(redemptions::id.ne_all(settled))
        .order(redemptions::id)
        .select(Unsettled::as_select())
        .load(conn)
}

/// The goods lines of a shop's redemptions in `[from, to)` (UTC): (redemption,
/// quantity, cost price in hundredths of a yuan each), for statements at cost price.
pub fn goods_costs(
    conn: &mut DbConnection,
    shop_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(i64, i32, i64)>> {
    redemption_lines::table
        .inner_join(redemptions::table.on(redemptions::id.eq(redemption_lines::redemption_id)))
        .filter(redemptions::shop_id.eq(shop_id))
        .filter(redemptions::created_at.ge(from))
        .filter(redemptions::created_at.lt(to))
        .select((
            redemption_lines::redemption_id,
            redemption_lines::quantity,
            redemption_lines::cost_yuan,
        ))
        .load(conn)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::settlements)]
pub struct SettlementRow {
    pub id: i64,
    pub shop_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: SettlementStatus,
    pub redemptions: i32,
    pub points: i64,
    pub yuan: i64,
    pub created_at: NaiveDateTime,
    pub approved_at: Option<NaiveDateTime>,
    pub paid_at: Option<NaiveDateTime>,
    pub paid_on: Option<NaiveDate>,
    pub reference: Option<String>,
}

pub struct NewSettlement {
    pub shop_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub redemptions: i32,
    pub points: i64,
    pub yuan: i64,
    pub created_by: i64,
    pub now: NaiveDateTime,
}

pub fn insert_settlement(conn: &mut DbConnection, s: &NewSettlement) -> QueryResult<i64> {
    use crate::db::schema::settlements;
    diesel::insert_into(settlements::table)
        .values((
            settlements::shop_id.eq(s.shop_id),
            settlements::period_start.eq(s.period_start),
            settlements::period_end.eq(s.period_end),
            settlements::status.eq(SettlementStatus::Draft),
            settlements::redemptions.eq(s.redemptions),
            settlements::points.eq(s.points),
            settlements::yuan.eq(s.yuan),
            settlements::created_by.eq(s.created_by),
            settlements::created_at.eq(s.now),
        ))
        .returning(settlements::id)
        .get_result(conn)
}

/// A void to carry onto a shop's next statement: its redemption was on an approved or
/// paid statement, and no statement carries the void yet (fields in the order
/// `voids_to_carry` selects them).
#[derive(Queryable)]
pub struct CarriedVoid {
    pub void_id: i64,
    pub redemption_id: i64,
    pub village_id: i64,
    /// What the shop was credited for the redemption, to be taken back.
    pub points: i64,
    pub yuan: i64,
}

/// Voids of the shop's redemptions that must still be carried.
pub fn voids_to_carry(conn: &mut DbConnection, shop_id: i64) -> QueryResult<Vec<CarriedVoid>> {
    use crate::db::schema::settlement_lines;
    let carried_lines = diesel::alias!(settlement_lines as carried_lines);
    let carried = carried_lines
        .filter(carried_lines.field(settlement_lines::void_id).is_not_null())
        .select(carried_lines.field(settlement_lines::redemption_id));
    redemption_voids::table
        .inner_join(redemptions::table.on(redemptions::id.eq(redemption_voids::redemption_id)))
        .inner_join(
            settlement_lines::table.on(settlement_lines::redemption_id
                .eq(redemptions::id)
                .and(settlement_lines::void_id.is_null())),
        )
        .filter(redemptions::shop_id.eq(shop_id))
        .filter(redemptions::id.ne_all(carried))
        .order(redemption_voids::id)
        .select((
            redemption_voids::id,
            redemptions::id,
            redemptions::village_id,
            settlement_lines::points,
            settlement_lines::yuan,
        ))
        .load(conn)
}

/// One line of a statement: a redemption (positive), or a carried void (negative).
pub struct NewLine {
    pub redemption_id: i64,
    pub void_id: Option<i64>,
    pub village_id: i64,
    pub points: i64,
    pub yuan: i64,
}

pub fn insert_settlement_lines(
    conn: &mut DbConnection,
    settlement_id: i64,
    lines: &[NewLine],
) -> QueryResult<()> {
    use crate::db::schema::settlement_lines;
    let rows: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                settlement_lines::settlement_id.eq(settlement_id),
                settlement_lines::redemption_id.eq(l.redemption_id),
                settlement_lines::void_id.eq(l.void_id),
                settlement_lines::village_id.eq(l.village_id),
                settlement_lines::points.eq(l.points),
                settlement_lines::yuan.eq(l.yuan),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    per_backend!(conn, |c| diesel::insert_into(settlement_lines::table)
        .values(&rows)
        .execute(c))
    .map(drop)
}

pub fn settlement(conn: &mut DbConnection, id: i64) -> QueryResult<Option<SettlementRow>> {
    use crate::db::schema::settlements;
    settlements::table
        .find(id)
        .select(SettlementRow::as_select())
        .first(conn)
        .optional()
}

/// The shop's statements, newest first, before id `after`.
pub fn settlements_of(
    conn: &mut DbConnection,
    shop_id: i64,
    page: PageRequest,
) -> QueryResult<Vec<i64>> {
    use crate::db::schema::settlements;
    settlements::table
        .filter(settlements::shop_id.eq(shop_id))
        .filter(settlements::id.lt(page.after.unwrap_or(i64::MAX)))
        .order(settlements::id.desc())
        .limit(page.limit + 1)
        .select(settlements::id)
        .load(conn)
}

/// A line as a statement shows it.
#[derive(Queryable)]
pub struct StatementLine {
    pub redemption_id: i64,
    pub void_id: Option<i64>,
    pub village_id: i64,
    pub receipt_no: String,
    pub points: i64,
    pub yuan: i64,
    pub redeemed_at: NaiveDateTime,
}

pub fn settlement_lines(
    conn: &mut DbConnection,
    settlement_id: i64,
) -> QueryResult<Vec<StatementLine>> {
    use crate::db::schema::settlement_lines;
    settlement_lines::table
        .inner_join(redemptions::table.on(redemptions::id.eq(settlement_lines::redemption_id)))
        .filter(settlement_lines::settlement_id.eq(settlement_id))
        .order((settlement_lines::redemption_id, settlement_lines::id))
        .select((
            settlement_lines::redemption_id,
            settlement_lines::void_id,
            settlement_lines::village_id,
            redemptions::receipt_no,
            settlement_lines::points,
            settlement_lines::yuan,
            redemptions::created_at,
        ))
        .load(conn)
}

/// A goods line of a redemption on a statement; on a void line its goods go back.
#[derive(Queryable)]
pub struct StatementGoods {
    pub void: bool,
    pub goods_id: i64,
    pub name: String,
    pub unit: String,
    pub quantity: i32,
    pub points_price: i64,
    pub cost_yuan: i64,
}

/// The goods of a statement's lines, by goods.
pub fn statement_goods(
    conn: &mut DbConnection,
    settlement_id: i64,
) -> QueryResult<Vec<StatementGoods>> {
    use crate::db::schema::settlement_lines;
    settlement_lines::table
        .inner_join(
            redemption_lines::table
                .on(redemption_lines::redemption_id.eq(settlement_lines::redemption_id)),
        )
        .filter(settlement_lines::settlement_id.eq(settlement_id))
        .order((redemption_lines::goods_id, redemption_lines::id))
        .select((
            settlement_lines::void_id.is_not_null(),
            redemption_lines::goods_id,
            redemption_lines::name,
            redemption_lines::unit,
            redemption_lines::quantity,
            redemption_lines::points_price,
            redemption_lines::cost_yuan,
        ))
        .load(conn)
}

/// What the statement records of a village at approval.
#[derive(Queryable)]
pub struct ApprovedVillage {
    pub village_id: i64,
    pub seq: i64,
    pub hash: String,
    /// The policy's `funding` as JSON.
    pub funding: String,
}

pub fn insert_approved_villages(
    conn: &mut DbConnection,
    settlement_id: i64,
    villages: &[ApprovedVillage],
) -> QueryResult<()> {
    use crate::db::schema::settlement_villages;
    for v in villages {
        diesel::insert_into(settlement_villages::table)
            .values((
                settlement_villages::settlement_id.eq(settlement_id),
                settlement_villages::village_id.eq(v.village_id),
                settlement_villages::seq.eq(v.seq),
                settlement_villages::hash.eq(&v.hash),
                settlement_villages::funding.eq(&v.funding),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The villages as the statement recorded them at approval, by village.
pub fn approved_villages(
    conn: &mut DbConnection,
    settlement_id: i64,
) -> QueryResult<Vec<ApprovedVillage>> {
    use crate::db::schema::settlement_villages;
    settlement_villages::table
        .filter(settlement_villages::settlement_id.eq(settlement_id))
        .order(settlement_villages::village_id)
        .select((
            settlement_villages::village_id,
            settlement_villages::seq,
            settlement_villages::hash,
            settlement_villages::funding,
        ))
        .load(conn)
}

/// How a statement priced one village's redemptions when it was drawn up.
#[derive(Clone, Copy, Debug, Queryable)]
pub struct Basis {
    pub village_id: i64,
    pub settle_at: SettleAt,
    /// Hundredths of a yuan per point.
    pub yuan_per_point: i64,
}

pub fn insert_bases(
    conn: &mut DbConnection,
    settlement_id: i64,
    bases: &[Basis],
) -> QueryResult<()> {
    use crate::db::schema::settlement_bases as b;
    for basis in bases {
        diesel::insert_into(b::table)
            .values((
                b::settlement_id.eq(settlement_id),
                b::village_id.eq(basis.village_id),
                b::settle_at.eq(basis.settle_at),
                b::yuan_per_point.eq(basis.yuan_per_point),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The bases a statement was drawn up on, by village.
pub fn bases(conn: &mut DbConnection, settlement_id: i64) -> QueryResult<Vec<Basis>> {
    use crate::db::schema::settlement_bases as b;
    b::table
        .filter(b::settlement_id.eq(settlement_id))
        .order(b::village_id)
        .select((b::village_id, b::settle_at, b::yuan_per_point))
        .load(conn)
}

/// What a shop's receivable in a village must be, from the shop's own tables: its
/// redemptions not on a paid statement, less its voids that no paid statement carries
/// yet, per shop (hundredths).
pub fn expected_receivables(
    conn: &mut DbConnection,
    village_id: i64,
) -> QueryResult<Vec<(i64, i128)>> {
    use crate::db::schema::{settlement_lines, settlements};
    let paid = settlement_lines::table
        .inner_join(settlements::table.on(settlements::id.eq(settlement_lines::settlement_id)))
        .filter(settlements::status.eq(SettlementStatus::Paid));
    let paid_redemptions = paid
        .filter(settlement_lines::void_id.is_null())
        .select(settlement_lines::redemption_id);
    let paid_voids = paid
        .filter(settlement_lines::void_id.is_not_null())
        .select(settlement_lines::redemption_id);
    let redeemed: Vec<(i64, i64)> = redemptions::table
        .filter(redemptions::village_id.eq(village_id))
        .filter(redemptions::id.ne_all(paid_redemptions))
        .select((redemptions::shop_id, redemptions::total_points))
        .load(conn)?;
    let voided: Vec<(i64, i64)> = redemption_voids::table
        .inner_join(redemptions::table.on(redemptions::id.eq(redemption_voids::redemption_id)))
        .filter(redemptions::village_id.eq(village_id))
        .filter(redemptions::id.ne_all(paid_voids))
        .select((redemptions::shop_id, redemptions::total_points))
        .load(conn)?;
    // Wide sums: verify must report, never wrap.
    let mut per_shop = std::collections::BTreeMap::<i64, i128>::new();
    for (shop, points) in redeemed {
        *per_shop.entry(shop).or_default() += i128::from(points);
    }
    for (shop, points) in voided {
        *per_shop.entry(shop).or_default() -= i128::from(points);
    }
    Ok(per_shop.into_iter().collect())
}

/// Moves a statement from `from` to `to` status; false when it was not in `from`.
pub fn settlement_transition(
    conn: &mut DbConnection,
    id: i64,
    from: SettlementStatus,
    to: SettlementStatus,
    staff_id: i64,
    now: NaiveDateTime,
    payment: Option<(&str, NaiveDate)>,
) -> QueryResult<bool> {
    use crate::db::schema::settlements;
    let target = settlements::table
        .filter(settlements::id.eq(id))
        .filter(settlements::status.eq(from));
    let changed = match payment {
        None => diesel::update(target)
            .set((
                settlements::status.eq(to),
                settlements::approved_by.eq(staff_id),
                settlements::approved_at.eq(now),
            ))
            .execute(conn)?,
        Some((reference, paid_on)) => diesel::update(target)
            .set((
                settlements::status.eq(to),
                settlements::paid_by.eq(staff_id),
                settlements::paid_at.eq(now),
                settlements::paid_on.eq(paid_on),
                settlements::reference.eq(reference),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = crate::db::schema::household_cards)]
pub struct CardRow {
    pub id: i64,
    pub village_id: i64,
    pub household_id: i64,
    pub serial: String,
    pub pin_hash: String,
    pub failures: i32,
    pub failure_day: Option<NaiveDate>,
    pub day_failures: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub held: bool,
    pub revoked_at: Option<NaiveDateTime>,
}

pub struct NewCard<'a> {
    pub village_id: i64,
    pub household_id: i64,
    pub token_hash: &'a str,
    pub created_by: i64,
    pub now: NaiveDateTime,
}

/// Revokes the household's cards and stores a new one; the serial and PIN hash follow
/// once the id is known.
pub fn replace_card(conn: &mut DbConnection, c: &NewCard) -> QueryResult<i64> {
    use crate::db::schema::household_cards as cards;
    diesel::update(
        cards::table
            .filter(cards::household_id.eq(c.household_id))
            .filter(cards::revoked_at.is_null()),
    )
    .set(cards::revoked_at.eq(c.now))
    .execute(conn)?;
    diesel::insert_into(cards::table)
        .values((
            cards::village_id.eq(c.village_id),
            cards::household_id.eq(c.household_id),
            cards::serial.eq(format!("pending-{}", c.token_hash)),
            cards::token_hash.eq(c.token_hash),
            cards::pin_hash.eq(""),
            cards::failures.eq(0),
            cards::day_failures.eq(0),
            cards::held.eq(false),
            cards::created_by.eq(c.created_by),
            cards::created_at.eq(c.now),
        ))
        .returning(cards::id)
        .get_result(conn)
}

pub fn set_card_identity(
    conn: &mut DbConnection,
    id: i64,
    serial: &str,
    pin_hash: &str,
) -> QueryResult<()> {
    use crate::db::schema::household_cards as cards;
    diesel::update(cards::table.find(id))
        .set((cards::serial.eq(serial), cards::pin_hash.eq(pin_hash)))
        .execute(conn)
        .map(drop)
}

/// Whether a read locks the row it finds until the transaction ends.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    None,
    /// `FOR UPDATE` on PostgreSQL; SQLite's immediate transaction already holds the
    /// database.
    ForUpdate,
}

pub fn card_by_token(
    conn: &mut DbConnection,
    token_hash: &str,
    lock: Lock,
) -> QueryResult<Option<CardRow>> {
    use crate::db::schema::household_cards as cards;
    let query = cards::table.filter(cards::token_hash.eq(token_hash));
    match conn {
        DbConnection::Pg(pg) if lock == Lock::ForUpdate => query
            .select(CardRow::as_select())
            .for_update()
            .first(pg)
            .optional(),
        conn => query.select(CardRow::as_select()).first(conn).optional(),
    }
}

pub fn card_by_serial(conn: &mut DbConnection, serial: &str) -> QueryResult<Option<CardRow>> {
    use crate::db::schema::household_cards as cards;
    cards::table
        .filter(cards::serial.eq(serial))
        .select(CardRow::as_select())
        .first(conn)
        .optional()
}

/// The card as it is now, held until the transaction ends (PostgreSQL; SQLite's
/// immediate transaction already serialises writers), so racing PIN attempts are each
/// counted and a card's daily spending is read after the redemption before it.
/// Stores the card's lockout counters.
pub fn save_card_state(conn: &mut DbConnection, card: &CardRow) -> QueryResult<()> {
    use crate::db::schema::household_cards as cards;
    diesel::update(cards::table.find(card.id))
        .set((
            cards::failures.eq(card.failures),
            cards::failure_day.eq(card.failure_day),
            cards::day_failures.eq(card.day_failures),
            cards::locked_until.eq(card.locked_until),
            cards::held.eq(card.held),
        ))
        .execute(conn)
        .map(drop)
}

/// Points a card spent in `[from, to)`, voided redemptions left out.
pub fn card_spent(
    conn: &mut DbConnection,
    card_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<i64> {
    // By the index on (card_id, created_at), each redemption's void by its unique index:
    // the cost is the card's day, never the shop's history.
    let voided =
        redemption_voids::table.filter(redemption_voids::redemption_id.eq(redemptions::id));
    let totals: Vec<i64> = redemptions::table
        .filter(redemptions::card_id.eq(card_id))
        .filter(redemptions::created_at.ge(from))
        .filter(redemptions::created_at.lt(to))
        .filter(diesel::dsl::not(diesel::dsl::exists(voided)))
        .select(redemptions::total_points)
        .load(conn)?;
    // Saturating: a sum past the range is past any cap too.
    Ok(totals.into_iter().fold(0i64, i64::saturating_add))
}

pub fn insert_shop(
    conn: &mut DbConnection,
    township_id: i64,
    name: &str,
    village_ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<i64> {
    reference::changed(conn);
    let id: i64 = diesel::insert_into(shops::table)
        .values((
            shops::township_id.eq(township_id),
            shops::name.eq(name),
            shops::created_at.eq(now),
        ))
        .returning(shops::id)
        .get_result(conn)?;
    serve_villages(conn, id, village_ids)?;
    Ok(id)
}

pub fn rename_shop(conn: &mut DbConnection, shop_id: i64, name: &str) -> QueryResult<()> {
    reference::changed(conn);
    diesel::update(shops::table.find(shop_id))
        .set(shops::name.eq(name))
        .execute(conn)
        .map(drop)
}

/// The shop serves these villages from now on, and no others.
pub fn set_shop_villages(
    conn: &mut DbConnection,
    shop_id: i64,
    village_ids: &[i64],
) -> QueryResult<()> {
    reference::changed(conn);
    diesel::delete(shop_villages::table.filter(shop_villages::shop_id.eq(shop_id)))
        .execute(conn)?;
    serve_villages(conn, shop_id, village_ids)
}

fn serve_villages(conn: &mut DbConnection, shop_id: i64, village_ids: &[i64]) -> QueryResult<()> {
    for village_id in village_ids {
        diesel::insert_into(shop_villages::table)
            .values((
                shop_villages::shop_id.eq(shop_id),
                shop_villages::village_id.eq(village_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}
