//! Claim types.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::amount::Amount;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    Submitted,
    Rejected,
    InNotice,
    Objected,
    Overturned,
    Posted,
    Reversed,
}

impl ClaimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Submitted => "submitted",
            ClaimStatus::Rejected => "rejected",
            ClaimStatus::InNotice => "in_notice",
            ClaimStatus::Objected => "objected",
            ClaimStatus::Overturned => "overturned",
            ClaimStatus::Posted => "posted",
            ClaimStatus::Reversed => "reversed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ClaimStatus::Submitted,
            ClaimStatus::Rejected,
            ClaimStatus::InNotice,
            ClaimStatus::Objected,
            ClaimStatus::Overturned,
            ClaimStatus::Posted,
            ClaimStatus::Reversed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

fn distinct_ids(ids: &[i64]) -> Result<(), ValidationError> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() == ids.len() {
        Ok(())
    } else {
        Err(ValidationError::new("household_ids").with_message("同一户不能出现两次".into()))
    }
}

/// A direct award or deduction by the committee to one or many households.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardRequest {
    pub item_id: i64,
    #[validate(
        length(min = 1, max = 500, message = "选 1 到 500 户"),
        custom(function = "distinct_ids")
    )]
    pub household_ids: Vec<i64>,
    /// How many times the item was earned (default 1).
    #[validate(range(min = 1, max = 100, message = "须在 1 到 100 之间"))]
    pub quantity: Option<i32>,
    /// When it happened (Asia/Shanghai date); not in the future.
    #[schema(value_type = String, format = Date, example = "2026-11-27")]
    pub occurred_on: NaiveDate,
    #[validate(length(max = 200, message = "备注最多 200 个字"))]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimEventView {
    pub status: ClaimStatus,
    pub note: String,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimView {
    pub id: i64,
    pub village_id: i64,
    pub household_id: i64,
    pub member_id: Option<i64>,
    pub item_id: i64,
    pub item_version: i32,
    /// Points per unit.
    #[schema(value_type = String, example = "5.00")]
    pub points: Amount,
    pub quantity: i32,
    #[schema(value_type = String, example = "10.00")]
    pub total: Amount,
    pub status: ClaimStatus,
    #[schema(value_type = String, format = Date)]
    pub occurred_on: NaiveDate,
    pub note: String,
    pub notice_ends_at: Option<DateTime<Utc>>,
    pub transaction_id: Option<i64>,
    pub created_by: i64,
    pub events: Vec<ClaimEventView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AwardResult {
    pub claims: Vec<ClaimView>,
}
