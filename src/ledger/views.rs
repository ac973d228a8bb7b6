//! What the ledger's endpoints answer.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{Asset, TxKind};
use crate::amount::Amount;

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
