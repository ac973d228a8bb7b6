//! Shop types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::amount::Amount;
fn positive(amount: &Amount) -> Result<(), ValidationError> {
    if amount.minor() <= 0 || amount.minor() > 100_000_000 {
        return Err(ValidationError::new("amount").with_message("须大于 0，最多 1000000".into()));
    }
    Ok(())
}

/// A product barcode (EAN-13, EAN-8 or UPC-A) with a right check digit; in a change,
/// empty takes the barcode away.
fn valid_barcode(text: &str) -> Result<(), ValidationError> {
    if text.is_empty() || super::barcode::is_product_barcode(text) {
        Ok(())
    } else {
        Err(ValidationError::new("barcode")
            .with_message("条码不对：应是商品包装上的 13 位（或 8 位、12 位）数字".into()))
    }
}

fn not_negative(amount: &Amount) -> Result<(), ValidationError> {
    if amount.is_negative() || amount.minor() > 100_000_000 {
        return Err(ValidationError::new("amount").with_message("须在 0 到 1000000 之间".into()));
    }
    Ok(())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeeperRequest {
    #[validate(length(min = 3, max = 32, message = "用户名为 3–32 个字符"))]
    #[schema(example = "qingle-shop", min_length = 3, max_length = 32)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub username: String,
    #[validate(length(min = 8, max = 256, message = "密码至少 8 位"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    #[validate(length(min = 1, max = 32, message = "请填写姓名"))]
    #[schema(example = "何美玲", min_length = 1, max_length = 32)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub name: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShop {
    #[validate(length(min = 1, max = 64, message = "请填写店名"))]
    #[schema(example = "庆乐积分超市", min_length = 1, max_length = 64)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub name: String,
    #[validate(length(min = 1, max = 50, message = "至少服务一个村"))]
    #[schema(min_items = 1, max_items = 50)]
    pub village_ids: Vec<i64>,
    #[validate(nested)]
    pub keeper: KeeperRequest,
}

/// What the township changes of a shop: its name, the villages it serves.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchShop {
    #[validate(length(min = 1, max = 64, message = "请填写店名"))]
    #[schema(example = "庆乐积分超市", min_length = 1, max_length = 64)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub name: Option<String>,
    /// Every village the shop serves from now on; sales already made stay as they were.
    #[validate(length(min = 1, max = 50, message = "至少服务一个村"))]
    #[schema(min_items = 1, max_items = 50)]
    pub village_ids: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopView {
    pub id: i64,
    pub name: String,
    pub village_ids: Vec<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGoods {
    #[validate(length(min = 1, max = 64, message = "请填写商品名"))]
    #[schema(example = "食用油", min_length = 1, max_length = 64)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub name: String,
    #[validate(length(min = 1, max = 8, message = "请填写单位，如 瓶、袋"))]
    #[schema(example = "瓶", min_length = 1, max_length = 8)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub unit: String,
    #[validate(custom(function = "positive"))]
    #[schema(example = "30.00")]
    pub points_price: Amount,
    #[validate(custom(function = "not_negative"))]
    #[schema(example = "28.50")]
    pub cost_yuan: Amount,
    #[validate(range(min = 0, max = 1000000, message = "须在 0 到 1000000 之间"))]
    #[schema(minimum = 0, maximum = 1000000)]
    pub stock: i64,
    /// The barcode on the package (EAN-13, EAN-8 or UPC-A): the counter's scanner adds
    /// the product by it.
    #[validate(custom(function = "valid_barcode"))]
    #[schema(example = "6901234567892", pattern = "^([0-9]{8}|[0-9]{12,13})$")]
    #[serde(default)]
    pub barcode: Option<String>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchGoods {
    #[validate(length(min = 1, max = 64, message = "请填写商品名"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    #[validate(length(min = 1, max = 8, message = "请填写单位"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 8)]
    pub unit: Option<String>,
    #[validate(custom(function = "positive"))]
    #[schema(example = "30.00")]
    pub points_price: Option<Amount>,
    #[validate(custom(function = "not_negative"))]
    #[schema(example = "28.50")]
    pub cost_yuan: Option<Amount>,
    pub active: Option<bool>,
    /// A new barcode; empty takes it away.
    #[validate(custom(function = "valid_barcode"))]
    #[schema(example = "6901234567892", pattern = "^([0-9]{8}|[0-9]{12,13})?$")]
    pub barcode: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GoodsView {
    pub id: i64,
    pub shop_id: i64,
    pub name: String,
    pub unit: String,
    #[schema(example = "30.00")]
    pub points_price: Amount,
    #[schema(example = "28.50")]
    pub cost_yuan: Amount,
    pub stock: i64,
    pub active: bool,
    #[schema(example = "6901234567892")]
    pub barcode: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockRequest {
    /// Units in (positive, a restock) or out (negative, an adjustment); never below 0.
    #[validate(range(min = -1000000, max = 1000000, message = "须在 -1000000 到 1000000 之间"))]
    #[schema(minimum = -1000000, maximum = 1000000)]
    pub delta: i64,
    #[validate(length(min = 1, max = 200, message = "请写明原因"))]
    #[schema(example = "进货", min_length = 1, max_length = 200)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentCodeView {
    pub id: i64,
    /// Eighteen digits, starting with 9, Luhn check digit last.
    #[schema(example = "912345678901234563")]
    pub code: String,
    pub expires_at: DateTime<Utc>,
    /// The code as an SVG QR image.
    pub qr_svg: String,
    /// The code as a PNG QR image (data URI), for printing.
    pub qr_png: String,
}

/// Where a payment code stands: it pays once, before it expires or a newer one ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CodeState {
    Active,
    Used,
    /// Past its time, or ended by a newer code.
    Expired,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentCodeStatus {
    pub status: CodeState,
    /// A scan lengthens it: the shop has three minutes at least to finish.
    pub expires_at: DateTime<Utc>,
    /// The shop whose scan holds the code (only that shop may redeem it, and a new code
    /// leaves it alone); null when no shop has scanned it, or it is no longer active.
    #[schema(example = "庆乐积分超市")]
    pub reserved_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redemption: Option<ReceiptView>,
}

/// A payment code, or a household card's token (from its QR).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    #[validate(length(min = 1, max = 64, message = "请扫码或输入付款码"))]
    #[schema(example = "912345678901234563", min_length = 1, max_length = 64)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 64, message = "请扫户卡"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 64)]
    pub card_token: Option<String>,
}

/// How the household pays: a one-time code, or its card and PIN.
pub enum PayWith<'a> {
    Code(&'a str),
    Card {
        token: &'a str,
        pin: Option<&'a str>,
    },
}

/// Exactly one of `code` and `card_token`.
pub fn pay_with<'a>(
    code: Option<&'a str>,
    card_token: Option<&'a str>,
    pin: Option<&'a str>,
) -> Result<PayWith<'a>, crate::error::AppError> {
    match (code, card_token) {
        (Some(code), None) => Ok(PayWith::Code(code)),
        (None, Some(token)) => Ok(PayWith::Card { token, pin }),
        _ => Err(crate::error::AppError::field(
            "code",
            "请提供付款码或户卡其中之一",
        )),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanView {
    pub household_id: i64,
    #[schema(example = "张*明")]
    pub display_name: String,
    pub door_no: String,
    #[schema(example = "125.00")]
    pub points: Amount,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub goods_id: i64,
    #[validate(range(min = 1, max = 99, message = "须在 1 到 99 之间"))]
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: i32,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    #[validate(length(min = 1, max = 64, message = "请扫码或输入付款码"))]
    #[schema(example = "912345678901234563", min_length = 1, max_length = 64)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub code: Option<String>,
    /// A household card's token, with its `pin`, instead of a code.
    #[validate(length(min = 1, max = 64, message = "请扫户卡"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 64)]
    pub card_token: Option<String>,
    #[validate(length(min = 4, max = 6, message = "密码是 4 到 6 位数字"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 4, max_length = 6, pattern = "^[0-9]{4,6}$")]
    pub pin: Option<String>,
    #[validate(length(min = 1, max = 30, message = "选 1 到 30 种商品"), nested)]
    #[schema(min_items = 1, max_items = 30)]
    pub lines: Vec<LineRequest>,
    /// Who collected the goods for the household (代兑), if not its own member.
    #[validate(length(min = 1, max = 32, message = "代兑人姓名最多 32 字"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 32)]
    pub proxy_name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptLine {
    pub goods_id: i64,
    pub name: String,
    pub unit: String,
    pub quantity: i32,
    #[schema(example = "30.00")]
    pub points_price: Amount,
    #[schema(example = "30.00")]
    pub points: Amount,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChainPosition {
    pub seq: i64,
    pub hash: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptView {
    pub id: i64,
    pub shop_id: i64,
    #[schema(example = "庆乐积分超市")]
    pub shop_name: String,
    pub household_id: i64,
    #[schema(example = "张*明")]
    pub display_name: String,
    pub door_no: String,
    /// Per shop and day, without gaps: `<shop>-<YYYYMMDD>-<n>`.
    #[schema(example = "001-20261128-0007")]
    pub receipt_no: String,
    #[schema(example = "30.00")]
    pub total_points: Amount,
    #[schema(example = "95.00")]
    pub points_after: Amount,
    pub lines: Vec<ReceiptLine>,
    pub transaction_id: i64,
    pub chain: ChainPosition,
    pub proxy_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub voided: bool,
    /// Why it was voided, and when (points and stock went back then).
    #[schema(example = "拿错了商品")]
    pub void_reason: Option<String>,
    pub voided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidRequest {
    #[validate(length(min = 1, max = 200, message = "请写明作废原因"))]
    #[schema(
        example = "拿错了商品",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    #[validate(custom(function = "crate::text::multi_line"))]
    pub reason: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSettlement {
    /// First day (Asia/Shanghai) of the period, inclusive.
    #[schema(value_type = String, format = Date, example = "2026-11-01")]
    #[serde(deserialize_with = "crate::date::strict")]
    pub period_start: chrono::NaiveDate,
    /// Last day of the period, inclusive.
    #[schema(value_type = String, format = Date, example = "2026-11-30")]
    #[serde(deserialize_with = "crate::date::strict")]
    pub period_end: chrono::NaiveDate,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    /// The bank or cash reference of the payment.
    #[validate(length(min = 1, max = 64, message = "请填写付款凭证号"))]
    #[schema(example = "转账 20261201-0031", min_length = 1, max_length = 64)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub reference: String,
    /// The day it was paid (default today).
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    pub paid_on: Option<chrono::NaiveDate>,
}

/// What a statement line is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A redemption the shop is paid for.
    Redemption,
    /// A redemption voided after an earlier statement paid for it: the shop pays it back
    /// (negative points and yuan).
    Void,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementLineView {
    pub kind: LineKind,
    pub redemption_id: i64,
    pub receipt_no: String,
    pub village_id: i64,
    /// Negative on a `void` line.
    #[schema(example = "30.00")]
    pub points: Amount,
    #[schema(example = "30.00")]
    pub yuan: Amount,
    pub redeemed_at: DateTime<Utc>,
}

crate::text_state! {
    /// Why a shop's stock moved.
    pub enum MovementKind {
        Restock = "restock",
        Adjustment = "adjustment",
        Redemption = "redemption",
        Void = "void",
    }
}

crate::text_state! {
    /// A statement's life: a draft until the committee approves it, then paid by the township.
    pub enum SettlementStatus {
        Draft = "draft",
        Approved = "approved",
        Paid = "paid",
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementView {
    pub id: i64,
    pub shop_id: i64,
    #[schema(value_type = String, format = Date)]
    pub period_start: chrono::NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub period_end: chrono::NaiveDate,
    pub status: SettlementStatus,
    /// How many redemptions (voided ones left out).
    pub redemptions: i32,
    /// How many voids of redemptions paid on earlier statements this one takes back.
    pub carried_voids: i32,
    #[schema(example = "1250.00")]
    pub points: Amount,
    /// Points converted at each village's `yuan_per_point`, rounded to the fen, or the
    /// goods' cost prices where the village's policy has `settle_at: cost_price`.
    #[schema(example = "1250.00")]
    pub yuan: Amount,
    pub created_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = Date)]
    pub paid_on: Option<chrono::NaiveDate>,
    pub reference: Option<String>,
    pub lines: Vec<SettlementLineView>,
    /// What went home over the counter, by goods, net of the voids on the statement.
    pub goods: Vec<SettlementGoodsView>,
    /// How each village's redemptions were priced when the statement was drawn up.
    pub bases: Vec<SettlementBasisView>,
    /// What the statement recorded of each of its villages when it was approved (none
    /// for a draft): where the village's chain stood, who was paying for its points.
    pub at_approval: Vec<ApprovedVillageView>,
}

/// A village's policy as a statement priced its redemptions by it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementBasisView {
    pub village_id: i64,
    pub settle_at: crate::org::policy::SettleAt,
    /// The village's rate then (used when `settle_at` is `points_rate`).
    #[schema(example = "1.00")]
    pub yuan_per_point: Amount,
}

/// One kind of goods on a statement.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementGoodsView {
    pub goods_id: i64,
    #[schema(example = "食用油")]
    pub name: String,
    #[schema(example = "瓶")]
    pub unit: String,
    pub quantity: i64,
    /// The points paid for them.
    #[schema(example = "300.00")]
    pub points: Amount,
    /// Their cost price in yuan, as the shop priced them when sold.
    #[schema(example = "250.00")]
    pub cost_yuan: Amount,
}

/// A village as a statement recorded it at approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovedVillageView {
    pub village_id: i64,
    /// The village's chain head then.
    pub seq: i64,
    pub hash: String,
    /// The village policy's `funding` then (empty when it had not said).
    pub funding: Vec<crate::org::policy::FundingShare>,
}

#[derive(Debug, Default, Deserialize, Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (default) or `xlsx`.
    #[validate(custom(function = "export_format"))]
    #[param(pattern = "^(csv|xlsx)$")]
    pub format: Option<String>,
}

fn export_format(format: &str) -> Result<(), ValidationError> {
    if format == "csv" || format == "xlsx" {
        Ok(())
    } else {
        Err(ValidationError::new("format").with_message("只能是 csv 或 xlsx".into()))
    }
}

/// A card PIN's shape: 4 to 6 digits.
pub fn is_pin(pin: &str) -> bool {
    (4..=6).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

fn valid_pin(pin: &str) -> Result<(), ValidationError> {
    if is_pin(pin) {
        Ok(())
    } else {
        Err(ValidationError::new("pin").with_message("密码是 4 到 6 位数字".into()))
    }
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueCard {
    /// 4–6 digits chosen with the household; stored only as a keyed hash.
    #[validate(custom(function = "valid_pin"))]
    #[schema(example = "2580", pattern = "^[0-9]{4,6}$")]
    pub pin: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    #[schema(example = "C1-000012")]
    pub serial: String,
    /// The card's token (25 digits, printed under its QR); shown only this once.
    pub card_token: String,
    pub household_id: i64,
    #[schema(example = "庆乐村3号")]
    pub door_no: String,
    #[schema(example = "张*明")]
    pub display_name: String,
    /// The address the card's QR holds: WeChat's scanner opens it, and the card with its
    /// PIN signs the household in there; the counter's scanner reads the token from it.
    #[schema(example = "https://jifen.example.cn/h5/login?card=4831902277615530948812706")]
    pub sign_in_url: String,
    /// The QR of `sign_in_url`.
    pub qr_svg: String,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SheetCard {
    pub household_id: i64,
    #[validate(custom(function = "valid_pin"))]
    #[schema(pattern = "^[0-9]{4,6}$")]
    pub pin: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardSheetRequest {
    #[validate(length(min = 1, max = 200, message = "选 1 到 200 户"), nested)]
    #[schema(min_items = 1, max_items = 200)]
    pub cards: Vec<SheetCard>,
}

/// Where a household card stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CardState {
    Active,
    /// Wrong PINs: locked for a while.
    Locked,
    /// Too many wrong PINs: held until the committee unlocks it.
    Held,
    /// Replaced by a newer card.
    Revoked,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardStatus {
    pub serial: String,
    pub household_id: i64,
    pub status: CardState,
    pub locked_until: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn settlement_states_read_back_by_name_and_nothing_else() {
        crate::db::assert_names_round_trip::<super::SettlementStatus>();
        crate::db::assert_names_round_trip::<super::MovementKind>();
    }
}
