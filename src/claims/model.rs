//! Claim types.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::amount::Amount;
crate::text_state! {
    /// Where a claim stands (DESIGN.md §4).
    pub enum ClaimStatus {
        Submitted = "submitted",
        Rejected = "rejected",
        InNotice = "in_notice",
        Objected = "objected",
        Overturned = "overturned",
        Posted = "posted",
        /// Shown, never stored: a posted claim whose transaction was reversed.
        Reversed = "reversed",
    }
}

impl ClaimStatus {
    /// The status as the desk and the exports name it.
    pub fn words(self) -> &'static str {
        match self {
            ClaimStatus::Submitted => "待审核",
            ClaimStatus::Rejected => "未通过",
            ClaimStatus::InNotice => "公示中",
            ClaimStatus::Objected => "有异议",
            ClaimStatus::Overturned => "已撤销",
            ClaimStatus::Posted => "已入账",
            ClaimStatus::Reversed => "已冲正",
        }
    }
}

/// What happens to a claim; the lifecycle below says from where to where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimEvent {
    /// 审核通过 with public notice.
    Approve,
    /// 审核通过 in a village without public notice: into the ledger at once.
    PostAtOnce,
    /// 驳回 by the committee.
    Reject,
    /// 异议 by a villager (a claim may carry several).
    Object,
    /// The supervisors uphold an objection: the claim is overturned.
    Uphold,
    /// The supervisors dismiss the last open objection: back on notice.
    Dismiss,
    /// The notice ended: into the ledger.
    NoticeEnds,
    /// The notice ended, but the item's cap was used up meanwhile: not posted.
    CapUsedUp,
}

impl ClaimEvent {
    pub const ALL: [ClaimEvent; 8] = [
        ClaimEvent::Approve,
        ClaimEvent::PostAtOnce,
        ClaimEvent::Reject,
        ClaimEvent::Object,
        ClaimEvent::Uphold,
        ClaimEvent::Dismiss,
        ClaimEvent::NoticeEnds,
        ClaimEvent::CapUsedUp,
    ];

    /// The claim lifecycle (DESIGN.md §4), one row per event: the states it moves a claim
    /// out of (the condition of its update), and the state it leaves it in.
    pub fn rule(self) -> (&'static [ClaimStatus], ClaimStatus) {
        use ClaimStatus::*;
        match self {
            ClaimEvent::Approve => (&[Submitted], InNotice),
            ClaimEvent::PostAtOnce => (&[Submitted], Posted),
            ClaimEvent::Reject => (&[Submitted], Rejected),
            ClaimEvent::Object => (&[InNotice, Objected], Objected),
            ClaimEvent::Uphold => (&[Objected], Overturned),
            ClaimEvent::Dismiss => (&[Objected], InNotice),
            ClaimEvent::NoticeEnds => (&[InNotice], Posted),
            ClaimEvent::CapUsedUp => (&[InNotice], Rejected),
        }
    }
}

