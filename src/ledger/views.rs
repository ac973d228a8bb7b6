//! What the ledger's endpoints answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::model::{Asset, TxKind};
use crate::amount::Amount;

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceView {
    pub household_id: i64,
    /// Spendable points; negative means owed (after deductions), which blocks spending.
    #[schema(example = "125.50")]
    pub points: Amount,
    /// Cumulative merit; drives stars and rankings.
    #[schema(example = "180.00")]
    pub honour: Amount,
    /// Points approved and waiting out their public notice.
    #[schema(example = "10.00")]
    pub pending: Amount,
    /// Stars reached by honour, per the village's thresholds.
    #[schema(example = 4)]
    pub stars: usize,
    pub updated_at: Option<DateTime<Utc>>,
}

/// One line of a household's ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub transaction_id: i64,
    pub seq: i64,
    pub kind: TxKind,
    #[schema(example = "5.00")]
    pub points: Amount,
    #[schema(example = "5.00")]
    pub honour: Amount,
    #[schema(example = "130.50")]
    pub points_after: Amount,
    pub memo: String,
    pub created_at: DateTime<Utc>,
    pub hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostingView {
    /// `owner_kind:owner_id:asset:purpose`, e.g. `household:12:points:holdings`.
    #[schema(example = "household:12:points:holdings")]
    pub account: String,
    pub asset: Asset,
    #[schema(example = "-5.00")]
    pub amount: Amount,
    #[schema(example = "120.00")]
    pub balance_after: Amount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionView {
    pub id: i64,
    pub village_id: i64,
    pub seq: i64,
    pub kind: TxKind,
    pub memo: String,
    pub reverses_id: Option<i64>,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
    pub postings: Vec<PostingView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseRequest {
    #[validate(length(min = 1, max = 200, message = "请写明冲正原因"))]
    #[schema(
        example = "录入错误，重复奖励",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    #[validate(custom(function = "crate::text::multi_line"))]
    pub reason: String,
}