impl ClaimStatus {
    /// Where `event` takes a claim in this state, or `None` when it cannot happen here.
    pub fn step(self, event: ClaimEvent) -> Option<ClaimStatus> {
        let (from, to) = event.rule();
        from.contains(&self).then_some(to)
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
    /// Distinct ids of households of the village.
    #[schema(min_items = 1, max_items = 500)]
    pub household_ids: Vec<i64>,
    /// How many times the item was earned (default 1).
    #[validate(range(min = 1, max = 100, message = "须在 1 到 100 之间"))]
    #[schema(minimum = 1, maximum = 100)]
    pub quantity: Option<i32>,
    /// When it happened (Asia/Shanghai date); not in the future.
    #[schema(value_type = String, format = Date, example = "2026-11-27")]
    #[serde(deserialize_with = "crate::date::strict")]
    pub occurred_on: NaiveDate,
    #[validate(length(max = 200, message = "备注最多 200 个字"))]
    #[validate(custom(function = "crate::text::multi_line"))]
    #[schema(
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
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
    #[schema(example = "5.00")]
    pub points: Amount,
    pub quantity: i32,
    #[schema(example = "10.00")]
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

/// A claim proposed by a villager (own household), a group leader or the committee.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    pub household_id: i64,
    pub item_id: i64,
    #[validate(range(min = 1, max = 100, message = "须在 1 到 100 之间"))]
    #[schema(minimum = 1, maximum = 100)]
    pub quantity: Option<i32>,
    #[schema(value_type = String, format = Date, example = "2026-11-27")]
    #[serde(deserialize_with = "crate::date::strict")]
    pub occurred_on: NaiveDate,
    #[validate(length(max = 200, message = "备注最多 200 个字"))]
    #[validate(custom(function = "crate::text::multi_line"))]
    #[schema(
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub note: Option<String>,
    /// The household member the claim is about, if one.
    pub member_id: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[validate(length(min = 1, max = 200, message = "请写明原因（最多 200 字）"))]
    #[schema(
        example = "材料不全",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    #[validate(custom(function = "crate::text::multi_line"))]
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The objection stands: the claim is overturned and never posted.
    Upheld,
    /// The objection fails: the claim goes back on notice and posts when due.
    Dismissed,
}

crate::text_state! {
    /// Where an objection stands: waiting for the supervisors, or decided.
    pub enum ObjectionStatus {
        Open = "open",
        Upheld = "upheld",
        Dismissed = "dismissed",
    }
}

impl From<Outcome> for ObjectionStatus {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Upheld => ObjectionStatus::Upheld,
            Outcome::Dismissed => ObjectionStatus::Dismissed,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    pub outcome: Outcome,
    #[validate(length(min = 1, max = 200, message = "请写明理由（最多 200 字）"))]
    #[validate(custom(function = "crate::text::multi_line"))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: i64,
    pub claim_id: i64,
    pub reason: String,
    pub status: ObjectionStatus,
    pub decision_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The claim's status after this step.
    pub claim_status: ClaimStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceView {
    pub id: i64,
    pub claim_id: i64,
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimFilter {
    pub status: Option<ClaimStatus>,
    #[validate(range(min = 1, max = 500, message = "须在 1 到 500 之间"))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A claim on the public notice board: no names beyond the masked one, no phones, no
/// evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardClaim {
    pub claim_id: i64,
    #[schema(example = "庆乐村3号")]
    pub door_no: String,
    #[schema(example = "张*明")]
    pub household: String,
    /// The member who did it (masked), when the claim names one other than the head.
    #[schema(example = "李*芳")]
    pub member: Option<String>,
    pub category: String,
    pub item: String,
    #[schema(example = "10.00")]
    pub points: Amount,
    pub quantity: i32,
    #[schema(value_type = String, format = Date)]
    pub occurred_on: NaiveDate,
    pub status: ClaimStatus,
    pub notice_ends_at: Option<DateTime<Utc>>,
    pub posted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeBoard {
    pub village_code: String,
    pub village_name: String,
    /// Claims in public notice or under objection.
    pub in_notice: Vec<BoardClaim>,
    /// The latest postings.
    pub recent_postings: Vec<BoardClaim>,
    pub head: crate::ledger::verify::HeadView,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::TextState;
    use ClaimEvent::*;
    use ClaimStatus::*;

    /// Every step the lifecycle allows, written out once more by hand; every other pair of
    /// state and event is refused.
    #[test]
    fn the_lifecycle_allows_exactly_its_steps() {
        let allowed = [
            (Submitted, Approve, InNotice),
            (Submitted, PostAtOnce, Posted),
            (Submitted, Reject, Rejected),
            (InNotice, Object, Objected),
            (Objected, Object, Objected),
            (Objected, Uphold, Overturned),
            (Objected, Dismiss, InNotice),
            (InNotice, NoticeEnds, Posted),
            (InNotice, CapUsedUp, Rejected),
        ];
        for &state in ClaimStatus::ALL {
            for event in ClaimEvent::ALL {
                let expected = allowed
                    .iter()
                    .find(|(from, on, _)| *from == state && *on == event)
                    .map(|(_, _, to)| *to);
                assert_eq!(state.step(event), expected, "{state:?} on {event:?}");
            }
        }
        for state in [Rejected, Overturned, Posted, Reversed] {
            assert!(
                ClaimEvent::ALL.iter().all(|e| state.step(*e).is_none()),
                "{state:?} is final"
            );
        }
    }

    #[test]
    fn states_read_back_by_name_and_nothing_else() {
        crate::db::assert_names_round_trip::<ClaimStatus>();
        crate::db::assert_names_round_trip::<ObjectionStatus>();
    }
}
